//! `batch/v1`: jobs (STATUS, COMPLETIONS, DURATION as of v1.33) and cron jobs.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{
    age, array_at, bool_ptr, container_cells, format_label_selector, human_duration, int_at,
    is_deleting, name, opt_int_at, s, since, str_at, time_at, NONE,
};
use super::{Cells, Column, Printer, AGE, CONTAINERS, IMAGES, NAME, SELECTOR};

/// The printer of a `batch` resource.
pub fn printer(plural: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Column], Cells) = match plural {
        "jobs" => (JOB, job),
        "cronjobs" => (CRONJOB, cronjob),
        _ => return None,
    };
    Some(Printer::new(columns, cells))
}

const JOB: &[Column] = &[
    NAME,
    Column::new("Status", "string", "Status of the job."),
    Column::new(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    Column::new("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// Whether the job's first condition of `kind` has status True.
fn has_condition(job: &Value, kind: &str) -> bool {
    array_at(job, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == kind)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

/// The STATUS cell, with upstream's precedence.
fn job_status(job: &Value) -> &'static str {
    if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if is_deleting(job) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn job(job: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let succeeded = int_at(job, "/status/succeeded");
    let completions = match opt_int_at(job, "/spec/completions") {
        Some(c) => format!("{succeeded}/{c}"),
        None => match int_at(job, "/spec/parallelism") {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (
        time_at(job, "/status/startTime"),
        time_at(job, "/status/completionTime"),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now - start),
        (Some(start), Some(done)) => human_duration(done - start),
    };
    let (names, images) = container_cells(job.pointer("/spec/template/spec"));
    vec![
        name(job),
        s(job_status(job)),
        s(completions),
        s(duration),
        age(job, now),
        names,
        images,
        s(format_label_selector(job.pointer("/spec/selector"))),
    ]
}

const CRONJOB: &[Column] = &[
    NAME,
    Column::new("Schedule", "string", "The schedule in Cron format."),
    Column::new(
        "Timezone",
        "string",
        "The time zone name for the given schedule.",
    ),
    Column::new(
        "Suspend",
        "boolean",
        "Whether subsequent executions are suspended.",
    ),
    Column::new("Active", "integer", "Number of currently running jobs."),
    Column::new(
        "Last Schedule",
        "string",
        "When the job was last successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn cronjob(cj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let last_schedule = match cj
        .pointer("/status/lastScheduleTime")
        .filter(|v| !v.is_null())
    {
        Some(_) => since(time_at(cj, "/status/lastScheduleTime"), now),
        None => NONE.to_string(),
    };
    let time_zone = match cj.pointer("/spec/timeZone").and_then(Value::as_str) {
        Some(tz) => tz.to_string(),
        None => NONE.to_string(),
    };
    let template = cj.pointer("/spec/jobTemplate/spec");
    let (names, images) = container_cells(template.and_then(|t| t.pointer("/template/spec")));
    vec![
        name(cj),
        s(str_at(cj, "/spec/schedule")),
        s(time_zone),
        s(bool_ptr(cj.pointer("/spec/suspend"))),
        Value::from(array_at(cj, "/status/active").len()),
        s(last_schedule),
        age(cj, now),
        names,
        images,
        s(format_label_selector(
            template.and_then(|t| t.get("selector")),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn completed_job() {
        let j = json!({
            "metadata": {"name": "pi", "creationTimestamp": "2025-01-01T11:50:00Z"},
            "spec": {"completions": 1, "parallelism": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}},
                "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
            "status": {"succeeded": 1, "startTime": "2025-01-01T11:50:00Z",
                "completionTime": "2025-01-01T11:50:09Z",
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                               {"type": "Complete", "status": "True"}]}
        });
        assert_eq!(
            job(&j, now()),
            vec![
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("9s"),
                json!("10m"),
                json!("pi"),
                json!("perl"),
                json!("batch.kubernetes.io/controller-uid=abc"),
            ]
        );
    }

    #[test]
    fn running_failed_and_suspended_jobs() {
        let running = json!({"metadata": {"name": "j"}, "spec": {"parallelism": 3},
            "status": {"startTime": "2025-01-01T11:57:00Z", "active": 3}});
        let c = job(&running, now());
        assert_eq!(c[1..4], [json!("Running"), json!("0/1 of 3"), json!("3m")]);
        let failed = json!({"metadata": {"name": "j"}, "spec": {"completions": 2},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        assert_eq!(
            job(&failed, now())[1..4],
            [json!("Failed"), json!("0/2"), json!("")]
        );
        let suspended = json!({"metadata": {"name": "j"}, "spec": {"suspend": true},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
        assert_eq!(job(&suspended, now())[1], json!("Suspended"));
    }

    #[test]
    fn cronjob_cells() {
        let cj = json!({"metadata": {"name": "nightly", "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"schedule": "0 3 * * *", "suspend": false,
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [
                    {"name": "backup", "image": "busybox"}]}}}}},
            "status": {"lastScheduleTime": "2025-01-01T03:00:00Z"}});
        assert_eq!(
            cronjob(&cj, now()),
            vec![
                json!("nightly"),
                json!("0 3 * * *"),
                json!("<none>"),
                json!("False"),
                json!(0),
                json!("9h"),
                json!("12h"),
                json!("backup"),
                json!("busybox"),
                json!("<none>"),
            ]
        );
    }
}
