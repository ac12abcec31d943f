//! The node IPAM controller with upstream's `RangeAllocator`: every node without a pod
//! range gets the next free `/--node-cidr-mask-size` subnet of `--cluster-cidr` as
//! `spec.podCIDR` / `spec.podCIDRs`; a node's range is free again once the node is deleted.
//!
//! Nodes that already have a range (a kubelet started with `--pod-cidr`, or an earlier run
//! of this controller) keep it; it is marked used so it is never handed out twice. Ranges
//! outside the cluster CIDR are left alone (and logged), as upstream does.
//!
//! Runs only with `--allocate-node-cidrs` (off by default, as upstream). One task owns the
//! allocation state and handles node events in order, so two nodes can never be given the
//! same range; after a restart the state is rebuilt from the nodes themselves.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::nodeipam_cidrset::{Cidr, CidrSet, Error as CidrError};

/// Upstream's default `--node-cidr-mask-size` for IPv4.
pub const DEFAULT_NODE_CIDR_MASK_SIZE: u8 = 24;
/// The default `--cluster-cidr` (upstream has none; Rudder's local cluster uses this one).
pub const DEFAULT_CLUSTER_CIDR: &str = "10.244.0.0/16";

/// The controller's settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// `--cluster-cidr`.
    pub cluster_cidr: Cidr,
    /// `--node-cidr-mask-size`.
    pub node_mask_size: u8,
}

/// The allocation state: the subnet set and which node holds what.
struct Allocator {
    config: Config,
    set: CidrSet,
    /// Node name → its range (seen on the node, or given by us and not yet seen).
    assigned: HashMap<String, Cidr>,
    /// Nodes whose range could not be written yet.
    pending: BTreeSet<String>,
}

impl Allocator {
    fn new(config: Config) -> Result<Self, CidrError> {
        Ok(Self {
            config,
            set: CidrSet::new(config.cluster_cidr, config.node_mask_size)?,
            assigned: HashMap::new(),
            pending: BTreeSet::new(),
        })
    }

    /// Start over from a full list of nodes: their ranges, plus the ranges we handed out
    /// that the list does not show yet (their nodes still exist).
    fn resync(&mut self, nodes: &[Node]) -> Result<(), CidrError> {
        let mut fresh = Allocator::new(self.config)?;
        for node in nodes {
            let name = node.name_any();
            let cidr = node_cidr(node).or_else(|| self.assigned.get(&name).copied());
            if let Some(c) = cidr {
                fresh.record(&name, c);
            }
        }
        *self = fresh;
        Ok(())
    }

    /// Note that `node` holds `cidr`.
    fn record(&mut self, node: &str, cidr: Cidr) {
        if let Some(old) = self.assigned.get(node).copied() {
            if old == cidr {
                return;
            }
            // The node got another range than ours (e.g. its kubelet set one first).
            let _ = self.set.release(&old);
        }
        if let Err(e) = self.set.occupy(&cidr) {
            tracing::info!(node, error = %e, "node's pod range is not managed by this allocator");
        }
        self.assigned.insert(node.to_string(), cidr);
    }

    /// The range `node` should be given: the one already promised, or the next free one.
    fn range_for(&mut self, node: &str) -> Result<Cidr, CidrError> {
        if let Some(c) = self.assigned.get(node) {
            return Ok(*c);
        }
        let c = self.set.allocate_next()?;
        self.assigned.insert(node.to_string(), c);
        Ok(c)
    }

    /// A node is gone: its range is free.
    fn forget(&mut self, node: &str) {
        self.pending.remove(node);
        if let Some(c) = self.assigned.remove(node) {
            let _ = self.set.release(&c);
            tracing::info!(node, cidr = %c, "released pod range of deleted node");
        }
    }
}

/// The node's `spec.podCIDR`, when set and parseable.
fn node_cidr(node: &Node) -> Option<Cidr> {
    node.spec
        .as_ref()?
        .pod_cidr
        .as_deref()
        .filter(|c| !c.is_empty())?
        .parse()
        .ok()
}

/// Run until the node watch ends. Fails at once on a mask size that does not fit the
/// cluster CIDR.
pub async fn run(client: Client, config: Config) -> Result<(), CidrError> {
    let mut alloc = Allocator::new(config)?;
    let nodes: Api<Node> = Api::all(client);
    let mut events = watcher::watcher(nodes.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut listing: Vec<Node> = Vec::new();
    let mut retry = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { return Ok(()) };
                match event {
                    Ok(Event::Init) => listing.clear(),
                    Ok(Event::InitApply(n)) => listing.push(n),
                    Ok(Event::InitDone) => {
                        alloc.resync(&listing)?;
                        for n in std::mem::take(&mut listing) {
                            handle(&nodes, &mut alloc, &n).await;
                        }
                    }
                    Ok(Event::Apply(n)) => handle(&nodes, &mut alloc, &n).await,
                    Ok(Event::Delete(n)) => alloc.forget(&n.name_any()),
                    Err(e) => tracing::warn!(error = %e, "nodeipam: node watch failed"),
                }
            }
            _ = retry.tick() => {
                for name in std::mem::take(&mut alloc.pending) {
                    match nodes.get_opt(&name).await {
                        Ok(Some(n)) => handle(&nodes, &mut alloc, &n).await,
                        Ok(None) => alloc.forget(&name),
                        Err(_) => { alloc.pending.insert(name); }
                    }
                }
            }
        }
    }
}

/// Give `node` a range if it has none; record the one it has otherwise.
async fn handle(api: &Api<Node>, alloc: &mut Allocator, node: &Node) {
    let name = node.name_any();
    if let Some(c) = node_cidr(node) {
        alloc.pending.remove(&name);
        alloc.record(&name, c);
        return;
    }
    if node.metadata.deletion_timestamp.is_some() {
        return;
    }
    let cidr = match alloc.range_for(&name) {
        Ok(c) => c,
        Err(e) => {
            // Upstream records a CIDRNotAvailable event; the node waits for a range.
            tracing::warn!(node = %name, error = %e, "no pod range for node");
            alloc.pending.insert(name);
            return;
        }
    };
    let cidr_text = cidr.to_string();
    let patch = json!({"spec": {"podCIDR": cidr_text, "podCIDRs": [cidr_text]}});
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(node = %name, cidr = %cidr, used = alloc.set.used(), "set node pod range")
        }
        Err(kube::Error::Api(e)) if e.code == 404 => alloc.forget(&name),
        Err(e) => {
            tracing::warn!(node = %name, error = %e, "writing the pod range failed; retrying");
            alloc.pending.insert(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, cidr: Option<&str>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                pod_cidr: cidr.map(String::from),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn config() -> Config {
        Config {
            cluster_cidr: "10.244.0.0/16".parse().unwrap(),
            node_mask_size: 24,
        }
    }

    #[test]
    fn existing_ranges_are_kept_and_never_handed_out_again() {
        let mut a = Allocator::new(config()).unwrap();
        a.resync(&[
            node("kubelet-set", Some("10.244.0.0/24")),
            node("new", None),
        ])
        .unwrap();
        let c = a.range_for("new").unwrap();
        assert_eq!(c.to_string(), "10.244.1.0/24");
        // Asking again (event before our write is seen) gives the same range.
        assert_eq!(a.range_for("new").unwrap(), c);
        assert_eq!(a.range_for("other").unwrap().to_string(), "10.244.2.0/24");
    }

    #[test]
    fn promised_ranges_survive_a_relist_that_has_not_seen_them() {
        let mut a = Allocator::new(config()).unwrap();
        let c = a.range_for("n1").unwrap();
        a.resync(&[node("n1", None)]).unwrap();
        assert_eq!(a.range_for("n1").unwrap(), c);
        assert_ne!(a.range_for("n2").unwrap(), c);
        // A relist without n2 (deleted meanwhile) frees its range.
        a.resync(&[node("n1", None)]).unwrap();
        assert!(!a.assigned.contains_key("n2"));
    }

    #[test]
    fn deleting_a_node_frees_its_range() {
        let mut a = Allocator::new(Config {
            cluster_cidr: "10.0.0.0/23".parse().unwrap(),
            node_mask_size: 24,
        })
        .unwrap();
        a.range_for("a").unwrap();
        let b = a.range_for("b").unwrap();
        assert!(a.range_for("c").is_err(), "range is full");
        a.forget("b");
        assert_eq!(a.range_for("c").unwrap(), b);
    }

    #[test]
    fn a_node_that_sets_its_own_range_releases_ours() {
        let mut a = Allocator::new(config()).unwrap();
        a.range_for("n").unwrap();
        a.record("n", "10.244.9.0/24".parse().unwrap());
        assert_eq!(a.set.used(), 1, "only the node's own range is taken");
    }
}
