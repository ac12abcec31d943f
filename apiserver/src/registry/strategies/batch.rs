//! batch/v1 Job and CronJob (upstream `pkg/apis/batch/v1/defaults.go`, the Job strategy's
//! selector generation, and `pkg/apis/batch/validation`).

use serde_json::{json, Value};

use super::apps::default_template;
use super::cron;
use super::json::{
    get, get_str, immutable, is_unset, non_negative, object_at, one_of, set_default,
};
use super::pod_spec::validate_template;
use super::selector::validate_workload;
use crate::errors::FieldError;
use crate::registry::Strategy;

/// Labels the server puts on a Job's pod template so its pods are found by the Job's uid;
/// the legacy unprefixed pair is still written in v1.33.
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

/// CronJob names leave room for the 11-character suffix of the Jobs they create.
const CRONJOB_NAME_MAX: usize = 52;

/// batch/v1 Job.
pub struct Job;
impl Strategy for Job {
    fn default(&self, obj: &mut Value) {
        let spec_has = |obj: &Value, f: &str| !is_unset(get(obj, &["spec", f]));
        if !spec_has(obj, "completions") && !spec_has(obj, "parallelism") {
            set_default(obj, &["spec", "completions"], json!(1));
        }
        set_default(obj, &["spec", "parallelism"], json!(1));
        let backoff = if spec_has(obj, "backoffLimitPerIndex") {
            i64::from(i32::MAX)
        } else {
            6
        };
        set_default(obj, &["spec", "backoffLimit"], json!(backoff));
        set_default(obj, &["spec", "completionMode"], json!("NonIndexed"));
        set_default(obj, &["spec", "suspend"], json!(false));
        set_default(obj, &["spec", "manualSelector"], json!(false));
        let replacement = if spec_has(obj, "podFailurePolicy") {
            "Failed"
        } else {
            "TerminatingOrFailed"
        };
        set_default(obj, &["spec", "podReplacementPolicy"], json!(replacement));
        if get(obj, &["spec", "manualSelector"]).and_then(Value::as_bool) != Some(true) {
            generate_selector(obj);
        }
        if let Some(labels) = get(obj, &["spec", "template", "metadata", "labels"]).cloned() {
            if !is_unset(Some(&labels)) {
                set_default(obj, &["metadata", "labels"], labels);
            }
        }
        default_template(obj, &["spec", "template"]);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_job_spec(obj, "spec", true);
        if let Some(old) = old {
            errs.extend(immutable(obj, old, &["spec", "selector"], "spec.selector"));
            errs.extend(immutable(obj, old, &["spec", "template"], "spec.template"));
            errs.extend(immutable(
                obj,
                old,
                &["spec", "completionMode"],
                "spec.completionMode",
            ));
            let indexed = get_str(obj, &["spec", "completionMode"]) == Some("Indexed");
            if !indexed {
                errs.extend(immutable(
                    obj,
                    old,
                    &["spec", "completions"],
                    "spec.completions",
                ));
            }
        }
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        // Upstream's selectable field name; its value is `status.succeeded` (0 when unset).
        &["status.successful"]
    }
}

/// The Job strategy's selector generation: the uid the caller has set on the object selects
/// exactly this Job's pods. Labels the user already set are kept (validation then catches a
/// conflicting value).
fn generate_selector(obj: &mut Value) {
    let Some(uid) = get_str(obj, &["metadata", "uid"])
        .filter(|u| !u.is_empty())
        .map(str::to_string)
    else {
        return;
    };
    let name = get_str(obj, &["metadata", "name"])
        .unwrap_or_default()
        .to_string();
    if let Some(labels) = object_at(obj, &["spec", "template", "metadata", "labels"]) {
        for (k, v) in [
            (CONTROLLER_UID, &uid),
            (JOB_NAME, &name),
            (LEGACY_CONTROLLER_UID, &uid),
            (LEGACY_JOB_NAME, &name),
        ] {
            labels.entry(k).or_insert_with(|| json!(v));
        }
    }
    if let Some(ml) = object_at(obj, &["spec", "selector", "matchLabels"]) {
        ml.entry(CONTROLLER_UID).or_insert_with(|| json!(uid));
    }
}

/// Job spec checks, at `path` (`spec`, or `spec.jobTemplate.spec` inside a CronJob).
/// Selector checks only apply to Jobs themselves: a CronJob's template gets its selector later.
fn validate_job_spec(obj: &Value, path: &str, with_selector: bool) -> Vec<FieldError> {
    let parts: Vec<&str> = path.split('.').collect();
    let at = |f: &'static str| -> Vec<&str> {
        let mut p = parts.clone();
        p.push(f);
        p
    };
    let mut errs = Vec::new();
    if with_selector {
        errs.extend(validate_workload(obj, "job"));
    }
    for field in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ] {
        errs.extend(non_negative(obj, &at(field), &format!("{path}.{field}")));
    }
    errs.extend(one_of(
        obj,
        &at("completionMode"),
        &format!("{path}.completionMode"),
        &["NonIndexed", "Indexed"],
        false,
    ));
    if get_str(obj, &at("completionMode")) == Some("Indexed")
        && is_unset(get(obj, &at("completions")))
    {
        errs.push(FieldError::required(
            format!("{path}.completions"),
            "when completion mode is Indexed",
        ));
    }
    errs.extend(one_of(
        obj,
        &at("podReplacementPolicy"),
        &format!("{path}.podReplacementPolicy"),
        &["Failed", "TerminatingOrFailed"],
        false,
    ));
    errs.extend(validate_template(
        get(obj, &at("template")),
        &format!("{path}.template"),
        &["OnFailure", "Never"],
    ));
    errs
}

/// batch/v1 CronJob.
pub struct CronJob;
impl Strategy for CronJob {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "concurrencyPolicy"], json!("Allow"));
        set_default(obj, &["spec", "suspend"], json!(false));
        set_default(obj, &["spec", "successfulJobsHistoryLimit"], json!(3));
        set_default(obj, &["spec", "failedJobsHistoryLimit"], json!(1));
        default_template(obj, &["spec", "jobTemplate", "spec", "template"]);
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let name = get_str(obj, &["metadata", "name"]).unwrap_or_default();
        if name.len() > CRONJOB_NAME_MAX {
            errs.push(FieldError::invalid(
                "metadata.name",
                name,
                format!("must be no more than {CRONJOB_NAME_MAX} characters"),
            ));
        }
        match get_str(obj, &["spec", "schedule"]).filter(|s| !s.is_empty()) {
            None => errs.push(FieldError::required("spec.schedule", "")),
            Some(s) if s.contains("TZ=") => errs.push(FieldError::invalid(
                "spec.schedule",
                s,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            )),
            Some(s) => {
                if let Err(e) = cron::parse(s) {
                    errs.push(FieldError::invalid("spec.schedule", s, e));
                }
            }
        }
        errs.extend(one_of(
            obj,
            &["spec", "concurrencyPolicy"],
            "spec.concurrencyPolicy",
            &["Allow", "Forbid", "Replace"],
            false,
        ));
        for field in [
            "startingDeadlineSeconds",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        ] {
            errs.extend(non_negative(
                obj,
                &["spec", field],
                &format!("spec.{field}"),
            ));
        }
        errs.extend(validate_job_spec(obj, "spec.jobTemplate.spec", false));
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "uid": "u-1"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "pi", "image": "perl:5.34"}]}}}})
    }

    #[test]
    fn minimal_job_gets_defaults_and_generated_selector() {
        let mut j = job();
        Job.default(&mut j);
        let s = &j["spec"];
        assert_eq!(s["completions"], 1);
        assert_eq!(s["parallelism"], 1);
        assert_eq!(s["backoffLimit"], 6);
        assert_eq!(s["completionMode"], "NonIndexed");
        assert_eq!(s["suspend"], false);
        assert_eq!(s["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(
            s["selector"],
            json!({"matchLabels": {CONTROLLER_UID: "u-1"}})
        );
        let labels = &s["template"]["metadata"]["labels"];
        assert_eq!(labels[JOB_NAME], "pi");
        assert_eq!(labels[LEGACY_CONTROLLER_UID], "u-1");
        assert_eq!(j["metadata"]["labels"], labels.clone());
        assert!(
            Job.validate(&j, None).is_empty(),
            "{:?}",
            Job.validate(&j, None)
        );
    }

    #[test]
    fn job_template_must_not_restart_always_and_is_immutable() {
        let mut j = job();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        Job.default(&mut j);
        let errs = Job.validate(&j, None);
        assert_eq!(errs[0].field, "spec.template.spec.restartPolicy");
        let mut old = job();
        Job.default(&mut old);
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5.36");
        let errs = Job.validate(&new, Some(&old));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template");
    }

    #[test]
    fn cronjob_schedule_is_checked() {
        let mut c = json!({"metadata": {"name": "c"}, "spec": {"schedule": "bogus",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "c", "image": "busybox:1"}]}}}}}});
        CronJob.default(&mut c);
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        let errs = CronJob.validate(&c, None);
        assert_eq!(
            errs[0].message(),
            "spec.schedule: Invalid value: \"bogus\": expected exactly 5 fields, found 1: bogus"
        );
        c["spec"]["schedule"] = json!("*/1 * * * *");
        assert!(CronJob.validate(&c, None).is_empty());
    }
}
