//! The node IPAM controller with upstream's `RangeAllocator`: every node without a pod
//! range gets the next free subnet of each `--cluster-cidr` as `spec.podCIDRs` (the first
//! also as `spec.podCIDR`); a node's ranges are free again once the node is deleted. On a
//! dual-stack cluster (`--cluster-cidr=v4,v6`) each node gets one range of each family, of
//! `--node-cidr-mask-size-ipv4` / `--node-cidr-mask-size-ipv6` bits.
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

/// Upstream's default node mask size for IPv4 ranges.
pub const DEFAULT_NODE_CIDR_MASK_SIZE_IPV4: u8 = 24;
/// Upstream's default node mask size for IPv6 ranges.
pub const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6: u8 = 64;
/// The default `--cluster-cidr` (upstream has none; Rudder's local cluster uses this one).
pub const DEFAULT_CLUSTER_CIDR: &str = "10.244.0.0/16";

/// Why the nodeipam flags do not make a configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("--cluster-cidr must contain at least one CIDR")]
    NoCidr,
    #[error("len of clusters is:{0} > more than max allowed of 2")]
    TooMany(usize),
    #[error("--cluster-cidr with two values must hold one IPv4 and one IPv6 CIDR")]
    NotDualStack,
    #[error("usage of --node-cidr-mask-size is not allowed with dual-stack clusters")]
    MaskSizeWithDualStack,
    #[error(transparent)]
    Cidr(#[from] CidrError),
}

/// The nodeipam flags as given.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--cluster-cidr` (comma separated).
    pub cluster_cidrs: Vec<Cidr>,
    /// `--node-cidr-mask-size` (single-stack only).
    pub node_cidr_mask_size: Option<u8>,
    /// `--node-cidr-mask-size-ipv4`.
    pub node_cidr_mask_size_ipv4: Option<u8>,
    /// `--node-cidr-mask-size-ipv6`.
    pub node_cidr_mask_size_ipv6: Option<u8>,
}

/// The controller's settings: each cluster CIDR with the mask size of its node ranges.
#[derive(Debug, Clone)]
pub struct Config {
    /// `(cluster CIDR, node mask size)`, primary first.
    pub ranges: Vec<(Cidr, u8)>,
}

impl Config {
    /// Upstream's `setNodeCIDRMaskSizes`: the per-family flags (or their defaults) for a
    /// dual-stack cluster, where `--node-cidr-mask-size` is refused; on a single-stack one
    /// `--node-cidr-mask-size` wins over the per-family flag.
    pub fn from_flags(flags: &Flags) -> Result<Self, ConfigError> {
        let cidrs = &flags.cluster_cidrs;
        match cidrs.len() {
            0 => return Err(ConfigError::NoCidr),
            1 => {}
            2 if cidrs[0].is_ipv6() != cidrs[1].is_ipv6() => {
                if flags.node_cidr_mask_size.is_some() {
                    return Err(ConfigError::MaskSizeWithDualStack);
                }
            }
            2 => return Err(ConfigError::NotDualStack),
            n => return Err(ConfigError::TooMany(n)),
        }
        let v4 = flags
            .node_cidr_mask_size_ipv4
            .unwrap_or(DEFAULT_NODE_CIDR_MASK_SIZE_IPV4);
        let v6 = flags
            .node_cidr_mask_size_ipv6
            .unwrap_or(DEFAULT_NODE_CIDR_MASK_SIZE_IPV6);
        let ranges = cidrs
            .iter()
            .map(|c| {
                let family = if c.is_ipv6() { v6 } else { v4 };
                (*c, flags.node_cidr_mask_size.unwrap_or(family))
            })
            .collect::<Vec<_>>();
        for (c, m) in &ranges {
            CidrSet::new(*c, *m)?;
        }
        Ok(Self { ranges })
    }
}

/// The allocation state: one subnet set per cluster CIDR and which node holds what.
struct Allocator {
    config: Config,
    sets: Vec<CidrSet>,
    /// Node name → its ranges, one per cluster CIDR (seen on the node, or given by us and
    /// not yet seen).
    assigned: HashMap<String, Vec<Cidr>>,
    /// Nodes whose ranges could not be written yet.
    pending: BTreeSet<String>,
}

impl Allocator {
    fn new(config: Config) -> Result<Self, CidrError> {
        let sets = config
            .ranges
            .iter()
            .map(|(c, m)| CidrSet::new(*c, *m))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            config,
            sets,
            assigned: HashMap::new(),
            pending: BTreeSet::new(),
        })
    }

    /// Free `cidrs` in the sets of their families.
    fn release_all(&mut self, cidrs: &[Cidr]) {
        for c in cidrs {
            for set in &mut self.sets {
                let _ = set.release(c);
            }
        }
    }

    /// How many subnets are taken, over all sets.
    fn used(&self) -> usize {
        self.sets.iter().map(CidrSet::used).sum()
    }

    /// Start over from a full list of nodes: their ranges, plus the ranges we handed out
    /// that the list does not show yet (their nodes still exist).
    fn resync(&mut self, nodes: &[Node]) -> Result<(), CidrError> {
        let mut fresh = Allocator::new(self.config.clone())?;
        for node in nodes {
            let name = node.name_any();
            let cidrs = node_cidrs(node).or_else(|| self.assigned.get(&name).cloned());
            if let Some(c) = cidrs {
                fresh.record(&name, c);
            }
        }
        *self = fresh;
        Ok(())
    }

    /// Note that `node` holds `cidrs` (`podCIDRs[i]` belongs to cluster CIDR `i`, as
    /// upstream's range allocator reads them).
    fn record(&mut self, node: &str, cidrs: Vec<Cidr>) {
        if let Some(old) = self.assigned.get(node).cloned() {
            if old == cidrs {
                return;
            }
            // The node got other ranges than ours (e.g. its kubelet set one first).
            self.release_all(&old);
        }
        for (i, c) in cidrs.iter().enumerate() {
            let result = match self.sets.get_mut(i) {
                Some(set) => set.occupy(c),
                None => Err(CidrError::NotInRange(*c, *c, c.prefix())),
            };
            if let Err(e) = result {
                tracing::info!(node, error = %e, "node's pod range is not managed by this allocator");
            }
        }
        self.assigned.insert(node.to_string(), cidrs);
    }

    /// The ranges `node` should be given: those already promised, or the next free one of
    /// each cluster CIDR (all or none: a full set gives back what the others handed out).
    fn ranges_for(&mut self, node: &str) -> Result<Vec<Cidr>, CidrError> {
        if let Some(c) = self.assigned.get(node) {
            return Ok(c.clone());
        }
        let mut got = Vec::new();
        for i in 0..self.sets.len() {
            match self.sets[i].allocate_next() {
                Ok(c) => got.push(c),
                Err(e) => {
                    self.release_all(&got);
                    return Err(e);
                }
            }
        }
        self.assigned.insert(node.to_string(), got.clone());
        Ok(got)
    }

    /// A node is gone: its ranges are free.
    fn forget(&mut self, node: &str) {
        self.pending.remove(node);
        if let Some(c) = self.assigned.remove(node) {
            self.release_all(&c);
            tracing::info!(node, cidrs = ?c.iter().map(Cidr::to_string).collect::<Vec<_>>(), "released pod ranges of deleted node");
        }
    }
}

/// The node's `spec.podCIDRs` (or `[podCIDR]` when only that is set), when set and
/// parseable.
fn node_cidrs(node: &Node) -> Option<Vec<Cidr>> {
    let spec = node.spec.as_ref()?;
    let listed: Vec<Cidr> = spec
        .pod_cidrs
        .iter()
        .flatten()
        .filter_map(|c| c.parse().ok())
        .collect();
    if !listed.is_empty() {
        return Some(listed);
    }
    let single = spec.pod_cidr.as_deref().filter(|c| !c.is_empty())?;
    Some(vec![single.parse().ok()?])
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
    if let Some(c) = node_cidrs(node) {
        alloc.pending.remove(&name);
        alloc.record(&name, c);
        return;
    }
    if node.metadata.deletion_timestamp.is_some() {
        return;
    }
    let cidrs = match alloc.ranges_for(&name) {
        Ok(c) => c,
        Err(e) => {
            // Upstream records a CIDRNotAvailable event; the node waits for a range.
            tracing::warn!(node = %name, error = %e, "no pod range for node");
            alloc.pending.insert(name);
            return;
        }
    };
    let texts: Vec<String> = cidrs.iter().map(Cidr::to_string).collect();
    let patch = json!({"spec": {"podCIDR": texts[0], "podCIDRs": texts}});
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(node = %name, cidrs = ?texts, used = alloc.used(), "set node pod ranges")
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
            ranges: vec![("10.244.0.0/16".parse().unwrap(), 24)],
        }
    }

    fn one(c: &[Cidr]) -> String {
        assert_eq!(c.len(), 1);
        c[0].to_string()
    }

    #[test]
    fn existing_ranges_are_kept_and_never_handed_out_again() {
        let mut a = Allocator::new(config()).unwrap();
        a.resync(&[
            node("kubelet-set", Some("10.244.0.0/24")),
            node("new", None),
        ])
        .unwrap();
        let c = a.ranges_for("new").unwrap();
        assert_eq!(one(&c), "10.244.1.0/24");
        // Asking again (event before our write is seen) gives the same range.
        assert_eq!(a.ranges_for("new").unwrap(), c);
        assert_eq!(one(&a.ranges_for("other").unwrap()), "10.244.2.0/24");
    }

    #[test]
    fn promised_ranges_survive_a_relist_that_has_not_seen_them() {
        let mut a = Allocator::new(config()).unwrap();
        let c = a.ranges_for("n1").unwrap();
        a.resync(&[node("n1", None)]).unwrap();
        assert_eq!(a.ranges_for("n1").unwrap(), c);
        assert_ne!(a.ranges_for("n2").unwrap(), c);
        // A relist without n2 (deleted meanwhile) frees its range.
        a.resync(&[node("n1", None)]).unwrap();
        assert!(!a.assigned.contains_key("n2"));
    }

    #[test]
    fn deleting_a_node_frees_its_range() {
        let mut a = Allocator::new(Config {
            ranges: vec![("10.0.0.0/23".parse().unwrap(), 24)],
        })
        .unwrap();
        a.ranges_for("a").unwrap();
        let b = a.ranges_for("b").unwrap();
        assert!(a.ranges_for("c").is_err(), "range is full");
        a.forget("b");
        assert_eq!(a.ranges_for("c").unwrap(), b);
    }

    #[test]
    fn a_node_that_sets_its_own_range_releases_ours() {
        let mut a = Allocator::new(config()).unwrap();
        a.ranges_for("n").unwrap();
        a.record("n", vec!["10.244.9.0/24".parse().unwrap()]);
        assert_eq!(a.used(), 1, "only the node's own range is taken");
    }

    fn flags(cidrs: &str) -> Flags {
        Flags {
            cluster_cidrs: cidrs.split(',').map(|c| c.parse().unwrap()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn dual_stack_nodes_get_one_range_per_family_or_none() {
        let mut f = flags("10.0.0.0/23,fd00:10::/63");
        f.node_cidr_mask_size_ipv6 = Some(64);
        let mut a = Allocator::new(Config::from_flags(&f).unwrap()).unwrap();
        let got = a.ranges_for("a").unwrap();
        assert_eq!(
            got.iter().map(Cidr::to_string).collect::<Vec<_>>(),
            ["10.0.0.0/24", "fd00:10::/64"]
        );
        a.ranges_for("b").unwrap();
        assert!(a.ranges_for("c").is_err());
        assert_eq!(a.used(), 4, "a failed node takes nothing");
        a.forget("a");
        assert_eq!(a.ranges_for("c").unwrap(), got);
    }

    #[test]
    fn mask_flags_follow_upstream() {
        let dual = Config::from_flags(&flags("10.244.0.0/16,fd00::/48")).unwrap();
        assert_eq!(
            dual.ranges.iter().map(|r| r.1).collect::<Vec<_>>(),
            [24, 64]
        );
        let mut f = flags("10.244.0.0/16,fd00::/48");
        f.node_cidr_mask_size = Some(24);
        assert_eq!(
            Config::from_flags(&f).unwrap_err(),
            ConfigError::MaskSizeWithDualStack
        );
        assert_eq!(
            Config::from_flags(&flags("10.0.0.0/8,10.1.0.0/16")).unwrap_err(),
            ConfigError::NotDualStack
        );
        let mut single = flags("10.244.0.0/16");
        single.node_cidr_mask_size = Some(26);
        single.node_cidr_mask_size_ipv4 = Some(25);
        assert_eq!(Config::from_flags(&single).unwrap().ranges[0].1, 26);
    }
}
