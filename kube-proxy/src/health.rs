//! What `/healthz` reports: upstream's proxier health — healthy once rules were programmed
//! and no change has waited for more than twice the sync period.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

#[derive(Default)]
struct State {
    last_updated: Option<SystemTime>,
    pending_since: Option<Instant>,
}

/// Shared between the sync loop (writer) and the health server (reader).
pub struct ProxierHealth {
    node_name: String,
    limit: Duration,
    state: Mutex<State>,
}

/// One answer of `/healthz`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Whether to answer 200 (else 503).
    pub healthy: bool,
    /// The JSON body upstream serves.
    pub body: String,
}

impl ProxierHealth {
    /// `sync_period` sets how long a pending change may wait before we call ourselves unhealthy.
    pub fn new(node_name: &str, sync_period: Duration) -> ProxierHealth {
        ProxierHealth {
            node_name: node_name.to_string(),
            limit: sync_period * 2,
            state: Mutex::new(State::default()),
        }
    }

    /// Something is waiting to be programmed (keeps the earliest time).
    pub fn queued(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.pending_since.get_or_insert_with(Instant::now);
        }
    }

    /// A sync succeeded; everything seen before it started is programmed.
    pub fn updated(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.last_updated = Some(SystemTime::now());
            s.pending_since = None;
        }
    }

    /// The current report.
    pub fn report(&self) -> HealthReport {
        let (last, pending) = match self.state.lock() {
            Ok(s) => (s.last_updated, s.pending_since),
            Err(_) => (None, None),
        };
        let healthy = last.is_some() && pending.is_none_or(|p| p.elapsed() <= self.limit);
        let fmt = |t: SystemTime| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339();
        let body = serde_json::json!({
            "lastUpdated": last.map(fmt).unwrap_or_default(),
            "currentTime": fmt(SystemTime::now()),
            "nodeName": self.node_name,
            "nodeHealthy": true,
            "healthy": healthy,
        })
        .to_string();
        HealthReport { healthy, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhealthy_until_the_first_sync_and_when_a_change_waits_too_long() {
        let h = ProxierHealth::new("n", Duration::from_millis(10));
        assert!(!h.report().healthy);
        h.updated();
        assert!(h.report().healthy);
        h.queued();
        assert!(h.report().healthy, "a fresh change is fine");
        std::thread::sleep(Duration::from_millis(30));
        assert!(!h.report().healthy);
        h.updated();
        let r = h.report();
        assert!(r.healthy);
        assert!(r.body.contains("\"nodeName\":\"n\""));
    }
}
