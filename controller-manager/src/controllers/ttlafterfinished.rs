//! The TTL-after-finished controller: a Job with `spec.ttlSecondsAfterFinished` is deleted
//! (foreground, so its pods go first) that many seconds after it finished (its Complete or
//! Failed condition turned True).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let jobs: Api<Job> = Api::all(client.clone());
    let ctx = Arc::new(Context { client });
    let results =
        Controller::new(jobs, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("ttl-after-finished", results).await;
}

fn error_policy(_job: Arc<Job>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

/// When the Job finished (Unix seconds): its Complete or Failed condition's transition.
pub fn finished_at(job: &Job) -> Option<i64> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0.as_second())
}

/// Seconds until the Job expires (`<= 0`: now), or None when it never does.
pub fn seconds_left(job: &Job, now: i64) -> Option<i64> {
    if job.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    Some(finished_at(job)? + i64::from(ttl) - now)
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Context>) -> Result<Action, Error> {
    let Some(left) = seconds_left(&job, Timestamp::now().as_second()) else {
        return Ok(Action::await_change());
    };
    if left > 0 {
        return Ok(Action::requeue(Duration::from_secs(left as u64)));
    }
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
    // The uid precondition makes sure we delete the Job we judged, not a namesake.
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: job.uid(),
            resource_version: None,
        }),
        ..DeleteParams::foreground()
    };
    match api.delete(&job.name_any(), &params).await {
        Ok(_) => tracing::info!(job = %job.name_any(), "deleted finished job after its TTL"),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn job(ttl: Option<i32>, finished: Option<(&str, i64)>) -> Job {
        Job {
            spec: Some(JobSpec {
                ttl_seconds_after_finished: ttl,
                ..Default::default()
            }),
            status: Some(JobStatus {
                conditions: finished.map(|(t, at)| {
                    vec![JobCondition {
                        type_: t.into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(
                            Timestamp::from_second(at).unwrap_or_default(),
                        )),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn expiry_counts_from_the_finish_condition() {
        assert_eq!(
            seconds_left(&job(Some(100), Some(("Complete", 1000))), 1050),
            Some(50)
        );
        assert_eq!(
            seconds_left(&job(Some(0), Some(("Failed", 1000))), 1000),
            Some(0)
        );
        assert_eq!(
            seconds_left(&job(None, Some(("Complete", 1000))), 5000),
            None
        );
        assert_eq!(seconds_left(&job(Some(10), None), 5000), None);
        assert_eq!(
            seconds_left(&job(Some(10), Some(("Suspended", 1))), 5000),
            None
        );
    }
}
