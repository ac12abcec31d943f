//! VolumeBinding against stores filled by hand.

use super::*;
use crate::framework::plugins::testing::{node, pod};
use kube::runtime::watcher;
use serde_json::{json, Value};

struct Fixture {
    handle: Handle,
    writers: crate::framework::handle::HandleWriters,
}

impl Fixture {
    fn new() -> Fixture {
        let (handle, writers) = Handle::new();
        Fixture { handle, writers }
    }
    fn class(&mut self, name: &str, mode: &str, provisioner: &str) {
        let sc = serde_json::from_value(json!({"metadata": {"name": name},
            "provisioner": provisioner, "volumeBindingMode": mode}))
        .expect("class");
        self.writers
            .storage_classes
            .apply_watcher_event(&watcher::Event::Apply(sc));
    }
    fn pvc(&mut self, name: &str, spec: Value, annotations: Value) {
        let c = serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                         "annotations": annotations},
            "spec": spec}))
        .expect("pvc");
        self.writers
            .pvcs
            .apply_watcher_event(&watcher::Event::Apply(c));
    }
    fn pv(&mut self, name: &str, size: &str, class: &str, host: Option<&str>, claim: Option<&str>) {
        let mut v = json!({"metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": class, "local": {"path": "/mnt"}},
            "status": {"phase": "Available"}});
        if let Some(h) = host {
            v["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [h]}]}]}});
        }
        if let Some(c) = claim {
            v["spec"]["claimRef"] = json!({"namespace": "default", "name": c});
            v["status"]["phase"] = json!("Bound");
        }
        let pv = serde_json::from_value(v).expect("pv");
        self.writers
            .pvs
            .apply_watcher_event(&watcher::Event::Apply(pv));
    }
    fn plugin(&self) -> VolumeBinding {
        VolumeBinding::new(self.handle.clone(), Duration::from_secs(1))
    }
}

fn claim_spec(class: Option<&str>, size: &str) -> Value {
    json!({"storageClassName": class, "accessModes": ["ReadWriteOnce"],
           "resources": {"requests": {"storage": size}}})
}

fn pod_using(claims: &[&str]) -> Pod {
    let volumes: Vec<Value> = claims
        .iter()
        .map(|c| json!({"name": c, "persistentVolumeClaim": {"claimName": c}}))
        .collect();
    pod(json!({"volumes": volumes}))
}

fn hosts() -> Vec<NodeInfo> {
    ["node-a", "node-b"]
        .iter()
        .map(|n| {
            node(
                n,
                json!({"metadata": {"labels": {"kubernetes.io/hostname": n}}}),
            )
        })
        .collect()
}

fn run(
    plugin: &VolumeBinding,
    p: &Pod,
    nodes: &[NodeInfo],
) -> Result<Vec<Result<(), Status>>, Status> {
    let mut state = CycleState::default();
    plugin.pre_filter(&mut state, p, nodes)?;
    Ok(nodes.iter().map(|n| plugin.filter(&state, p, n)).collect())
}

#[test]
fn missing_and_immediate_claims_reject_the_pod_in_prefilter() {
    let mut f = Fixture::new();
    f.class("fast", "Immediate", "kubernetes.io/no-provisioner");
    f.pvc("unbound", claim_spec(Some("fast"), "1Gi"), json!({}));
    let plugin = f.plugin();
    let err = run(&plugin, &pod_using(&["nope"]), &hosts()).expect_err("missing claim");
    assert_eq!(
        err.reasons,
        vec!["persistentvolumeclaim \"nope\" not found"]
    );
    assert_eq!(
        err.code,
        crate::framework::Code::UnschedulableAndUnresolvable
    );
    let err = run(&plugin, &pod_using(&["unbound"]), &hosts()).expect_err("immediate");
    assert_eq!(err.reasons, vec![claims::ERR_UNBOUND_IMMEDIATE]);
    // A pod without claims is not this plugin's business.
    assert!(run(&plugin, &pod(json!({})), &hosts())
        .expect("no claims")
        .iter()
        .all(Result::is_ok));
}

#[test]
fn bound_claims_follow_their_volume_node_affinity() {
    let mut f = Fixture::new();
    f.pv("local-b", "5Gi", "local", Some("node-b"), Some("data"));
    f.pvc(
        "data",
        json!({"volumeName": "local-b", "storageClassName": "local"}),
        json!({}),
    );
    f.pvc("ghost", json!({"volumeName": "gone"}), json!({}));
    let plugin = f.plugin();
    let found = run(&plugin, &pod_using(&["data"]), &hosts()).expect("prefilter");
    assert_eq!(
        found[0].clone().expect_err("node-a").reasons,
        vec![ERR_REASON_NODE_CONFLICT]
    );
    assert!(found[1].is_ok());
    let found = run(&plugin, &pod_using(&["ghost"]), &hosts()).expect("prefilter");
    assert_eq!(
        found[1].clone().expect_err("no pv").reasons,
        vec![ERR_REASON_PV_NOT_EXIST]
    );
}

#[test]
fn wait_for_first_consumer_finds_a_volume_per_node() {
    let mut f = Fixture::new();
    f.class(
        "local",
        "WaitForFirstConsumer",
        "kubernetes.io/no-provisioner",
    );
    f.class("dynamic", "WaitForFirstConsumer", "example.com/csi");
    f.pv("small-b", "1Gi", "local", Some("node-b"), None);
    f.pv("big-a", "100Gi", "local", Some("node-a"), None);
    f.pv("tiny-a", "100Mi", "local", Some("node-a"), None);
    f.pvc("want", claim_spec(Some("local"), "1Gi"), json!({}));
    f.pvc("grow", claim_spec(Some("dynamic"), "1Gi"), json!({}));
    let plugin = f.plugin();
    let nodes = hosts();
    // node-a's only big-enough volume is big-a; node-b has small-b.
    let found = run(&plugin, &pod_using(&["want"]), &nodes).expect("prefilter");
    assert!(found.iter().all(Result::is_ok));
    // Two claims cannot share node-b's single volume.
    f.pvc("want2", claim_spec(Some("local"), "1Gi"), json!({}));
    let found = run(&plugin, &pod_using(&["want", "want2"]), &nodes).expect("prefilter");
    assert_eq!(
        found[1].clone().expect_err("one pv").reasons,
        vec![ERR_REASON_BIND_CONFLICT]
    );
    // A real provisioner makes any node fine.
    assert!(run(&plugin, &pod_using(&["grow"]), &nodes)
        .expect("prefilter")
        .iter()
        .all(Result::is_ok));
    // Reserve on node-b picks small-b and hides it from other claims until unreserved.
    let p = pod_using(&["want"]);
    plugin.reserve(&p, &nodes[1]).expect("reserve");
    assert_eq!(
        f.handle
            .assumed_volumes()
            .by_volume
            .get("small-b")
            .map(String::as_str),
        Some("default/want")
    );
    let mut other = pod_using(&["want2"]);
    other.metadata.name = Some("q".into());
    let found = run(&plugin, &other, &nodes).expect("prefilter");
    assert_eq!(
        found[1].clone().expect_err("reserved").reasons,
        vec![ERR_REASON_BIND_CONFLICT]
    );
    plugin.unreserve(&p);
    assert!(run(&plugin, &other, &nodes).expect("prefilter")[1].is_ok());
}

#[test]
fn a_prefilter_rejection_names_itself_once_in_the_fit_error() {
    let mut f = Fixture::new();
    f.pvc("unbound", claim_spec(None, "1Gi"), json!({}));
    let fw = crate::profile::build(
        &crate::config::ProfileConfig::named("default-scheduler"),
        "profiles[0]",
        &f.handle,
    )
    .expect("default profile");
    let nodes = hosts();
    let p = pod_using(&["unbound"]);
    let found = fw.find_feasible_from(&p, &nodes, None, None, 0, nodes.len());
    assert!(found.feasible.is_empty());
    assert_eq!(
        crate::framework::fit_error::fit_error_message(&p, nodes.len(), &found.diagnosis),
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
}
