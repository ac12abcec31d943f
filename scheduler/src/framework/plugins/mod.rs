//! The in-tree plugins, one module each, named as upstream names them.

pub mod balanced_allocation;
pub mod default_selector;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
#[cfg(test)]
pub(crate) mod random_cluster;
pub mod taint_toleration;
pub mod volume_binding;

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::{json, Value};

    use crate::framework::NodeInfo;

    pub fn node(name: &str, extra: Value) -> NodeInfo {
        let mut v = json!({"metadata": {"name": name},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}});
        merge(&mut v, extra);
        let node: Node = serde_json::from_value(v).expect("test node");
        NodeInfo::new(Arc::new(node))
    }

    pub fn pod(spec: Value) -> Pod {
        let mut v = json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}]}});
        merge(&mut v["spec"], spec);
        serde_json::from_value(v).expect("test pod")
    }

    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }
}
