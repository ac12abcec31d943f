//! NodeName: a pod that names its node (`spec.nodeName`) fits only there.

use k8s_openapi::api::core::v1::Pod;

use crate::framework::{CycleState, FilterPlugin, NodeInfo, Status};

/// Upstream's `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The NodeName filter.
pub struct NodeName;

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(wanted) if !wanted.is_empty() && wanted != node.name() => {
                Err(Status::unresolvable(ERR_REASON))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn only_the_named_node_fits() {
        let p = pod(json!({"nodeName": "a"}));
        assert!(NodeName
            .filter(&CycleState::default(), &p, &node("a", json!({})))
            .is_ok());
        assert_eq!(
            NodeName.filter(&CycleState::default(), &p, &node("b", json!({}))),
            Err(Status::unresolvable(ERR_REASON))
        );
        assert!(NodeName
            .filter(
                &CycleState::default(),
                &pod(json!({})),
                &node("b", json!({}))
            )
            .is_ok());
    }
}
