//! kube-controller-manager against a real apiserver and etcd. No kubelet runs, so pods stay
//! Pending and never become Ready; the tests check what is observable through the API.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::TestCluster;
use serde_json::{json, Value};

async fn list(cluster: &TestCluster, path: &str) -> Result<Vec<Value>> {
    let (code, body) = cluster.get_json(path).await?;
    if !code.is_success() {
        bail!("GET {path}: {code} {body}");
    }
    Ok(body["items"].as_array().cloned().unwrap_or_default())
}

/// Active (not being deleted) pods in `default` with label `app=<app>`.
async fn pods_of(cluster: &TestCluster, app: &str) -> Result<Vec<Value>> {
    let pods = list(
        cluster,
        &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"),
    )
    .await?;
    Ok(pods
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect())
}

fn template(app: &str, image: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}},
           "spec": {"containers": [{"name": "app", "image": image}]}})
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

#[tokio::test]
async fn replicaset_creates_owned_pods_and_scales_down() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=replicaset"])?;
    // An orphan that matches the selector is adopted instead of a new pod being created.
    create(
        &cluster,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "orphan", "labels": {"app": "rs1"}},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]}}),
    )
    .await?;
    let rs = create(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets",
        &json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "rs1"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "rs1"}},
                         "template": template("rs1", "nginx:1")}}),
    )
    .await?;
    let uid = rs["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let pods = cm
        .eventually("3 pods owned by rs1", || async {
            let pods = pods_of(&cluster, "rs1").await?;
            let owned = pods
                .iter()
                .filter(|p| {
                    p["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|refs| {
                            refs.iter().any(|r| {
                                r["uid"] == json!(uid)
                                    && r["controller"] == json!(true)
                                    && r["blockOwnerDeletion"] == json!(true)
                                    && r["kind"] == "ReplicaSet"
                            })
                        })
                })
                .count();
            Ok((pods.len() == 3 && owned == 3).then_some(pods))
        })
        .await?;
    assert!(
        pods.iter().any(|p| p["metadata"]["name"] == "orphan"),
        "the matching orphan was adopted"
    );
    let generated = pods
        .iter()
        .filter(|p| p["metadata"]["generateName"] == "rs1-")
        .count();
    assert_eq!(generated, 2, "two pods created with generateName rs1-");

    cm.eventually("status.replicas = 3", || async {
        let (_, rs) = cluster
            .get_json("/apis/apps/v1/namespaces/default/replicasets/rs1")
            .await?;
        Ok(
            (rs["status"]["replicas"] == 3 && rs["status"]["observedGeneration"] == 1)
                .then_some(()),
        )
    })
    .await?;

    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets/rs1",
        &json!({"spec": {"replicas": 1}}),
    )
    .await?;
    cm.eventually("1 pod left", || async {
        Ok((pods_of(&cluster, "rs1").await?.len() == 1).then_some(()))
    })
    .await?;

    // A deleted pod is replaced.
    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets/rs1",
        &json!({"spec": {"replicas": 2}}),
    )
    .await?;
    let pods = cm
        .eventually("2 pods", || async {
            let pods = pods_of(&cluster, "rs1").await?;
            Ok((pods.len() == 2).then_some(pods))
        })
        .await?;
    let victim = pods[0]["metadata"]["name"].as_str().unwrap_or_default();
    cluster
        .delete(&format!("/api/v1/namespaces/default/pods/{victim}"))
        .await?;
    cm.eventually("the deleted pod replaced", || async {
        let pods = pods_of(&cluster, "rs1").await?;
        Ok((pods.len() == 2 && pods.iter().all(|p| p["metadata"]["name"] != victim)).then_some(()))
    })
    .await?;
    // Never more than asked for, even while the watch catches up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pods_of(&cluster, "rs1").await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn new_namespace_gets_default_service_account() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=serviceaccount"])?;
    create(
        &cluster,
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
    )
    .await?;
    let sa_path = "/api/v1/namespaces/team-a/serviceaccounts/default";
    cm.eventually("default ServiceAccount in team-a", || async {
        Ok(cluster
            .get_json(sa_path)
            .await?
            .0
            .is_success()
            .then_some(()))
    })
    .await?;
    // Deleted, it comes back.
    cluster.delete(sa_path).await?;
    cm.eventually("default ServiceAccount recreated", || async {
        let (code, sa) = cluster.get_json(sa_path).await?;
        Ok((code.is_success() && sa["metadata"]["deletionTimestamp"].is_null()).then_some(()))
    })
    .await?;
    Ok(())
}

/// The Deployment's ReplicaSets, by name.
async fn replicasets_of(cluster: &TestCluster, app: &str) -> Result<Vec<Value>> {
    list(
        cluster,
        &format!("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D{app}"),
    )
    .await
}

fn revision_of(obj: &Value) -> String {
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn deployment_rolls_out_replicasets_with_hash_and_revisions() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                         "template": template("web", "nginx:1")}}),
    )
    .await?;
    let first = cm
        .eventually("one ReplicaSet with 3 pods", || async {
            let sets = replicasets_of(&cluster, "web").await?;
            let pods = pods_of(&cluster, "web").await?;
            Ok((sets.len() == 1 && pods.len() == 3).then(|| sets[0].clone()))
        })
        .await?;
    let name = first["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let hash = first["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !hash.is_empty(),
        "pod-template-hash label on the RS: {first}"
    );
    assert_eq!(name, format!("web-{hash}"));
    assert_eq!(
        first["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        json!(hash)
    );
    assert_eq!(first["spec"]["replicas"], 3);
    assert_eq!(revision_of(&first), "1");
    assert_eq!(
        first["metadata"]["ownerReferences"][0]["kind"],
        "Deployment"
    );
    for pod in pods_of(&cluster, "web").await? {
        assert_eq!(pod["metadata"]["labels"]["pod-template-hash"], json!(hash));
    }
    cm.eventually("deployment status", || async {
        let (_, d) = cluster
            .get_json("/apis/apps/v1/namespaces/default/deployments/web")
            .await?;
        let st = &d["status"];
        let progressing = st["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Progressing" && c["status"] == "True")
        });
        Ok((st["replicas"] == 3
            && st["updatedReplicas"] == 3
            && st["unavailableReplicas"] == 3
            && st["observedGeneration"] == 1
            && progressing
            && revision_of(&d) == "1")
            .then_some(()))
    })
    .await?;

    // A new image: a second ReplicaSet, revision 2. No pod ever becomes available here, so
    // with maxSurge 1 / maxUnavailable 0 (25% of 3) the rollout stalls at 1 new pod and
    // the 3 old ones stay, as upstream would.
    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments/web",
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}),
    )
    .await?;
    let second = cm
        .eventually("a second ReplicaSet at revision 2", || async {
            let sets = replicasets_of(&cluster, "web").await?;
            Ok(sets
                .into_iter()
                .find(|rs| rs["metadata"]["name"] != json!(name) && rs["spec"]["replicas"] == 1))
        })
        .await?;
    assert_eq!(revision_of(&second), "2");
    assert_ne!(
        second["metadata"]["labels"]["pod-template-hash"],
        json!(hash)
    );
    cm.eventually("4 pods: 3 old + 1 surge", || async {
        Ok((pods_of(&cluster, "web").await?.len() == 4).then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sets = replicasets_of(&cluster, "web").await?;
    let old = sets.iter().find(|rs| rs["metadata"]["name"] == json!(name));
    assert_eq!(
        old.map(|rs| rs["spec"]["replicas"].clone()),
        Some(json!(3)),
        "maxUnavailable 0 keeps old pods"
    );
    assert_eq!(
        pods_of(&cluster, "web").await?.len(),
        4,
        "never above replicas + maxSurge"
    );

    // Rollback as `kubectl rollout undo` does it: the old template comes back, its
    // ReplicaSet is reused and becomes revision 3.
    let mut old_template = first["spec"]["template"].clone();
    if let Some(labels) = old_template["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    let (code, body) = cluster
        .patch_json(
            "/apis/apps/v1/namespaces/default/deployments/web",
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/spec/template", "value": old_template}]),
        )
        .await?;
    assert!(code.is_success(), "rollback patch: {code} {body}");
    cm.eventually("the first ReplicaSet back at revision 3", || async {
        let sets = replicasets_of(&cluster, "web").await?;
        let d = cluster
            .get_json("/apis/apps/v1/namespaces/default/deployments/web")
            .await?
            .1;
        Ok((sets.len() == 2
            && sets
                .iter()
                .any(|rs| rs["metadata"]["name"] == json!(name) && revision_of(rs) == "3")
            && revision_of(&d) == "3")
            .then_some(()))
    })
    .await?;

    // Scaling down the deployment scales the (new) ReplicaSet down.
    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments/web",
        &json!({"spec": {"replicas": 1}}),
    )
    .await?;
    cm.eventually("the current ReplicaSet scaled to 1", || async {
        let sets = replicasets_of(&cluster, "web").await?;
        Ok(sets
            .iter()
            .any(|rs| rs["metadata"]["name"] == json!(name) && rs["spec"]["replicas"] == 1)
            .then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn recreate_deployment_scales_old_to_zero_first() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "batch"},
                "spec": {"replicas": 2, "strategy": {"type": "Recreate"},
                         "selector": {"matchLabels": {"app": "batch"}},
                         "template": template("batch", "busybox:1")}}),
    )
    .await?;
    cm.eventually("2 pods", || async {
        Ok((pods_of(&cluster, "batch").await?.len() == 2).then_some(()))
    })
    .await?;
    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments/batch",
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "busybox:2"}]}}}}),
    )
    .await?;
    cm.eventually("old at 0, new at 2 with 2 new pods", || async {
        let sets = replicasets_of(&cluster, "batch").await?;
        let pods = pods_of(&cluster, "batch").await?;
        let new = sets.iter().find(|rs| revision_of(rs) == "2");
        let old = sets.iter().find(|rs| revision_of(rs) == "1");
        let new_hash = new.map(|rs| rs["metadata"]["labels"]["pod-template-hash"].clone());
        Ok((old.is_some_and(|rs| rs["spec"]["replicas"] == 0)
            && new.is_some_and(|rs| rs["spec"]["replicas"] == 2)
            && pods.len() == 2
            && pods
                .iter()
                .all(|p| Some(&p["metadata"]["labels"]["pod-template-hash"]) == new_hash.as_ref()))
        .then_some(()))
    })
    .await?;
    Ok(())
}

/// Play kubelet: mark every pod of `app` Running and Ready through the status subresource.
async fn mark_ready(cluster: &TestCluster, app: &str) -> Result<()> {
    for pod in pods_of(cluster, app).await? {
        if pod["status"]["phase"] == "Running" {
            continue;
        }
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let now = "2024-01-01T00:00:00Z";
        // The pod may be gone meanwhile; the next round sees the new set.
        let _ = cluster
            .patch_json(
                &format!("/api/v1/namespaces/default/pods/{name}/status"),
                "application/merge-patch+json",
                &json!({"status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": now}]}}),
            )
            .await?;
    }
    Ok(())
}

fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<std::process::Output> {
    cluster.real_kubectl().output(args)
}

#[tokio::test]
async fn rolling_update_completes_within_surge_and_kubectl_rolls_back() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api"},
                "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "api"}},
                         "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
                         "template": template("api", "nginx:1")}}),
    )
    .await?;
    let complete = |image: &'static str| {
        let cluster = &cluster;
        move || async move {
            mark_ready(cluster, "api").await?;
            let pods = pods_of(cluster, "api").await?;
            assert!(
                pods.len() <= 5,
                "more than replicas + maxSurge pods: {}",
                pods.len()
            );
            let (_, d) = cluster
                .get_json("/apis/apps/v1/namespaces/default/deployments/api")
                .await?;
            let st = &d["status"];
            let done = st["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Progressing" && c["reason"] == "NewReplicaSetAvailable")
            });
            let images_ok = pods
                .iter()
                .all(|p| p["spec"]["containers"][0]["image"] == image);
            Ok((done
                && images_ok
                && pods.len() == 4
                && st["availableReplicas"] == 4
                && st["updatedReplicas"] == 4
                && st["replicas"] == 4)
                .then_some(()))
        }
    };
    cm.eventually("first rollout complete", complete("nginx:1"))
        .await?;
    merge_patch(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments/api",
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}),
    )
    .await?;
    cm.eventually("second rollout complete", complete("nginx:2"))
        .await?;
    let sets = replicasets_of(&cluster, "api").await?;
    assert_eq!(sets.len(), 2);
    assert!(sets
        .iter()
        .any(|rs| revision_of(rs) == "1" && rs["spec"]["replicas"] == 0));

    if std::path::Path::new("/usr/bin/kubectl").exists() {
        let out = kubectl(
            &cluster,
            &["rollout", "status", "deployment/api", "--timeout=30s"],
        )?;
        assert!(out.status.success(), "rollout status: {out:?}");
        let out = kubectl(&cluster, &["rollout", "history", "deployment/api"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains('1') && text.contains('2'),
            "{out:?}"
        );
        let out = kubectl(&cluster, &["rollout", "undo", "deployment/api"])?;
        assert!(out.status.success(), "rollout undo: {out:?}");
        cm.eventually("rolled back to nginx:1", complete("nginx:1"))
            .await?;
        let sets = replicasets_of(&cluster, "api").await?;
        assert_eq!(
            sets.len(),
            2,
            "the old ReplicaSet is reused: {:#?}",
            sets.iter()
                .map(|rs| rs["spec"]["template"].to_string())
                .collect::<Vec<_>>()
        );
        assert!(sets.iter().any(|rs| revision_of(rs) == "3"
            && rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"));
    }
    Ok(())
}

async fn configmap(cluster: &TestCluster, name: &str, owner: Option<&Value>) -> Result<Value> {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if let Some(o) = owner {
        cm["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
            "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}]);
    }
    create(cluster, "/api/v1/namespaces/default/configmaps", &cm).await
}

async fn exists(cluster: &TestCluster, path: &str) -> Result<bool> {
    Ok(cluster.get_json(path).await?.0.is_success())
}

#[tokio::test]
async fn garbage_collector_cascades_background_and_orphans() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=garbagecollector"])?;
    let cms = "/api/v1/namespaces/default/configmaps";
    // Background: the dependent goes after its owner.
    let owner = configmap(&cluster, "owner", None).await?;
    configmap(&cluster, "dependent", Some(&owner)).await?;
    cluster.delete(&format!("{cms}/owner")).await?;
    cm.eventually("the dependent deleted", || async {
        Ok((!exists(&cluster, &format!("{cms}/dependent")).await?).then_some(()))
    })
    .await?;

    // Orphan: the dependent stays, released from its owner; the owner goes.
    let owner = configmap(&cluster, "owner2", None).await?;
    configmap(&cluster, "kept", Some(&owner)).await?;
    let code = cluster
        .client()
        .delete(cluster.url(&format!("{cms}/owner2")))
        .json(&json!({"propagationPolicy": "Orphan"}))
        .send()
        .await?
        .status();
    assert!(code.is_success(), "orphan delete: {code}");
    cm.eventually("owner2 gone, kept released", || async {
        let (code, kept) = cluster.get_json(&format!("{cms}/kept")).await?;
        Ok((!exists(&cluster, &format!("{cms}/owner2")).await?
            && code.is_success()
            && kept["metadata"]["ownerReferences"].is_null())
        .then_some(()))
    })
    .await?;
    // The released object is not collected later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(exists(&cluster, &format!("{cms}/kept")).await?);
    Ok(())
}

#[tokio::test]
async fn foreground_deletion_removes_replicasets_and_pods_before_the_deployment() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=deployment,replicaset,garbagecollector"],
    )?;
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "fg"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "fg"}},
                         "template": template("fg", "nginx:1")}}),
    )
    .await?;
    cm.eventually("3 pods", || async {
        Ok((pods_of(&cluster, "fg").await?.len() == 3).then_some(()))
    })
    .await?;
    let path = "/apis/apps/v1/namespaces/default/deployments/fg";
    let code = cluster
        .client()
        .delete(cluster.url(path))
        .json(&json!({"propagationPolicy": "Foreground"}))
        .send()
        .await?
        .status();
    assert!(code.is_success(), "foreground delete: {code}");
    cm.eventually("the deployment gone", || async {
        let gone = !exists(&cluster, path).await?;
        if gone {
            // Everything it owned went first.
            let sets = replicasets_of(&cluster, "fg").await?;
            let pods = list(
                &cluster,
                "/api/v1/namespaces/default/pods?labelSelector=app%3Dfg",
            )
            .await?;
            assert!(
                sets.is_empty(),
                "ReplicaSets outlived the Deployment: {sets:?}"
            );
            assert!(
                pods.is_empty(),
                "pods outlived the Deployment: {}",
                pods.len()
            );
        }
        Ok(gone.then_some(()))
    })
    .await?;
    Ok(())
}

/// Sum of `spec.replicas` over the ReplicaSets of `app`.
async fn rs_replicas_sum(cluster: &TestCluster, app: &str) -> Result<i64> {
    Ok(replicasets_of(cluster, app)
        .await?
        .iter()
        .map(|rs| rs["spec"]["replicas"].as_i64().unwrap_or(0))
        .sum())
}

#[tokio::test]
async fn scaling_mid_rollout_is_proportional_and_converges() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    let path = "/apis/apps/v1/namespaces/default/deployments/prop";
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "prop"},
                "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "prop"}},
                         "strategy": {"rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
                         "template": template("prop", "nginx:1")}}),
    )
    .await?;
    cm.eventually("5 pods", || async {
        Ok((pods_of(&cluster, "prop").await?.len() == 5).then_some(()))
    })
    .await?;
    // Pods never get ready: the rollout stalls at 5 old + 2 surge.
    merge_patch(
        &cluster,
        path,
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}),
    )
    .await?;
    cm.eventually("5 old + 2 new", || async {
        Ok((rs_replicas_sum(&cluster, "prop").await? == 7
            && replicasets_of(&cluster, "prop").await?.len() == 2)
            .then_some(()))
    })
    .await?;
    for (replicas, total) in [(2, 4), (8, 10)] {
        merge_patch(&cluster, path, &json!({"spec": {"replicas": replicas}})).await?;
        cm.eventually(&format!("{total} pods for replicas {replicas}"), || async {
            let sum = rs_replicas_sum(&cluster, "prop").await?;
            let pods = pods_of(&cluster, "prop").await?.len() as i64;
            Ok((sum == total && pods == total).then_some(()))
        })
        .await?;
    }
    // Now let pods become ready: the rollout finishes at 8 new pods.
    cm.eventually("rollout complete at 8", || async {
        mark_ready(&cluster, "prop").await?;
        let pods = pods_of(&cluster, "prop").await?;
        assert!(
            pods.len() <= 10,
            "{} pods above replicas + maxSurge",
            pods.len()
        );
        let (_, d) = cluster.get_json(path).await?;
        Ok((pods.len() == 8
            && pods
                .iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "nginx:2")
            && d["status"]["availableReplicas"] == 8
            && d["status"]["updatedReplicas"] == 8)
            .then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn paused_deployment_does_not_roll_out_until_resumed() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    let path = "/apis/apps/v1/namespaces/default/deployments/pz";
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "pz"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "pz"}},
                         "template": template("pz", "nginx:1")}}),
    )
    .await?;
    cm.eventually("2 pods", || async {
        Ok((pods_of(&cluster, "pz").await?.len() == 2).then_some(()))
    })
    .await?;
    merge_patch(&cluster, path, &json!({"spec": {"paused": true}})).await?;
    merge_patch(
        &cluster,
        path,
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}),
    )
    .await?;
    cm.eventually("Progressing DeploymentPaused", || async {
        let (_, d) = cluster.get_json(path).await?;
        let paused = d["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Progressing" && c["reason"] == "DeploymentPaused")
        });
        Ok(paused.then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        replicasets_of(&cluster, "pz").await?.len(),
        1,
        "no rollout while paused"
    );
    merge_patch(&cluster, path, &json!({"spec": {"paused": false}})).await?;
    cm.eventually("a second ReplicaSet after resume", || async {
        Ok((replicasets_of(&cluster, "pz").await?.len() == 2).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn deployment_adopts_an_orphan_replicaset_matching_its_selector() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment"])?;
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets",
        &json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "legacy", "labels": {"app": "adopt"}},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "adopt"}},
                         "template": template("adopt", "nginx:0")}}),
    )
    .await?;
    let d = create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "adopt"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "adopt"}},
                         "template": template("adopt", "nginx:1")}}),
    )
    .await?;
    let uid = d["metadata"]["uid"].clone();
    cm.eventually("legacy adopted, a new ReplicaSet created", || async {
        let sets = replicasets_of(&cluster, "adopt").await?;
        let adopted = sets.iter().any(|rs| {
            rs["metadata"]["name"] == "legacy"
                && rs["metadata"]["ownerReferences"][0]["uid"] == uid
                && rs["metadata"]["ownerReferences"][0]["controller"] == true
        });
        Ok((adopted && sets.len() == 2).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn old_replicasets_beyond_revision_history_limit_are_deleted() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=deployment,replicaset"])?;
    let path = "/apis/apps/v1/namespaces/default/deployments/hist";
    // Recreate scales old ReplicaSets to zero without waiting for readiness.
    create(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "hist"},
                "spec": {"replicas": 1, "revisionHistoryLimit": 1, "strategy": {"type": "Recreate"},
                         "selector": {"matchLabels": {"app": "hist"}},
                         "template": template("hist", "busybox:1")}}),
    )
    .await?;
    for rev in 2..=4 {
        cm.eventually(&format!("revision {} live", rev - 1), || async {
            let sets = replicasets_of(&cluster, "hist").await?;
            Ok(sets
                .iter()
                .any(|rs| revision_of(rs) == (rev - 1).to_string() && rs["status"]["replicas"] == 1)
                .then_some(()))
        })
        .await?;
        let image = format!("busybox:{rev}");
        merge_patch(
            &cluster,
            path,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}),
        )
        .await?;
    }
    cm.eventually("only revisions 3 and 4 kept", || async {
        let sets = replicasets_of(&cluster, "hist").await?;
        let mut revs: Vec<String> = sets.iter().map(revision_of).collect();
        revs.sort();
        Ok((revs == ["3", "4"]).then_some(()))
    })
    .await?;
    Ok(())
}
