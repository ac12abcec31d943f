//! Restart back-off, as upstream's kubelet does it: the first restart is immediate, then each
//! restart waits 10 s, 20 s, 40 s … up to 5 minutes after the container finished; a container
//! that has been left alone for twice the cap starts over at 10 s.
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug)]
struct Entry {
    delay: Duration,
    last_update: SystemTime,
}

/// Back-off state per key (a container name within one pod worker).
#[derive(Debug, Default)]
pub struct Backoff {
    entries: HashMap<String, Entry>,
}

impl Backoff {
    /// How long a container that finished at `finished` must still wait before a restart
    /// (None: it may restart now).
    pub fn remaining(
        &mut self,
        key: &str,
        finished: SystemTime,
        now: SystemTime,
    ) -> Option<Duration> {
        let entry = *self.entries.get(key)?;
        if now.duration_since(entry.last_update).unwrap_or_default() > 2 * MAX {
            self.entries.remove(key);
            return None;
        }
        let since = now.duration_since(finished).unwrap_or_default();
        entry.delay.checked_sub(since).filter(|d| !d.is_zero())
    }

    /// The current delay for a key (for the CrashLoopBackOff message).
    pub fn delay(&self, key: &str) -> Duration {
        self.entries.get(key).map(|e| e.delay).unwrap_or(INITIAL)
    }

    /// Records a restart: the next one waits twice as long (capped).
    pub fn restarted(&mut self, key: &str, now: SystemTime) {
        let delay = match self.entries.get(key) {
            Some(e) if now.duration_since(e.last_update).unwrap_or_default() <= 2 * MAX => {
                (e.delay * 2).min(MAX)
            }
            _ => INITIAL,
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                delay,
                last_update: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_waits_from_the_finish() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut b = Backoff::default();
        assert_eq!(b.remaining("c", t0, t0), None, "first restart is immediate");
        b.restarted("c", t0);
        let finished = t0 + Duration::from_secs(1);
        assert_eq!(
            b.remaining("c", finished, finished + Duration::from_secs(4)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            b.remaining("c", finished, finished + Duration::from_secs(10)),
            None
        );
        let mut now = finished + Duration::from_secs(10);
        let mut delays = vec![];
        for _ in 0..8 {
            b.restarted("c", now);
            delays.push(b.delay("c").as_secs());
            now += Duration::from_secs(1);
        }
        assert_eq!(delays, vec![20, 40, 80, 160, 300, 300, 300, 300]);
        // Left alone for more than twice the cap: starts over.
        let later = now + Duration::from_secs(601);
        assert_eq!(b.remaining("c", later, later), None);
        b.restarted("c", later);
        assert_eq!(b.delay("c"), INITIAL);
    }
}
