//! The metrics store: the last two samples of every node and container, and the usage they
//! imply — CPU as the rate between the two cumulative counters (as upstream's metrics-server
//! computes it), memory as the latest working set. A container whose start time changed
//! (restarted) or whose counter went backwards has no rate until its next two samples.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use crate::scrape::{ContainerKey, NodeScrape, Sample};

/// Usage over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// CPU, nanocores.
    pub cpu_nanocores: u64,
    /// Memory working set, bytes.
    pub memory_bytes: u64,
    /// End of the window (ms since the epoch).
    pub timestamp_ms: i64,
    /// Window length, ms.
    pub window_ms: i64,
}

/// A pod's containers' usage.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsage {
    /// Container name → usage, in name order.
    pub containers: BTreeMap<String, Usage>,
}

#[derive(Default)]
struct Pair {
    prev: Option<Sample>,
    last: Option<Sample>,
}

impl Pair {
    fn push(&mut self, s: Sample) {
        // A restarted container's counter starts over: forget the older sample.
        let restarted = self
            .last
            .is_some_and(|l| l.start_time.is_some() && l.start_time != s.start_time);
        self.prev = if restarted { None } else { self.last.take() };
        self.last = Some(s);
    }

    fn usage(&self) -> Option<Usage> {
        let (prev, last) = (self.prev?, self.last?);
        let (c1, t1) = (prev.cpu_seconds?, prev.cpu_time_ms?);
        let (c2, t2) = (last.cpu_seconds?, last.cpu_time_ms?);
        if t2 <= t1 || c2 < c1 {
            return None;
        }
        let rate = (c2 - c1) / ((t2 - t1) as f64 / 1000.0);
        Some(Usage {
            cpu_nanocores: (rate * 1e9).round() as u64,
            memory_bytes: last.memory_bytes.unwrap_or(0.0).max(0.0) as u64,
            timestamp_ms: t2,
            window_ms: t2 - t1,
        })
    }
}

#[derive(Default)]
struct Inner {
    nodes: HashMap<String, Pair>,
    containers: HashMap<ContainerKey, Pair>,
}

/// Shared by the scrape loop (writer) and the API (readers).
#[derive(Default)]
pub struct Storage {
    inner: RwLock<Inner>,
}

impl Storage {
    /// Record one scrape cycle: `scrapes` holds every node that answered. Nodes and
    /// containers absent from the cycle are dropped, as upstream drops them.
    pub fn store(&self, scrapes: &HashMap<String, NodeScrape>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.nodes.retain(|n, _| scrapes.contains_key(n));
        inner
            .containers
            .retain(|k, _| scrapes.values().any(|s| s.containers.contains_key(k)));
        for (node, scrape) in scrapes {
            inner
                .nodes
                .entry(node.clone())
                .or_default()
                .push(scrape.node);
            for (key, sample) in &scrape.containers {
                inner
                    .containers
                    .entry(key.clone())
                    .or_default()
                    .push(*sample);
            }
        }
    }

    /// A node's usage, once it has two samples.
    pub fn node(&self, name: &str) -> Option<Usage> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.nodes.get(name)?.usage()
    }

    /// Every node with usage, in name order.
    pub fn nodes(&self) -> BTreeMap<String, Usage> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .nodes
            .iter()
            .filter_map(|(n, p)| Some((n.clone(), p.usage()?)))
            .collect()
    }

    /// Every pod (namespace, name) whose containers all have usage, optionally in one
    /// namespace. A pod with a container still lacking a rate is left out, as upstream does.
    pub fn pods(&self, namespace: Option<&str>) -> BTreeMap<(String, String), PodUsage> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let mut out: BTreeMap<(String, String), Option<PodUsage>> = BTreeMap::new();
        for (k, pair) in &inner.containers {
            if namespace.is_some_and(|ns| ns != k.namespace) {
                continue;
            }
            let entry = out
                .entry((k.namespace.clone(), k.pod.clone()))
                .or_insert_with(|| {
                    Some(PodUsage {
                        containers: BTreeMap::new(),
                    })
                });
            match (entry.as_mut(), pair.usage()) {
                (Some(p), Some(u)) => {
                    p.containers.insert(k.container.clone(), u);
                }
                _ => *entry = None,
            }
        }
        out.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cpu: f64, t: i64, mem: f64, start: f64) -> Sample {
        Sample {
            cpu_seconds: Some(cpu),
            cpu_time_ms: Some(t),
            memory_bytes: Some(mem),
            start_time: Some(start),
        }
    }

    fn scrape_of(node: Sample, c: Sample) -> HashMap<String, NodeScrape> {
        let mut s = NodeScrape {
            node,
            ..Default::default()
        };
        s.containers.insert(
            ContainerKey {
                namespace: "ns".into(),
                pod: "p".into(),
                container: "c".into(),
            },
            c,
        );
        HashMap::from([("n1".to_string(), s)])
    }

    #[test]
    fn cpu_is_the_rate_between_two_samples() {
        let st = Storage::default();
        st.store(&scrape_of(
            sample(100.0, 10_000, 1e9, 0.0),
            sample(1.0, 10_000, 4096.0, 5.0),
        ));
        assert!(st.node("n1").is_none(), "one sample gives no rate");
        assert!(st.pods(None).is_empty());
        // 15 s later: the node used 7.5 core-seconds (0.5 cores), the container 1.5 (0.1).
        st.store(&scrape_of(
            sample(107.5, 25_000, 2e9, 0.0),
            sample(2.5, 25_000, 8192.0, 5.0),
        ));
        let n = st.node("n1").expect("node usage");
        assert_eq!(n.cpu_nanocores, 500_000_000);
        assert_eq!(n.memory_bytes, 2_000_000_000);
        assert_eq!(n.window_ms, 15_000);
        let pods = st.pods(Some("ns"));
        let p = &pods[&("ns".to_string(), "p".to_string())];
        assert_eq!(p.containers["c"].cpu_nanocores, 100_000_000);
        assert_eq!(p.containers["c"].memory_bytes, 8192);
        assert!(st.pods(Some("other")).is_empty());
    }

    #[test]
    fn a_restart_resets_the_rate() {
        let st = Storage::default();
        st.store(&scrape_of(
            sample(1.0, 1_000, 1.0, 0.0),
            sample(50.0, 1_000, 1.0, 5.0),
        ));
        st.store(&scrape_of(
            sample(2.0, 2_000, 1.0, 0.0),
            sample(0.1, 2_000, 1.0, 9.0),
        ));
        assert!(st.pods(None).is_empty());
        st.store(&scrape_of(
            sample(3.0, 3_000, 1.0, 0.0),
            sample(0.6, 3_000, 1.0, 9.0),
        ));
        let pods = st.pods(None);
        assert_eq!(
            pods.values().next().unwrap().containers["c"].cpu_nanocores,
            500_000_000
        );
    }

    #[test]
    fn vanished_nodes_are_dropped() {
        let st = Storage::default();
        st.store(&scrape_of(
            sample(1.0, 1_000, 1.0, 0.0),
            sample(1.0, 1_000, 1.0, 0.0),
        ));
        st.store(&scrape_of(
            sample(2.0, 2_000, 1.0, 0.0),
            sample(2.0, 2_000, 1.0, 0.0),
        ));
        assert_eq!(st.nodes().len(), 1);
        st.store(&HashMap::new());
        assert!(st.nodes().is_empty());
        assert!(st.pods(None).is_empty());
    }
}
