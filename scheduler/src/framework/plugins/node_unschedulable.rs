//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate
//! the `node.kubernetes.io/unschedulable:NoSchedule` taint.

use k8s_openapi::api::core::v1::{Pod, Taint};

use super::taint_toleration::tolerates;
use crate::framework::{CycleState, FilterPlugin, NodeInfo, Status};

/// Upstream's `ErrReasonUnschedulable`.
pub const ERR_REASON: &str = "node(s) were unschedulable";

/// The NodeUnschedulable filter.
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let cordoned = node
            .node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if !cordoned {
            return Ok(());
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or_default();
        if tolerations.iter().any(|t| tolerates(t, &taint)) {
            Ok(())
        } else {
            Err(Status::unresolvable(ERR_REASON))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn cordoned_node_rejects_unless_tolerated() {
        let cordoned = node("a", json!({"spec": {"unschedulable": true}}));
        assert!(NodeUnschedulable
            .filter(&CycleState::default(), &pod(json!({})), &cordoned)
            .is_err());
        let tolerant = pod(json!({"tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}));
        assert!(NodeUnschedulable
            .filter(&CycleState::default(), &tolerant, &cordoned)
            .is_ok());
        assert!(NodeUnschedulable
            .filter(
                &CycleState::default(),
                &pod(json!({})),
                &node("b", json!({}))
            )
            .is_ok());
    }
}
