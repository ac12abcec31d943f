//! Jobs and CronJobs: completion settings, pod status counts, schedule and history limits,
//! the job template and the active jobs.

use chrono::DateTime;
use serde_json::Value;

use super::format::{self as f, arr, s};
use super::pod::pod_template;
use crate::printers::age::human_duration;
use crate::printers::tabbed::PrefixWriter;

/// An optional integer field as Go prints a set `*int32`, or `None` when absent.
fn opt_i(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

/// An optional integer, or `<unset>`.
fn or_unset(v: &Value, ptr: &str) -> String {
    opt_i(v, ptr).map_or_else(|| "<unset>".into(), |n| n.to_string())
}

/// Upstream's `printBoolPtr`: `True`, `False` or `<unset>`.
fn bool_ptr(v: &Value, ptr: &str) -> &'static str {
    match v.pointer(ptr).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// `kubectl describe job`.
pub fn describe_job(job: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(job, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(job, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::selector_string(&job["spec"]["selector"])
        ),
    );
    f::labels(&mut w, "Labels", f::map(job, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(job, "/metadata/annotations"));
    if let Some(c) = f::controlled_by(job) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    if let Some(p) = opt_i(job, "/spec/parallelism") {
        w.write(0, &format!("Parallelism:\t{p}\n"));
    }
    w.write(
        0,
        &format!("Completions:\t{}\n", or_unset(job, "/spec/completions")),
    );
    let mode = s(job, "/spec/completionMode");
    if !mode.is_empty() {
        w.write(0, &format!("Completion Mode:\t{mode}\n"));
    }
    if let Some(b) = job.pointer("/spec/suspend").and_then(Value::as_bool) {
        w.write(0, &format!("Suspend:\t{b}\n"));
    }
    if let Some(b) = opt_i(job, "/spec/backoffLimit") {
        w.write(0, &format!("Backoff Limit:\t{b}\n"));
    }
    if let Some(t) = opt_i(job, "/spec/ttlSecondsAfterFinished") {
        w.write(0, &format!("TTL Seconds After Finished:\t{t}\n"));
    }
    let start = s(job, "/status/startTime");
    let done = s(job, "/status/completionTime");
    if !start.is_empty() {
        w.write(0, &format!("Start Time:\t{}\n", f::rfc1123z(start)));
    }
    if !done.is_empty() {
        w.write(0, &format!("Completed At:\t{}\n", f::rfc1123z(done)));
    }
    if let (Ok(a), Ok(b)) = (
        DateTime::parse_from_rfc3339(start),
        DateTime::parse_from_rfc3339(done),
    ) {
        w.write(
            0,
            &format!("Duration:\t{}\n", human_duration((b - a).num_seconds())),
        );
    }
    if let Some(d) = opt_i(job, "/spec/activeDeadlineSeconds") {
        w.write(0, &format!("Active Deadline Seconds:\t{d}s\n"));
    }
    let (active, succeeded, failed) = (
        f::i(job, "/status/active"),
        f::i(job, "/status/succeeded"),
        f::i(job, "/status/failed"),
    );
    match opt_i(job, "/status/ready") {
        Some(ready) => w.write(
            0,
            &format!(
                "Pods Statuses:\t{active} Active ({ready} Ready) / {succeeded} Succeeded / {failed} Failed\n"
            ),
        ),
        None => w.write(
            0,
            &format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n"),
        ),
    }
    if mode == "Indexed" {
        w.write(
            0,
            &format!(
                "Completed Indexes:\t{}\n",
                cap_indexes(s(job, "/status/completedIndexes"), 50)
            ),
        );
    }
    pod_template(&mut w, &job["spec"]["template"]);
    f::events(&mut w, events);
    w.finish()
}

/// Upstream's `capIndexesListOrNone`: the completed-indexes list cut at the first comma
/// after `soft_limit` characters, with `...`.
fn cap_indexes(indexes: &str, soft_limit: usize) -> String {
    if indexes.is_empty() {
        return "<none>".into();
    }
    match indexes
        .char_indices()
        .skip(soft_limit)
        .find(|&(_, c)| c == ',')
    {
        Some((at, _)) => format!("{}...", &indexes[..=at]),
        None => indexes.to_string(),
    }
}

/// `kubectl describe cronjob`.
pub fn describe_cron_job(cj: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(cj, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(cj, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(cj, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(cj, "/metadata/annotations"));
    w.write(0, &format!("Schedule:\t{}\n", s(cj, "/spec/schedule")));
    w.write(
        0,
        &format!(
            "Concurrency Policy:\t{}\n",
            s(cj, "/spec/concurrencyPolicy")
        ),
    );
    w.write(0, &format!("Suspend:\t{}\n", bool_ptr(cj, "/spec/suspend")));
    w.write(
        0,
        &format!(
            "Successful Job History Limit:\t{}\n",
            or_unset(cj, "/spec/successfulJobsHistoryLimit")
        ),
    );
    w.write(
        0,
        &format!(
            "Failed Job History Limit:\t{}\n",
            or_unset(cj, "/spec/failedJobsHistoryLimit")
        ),
    );
    match opt_i(cj, "/spec/startingDeadlineSeconds") {
        Some(d) => w.write(0, &format!("Starting Deadline Seconds:\t{d}s\n")),
        None => w.write(0, "Starting Deadline Seconds:\t<unset>\n"),
    }
    job_template(&mut w, &cj["spec"]["jobTemplate"]);
    let last = s(cj, "/status/lastScheduleTime");
    if last.is_empty() {
        w.write(0, "Last Schedule Time:\t<unset>\n");
    } else {
        w.write(0, &format!("Last Schedule Time:\t{}\n", f::rfc1123z(last)));
    }
    let active: Vec<&str> = arr(cj, "/status/active")
        .iter()
        .map(|j| s(j, "/name"))
        .collect();
    if active.is_empty() {
        w.write(0, "Active Jobs:\t<none>\n");
    } else {
        w.write(0, &format!("Active Jobs:\t{}\n", active.join(", ")));
    }
    f::events(&mut w, events);
    w.finish()
}

/// Upstream's `describeJobTemplate`, inside a CronJob.
fn job_template(w: &mut PrefixWriter, template: &Value) {
    let sel = &template["spec"]["selector"];
    if sel.is_object() {
        w.write(0, &format!("Selector:\t{}\n", f::selector_string(sel)));
    } else {
        w.write(0, "Selector:\t<unset>\n");
    }
    w.write(
        0,
        &format!(
            "Parallelism:\t{}\n",
            or_unset(template, "/spec/parallelism")
        ),
    );
    w.write(
        0,
        &format!(
            "Completions:\t{}\n",
            or_unset(template, "/spec/completions")
        ),
    );
    if let Some(d) = opt_i(template, "/spec/activeDeadlineSeconds") {
        w.write(0, &format!("Active Deadline Seconds:\t{d}s\n"));
    }
    pod_template(w, &template["spec"]["template"]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_layout_with_ready_count_and_unset_completions() {
        let job = json!({
            "metadata": {"name": "pi", "namespace": "ns"},
            "spec": {"parallelism": 2, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": false,
                     "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                     "template": {"spec": {"containers": [{"name": "pi", "image": "busybox"}]}}},
            "status": {"active": 2, "ready": 1}
        });
        let out = describe_job(&job, None);
        assert!(out.contains("Parallelism:      2\nCompletions:      <unset>\nCompletion Mode:  NonIndexed\nSuspend:          false\nBackoff Limit:    6\n"), "{out}");
        assert!(
            out.contains("Pods Statuses:    2 Active (1 Ready) / 0 Succeeded / 0 Failed\n"),
            "{out}"
        );
    }

    #[test]
    fn completed_indexes_are_capped_at_a_comma() {
        assert_eq!(cap_indexes("", 50), "<none>");
        assert_eq!(cap_indexes("1-3,5", 50), "1-3,5");
        assert_eq!(cap_indexes("1,3,5,7,9", 3), "1,3,...");
        assert_eq!(cap_indexes("1,3,5,7,9", 4), "1,3,5,...");
    }

    #[test]
    fn cronjob_layout_prints_unset_fields_and_active_jobs() {
        let cj = json!({
            "metadata": {"name": "tick", "namespace": "ns"},
            "spec": {"schedule": "*/1 * * * *", "concurrencyPolicy": "Allow",
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "tick-1"}, {"name": "tick-2"}]}
        });
        let out = describe_cron_job(&cj, None);
        assert!(
            out.contains("Suspend:                       <unset>\n"),
            "{out}"
        );
        assert!(out.contains("Starting Deadline Seconds:     <unset>\nSelector:                      <unset>\nParallelism:                   <unset>\n"), "{out}");
        assert!(
            out.contains("Last Schedule Time:  <unset>\nActive Jobs:         tick-1, tick-2\n"),
            "{out}"
        );
    }
}
