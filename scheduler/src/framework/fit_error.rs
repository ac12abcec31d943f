//! Why a pod fits nowhere, summarized as upstream's `FitError` message:
//! `0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.
//! preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No
//! preemption victims found for incoming pod.`

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::{Code, Status};

/// Upstream's `ErrNoNodesAvailable`.
pub const NO_NODES: &str = "no nodes available to schedule pods";
const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// Each node's rejection from one scheduling attempt.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    /// Node name → the first filter's rejection.
    pub node_to_status: BTreeMap<String, Status>,
    /// Preemption nominated a node: upstream then adds no preemption summary.
    pub nominated: bool,
    /// No PostFilter plugin is enabled (DefaultPreemption disabled): no preemption summary.
    pub preemption_disabled: bool,
    /// Preemption was skipped because earlier victims on the nominated node are still
    /// terminating.
    pub waiting_for_victims: bool,
    /// A PreFilter rejected the pod outright: its reasons, named once in the message
    /// (upstream's `PreFilterMsg`) instead of counted per node.
    pub pre_filter_msg: Option<String>,
}

/// "count reason" strings, sorted as strings (as upstream sorts them), joined with ", ".
fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    parts.join(", ")
}

/// What the preemption step reports when it found no candidate: resolvable rejections read
/// "No preemption victims found", the rest "not helpful".
fn preemption_message(pod: &Pod, diagnosis: &Diagnosis) -> String {
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref());
    if policy == Some("Never") {
        return "preemption: not eligible due to preemptionPolicy=Never".to_string();
    }
    if diagnosis.waiting_for_victims {
        return "preemption: not eligible due to a terminating pod on the nominated node"
            .to_string();
    }
    let reasons = diagnosis.node_to_status.values().map(|s| match s.code {
        Code::Unschedulable => NO_VICTIMS,
        Code::UnschedulableAndUnresolvable => NOT_HELPFUL,
    });
    format!(
        "preemption: 0/{} nodes are available: {}",
        diagnosis.node_to_status.len(),
        histogram(reasons)
    )
}

/// The FailedScheduling message for a pod that fit none of `num_all_nodes` nodes.
pub fn fit_error_message(pod: &Pod, num_all_nodes: usize, diagnosis: &Diagnosis) -> String {
    if num_all_nodes == 0 {
        return NO_NODES.to_string();
    }
    let summary = match &diagnosis.pre_filter_msg {
        Some(msg) => format!("0/{num_all_nodes} nodes are available: {msg}."),
        None => {
            let reasons = diagnosis
                .node_to_status
                .values()
                .flat_map(|s| s.reasons.iter().map(String::as_str));
            format!(
                "0/{num_all_nodes} nodes are available: {}.",
                histogram(reasons)
            )
        }
    };
    if diagnosis.nominated || diagnosis.preemption_disabled {
        return summary;
    }
    format!("{summary} {}.", preemption_message(pod, diagnosis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::pod;
    use serde_json::json;

    #[test]
    fn upstream_summary_format() {
        let mut d = Diagnosis::default();
        d.node_to_status.insert(
            "a".into(),
            Status::unresolvable("node(s) had untolerated taint {k: v}"),
        );
        d.node_to_status
            .insert("b".into(), Status::unschedulable("Insufficient cpu"));
        d.node_to_status
            .insert("c".into(), Status::unschedulable("Insufficient cpu"));
        assert_eq!(
            fit_error_message(&pod(json!({})), 3, &d),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
             2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn every_reason_of_a_node_counts() {
        let mut d = Diagnosis::default();
        d.node_to_status.insert(
            "a".into(),
            Status {
                code: Code::Unschedulable,
                reasons: vec!["Insufficient cpu".into(), "Insufficient memory".into()],
            },
        );
        let msg = fit_error_message(&pod(json!({"preemptionPolicy": "Never"})), 1, &d);
        assert_eq!(
            msg,
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. \
             preemption: not eligible due to preemptionPolicy=Never."
        );
        assert_eq!(fit_error_message(&pod(json!({})), 0, &d), NO_NODES);
        // Once preemption nominated a node, the summary stands alone.
        d.nominated = true;
        assert_eq!(
            fit_error_message(&pod(json!({})), 1, &d),
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."
        );
    }
}
