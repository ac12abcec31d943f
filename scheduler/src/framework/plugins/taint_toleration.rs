//! TaintToleration: a node's NoSchedule/NoExecute taints keep out pods that do not tolerate
//! them (filter); PreferNoSchedule taints make a node less attractive (score, reversed).

use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};

use crate::framework::{
    default_normalize, CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status,
};

/// Whether `toleration` tolerates `taint` (upstream's `ToleratesTaint`): an empty effect
/// matches every effect, an empty key with `Exists` matches every key, `Exists` ignores the
/// value and `Equal` (the default operator) compares it.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

fn taints(node: &NodeInfo) -> &[Taint] {
    node.node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

/// The TaintToleration filter and score.
pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let tols = tolerations(pod);
        let untolerated = taints(node)
            .iter()
            .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
            .find(|t| !tols.iter().any(|tol| tolerates(tol, t)));
        match untolerated {
            None => Ok(()),
            Some(t) => Err(Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or_default()
            ))),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    /// How many PreferNoSchedule taints the pod does not tolerate; only tolerations whose
    /// effect is empty or PreferNoSchedule count, as upstream.
    fn score(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        let tols: Vec<&Toleration> = tolerations(pod)
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .collect();
        taints(node)
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule")
            .filter(|t| !tols.iter().any(|tol| tolerates(tol, t)))
            .count() as i64
    }

    fn normalize(&self, _state: &CycleState, _pod: &Pod, scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn tainted(effect: &str) -> NodeInfo {
        node(
            "t",
            json!({"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": effect}]}}),
        )
    }

    #[test]
    fn untolerated_no_schedule_taint_rejects_with_upstream_reason() {
        let err = TaintToleration
            .filter(
                &CycleState::default(),
                &pod(json!({})),
                &tainted("NoSchedule"),
            )
            .unwrap_err();
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {dedicated: gpu}".to_string()]
        );
        assert!(TaintToleration
            .filter(
                &CycleState::default(),
                &pod(json!({})),
                &tainted("NoExecute")
            )
            .is_err());
        assert!(TaintToleration
            .filter(
                &CycleState::default(),
                &pod(json!({})),
                &tainted("PreferNoSchedule")
            )
            .is_ok());
    }

    #[test]
    fn toleration_operators() {
        let eq = pod(
            json!({"tolerations": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}),
        );
        assert!(TaintToleration
            .filter(&CycleState::default(), &eq, &tainted("NoSchedule"))
            .is_ok());
        let wrong = pod(json!({"tolerations": [{"key": "dedicated", "value": "cpu"}]}));
        assert!(TaintToleration
            .filter(&CycleState::default(), &wrong, &tainted("NoSchedule"))
            .is_err());
        let exists = pod(json!({"tolerations": [{"operator": "Exists"}]}));
        assert!(TaintToleration
            .filter(&CycleState::default(), &exists, &tainted("NoExecute"))
            .is_ok());
        let other_effect = pod(
            json!({"tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]}),
        );
        assert!(TaintToleration
            .filter(
                &CycleState::default(),
                &other_effect,
                &tainted("NoSchedule")
            )
            .is_err());
    }

    #[test]
    fn prefer_no_schedule_lowers_the_score() {
        let p = pod(json!({}));
        let mut scores = [
            ScorePlugin::score(
                &TaintToleration,
                &CycleState::default(),
                &p,
                &tainted("PreferNoSchedule"),
            ),
            ScorePlugin::score(
                &TaintToleration,
                &CycleState::default(),
                &p,
                &node("clean", json!({})),
            ),
        ];
        ScorePlugin::normalize(&TaintToleration, &CycleState::default(), &p, &mut scores);
        assert_eq!(scores, [0, 100]);
    }
}
