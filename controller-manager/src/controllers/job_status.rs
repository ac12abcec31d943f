//! Pure facts the Job controller derives from its pods: counts, completed indexes and the
//! terminal conditions upstream 1.33 writes (`SuccessCriteriaMet` then `Complete`,
//! `FailureTarget` then `Failed`).

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

/// Annotation and label carrying an Indexed Job pod's completion index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// Upstream's default `backoffLimit`.
pub const DEFAULT_BACKOFF_LIMIT: i32 = 6;

/// The phase of a pod, `Pending` when unknown.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// The completion index of an Indexed Job pod (annotation first, as upstream).
pub fn completion_index(pod: &Pod) -> Option<i32> {
    let from = |m: &Option<std::collections::BTreeMap<String, String>>| {
        m.as_ref()
            .and_then(|m| m.get(COMPLETION_INDEX))
            .and_then(|v| v.parse::<i32>().ok())
    };
    from(&pod.metadata.annotations).or_else(|| from(&pod.metadata.labels))
}

/// Whether the Job is Indexed.
pub fn is_indexed(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed")
}

/// Whether condition `type_` is `True`.
pub fn has_condition(job: &Job, type_: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Whether the Job reached `Complete` or `Failed`.
pub fn is_finished(job: &Job) -> bool {
    has_condition(job, "Complete") || has_condition(job, "Failed")
}

/// Indexes of succeeded pods that lie inside `0..completions`.
pub fn succeeded_indexes(pods: &[Pod], completions: i32) -> BTreeSet<i32> {
    pods.iter()
        .filter(|p| phase(p) == "Succeeded")
        .filter_map(completion_index)
        .filter(|i| (0..completions).contains(i))
        .collect()
}

/// Upstream's `completedIndexes` text: ascending ranges, `"1,3-5,7"`.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

/// A JSON condition as the status subresource stores it.
pub fn condition(type_: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastProbeTime": now, "lastTransitionTime": now})
}

/// The existing conditions as JSON, so a status patch can append to them.
pub fn conditions_json(job: &Job) -> Vec<Value> {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|c: &JobCondition| serde_json::to_value(c).ok())
        .collect()
}

/// Set (or replace) condition `type_` in `conds`, keeping the transition time when the
/// status does not change.
pub fn set_condition(conds: &mut Vec<Value>, new: Value) {
    match conds.iter_mut().find(|c| c["type"] == new["type"]) {
        Some(old) if old["status"] == new["status"] => {
            old["reason"] = new["reason"].clone();
            old["message"] = new["message"].clone();
        }
        Some(old) => *old = new,
        None => conds.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(index: i32, phase: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                annotations: Some([(COMPLETION_INDEX.to_string(), index.to_string())].into()),
                ..Default::default()
            },
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn completed_indexes_are_written_as_ranges() {
        let set: BTreeSet<i32> = [0, 1, 2, 4, 6, 7].into();
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
    }

    #[test]
    fn only_succeeded_pods_inside_completions_count() {
        let pods = vec![
            pod(0, "Succeeded"),
            pod(1, "Failed"),
            pod(2, "Succeeded"),
            pod(9, "Succeeded"),
        ];
        assert_eq!(succeeded_indexes(&pods, 3), [0, 2].into());
    }

    #[test]
    fn setting_a_condition_twice_keeps_one_entry() {
        let mut conds = Vec::new();
        set_condition(
            &mut conds,
            condition("Suspended", "True", "JobSuspended", "m", "t1"),
        );
        set_condition(
            &mut conds,
            condition("Suspended", "True", "JobSuspended", "m", "t2"),
        );
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0]["lastTransitionTime"], "t1");
        set_condition(
            &mut conds,
            condition("Suspended", "False", "JobResumed", "m", "t3"),
        );
        assert_eq!(conds[0]["lastTransitionTime"], "t3");
    }
}
