//! `pods/ephemeralcontainers`: the subresource `kubectl debug` writes to add a debugging
//! container to a running Pod. Only `spec.ephemeralContainers` changes through it; existing
//! ephemeral containers stay as they are; a Pod may not bring its own on create.

use integration_tests::{real_kubectl, status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";
const SMP: &str = "application/strategic-merge-patch+json";

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "debug-me"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}
    })
}

/// The ephemeral container as `kubectl debug --image=busybox:latest --target=c` builds it.
fn debugger(name: &str) -> Value {
    json!({"name": name, "image": "busybox:latest", "imagePullPolicy": "Always",
        "stdin": true, "tty": true, "targetContainerName": "c",
        "terminationMessagePolicy": "File", "resources": {}})
}

fn ephemeral_url(name: &str) -> String {
    format!("{PODS}/{name}/ephemeralcontainers")
}

/// The 422 Invalid answer's message, or a panic naming what came instead.
fn invalid_message(status: StatusCode, body: &Value) -> String {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(status_of(body), Some((422, "Invalid".into())), "{body}");
    body["message"].as_str().unwrap_or_default().to_string()
}

fn names(pod: &Value) -> Vec<String> {
    pod["spec"]["ephemeralContainers"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn ephemeral_containers_are_added_through_the_subresource_only() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, created) = cluster.post_json(PODS, &pod("web")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    // kubectl debug's strategic merge patch adds one.
    let patch = json!({"spec": {"ephemeralContainers": [debugger("debugger")]}});
    let (status, patched) = cluster
        .patch_json(&ephemeral_url("web"), SMP, &patch)
        .await?;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["kind"], "Pod");
    assert_eq!(names(&patched), ["debugger"]);
    assert_ne!(
        patched["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    let managers = patched["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        managers
            .iter()
            .any(|m| m["subresource"] == "ephemeralcontainers"),
        "{managers:?}"
    );

    let (status, got) = cluster.get_json(&format!("{PODS}/web")).await?;
    assert_eq!(status, StatusCode::OK);
    let added = &got["spec"]["ephemeralContainers"][0];
    assert_eq!(added["name"], "debugger");
    assert_eq!(added["image"], "busybox:latest");
    assert_eq!(added["targetContainerName"], "c");
    assert_eq!(got["spec"]["containers"], created["spec"]["containers"]);
    assert_eq!(
        got["spec"]["restartPolicy"],
        created["spec"]["restartPolicy"]
    );
    assert_eq!(got["metadata"]["labels"], created["metadata"]["labels"]);
    // GET of the subresource answers the same Pod.
    let (status, via_sub) = cluster.get_json(&ephemeral_url("web")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&via_sub), ["debugger"]);

    // Changing it: refused.
    let mut changed = debugger("debugger");
    changed["image"] = json!("busybox:1.36");
    let (status, body) = cluster
        .patch_json(
            &ephemeral_url("web"),
            SMP,
            &json!({"spec": {"ephemeralContainers": [changed]}}),
        )
        .await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains(
            "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be changed"
        ),
        "{msg}"
    );

    // Removing it (a merge patch replaces the list): refused.
    let (status, body) = cluster
        .patch_json(
            &ephemeral_url("web"),
            "application/merge-patch+json",
            &json!({"spec": {"ephemeralContainers": [debugger("other")]}}),
        )
        .await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains("existing ephemeral containers \"debugger\" may not be removed"),
        "{msg}"
    );

    // Ports are not for ephemeral containers.
    let mut with_ports = debugger("ports");
    with_ports["ports"] = json!([{"containerPort": 8080}]);
    let (status, body) = cluster
        .patch_json(
            &ephemeral_url("web"),
            SMP,
            &json!({"spec": {"ephemeralContainers": [with_ports]}}),
        )
        .await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains(
            "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container"
        ),
        "{msg}"
    );

    // The target must be one of the pod's containers.
    let mut lost = debugger("lost");
    lost["targetContainerName"] = json!("nope");
    let (status, body) = cluster
        .patch_json(
            &ephemeral_url("web"),
            SMP,
            &json!({"spec": {"ephemeralContainers": [lost]}}),
        )
        .await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains("spec.ephemeralContainers[1].targetContainerName: Not found: \"nope\""),
        "{msg}"
    );

    // A JSON patch appends one.
    let (status, body) = cluster
        .patch_json(
            &ephemeral_url("web"),
            "application/json-patch+json",
            &json!([{"op": "add", "path": "/spec/ephemeralContainers/-", "value": debugger("second")}]),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body), ["debugger", "second"]);

    // The pod itself may not change them.
    let mut whole = body.clone();
    whole["spec"]["ephemeralContainers"] = json!([debugger("debugger")]);
    let (status, body) = cluster.put_json(&format!("{PODS}/web"), &whole).await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains("spec: Forbidden: pod updates may not change fields other than"),
        "{msg}"
    );

    // Nor does a pod bring its own on create.
    let mut own = pod("own");
    own["spec"]["ephemeralContainers"] = json!([debugger("debugger")]);
    let (status, body) = cluster.post_json(PODS, &own).await?;
    let msg = invalid_message(status, &body);
    assert!(
        msg.contains("spec.ephemeralContainers: Forbidden: cannot be set on create"),
        "{msg}"
    );
    Ok(())
}

#[tokio::test]
async fn ephemeral_containers_put_takes_only_the_list() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, created) = cluster.post_json(PODS, &pod("web")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    let mut sent = created.clone();
    sent["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    sent["metadata"]["labels"] = json!({"app": "changed"});
    sent["spec"]["ephemeralContainers"] = json!([debugger("debugger")]);
    let (status, updated) = cluster.put_json(&ephemeral_url("web"), &sent).await?;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(names(&updated), ["debugger"]);
    assert_eq!(updated["spec"]["containers"][0]["image"], "nginx:1.25");
    assert_eq!(updated["metadata"]["labels"]["app"], "debug-me");
    let (_, got) = cluster.get_json(&format!("{PODS}/web")).await?;
    assert_eq!(got["spec"]["containers"][0]["image"], "nginx:1.25");
    assert_eq!(names(&got), ["debugger"]);

    // A PUT carrying a stale resourceVersion loses, as any update does.
    let mut stale = sent.clone();
    stale["spec"]["ephemeralContainers"] = json!([debugger("debugger"), debugger("two")]);
    let (status, body) = cluster.put_json(&ephemeral_url("web"), &stale).await?;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A kubelet may not add one, even to a pod of its own node.
    let kubelet = cluster.client_for("system:node:n1", &["system:nodes"])?;
    let resp = kubelet
        .patch(cluster.url(&ephemeral_url("web")))
        .header("Content-Type", SMP)
        .body(json!({"spec": {"ephemeralContainers": [debugger("node")]}}).to_string())
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    Ok(())
}

/// The real `kubectl debug` (v1.32) adds its container; without `-i` it does not attach, so no
/// kubelet is needed.
#[tokio::test]
async fn ephemeral_containers_real_kubectl_debug() -> anyhow::Result<()> {
    real_kubectl::require()?;
    let cluster = TestCluster::start().await?;
    let (status, created) = cluster.post_json(PODS, &pod("mypod")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    cluster.real_kubectl().run(&[
        "debug",
        "mypod",
        "--image=busybox:latest",
        "--target=c",
        "--container=debugger",
        "--namespace=default",
    ])?;
    let (_, got) = cluster.get_json(&format!("{PODS}/mypod")).await?;
    let added = &got["spec"]["ephemeralContainers"][0];
    assert_eq!(added["name"], "debugger", "{got}");
    assert_eq!(added["image"], "busybox:latest");
    assert_eq!(added["targetContainerName"], "c");
    assert_eq!(got["spec"]["containers"], created["spec"]["containers"]);
    Ok(())
}
