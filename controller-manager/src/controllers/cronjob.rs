//! The CronJob controller (batch/v1): at each due time of `spec.schedule` creates a Job
//! `<cronjob>-<scheduled minutes since the epoch>` from `jobTemplate`, honouring
//! `concurrencyPolicy`, `startingDeadlineSeconds` and `suspend`, deletes finished Jobs beyond
//! the history limits and reports `active`, `lastScheduleTime` and `lastSuccessfulTime`.
//! Each sync requeues itself at the next due time.
//!
//! Only the most recent missed time is run, as upstream; upstream's "too many missed start
//! times" warning event is not emitted. What it does is reported as events on the CronJob
//! with upstream's reasons and messages.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::events::{self, Recorder};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

use super::cronjob_schedule::Schedule;
use super::job_status;
use super::podutil;

/// Annotation carrying the scheduled time a Job was created for.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("CronJob has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    recorder: Recorder,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let cronjobs: Api<CronJob> = Api::all(client.clone());
    let jobs: Api<Job> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "cronjob-controller"),
        client,
    });
    let results = Controller::new(cronjobs, watcher::Config::default())
        .owns(jobs, watcher::Config::default())
        .run(reconcile, error_policy, ctx);
    super::drain("cronjob", results).await;
}

fn error_policy(_cj: Arc<CronJob>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn secs_to_time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The Job name for a scheduled time: minutes since the epoch, as upstream.
pub fn job_name(cronjob: &str, scheduled: DateTime<Utc>) -> String {
    format!("{cronjob}-{}", scheduled.timestamp() / 60)
}

/// The most recent due time in `(earliest, now]`, if any.
pub fn most_recent_due(
    schedule: &Schedule,
    earliest: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut last = None;
    let mut t = earliest;
    while let Some(next) = schedule.next_after(t) {
        if next > now {
            break;
        }
        last = Some(next);
        t = next;
    }
    last
}

/// The Job created for `scheduled` from the template, owned by the CronJob.
pub fn job_from_template(cj: &CronJob, scheduled: DateTime<Utc>) -> Job {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut annotations = tmeta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.into(), rfc3339(scheduled));
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&cj.name_any(), scheduled)),
            namespace: cj.namespace(),
            labels: tmeta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![podutil::controller_ref(
                "batch/v1",
                "CronJob",
                &cj.name_any(),
                &cj.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

fn job_ref(job: &Job) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "name": job.name_any(),
           "namespace": job.namespace(), "uid": job.uid(),
           "resourceVersion": job.resource_version()})
}

/// Delete a Job of `cj` (its pods follow in the background), reported on the CronJob.
async fn delete_job(ctx: &Context, api: &Api<Job>, cj: &CronJob, name: &str) -> Result<(), Error> {
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => {
            ctx.recorder
                .normal(cj, "SuccessfulDelete", format!("Deleted job {name}"));
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => {
            ctx.recorder.warning(
                cj,
                "FailedDelete",
                format!("Deleted job: {}", events::error_message(&e)),
            );
            Err(e.into())
        }
    }
}

/// Report the Jobs that left the CronJob's `status.active` since the last sync: finished
/// (`SawCompletedJob`, with the finishing condition) or gone (`MissingJob`).
fn report_left_active(ctx: &Context, cj: &CronJob, owned: &[Job]) {
    let active = cj.status.iter().flat_map(|s| s.active.iter().flatten());
    for r in active {
        let job = owned.iter().find(|j| j.uid().is_some() && j.uid() == r.uid);
        let name = r.name.as_deref().unwrap_or_default();
        match job {
            None => {
                ctx.recorder
                    .normal(cj, "MissingJob", format!("Active job went missing: {name}"))
            }
            Some(j) if job_status::is_finished(j) => {
                let condition = if job_status::has_condition(j, "Complete") {
                    "Complete"
                } else {
                    "Failed"
                };
                ctx.recorder.normal(
                    cj,
                    "SawCompletedJob",
                    format!("Saw completed job: {name}, condition: {condition}"),
                );
            }
            Some(_) => {}
        }
    }
}

/// Delete the oldest finished Jobs beyond `limit`.
async fn trim_history(
    ctx: &Context,
    api: &Api<Job>,
    cj: &CronJob,
    mut finished: Vec<&Job>,
    limit: i32,
) -> Result<(), Error> {
    let limit = limit.max(0) as usize;
    if finished.len() <= limit {
        return Ok(());
    }
    finished.sort_by_key(|j| {
        j.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .or(j.metadata.creation_timestamp.as_ref())
            .map(|t| t.0.as_second())
            .unwrap_or_default()
    });
    for job in &finished[..finished.len() - limit] {
        tracing::info!(job = %job.name_any(), "deleting finished job beyond history limit");
        delete_job(ctx, api, cj, &job.name_any()).await?;
    }
    Ok(())
}

async fn reconcile(cj: Arc<CronJob>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = cj.namespace().ok_or(Error::NoNamespace)?;
    let Some(spec) = cj.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    let uid = cj.uid().unwrap_or_default();
    let jobs_api: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    let owned: Vec<Job> = jobs_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|j| podutil::controller_of(&j.metadata).is_some_and(|r| r.uid == uid))
        .collect();
    report_left_active(&ctx, &cj, &owned);
    let mut active: Vec<&Job> = owned
        .iter()
        .filter(|j| !job_status::is_finished(j))
        .collect();
    let succeeded: Vec<&Job> = owned
        .iter()
        .filter(|j| job_status::has_condition(j, "Complete"))
        .collect();
    let failed: Vec<&Job> = owned
        .iter()
        .filter(|j| job_status::has_condition(j, "Failed"))
        .collect();
    let old = cj.status.clone().unwrap_or_default();
    let mut last_schedule = old
        .last_schedule_time
        .as_ref()
        .map(|t| secs_to_time(t.0.as_second()));
    let last_success = succeeded
        .iter()
        .filter_map(|j| {
            j.status
                .as_ref()?
                .completion_time
                .as_ref()
                .map(|t| t.0.as_second())
        })
        .max()
        .map(secs_to_time)
        .or_else(|| {
            old.last_successful_time
                .as_ref()
                .map(|t| secs_to_time(t.0.as_second()))
        });

    if cj.metadata.deletion_timestamp.is_none() {
        trim_history(
            &ctx,
            &jobs_api,
            &cj,
            succeeded.clone(),
            spec.successful_jobs_history_limit.unwrap_or(3),
        )
        .await?;
        trim_history(
            &ctx,
            &jobs_api,
            &cj,
            failed.clone(),
            spec.failed_jobs_history_limit.unwrap_or(1),
        )
        .await?;
    }

    let now = Utc::now();
    let mut requeue = None;
    let mut created = None;
    let schedule = Schedule::parse(&spec.schedule, spec.time_zone.as_deref());
    match &schedule {
        Err(e) => {
            tracing::warn!(cronjob = %cj.name_any(), error = %e, "unparseable schedule");
            ctx.recorder.warning(
                cj.as_ref(),
                "UnparseableSchedule",
                format!("unparseable schedule: {:?} : {e}", spec.schedule),
            );
        }
        Ok(_) if cj.metadata.deletion_timestamp.is_some() || spec.suspend == Some(true) => {}
        Ok(schedule) => {
            let created_at = cj
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| secs_to_time(t.0.as_second()));
            let mut earliest = last_schedule.or(created_at).unwrap_or(now);
            if let Some(sds) = spec.starting_deadline_seconds {
                earliest = earliest.max(now - chrono::Duration::seconds(sds));
            }
            requeue = schedule.next_after(now);
            if let Some(due) = most_recent_due(schedule, earliest, now) {
                let too_late = spec
                    .starting_deadline_seconds
                    .is_some_and(|sds| due + chrono::Duration::seconds(sds) < now);
                let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
                if too_late {
                    tracing::info!(cronjob = %cj.name_any(), "missed the starting deadline");
                    ctx.recorder.warning(
                        cj.as_ref(),
                        "MissSchedule",
                        format!(
                            "Missed scheduled time to start a job: {}",
                            due.format("%a, %d %b %Y %H:%M:%S %z")
                        ),
                    );
                } else if policy == "Forbid" && !active.is_empty() {
                    tracing::debug!(cronjob = %cj.name_any(), "Forbid: a job is still active");
                    ctx.recorder.normal(
                        cj.as_ref(),
                        "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid",
                    );
                } else {
                    if policy == "Replace" {
                        for job in &active {
                            delete_job(&ctx, &jobs_api, &cj, &job.name_any()).await?;
                        }
                        active.clear();
                    }
                    let job = job_from_template(&cj, due);
                    match jobs_api.create(&PostParams::default(), &job).await {
                        Ok(j) => {
                            tracing::info!(cronjob = %cj.name_any(), job = %j.name_any(), "created job");
                            ctx.recorder.normal(
                                cj.as_ref(),
                                "SuccessfulCreate",
                                format!("Created job {}", j.name_any()),
                            );
                            created = Some(j);
                        }
                        // Already created for this time (e.g. a stale status): just record it.
                        Err(kube::Error::Api(e)) if e.code == 409 => {}
                        Err(e) => {
                            if !events::is_namespace_terminating(&e) {
                                ctx.recorder.warning(
                                    cj.as_ref(),
                                    "FailedCreate",
                                    format!("Error creating job: {}", events::error_message(&e)),
                                );
                            }
                            return Err(e.into());
                        }
                    }
                    last_schedule = Some(due);
                }
            }
        }
    }

    let mut refs: Vec<Value> = active.iter().map(|j| job_ref(j)).collect();
    if let Some(j) = &created {
        refs.push(job_ref(j));
    }
    let status = json!({
        "active": if refs.is_empty() { Value::Null } else { json!(refs) },
        "lastScheduleTime": last_schedule.map(rfc3339),
        "lastSuccessfulTime": last_success.map(rfc3339),
    });
    write_status(&ctx.client, &cj, &ns, status).await?;
    Ok(match requeue {
        Some(next) => {
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            Action::requeue(wait + Duration::from_millis(100))
        }
        None => Action::await_change(),
    })
}

/// Patch `status` through the status subresource when it differs from the stored one.
async fn write_status(client: &Client, cj: &CronJob, ns: &str, status: Value) -> Result<(), Error> {
    let old = serde_json::to_value(cj.status.clone().unwrap_or_default()).unwrap_or_default();
    let names = |v: &Value| -> Vec<Value> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| r["uid"].clone())
            .collect()
    };
    let same = names(&old["active"]) == names(&status["active"])
        && old.get("lastScheduleTime").cloned().unwrap_or(Value::Null)
            == status["lastScheduleTime"]
        && old
            .get("lastSuccessfulTime")
            .cloned()
            .unwrap_or(Value::Null)
            == status["lastSuccessfulTime"];
    if same {
        return Ok(());
    }
    let api: Api<CronJob> = Api::namespaced(client.clone(), ns);
    super::status::patch_status(&api, &cj.name_any(), &status).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use k8s_openapi::api::batch::v1::{CronJobSpec, JobTemplateSpec};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, h, m, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn job_names_use_minutes_since_the_epoch() {
        let t = Utc.timestamp_opt(1_700_000_040, 0).single().expect("valid");
        assert_eq!(job_name("hello", t), "hello-28333334");
    }

    #[test]
    fn only_the_most_recent_missed_time_is_due() {
        let s = Schedule::parse("*/10 * * * *", None).expect("parses");
        assert_eq!(most_recent_due(&s, at(10, 0), at(10, 35)), Some(at(10, 30)));
        assert_eq!(most_recent_due(&s, at(10, 30), at(10, 35)), None);
    }

    #[test]
    fn jobs_carry_the_scheduled_time_and_a_controller_ref() {
        let cj = CronJob {
            metadata: ObjectMeta {
                name: Some("hello".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(CronJobSpec {
                schedule: "* * * * *".into(),
                job_template: JobTemplateSpec::default(),
                ..Default::default()
            }),
            status: None,
        };
        let job = job_from_template(&cj, at(10, 5));
        let ann = job.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(
            ann.get(SCHEDULED_TIMESTAMP).map(String::as_str),
            Some("2025-03-01T10:05:00Z")
        );
        let r = podutil::controller_of(&job.metadata).expect("controller ref");
        assert_eq!((r.kind.as_str(), r.uid.as_str()), ("CronJob", "u1"));
    }
}
