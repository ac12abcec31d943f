//! The Node authorizer: a kubelet (user `system:node:<name>` in group `system:nodes`) may read
//! the Secrets, ConfigMaps, PersistentVolumeClaims and PersistentVolumes, and request tokens
//! for the ServiceAccounts, that pods bound to its node use — nothing else of those kinds —
//! plus the fixed set of rules every node needs (upstream's `NodeRules`). Which object is
//! used by which node is a graph fed from pod and PVC watches ([`NodeGraph`]).
//!
//! What a node may *write* about its own Node, its pods and mirror pods is narrowed further by
//! the NodeRestriction admission plugin (`admission/node_restriction.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::{OnceLock, RwLock};

use serde_json::Value;

use super::rule::PolicyRule;
use super::{Attributes, Decision, Verdict};

/// The group every kubelet credential carries.
pub const NODES_GROUP: &str = "system:nodes";
/// User-name prefix of kubelet credentials.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// Namespace of node Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The node a user is, if it is a node: `Some("")` for a node credential without a name.
pub fn node_identity(user: &str, groups: &[String]) -> Option<String> {
    if !groups.iter().any(|g| g == NODES_GROUP) {
        return None;
    }
    user.strip_prefix(NODE_USER_PREFIX).map(String::from)
}

/// Kinds of object a pod can make a node depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VertexKind {
    /// Secret.
    Secret,
    /// ConfigMap.
    ConfigMap,
    /// PersistentVolumeClaim.
    Pvc,
    /// ServiceAccount (for tokens).
    ServiceAccount,
}

type ObjKey = (VertexKind, String, String);

#[derive(Debug, Default)]
struct GraphState {
    /// Pod (ns, name) → its node and what it references.
    pods: HashMap<(String, String), (String, Vec<ObjKey>)>,
    /// Object → node → number of pods on that node referencing it.
    used_by: HashMap<ObjKey, HashMap<String, usize>>,
    /// PVC (ns, name) → bound PV name.
    pvc_volume: HashMap<(String, String), String>,
}

/// Which nodes use which objects.
#[derive(Debug, Default)]
pub struct NodeGraph {
    state: RwLock<GraphState>,
}

/// What a pod references by name, upstream's list: image pull secrets, env and envFrom
/// sources, and secret, configMap, projected, PVC and ephemeral volumes, CSI/flex secrets,
/// and its ServiceAccount.
pub fn pod_references(pod: &Value) -> Vec<(VertexKind, String)> {
    let mut out: Vec<(VertexKind, String)> = Vec::new();
    let spec = match pod.get("spec") {
        Some(s) => s,
        None => return out,
    };
    let mut add = |k: VertexKind, n: Option<&str>| {
        if let Some(n) = n.filter(|n| !n.is_empty()) {
            if !out.iter().any(|(k2, n2)| *k2 == k && n2 == n) {
                out.push((k, n.to_string()));
            }
        }
    };
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
    let arr = |v: &Value, f: &str| {
        v.get(f)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    // ServiceAccount admission defaults the name to "default"; do the same for pods written
    // before it ran (or with it disabled), so their kubelet can still request tokens.
    let account = s(spec, "/serviceAccountName")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string());
    add(VertexKind::ServiceAccount, Some(&account));
    for ips in arr(spec, "imagePullSecrets") {
        add(VertexKind::Secret, s(&ips, "/name").as_deref());
    }
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        for c in arr(spec, field) {
            for e in arr(&c, "env") {
                add(
                    VertexKind::Secret,
                    s(&e, "/valueFrom/secretKeyRef/name").as_deref(),
                );
                add(
                    VertexKind::ConfigMap,
                    s(&e, "/valueFrom/configMapKeyRef/name").as_deref(),
                );
            }
            for e in arr(&c, "envFrom") {
                add(VertexKind::Secret, s(&e, "/secretRef/name").as_deref());
                add(
                    VertexKind::ConfigMap,
                    s(&e, "/configMapRef/name").as_deref(),
                );
            }
        }
    }
    let pod_name = s(pod, "/metadata/name").unwrap_or_default();
    for v in arr(spec, "volumes") {
        add(VertexKind::Secret, s(&v, "/secret/secretName").as_deref());
        add(VertexKind::ConfigMap, s(&v, "/configMap/name").as_deref());
        add(
            VertexKind::Pvc,
            s(&v, "/persistentVolumeClaim/claimName").as_deref(),
        );
        if v.get("ephemeral").is_some() {
            let vol = s(&v, "/name").unwrap_or_default();
            add(VertexKind::Pvc, Some(&format!("{pod_name}-{vol}")));
        }
        for p in [
            "/csi/nodePublishSecretRef/name",
            "/flexVolume/secretRef/name",
            "/cephfs/secretRef/name",
            "/rbd/secretRef/name",
            "/iscsi/secretRef/name",
            "/azureFile/secretName",
        ] {
            add(VertexKind::Secret, s(&v, p).as_deref());
        }
        for src in v
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            add(VertexKind::Secret, s(&src, "/secret/name").as_deref());
            add(VertexKind::ConfigMap, s(&src, "/configMap/name").as_deref());
        }
    }
    out
}

impl NodeGraph {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, GraphState> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, GraphState> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Add, replace (`Some`) or remove (`None`) a pod. Pods not bound to a node add nothing.
    pub fn apply_pod(&self, ns: &str, name: &str, pod: Option<&Value>) {
        let mut st = self.write();
        let key = (ns.to_string(), name.to_string());
        if let Some((node, refs)) = st.pods.remove(&key) {
            for r in refs {
                if let Some(nodes) = st.used_by.get_mut(&r) {
                    if let Some(n) = nodes.get_mut(&node) {
                        *n -= 1;
                        if *n == 0 {
                            nodes.remove(&node);
                        }
                    }
                    if nodes.is_empty() {
                        st.used_by.remove(&r);
                    }
                }
            }
        }
        let Some(pod) = pod else { return };
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if node.is_empty() {
            return;
        }
        let refs: Vec<ObjKey> = pod_references(pod)
            .into_iter()
            .map(|(k, n)| (k, ns.to_string(), n))
            .collect();
        for r in &refs {
            *st.used_by
                .entry(r.clone())
                .or_default()
                .entry(node.clone())
                .or_default() += 1;
        }
        st.pods.insert(key, (node, refs));
    }

    /// Add, replace or remove a PVC (its bound volume links it to a PV).
    pub fn apply_pvc(&self, ns: &str, name: &str, pvc: Option<&Value>) {
        let mut st = self.write();
        let key = (ns.to_string(), name.to_string());
        match pvc
            .and_then(|p| p.pointer("/spec/volumeName"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            Some(pv) => {
                st.pvc_volume.insert(key, pv.to_string());
            }
            None => {
                st.pvc_volume.remove(&key);
            }
        }
    }

    /// Forget everything (before a full resync).
    pub fn clear(&self) {
        *self.write() = GraphState::default();
    }

    /// Whether a pod on `node` references the object.
    pub fn has_path(&self, node: &str, kind: VertexKind, ns: &str, name: &str) -> bool {
        let st = self.read();
        st.used_by
            .get(&(kind, ns.to_string(), name.to_string()))
            .is_some_and(|nodes| nodes.contains_key(node))
    }

    /// Whether a PV is bound to a PVC that a pod on `node` uses.
    pub fn has_pv_path(&self, node: &str, pv: &str) -> bool {
        let st = self.read();
        st.pvc_volume.iter().any(|((ns, claim), vol)| {
            vol == pv
                && st
                    .used_by
                    .get(&(VertexKind::Pvc, ns.clone(), claim.clone()))
                    .is_some_and(|nodes| nodes.contains_key(node))
        })
    }

    /// Names of the pods bound to `node` (NodeRestriction uses pod → node instead; this is for
    /// tests and diagnostics).
    pub fn pods_on(&self, node: &str) -> HashSet<(String, String)> {
        self.read()
            .pods
            .iter()
            .filter(|(_, (n, _))| n == node)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The rules every node holds regardless of the graph (upstream's `NodeRules`, v1.33).
pub fn node_rules() -> &'static [PolicyRule] {
    static RULES: OnceLock<Vec<PolicyRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let read = ["get", "list", "watch"];
        vec![
            PolicyRule::resource(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
            PolicyRule::resource(
                &["create"],
                &["authorization.k8s.io"],
                &["subjectaccessreviews", "localsubjectaccessreviews"],
            ),
            PolicyRule::resource(&read, &[""], &["services"]),
            PolicyRule::resource(&["create", "get", "list", "watch"], &[""], &["nodes"]),
            PolicyRule::resource(&["update", "patch"], &[""], &["nodes/status"]),
            PolicyRule::resource(&["update", "patch"], &[""], &["nodes"]),
            PolicyRule::resource(
                &["create", "update", "patch"],
                &["", "events.k8s.io"],
                &["events"],
            ),
            PolicyRule::resource(&read, &[""], &["pods"]),
            PolicyRule::resource(&["create", "delete"], &[""], &["pods"]),
            PolicyRule::resource(&["update", "patch"], &[""], &["pods/status"]),
            PolicyRule::resource(&["create"], &[""], &["pods/eviction"]),
            PolicyRule::resource(&["get", "list", "watch"], &[""], &["secrets", "configmaps"]),
            PolicyRule::resource(
                &["get"],
                &[""],
                &["persistentvolumeclaims", "persistentvolumes"],
            ),
            PolicyRule::resource(&["get"], &[""], &["endpoints"]),
            PolicyRule::resource(
                &["create", "get", "list", "watch"],
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
            ),
            PolicyRule::resource(
                &["get", "create", "update", "patch", "delete"],
                &["coordination.k8s.io"],
                &["leases"],
            ),
            PolicyRule::resource(&["get"], &["storage.k8s.io"], &["volumeattachments"]),
            PolicyRule::resource(
                &["get", "update", "patch"],
                &[""],
                &["persistentvolumeclaims/status"],
            ),
            PolicyRule::resource(&["create"], &[""], &["serviceaccounts/token"]),
            PolicyRule::resource(
                &["get", "watch", "list"],
                &["storage.k8s.io"],
                &["csidrivers"],
            ),
            PolicyRule::resource(
                &["get", "create", "update", "patch", "delete"],
                &["storage.k8s.io"],
                &["csinodes"],
            ),
            PolicyRule::resource(
                &["get", "watch", "list"],
                &["node.k8s.io"],
                &["runtimeclasses"],
            ),
            PolicyRule::resource(&read, &["discovery.k8s.io"], &["endpointslices"]),
        ]
    })
}

fn no(reason: impl Into<String>) -> Verdict {
    Verdict::new(Decision::NoOpinion, reason)
}

fn no_relationship(node: &str) -> Verdict {
    no(format!(
        "no relationship found between node '{node}' and this object"
    ))
}

/// The Node authorizer's decision (no opinion about users that are not nodes).
pub fn authorize(graph: &NodeGraph, a: &Attributes) -> Verdict {
    let Some(node) = node_identity(&a.user, &a.groups) else {
        return no("");
    };
    if node.is_empty() {
        return no(format!("unknown node for user {:?}", a.user));
    }
    if a.resource_request {
        match (a.group.as_str(), a.resource.as_str()) {
            ("", "secrets") => return read_namespaced(graph, &node, VertexKind::Secret, a),
            ("", "configmaps") => return read_namespaced(graph, &node, VertexKind::ConfigMap, a),
            ("", "persistentvolumeclaims") => {
                if a.subresource == "status" {
                    return status_update(graph, &node, a);
                }
                return get_only(a).unwrap_or_else(|| {
                    if graph.has_path(&node, VertexKind::Pvc, &a.namespace, &a.name) {
                        Verdict::new(Decision::Allow, "")
                    } else {
                        no_relationship(&node)
                    }
                });
            }
            ("", "persistentvolumes") => {
                return get_only(a).unwrap_or_else(|| {
                    if graph.has_pv_path(&node, &a.name) {
                        Verdict::new(Decision::Allow, "")
                    } else {
                        no_relationship(&node)
                    }
                });
            }
            ("", "serviceaccounts") => return create_token(graph, &node, a),
            ("coordination.k8s.io", "leases") => return lease(&node, a),
            _ => {}
        }
    }
    if node_rules().iter().any(|r| r.allows(a)) {
        return Verdict::new(Decision::Allow, "");
    }
    no("")
}

/// `get` of one object without subresource, or the reason why not.
fn get_only(a: &Attributes) -> Option<Verdict> {
    if a.verb != "get" {
        return Some(no("can only get individual resources of this type"));
    }
    if !a.subresource.is_empty() {
        return Some(no(format!("cannot get subresource {}", a.subresource)));
    }
    if a.name.is_empty() {
        return Some(no("No Object name found"));
    }
    None
}

fn read_namespaced(graph: &NodeGraph, node: &str, kind: VertexKind, a: &Attributes) -> Verdict {
    if !matches!(a.verb.as_str(), "get" | "list" | "watch") {
        return no("can only read resources of this type");
    }
    if !a.subresource.is_empty() {
        return no(format!("cannot read subresource {}", a.subresource));
    }
    if a.name.is_empty() {
        return no("can only read namespaced object of this type");
    }
    if graph.has_path(node, kind, &a.namespace, &a.name) {
        Verdict::new(Decision::Allow, "")
    } else {
        no_relationship(node)
    }
}

fn status_update(graph: &NodeGraph, node: &str, a: &Attributes) -> Verdict {
    if !matches!(a.verb.as_str(), "update" | "patch") {
        return no("can only update or patch status of resources of this type");
    }
    if graph.has_path(node, VertexKind::Pvc, &a.namespace, &a.name) {
        Verdict::new(Decision::Allow, "")
    } else {
        no_relationship(node)
    }
}

fn create_token(graph: &NodeGraph, node: &str, a: &Attributes) -> Verdict {
    if a.verb != "create" || a.name.is_empty() {
        return no("can only create tokens for individual service accounts");
    }
    if a.subresource != "token" {
        return no("can only create token subresource of serviceaccount");
    }
    if graph.has_path(node, VertexKind::ServiceAccount, &a.namespace, &a.name) {
        Verdict::new(Decision::Allow, "")
    } else {
        no_relationship(node)
    }
}

fn lease(node: &str, a: &Attributes) -> Verdict {
    if !matches!(
        a.verb.as_str(),
        "get" | "create" | "update" | "patch" | "delete"
    ) {
        return no("can only get, create, update, patch, or delete a node lease");
    }
    if a.namespace != NODE_LEASE_NAMESPACE {
        return no(format!(
            "can only access leases in the {NODE_LEASE_NAMESPACE:?} system namespace"
        ));
    }
    // On create the name is in the body, not the URL; NodeRestriction checks it there.
    if a.verb != "create" && a.name != node {
        return no("can only access node lease with the same name as the requesting node");
    }
    Verdict::new(Decision::Allow, "")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kubelet(verb: &str, resource: &str, ns: &str, name: &str) -> Attributes {
        Attributes {
            user: "system:node:n1".into(),
            groups: vec![NODES_GROUP.into(), "system:authenticated".into()],
            verb: verb.into(),
            resource_request: true,
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn pod(node: &str) -> Value {
        json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {
        "nodeName": node,
        "serviceAccountName": "sa",
        "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}}]}],
        "volumes": [
            {"name": "v", "secret": {"secretName": "vol-secret"}},
            {"name": "cm", "projected": {"sources": [{"configMap": {"name": "proj-cm"}}]}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "claim"}}
        ]}})
    }

    #[test]
    fn secrets_follow_pods_bound_to_the_node() {
        let g = NodeGraph::default();
        let get = kubelet("get", "secrets", "d", "vol-secret");
        assert_eq!(
            authorize(&g, &get).reason,
            "no relationship found between node 'n1' and this object"
        );
        g.apply_pod("d", "p", Some(&pod("n1")));
        assert!(authorize(&g, &get).allowed());
        assert!(authorize(&g, &kubelet("get", "secrets", "d", "env-secret")).allowed());
        assert!(authorize(&g, &kubelet("watch", "configmaps", "d", "proj-cm")).allowed());
        assert!(!authorize(&g, &kubelet("list", "secrets", "d", "")).allowed());
        assert!(!authorize(&g, &kubelet("update", "secrets", "d", "vol-secret")).allowed());
        assert!(!authorize(&g, &kubelet("get", "secrets", "other", "vol-secret")).allowed());
        // Moving the pod to another node takes the access away.
        g.apply_pod("d", "p", Some(&pod("n2")));
        assert!(!authorize(&g, &get).allowed());
        g.apply_pod("d", "p", None);
        assert!(!g.has_path("n2", VertexKind::Secret, "d", "vol-secret"));
    }

    #[test]
    fn pvs_tokens_leases_and_static_rules() {
        let g = NodeGraph::default();
        g.apply_pod("d", "p", Some(&pod("n1")));
        g.apply_pvc("d", "claim", Some(&json!({"spec": {"volumeName": "pv1"}})));
        assert!(authorize(&g, &kubelet("get", "persistentvolumeclaims", "d", "claim")).allowed());
        assert!(authorize(&g, &kubelet("get", "persistentvolumes", "", "pv1")).allowed());
        assert!(!authorize(&g, &kubelet("get", "persistentvolumes", "", "pv2")).allowed());
        let mut token = kubelet("create", "serviceaccounts", "d", "sa");
        token.subresource = "token".into();
        assert!(authorize(&g, &token).allowed());
        let mut lease = kubelet("update", "leases", NODE_LEASE_NAMESPACE, "n1");
        lease.group = "coordination.k8s.io".into();
        assert!(authorize(&g, &lease).allowed());
        lease.name = "n2".into();
        assert!(!authorize(&g, &lease).allowed());
        assert!(authorize(&g, &kubelet("list", "pods", "", "")).allowed());
        assert!(authorize(&g, &kubelet("patch", "nodes", "", "n2")).allowed());
        assert!(!authorize(&g, &kubelet("delete", "nodes", "", "n1")).allowed());
        let mut not_node = kubelet("list", "pods", "", "");
        not_node.groups.clear();
        assert!(!authorize(&g, &not_node).allowed());
    }

    #[test]
    fn kubelet_may_not_add_ephemeral_containers() {
        let g = NodeGraph::default();
        g.apply_pod("d", "p", Some(&pod("n1")));
        for verb in ["patch", "update"] {
            let mut a = kubelet(verb, "pods", "d", "p");
            a.subresource = "status".into();
            assert!(authorize(&g, &a).allowed());
            // Even for its own pod: adding a container to run is a user's debugging action.
            a.subresource = "ephemeralcontainers".into();
            assert!(!authorize(&g, &a).allowed(), "{verb}");
        }
    }
}
