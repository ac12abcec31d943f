//! The job and cronjob controllers against a real apiserver and etcd. No kubelet runs, so
//! the tests finish pods themselves by writing `status.phase` through the status subresource.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::TestCluster;
use serde_json::{json, Value};

async fn get(cluster: &TestCluster, path: &str) -> Result<Value> {
    let (code, body) = cluster.get_json(path).await?;
    if !code.is_success() {
        bail!("GET {path}: {code} {body}");
    }
    Ok(body)
}

async fn create(cluster: &TestCluster, path: &str, obj: &Value) -> Result<Value> {
    let (code, body) = cluster.post_json(path, obj).await?;
    if !code.is_success() {
        bail!("POST {path}: {code} {body}");
    }
    Ok(body)
}

async fn merge_patch(cluster: &TestCluster, path: &str, patch: &Value) -> Result<Value> {
    let (code, body) = cluster
        .patch_json(path, "application/merge-patch+json", patch)
        .await?;
    if !code.is_success() {
        bail!("PATCH {path}: {code} {body}");
    }
    Ok(body)
}

/// Pods (not being deleted) of Job `name` in `default`, by the label the apiserver adds.
async fn job_pods(cluster: &TestCluster, name: &str) -> Result<Vec<Value>> {
    let body = get(
        cluster,
        &format!(
            "/api/v1/namespaces/default/pods?labelSelector=batch.kubernetes.io%2Fjob-name%3D{name}"
        ),
    )
    .await?;
    Ok(body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect())
}

fn running(pods: &[Value]) -> Vec<Value> {
    pods.iter()
        .filter(|p| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .cloned()
        .collect()
}

/// Finish a pod as a kubelet would: `phase` through the status subresource.
async fn finish_pod(cluster: &TestCluster, pod: &Value, phase: &str) -> Result<()> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    merge_patch(
        cluster,
        &format!("/api/v1/namespaces/default/pods/{name}/status"),
        &json!({"status": {"phase": phase}}),
    )
    .await?;
    Ok(())
}

fn job(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["template"] = json!({"spec": {"restartPolicy": "Never",
        "containers": [{"name": "c", "image": "busybox"}]}});
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec})
}

fn condition<'a>(job: &'a Value, type_: &str) -> Option<&'a Value> {
    job["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_ && c["status"] == "True")
}

const JOBS: &str = "/apis/batch/v1/namespaces/default/jobs";

#[tokio::test]
async fn job_runs_pods_one_at_a_time_until_completions() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=job"])?;
    let created = create(
        &cluster,
        JOBS,
        &job("two", json!({"completions": 2, "parallelism": 1})),
    )
    .await?;
    let uid = created["metadata"]["uid"].clone();

    let first = cm
        .eventually("the first pod", || async {
            let pods = job_pods(&cluster, "two").await?;
            Ok((pods.len() == 1).then(|| pods[0].clone()))
        })
        .await?;
    let owner = &first["metadata"]["ownerReferences"][0];
    assert_eq!(owner["uid"], uid);
    assert_eq!(owner["kind"], "Job");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    finish_pod(&cluster, &first, "Succeeded").await?;

    let second = cm
        .eventually("a second pod after the first succeeded", || async {
            let pods = job_pods(&cluster, "two").await?;
            let live = running(&pods);
            Ok((pods.len() == 2 && live.len() == 1).then(|| live[0].clone()))
        })
        .await?;
    finish_pod(&cluster, &second, "Succeeded").await?;

    let done = cm
        .eventually("the Job to complete", || async {
            let j = get(&cluster, &format!("{JOBS}/two")).await?;
            Ok(condition(&j, "Complete").is_some().then_some(j))
        })
        .await?;
    assert_eq!(done["status"]["succeeded"], 2);
    assert!(done["status"]["completionTime"].is_string());
    assert!(done["status"]["startTime"].is_string());
    let types: Vec<&str> = done["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(types, ["SuccessCriteriaMet", "Complete"]);
    assert_eq!(
        job_pods(&cluster, "two").await?.len(),
        2,
        "no pod beyond completions"
    );
    Ok(())
}

#[tokio::test]
async fn job_fails_when_backoff_limit_is_exceeded() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=job"])?;
    create(&cluster, JOBS, &job("fragile", json!({"backoffLimit": 0}))).await?;
    let pod = cm
        .eventually("the pod", || async {
            let pods = job_pods(&cluster, "fragile").await?;
            Ok(pods.first().cloned())
        })
        .await?;
    finish_pod(&cluster, &pod, "Failed").await?;
    let failed = cm
        .eventually("the Job to fail", || async {
            let j = get(&cluster, &format!("{JOBS}/fragile")).await?;
            Ok(condition(&j, "Failed").cloned().map(|c| (c, j)))
        })
        .await?;
    assert_eq!(failed.0["reason"], "BackoffLimitExceeded");
    assert!(condition(&failed.1, "FailureTarget").is_some());
    assert_eq!(failed.1["status"]["failed"], 1);
    assert_eq!(running(&job_pods(&cluster, "fragile").await?).len(), 0);
    Ok(())
}

#[tokio::test]
async fn suspending_a_job_deletes_its_active_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=job"])?;
    create(
        &cluster,
        JOBS,
        &job("nap", json!({"completions": 4, "parallelism": 2})),
    )
    .await?;
    cm.eventually("two active pods", || async {
        Ok((job_pods(&cluster, "nap").await?.len() == 2).then_some(()))
    })
    .await?;
    merge_patch(
        &cluster,
        &format!("{JOBS}/nap"),
        &json!({"spec": {"suspend": true}}),
    )
    .await?;
    let j = cm
        .eventually("pods deleted and Suspended", || async {
            let j = get(&cluster, &format!("{JOBS}/nap")).await?;
            let gone = job_pods(&cluster, "nap").await?.is_empty();
            Ok((gone
                && condition(&j, "Suspended").is_some()
                && j["status"]["active"].as_i64().unwrap_or(0) == 0)
                .then_some(j))
        })
        .await?;
    assert_eq!(
        condition(&j, "Suspended").map(|c| c["reason"].clone()),
        Some(json!("JobSuspended"))
    );
    merge_patch(
        &cluster,
        &format!("{JOBS}/nap"),
        &json!({"spec": {"suspend": false}}),
    )
    .await?;
    cm.eventually("pods again after resuming", || async {
        Ok((job_pods(&cluster, "nap").await?.len() == 2).then_some(()))
    })
    .await?;
    Ok(())
}

const CRONJOBS: &str = "/apis/batch/v1/namespaces/default/cronjobs";

fn cronjob(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["jobTemplate"] = json!({"spec": {"template": {"spec": {"restartPolicy": "Never",
        "containers": [{"name": "c", "image": "busybox"}]}}}});
    json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": spec})
}

async fn jobs_owned_by(cluster: &TestCluster, uid: &Value) -> Result<Vec<Value>> {
    let body = get(cluster, JOBS).await?;
    Ok(body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|j| j["metadata"]["ownerReferences"][0]["uid"] == *uid)
        .collect())
}

#[tokio::test]
async fn cronjob_creates_a_job_at_the_next_minute() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=cronjob"])?;
    let cj = create(
        &cluster,
        CRONJOBS,
        &cronjob("tick", json!({"schedule": "* * * * *"})),
    )
    .await?;
    let uid = cj["metadata"]["uid"].clone();
    // The first due time is at most a minute away.
    let job = cm
        .eventually_within(
            Duration::from_secs(150),
            "a Job from the CronJob",
            || async { Ok(jobs_owned_by(&cluster, &uid).await?.into_iter().next()) },
        )
        .await?;
    let name = job["metadata"]["name"].as_str().unwrap_or_default();
    let scheduled = job["metadata"]["annotations"]
        ["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        .as_str()
        .unwrap_or_default();
    // `<cronjob>-<minutes since the epoch>` of a whole-minute scheduled time.
    let minutes = name.strip_prefix("tick-").unwrap_or_default();
    assert!(
        minutes.parse::<i64>().is_ok_and(|m| m > 28_000_000),
        "{name}"
    );
    assert!(scheduled.ends_with(":00Z"), "{scheduled}");
    assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    assert_eq!(job["metadata"]["ownerReferences"][0]["controller"], true);
    cm.eventually("status.active and lastScheduleTime", || async {
        let cj = get(&cluster, &format!("{CRONJOBS}/tick")).await?;
        let active = cj["status"]["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["name"] == name));
        Ok((active && cj["status"]["lastScheduleTime"] == scheduled).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn cronjob_deletes_finished_jobs_beyond_history_limits() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=cronjob"])?;
    // Suspended so only the history cleanup acts.
    let cj = create(
        &cluster,
        CRONJOBS,
        &cronjob(
            "hist",
            json!({"schedule": "0 0 1 1 *", "suspend": true,
            "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1}),
        ),
    )
    .await?;
    let owner = json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "hist",
        "uid": cj["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]);
    for (i, outcome) in ["Complete", "Complete", "Complete", "Failed", "Failed"]
        .iter()
        .enumerate()
    {
        let name = format!("hist-{i}");
        let mut j = job(&name, json!({"suspend": true}));
        j["metadata"]["ownerReferences"] = owner.clone();
        create(&cluster, JOBS, &j).await?;
        let start = format!("2025-01-01T00:0{i}:00Z");
        let mut conds = vec![];
        if *outcome == "Failed" {
            conds.push(json!({"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"}));
        } else {
            conds.push(json!({"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"}));
        }
        conds.push(json!({"type": outcome, "status": "True", "reason": "X"}));
        let mut status = json!({"startTime": start, "conditions": conds});
        if *outcome == "Complete" {
            status["completionTime"] = json!(start);
            status["succeeded"] = json!(1);
        } else {
            status["failed"] = json!(1);
        }
        merge_patch(
            &cluster,
            &format!("{JOBS}/{name}/status"),
            &json!({"status": status}),
        )
        .await?;
    }
    // Touch the CronJob so it syncs after every Job is finished.
    merge_patch(
        &cluster,
        &format!("{CRONJOBS}/hist"),
        &json!({"metadata": {"labels": {"touched": "yes"}}}),
    )
    .await?;
    let uid = cj["metadata"]["uid"].clone();
    cm.eventually("only the newest finished Job of each kind left", || async {
        let mut names: Vec<String> = jobs_owned_by(&cluster, &uid)
            .await?
            .iter()
            .filter(|j| j["metadata"]["deletionTimestamp"].is_null())
            .filter_map(|j| j["metadata"]["name"].as_str().map(String::from))
            .collect();
        names.sort();
        Ok((names == ["hist-2", "hist-4"]).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn indexed_job_runs_each_index_once_and_records_completed_indexes() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=job"])?;
    let spec = json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"});
    create(&cluster, JOBS, &job("idx", spec)).await?;
    let pods = cm
        .eventually("three indexed pods", || async {
            let pods = job_pods(&cluster, "idx").await?;
            Ok((pods.len() == 3).then_some(pods))
        })
        .await?;
    let key = "batch.kubernetes.io/job-completion-index";
    let mut indexes: Vec<String> = pods
        .iter()
        .map(|p| {
            let i = p["metadata"]["annotations"][key]
                .as_str()
                .unwrap_or_default();
            assert_eq!(p["metadata"]["labels"][key], i);
            assert_eq!(p["spec"]["hostname"], format!("idx-{i}"));
            i.to_string()
        })
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);
    for p in &pods {
        finish_pod(&cluster, p, "Succeeded").await?;
    }
    let j = cm
        .eventually("the indexed Job to complete", || async {
            let j = get(&cluster, &format!("{JOBS}/idx")).await?;
            Ok(condition(&j, "Complete").is_some().then_some(j))
        })
        .await?;
    assert_eq!(j["status"]["completedIndexes"], "0-2");
    assert_eq!(j["status"]["succeeded"], 3);
    Ok(())
}

#[tokio::test]
async fn job_past_its_active_deadline_fails_and_deletes_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=job"])?;
    create(
        &cluster,
        JOBS,
        &job("slow", json!({"activeDeadlineSeconds": 2})),
    )
    .await?;
    let j = cm
        .eventually("the Job to fail on its deadline", || async {
            let j = get(&cluster, &format!("{JOBS}/slow")).await?;
            Ok(condition(&j, "Failed").is_some().then_some(j))
        })
        .await?;
    assert_eq!(
        condition(&j, "Failed").map(|c| c["reason"].clone()),
        Some(json!("DeadlineExceeded"))
    );
    cm.eventually("no active pods", || async {
        Ok(running(&job_pods(&cluster, "slow").await?)
            .is_empty()
            .then_some(()))
    })
    .await?;
    Ok(())
}
