//! The Job controller (batch/v1): runs pods from `spec.template` until `completions` of
//! them succeed, at most `parallelism` at a time, and finishes the Job as upstream 1.33:
//! `SuccessCriteriaMet` then `Complete`, or `FailureTarget` then `Failed` (backoffLimit,
//! activeDeadlineSeconds). `suspend` deletes the active pods.
//!
//! Counts come from pod phases at every sync. Upstream tracks terminated pods through the
//! `batch.kubernetes.io/job-tracking` finalizer and `uncountedTerminatedPods`; Rudder does
//! not, and instead never lets a count go down so a pod removed after finishing stays
//! counted. Orphan pods are not adopted (the apiserver gives every Job a unique selector).

use std::sync::Arc;
use std::time::Duration;

use common::events::{EventType, Recorder};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

use super::job_status::{self as st, COMPLETION_INDEX};
use super::{pod_control, podutil};

/// Most pods created in one sync (upstream's `MaxPodCreateDeletePerSync`).
const MAX_CREATE_PER_SYNC: usize = 500;
/// First pod re-creation delay after a failure, doubled per failure (upstream's
/// `DefaultJobPodFailureBackOff`), capped at `MAX_BACKOFF`.
const BACKOFF_BASE_SECS: i64 = 10;
const MAX_BACKOFF_SECS: i64 = 360;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("Job has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    recorder: Recorder,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let jobs: Api<Job> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "job-controller"),
        client,
    });
    let results = Controller::new(jobs, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .run(reconcile, error_policy, ctx);
    super::drain("job", results).await;
}

fn error_policy(_job: Arc<Job>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What one sync decided, written back as `status`.
struct Outcome {
    status: Value,
    requeue: Option<Duration>,
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = job.namespace().ok_or(Error::NoNamespace)?;
    if job.metadata.deletion_timestamp.is_some() || st::is_finished(&job) {
        return Ok(Action::await_change());
    }
    let Some(spec) = job.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    let uid = job.uid().unwrap_or_default();
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let pods: Vec<Pod> = pods_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| podutil::controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
        .collect();

    let old = job.status.clone().unwrap_or_default();
    let indexed = st::is_indexed(&job);
    let completions = spec.completions;
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let count = |phase: &str| pods.iter().filter(|p| st::phase(p) == phase).count() as i32;
    let failed = count("Failed").max(old.failed.unwrap_or(0));
    let done_indexes = st::succeeded_indexes(&pods, completions.unwrap_or(0));
    let succeeded = if indexed {
        done_indexes.len() as i32
    } else {
        count("Succeeded")
    }
    .max(old.succeeded.unwrap_or(0));
    let mut active: Vec<&Pod> = pods.iter().filter(|p| podutil::is_active(p)).collect();
    let now = now_secs();
    let now_text = rfc3339(now);
    let mut conds = st::conditions_json(&job);
    let mut start = old.start_time.as_ref().map(|t| t.0.as_second());
    let mut completion_time = None;
    let mut requeue = None;
    // What the Job's events say about this sync, recorded once its status is written.
    let mut outcome_events: Vec<(EventType, &str, &str)> = Vec::new();

    let backoff_limit = spec.backoff_limit.unwrap_or(st::DEFAULT_BACKOFF_LIMIT);
    let deadline_passed = match (spec.active_deadline_seconds, start) {
        (Some(d), Some(s)) => {
            let left = s + d - now;
            if left > 0 {
                requeue = Some(Duration::from_secs(left as u64));
            }
            left <= 0
        }
        _ => false,
    };
    let complete = match completions {
        Some(c) => succeeded >= c,
        // Without completions the first success ends the Job once nothing else runs.
        None => succeeded > 0 && active.is_empty(),
    };
    let failure = if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        ))
    } else if deadline_passed {
        Some((
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        ))
    } else {
        None
    };

    if let Some((reason, message)) = failure {
        delete_pods(&ctx, &pods_api, &job, &active).await?;
        active.clear();
        st::set_condition(
            &mut conds,
            st::condition("FailureTarget", "True", reason, message, &now_text),
        );
        st::set_condition(
            &mut conds,
            st::condition("Failed", "True", reason, message, &now_text),
        );
        outcome_events.push((EventType::Warning, reason, message));
        requeue = None;
    } else if complete {
        delete_pods(&ctx, &pods_api, &job, &active).await?;
        active.clear();
        let message = "Reached expected number of succeeded pods";
        st::set_condition(
            &mut conds,
            st::condition(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                message,
                &now_text,
            ),
        );
        st::set_condition(
            &mut conds,
            st::condition("Complete", "True", "CompletionsReached", message, &now_text),
        );
        completion_time = Some(now_text.clone());
        outcome_events.push((EventType::Normal, "Completed", "Job completed"));
        requeue = None;
    } else if spec.suspend == Some(true) {
        delete_pods(&ctx, &pods_api, &job, &active).await?;
        if !st::has_condition(&job, "Suspended") {
            outcome_events.push((EventType::Normal, "Suspended", "Job suspended"));
        }
        active.clear();
        st::set_condition(
            &mut conds,
            st::condition(
                "Suspended",
                "True",
                "JobSuspended",
                "Job suspended",
                &now_text,
            ),
        );
        requeue = None;
    } else {
        if st::has_condition(&job, "Suspended") {
            st::set_condition(
                &mut conds,
                st::condition("Suspended", "False", "JobResumed", "Job resumed", &now_text),
            );
            outcome_events.push((EventType::Normal, "Resumed", "Job resumed"));
            // Upstream restarts the clock for activeDeadlineSeconds on resume.
            start = Some(now);
        }
        start.get_or_insert(now);
        let wait = backoff_remaining(&pods, failed, now);
        if wait > 0 {
            requeue = Some(requeue.map_or(Duration::from_secs(wait as u64), |r| {
                r.min(Duration::from_secs(wait as u64))
            }));
        } else if indexed {
            let c = completions.unwrap_or(0);
            let busy: std::collections::BTreeSet<i32> = active
                .iter()
                .filter_map(|p| st::completion_index(p))
                .collect();
            let room = (parallelism as usize).saturating_sub(active.len());
            let missing: Vec<i32> = (0..c)
                .filter(|i| !done_indexes.contains(i) && !busy.contains(i))
                .take(room.min(MAX_CREATE_PER_SYNC))
                .collect();
            for i in missing {
                let pod = pod_from_template(&job, Some(i));
                pod_control::create(&pods_api, &pod, job.as_ref(), &ctx.recorder).await?;
            }
        } else {
            let want = match completions {
                Some(c) => parallelism.min(c - succeeded).max(0),
                None if succeeded > 0 => 0,
                None => parallelism,
            } as usize;
            let missing = want.saturating_sub(active.len()).min(MAX_CREATE_PER_SYNC);
            let pod = pod_from_template(&job, None);
            for _ in 0..missing {
                pod_control::create(&pods_api, &pod, job.as_ref(), &ctx.recorder).await?;
            }
            if missing > 0 {
                tracing::info!(job = %job.name_any(), count = missing, "created pods");
            }
        }
    }

    let terminating = pods
        .iter()
        .filter(|p| {
            p.metadata.deletion_timestamp.is_some()
                && matches!(st::phase(p), "Pending" | "Running" | "Unknown")
        })
        .count() as i32;
    let ready = active.iter().filter(|p| podutil::is_ready(p)).count() as i32;
    let mut status = json!({
        "active": omit_zero(active.len() as i32), "succeeded": omit_zero(succeeded),
        "failed": omit_zero(failed),
        "ready": ready, "terminating": terminating,
        "startTime": start.map(rfc3339), "conditions": conds,
    });
    if let Some(t) = completion_time {
        status["completionTime"] = json!(t);
    }
    if indexed {
        status["completedIndexes"] = json!(st::format_indexes(&done_indexes));
    }
    let outcome = Outcome { status, requeue };
    write_status(&ctx.client, &job, &ns, outcome.status).await?;
    for (type_, reason, message) in outcome_events {
        ctx.recorder.record(
            common::events::reference(job.as_ref()),
            type_,
            reason,
            message,
        );
    }
    Ok(match outcome.requeue {
        Some(d) => Action::requeue(d + Duration::from_millis(200)),
        None => Action::await_change(),
    })
}

/// Upstream's `active`, `succeeded` and `failed` are omitted when zero (`ready` and
/// `terminating` are pointers and stay); `null` removes them in a merge patch.
fn omit_zero(n: i32) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(n)
    }
}

/// Seconds left before a failed Job may create pods again: 10 s doubled per failure, counted
/// from the newest failed pod's last change, capped at 6 minutes (as upstream's back-off).
fn backoff_remaining(pods: &[Pod], failed: i32, now: i64) -> i64 {
    if failed <= 0 {
        return 0;
    }
    let last = pods
        .iter()
        .filter(|p| st::phase(p) == "Failed")
        .filter_map(|p| {
            let status = p.status.as_ref()?;
            let conds = status.conditions.iter().flatten();
            let changed = conds
                .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0.as_second()))
                .max();
            changed.or_else(|| {
                p.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.as_second())
            })
        })
        .max();
    let Some(last) = last else { return 0 };
    let delay = BACKOFF_BASE_SECS
        .saturating_mul(1i64 << (failed - 1).clamp(0, 30))
        .min(MAX_BACKOFF_SECS);
    (last + delay - now).max(0)
}

/// Delete the Job's pods (each reported on the Job); pods already gone are fine.
async fn delete_pods(ctx: &Context, api: &Api<Pod>, job: &Job, pods: &[&Pod]) -> Result<(), Error> {
    for pod in pods {
        match pod_control::delete(api, &pod.name_any(), job, &ctx.recorder).await {
            Ok(()) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Patch `status` through the status subresource when it differs from the stored one.
async fn write_status(client: &Client, job: &Job, ns: &str, status: Value) -> Result<(), Error> {
    let old = serde_json::to_value(job.status.clone().unwrap_or_default()).unwrap_or_default();
    let changed = status.as_object().into_iter().flatten().any(|(k, v)| {
        let before = old.get(k).cloned().unwrap_or(Value::Null);
        // Counts upstream omits when zero are stored as absent.
        !(before == *v || (before.is_null() && (v == &json!(0) || v.is_null())))
    });
    if !changed {
        return Ok(());
    }
    let api: Api<Job> = Api::namespaced(client.clone(), ns);
    super::status::patch_status(&api, &job.name_any(), &status).await?;
    Ok(())
}

/// The pod a Job creates from its template; Indexed Jobs add the completion index as
/// annotation and label and a stable hostname `<job>-<index>`.
pub fn pod_from_template(job: &Job, index: Option<i32>) -> Pod {
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let name = job.name_any();
    let mut labels = tmeta.labels.unwrap_or_default();
    let mut annotations = tmeta.annotations.unwrap_or_default();
    let mut spec = template.spec;
    let generate_name = match index {
        Some(i) => {
            labels.insert(COMPLETION_INDEX.into(), i.to_string());
            annotations.insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(s) = spec.as_mut() {
                s.hostname.get_or_insert_with(|| format!("{name}-{i}"));
            }
            format!("{name}-{i}-")
        }
        None => format!("{name}-"),
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.namespace(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![podutil::controller_ref(
                "batch/v1",
                "Job",
                &name,
                &job.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        spec,
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};

    fn job() -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(JobSpec {
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "pi".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec::default()),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn pods_carry_template_labels_and_a_blocking_controller_ref() {
        let pod = pod_from_template(&job(), None);
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("pi-"));
        assert_eq!(pod.labels().get("app").map(String::as_str), Some("pi"));
        let r = podutil::controller_of(&pod.metadata).expect("controller ref");
        assert_eq!(
            (r.api_version.as_str(), r.kind.as_str()),
            ("batch/v1", "Job")
        );
        assert_eq!(r.block_owner_deletion, Some(true));
    }

    #[test]
    fn indexed_pods_get_index_and_hostname() {
        let pod = pod_from_template(&job(), Some(2));
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("pi-2-"));
        assert_eq!(st::completion_index(&pod), Some(2));
        assert_eq!(
            pod.labels().get(COMPLETION_INDEX).map(String::as_str),
            Some("2")
        );
        let hostname = pod.spec.and_then(|s| s.hostname);
        assert_eq!(hostname.as_deref(), Some("pi-2"));
    }

    #[test]
    fn no_backoff_without_failures() {
        assert_eq!(backoff_remaining(&[], 0, 1000), 0);
    }
}
