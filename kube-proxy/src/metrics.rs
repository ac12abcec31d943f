//! Prometheus metrics with upstream's names, served on `--metrics-bind-address`.

use prometheus::{Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, Opts, Registry};

/// kube-proxy's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// The registry `/metrics` encodes.
    pub registry: Registry,
    /// `kubeproxy_sync_proxy_rules_duration_seconds`: render + apply time of a sync.
    pub sync_duration: Histogram,
    /// `kubeproxy_sync_full_proxy_rules_duration_seconds` / `…_partial_…` (upstream splits them
    /// in nftables mode); label-free here, by kind.
    pub sync_duration_by_kind: HistogramVec,
    /// `kubeproxy_sync_proxy_rules_last_timestamp_seconds`: when the last sync succeeded.
    pub last_sync_timestamp: Gauge,
    /// `kubeproxy_network_programming_duration_seconds`: from an endpoint change (the
    /// slice's trigger-time annotation, else when we saw it) to its rules being in place.
    pub network_programming: Histogram,
    /// `kubeproxy_sync_proxy_rules_nftables_sync_failures_total`: rejected transactions.
    pub sync_failures: IntCounter,
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        // Upstream: exponential buckets from 1 ms, factor 2, 15 buckets.
        let sync_buckets = prometheus::exponential_buckets(0.001, 2.0, 15)?;
        let sync_duration = Histogram::with_opts(
            HistogramOpts::new(
                "kubeproxy_sync_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds",
            )
            .buckets(sync_buckets.clone()),
        )?;
        let sync_duration_by_kind = HistogramVec::new(
            HistogramOpts::new(
                "kubeproxy_sync_proxy_rules_by_kind_duration_seconds",
                "SyncProxyRules latency in seconds, by kind of sync (replace, full, partial)",
            )
            .buckets(sync_buckets),
            &["kind"],
        )?;
        let last_sync_timestamp = Gauge::with_opts(Opts::new(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
        ))?;
        // Upstream's buckets: 0.25 s linear to 1 s, then 1..59 s, then 1..5 min.
        let mut np_buckets = vec![0.25, 0.5, 0.75];
        np_buckets.extend((1..60).map(f64::from));
        np_buckets.extend((1..=5).map(|m| f64::from(m) * 60.0).skip(1));
        let network_programming = Histogram::with_opts(
            HistogramOpts::new(
                "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds",
            )
            .buckets(np_buckets),
        )?;
        let sync_failures = IntCounter::with_opts(Opts::new(
            "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
            "Total number of nftables sync failures",
        ))?;
        registry.register(Box::new(sync_duration.clone()))?;
        registry.register(Box::new(sync_duration_by_kind.clone()))?;
        registry.register(Box::new(last_sync_timestamp.clone()))?;
        registry.register(Box::new(network_programming.clone()))?;
        registry.register(Box::new(sync_failures.clone()))?;
        Ok(Metrics {
            registry,
            sync_duration,
            sync_duration_by_kind,
            last_sync_timestamp,
            network_programming,
            sync_failures,
        })
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let families = self.registry.gather();
        if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&families, &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_are_exposed() {
        let m = Metrics::new().unwrap();
        m.sync_duration.observe(0.01);
        m.network_programming.observe(1.5);
        m.last_sync_timestamp.set(42.0);
        let text = m.encode();
        for name in [
            "kubeproxy_sync_proxy_rules_duration_seconds_bucket",
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds 42",
            "kubeproxy_network_programming_duration_seconds_count 1",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
    }
}
