//! The scheduler's view of where pods are: bound pods come from the pod informer; pods the
//! scheduler has chosen a node for but whose binding is not yet visible are "assumed", so
//! consecutive decisions see each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::NodeInfo;

/// `namespace/name`.
pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Whether a pod still holds its node's resources (not finished).
fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// Pods assumed onto nodes, by pod key.
#[derive(Default, Clone)]
pub struct AssumeCache {
    assumed: Arc<Mutex<HashMap<String, Arc<Pod>>>>,
}

impl AssumeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Pod>>> {
        self.assumed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count `pod` on `node` from now on, before the binding is visible.
    pub fn assume(&self, pod: &Pod, node: &str) {
        let mut assumed = pod.clone();
        assumed.spec.get_or_insert_with(Default::default).node_name = Some(node.to_string());
        self.lock().insert(pod_key(pod), Arc::new(assumed));
    }

    /// Stop counting a pod (binding failed, or the informer now shows it bound or deleted).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Whether the pod is assumed (chosen, binding in flight or not yet observed).
    pub fn is_assumed(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// A fresh snapshot: every node with the bound pods the informer knows and the assumed
    /// pods it does not show as bound yet.
    pub fn snapshot(&self, nodes: &[Arc<Node>], pods: &[Arc<Pod>]) -> Vec<NodeInfo> {
        let mut infos: Vec<NodeInfo> = nodes.iter().cloned().map(NodeInfo::new).collect();
        let index: HashMap<String, usize> = infos
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name().to_string(), i))
            .collect();
        let mut place = |pod: &Arc<Pod>| {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or_default();
            if let Some(&i) = index.get(node) {
                infos[i].add_shared_pod(pod.clone());
            }
        };
        let mut seen_bound = std::collections::HashSet::new();
        for pod in pods {
            if pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| !n.is_empty())
                && is_active(pod)
            {
                seen_bound.insert(pod_key(pod));
                place(pod);
            }
        }
        for (key, pod) in self.lock().iter() {
            if !seen_bound.contains(key) {
                place(pod);
            }
        }
        infos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name},
            "status": {"allocatable": {"cpu": "1", "pods": "10"}}}))
            .expect("node"),
        )
    }

    fn pod(name: &str, node: Option<&str>) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "300m"}}}]}}))
        .expect("pod")
    }

    #[test]
    fn assumed_pods_count_until_the_binding_is_seen() {
        let cache = AssumeCache::default();
        let nodes = vec![node("a")];
        cache.assume(&pod("p1", None), "a");
        let snap = cache.snapshot(&nodes, &[]);
        assert_eq!(snap[0].requested.milli_cpu, 300);
        // The informer now shows it bound: counted once, not twice.
        let bound = Arc::new(pod("p1", Some("a")));
        let snap = cache.snapshot(&nodes, &[bound]);
        assert_eq!((snap[0].requested.milli_cpu, snap[0].pod_count), (300, 1));
        cache.forget("ns/p1");
        assert_eq!(
            cache.snapshot(&nodes, &[]).first().map(|n| n.pod_count),
            Some(0)
        );
    }
}
