//! PodSecurity admission: namespace labels `pod-security.kubernetes.io/enforce|warn|audit`
//! refuse or warn about pods that violate the baseline or restricted standard, with
//! upstream's messages; workloads only get warnings; unlabeled namespaces stay privileged.

use anyhow::Result;
use integration_tests::api::send;
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn namespace(cluster: &TestCluster, name: &str, labels: Value) -> Result<()> {
    let (status, body) = cluster
        .post_json(
            "/api/v1/namespaces",
            &json!({"metadata": {"name": name, "labels": labels}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(())
}

fn pod(name: &str, container_sc: Value) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": container_sc}]}
    })
}

fn restricted_pod(name: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "busybox", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
        }
    })
}

/// POST as the admin; (status, body, Warning headers).
async fn post(
    cluster: &TestCluster,
    path: &str,
    body: &Value,
) -> Result<(StatusCode, Value, Vec<String>)> {
    let resp = cluster
        .client()
        .post(cluster.url(path))
        .json(body)
        .send()
        .await?;
    let warnings = resp
        .headers()
        .get_all("Warning")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    let status = resp.status();
    let body = serde_json::from_slice(&resp.bytes().await?).unwrap_or(Value::Null);
    Ok((status, body, warnings))
}

const RESTRICTED_VIOLATIONS: &str = r#"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;

#[tokio::test]
async fn enforce_refuses_and_warn_warns() -> Result<()> {
    let cluster = TestCluster::start().await?;
    namespace(
        &cluster,
        "locked",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    )
    .await?;
    namespace(
        &cluster,
        "mixed",
        json!({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.30",
            "pod-security.kubernetes.io/warn": "restricted"
        }),
    )
    .await?;

    // enforce=restricted refuses a plain pod with upstream's message.
    let (status, body, _) = post(
        &cluster,
        "/api/v1/namespaces/locked/pods",
        &pod("p", json!({})),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        format!(
            r#"pods "p" is forbidden: violates PodSecurity "restricted:latest": {RESTRICTED_VIOLATIONS}"#
        )
    );
    let (status, _) = cluster.get_json("/api/v1/namespaces/locked/pods/p").await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused pod must not be stored"
    );
    // A hardened pod is fine.
    let (status, body, warnings) = post(
        &cluster,
        "/api/v1/namespaces/locked/pods",
        &restricted_pod("ok"),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");

    // enforce=baseline accepts the plain pod but warn=restricted says why it would not pass.
    let (status, body, warnings) = post(
        &cluster,
        "/api/v1/namespaces/mixed/pods",
        &pod("p", json!({})),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let expected =
        format!(r#"would violate PodSecurity "restricted:latest": {RESTRICTED_VIOLATIONS}"#);
    assert!(warnings[0].starts_with("299 - "), "{warnings:?}");
    assert!(
        warnings[0].contains(&expected.replace('"', "\\\"")),
        "{warnings:?}\n{expected}"
    );
    // …and refuses a privileged one, naming the pinned version.
    let (status, body, _) = post(
        &cluster,
        "/api/v1/namespaces/mixed/pods",
        &pod("priv", json!({"privileged": true})),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"pods "priv" is forbidden: violates PodSecurity "baseline:v1.30": privileged (container "c" must not set securityContext.privileged=true)"#
    );

    // Unlabeled namespaces are privileged: host namespaces and privileged containers pass.
    let mut host = pod("host", json!({"privileged": true}));
    host["spec"]["hostNetwork"] = json!(true);
    let (status, body, warnings) = post(&cluster, "/api/v1/namespaces/default/pods", &host).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(warnings.is_empty());
    Ok(())
}

#[tokio::test]
async fn workloads_are_warned_not_refused() -> Result<()> {
    let cluster = TestCluster::start().await?;
    namespace(
        &cluster,
        "locked",
        json!({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted"
        }),
    )
    .await?;
    let deployment = json!({
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox"}]}
            }
        }
    });
    let (status, body, warnings) = post(
        &cluster,
        "/apis/apps/v1/namespaces/locked/deployments",
        &deployment,
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(
            r#"would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false"#
        ) && warnings[0].contains("host namespaces (hostNetwork=true)"),
        "{warnings:?}"
    );
    // Updates that leave the template alone are not evaluated again.
    let resp = cluster
        .client()
        .patch(cluster.url("/apis/apps/v1/namespaces/locked/deployments/web"))
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"metadata": {"labels": {"tier": "front"}}}).to_string())
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("Warning").is_none());
    Ok(())
}

#[tokio::test]
async fn invalid_labels_and_the_disabled_plugin() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, body) = cluster
        .post_json(
            "/api/v1/namespaces",
            &json!({"metadata": {"name": "typo", "labels": {"pod-security.kubernetes.io/enforce": "strict"}}}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("must be one of privileged, baseline, restricted"),
        "{body}"
    );
    drop(cluster);

    let cluster =
        TestCluster::start_with_args(&["--disable-admission-plugins=PodSecurity,ServiceAccount"])
            .await?;
    namespace(
        &cluster,
        "locked",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    )
    .await?;
    let (status, body) = send(
        cluster
            .client()
            .post(cluster.url("/api/v1/namespaces/locked/pods"))
            .json(&pod("p", json!({"privileged": true}))),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(())
}

/// An admission configuration whose PodSecurity defaults enforce `restricted` and exempts the
/// namespace `tools` and the user `ops`, with the plugin configuration in a file of its own.
const ADMISSION_CONFIG: &str = r#"apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  path: pod-security.yaml
"#;
const POD_SECURITY_CONFIG: &str = r#"apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: restricted
  enforce-version: latest
exemptions:
  usernames: ["ops"]
  namespaces: ["tools"]
"#;
const AUDIT_EVERYTHING: &str = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n";

/// The `pod-security.kubernetes.io/exempt` annotations of pod creations in the audit log, as
/// (namespace, value), once `want` of them were written.
async fn exemptions_audited(log: &std::path::Path, want: usize) -> Result<Vec<(String, String)>> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let found: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["objectRef"]["resource"] == "pods" && e["verb"] == "create")
            .filter_map(|e| {
                let why = e["annotations"]["pod-security.kubernetes.io/exempt"].as_str()?;
                let ns = e["objectRef"]["namespace"].as_str()?;
                Some((ns.to_string(), why.to_string()))
            })
            .collect();
        if found.len() >= want {
            return Ok(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!(
        "fewer than {want} exempt pod creations in {}",
        log.display()
    )
}

#[tokio::test]
async fn configured_defaults_and_exemptions() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("admission.yaml");
    std::fs::write(&config, ADMISSION_CONFIG)?;
    std::fs::write(dir.path().join("pod-security.yaml"), POD_SECURITY_CONFIG)?;
    let policy = dir.path().join("audit-policy.yaml");
    std::fs::write(&policy, AUDIT_EVERYTHING)?;
    let log = dir.path().join("audit.log");
    let cluster = TestCluster::start_with_args(&[
        &format!("--admission-control-config-file={}", config.display()),
        &format!("--audit-policy-file={}", policy.display()),
        &format!("--audit-log-path={}", log.display()),
    ])
    .await?;
    namespace(&cluster, "plain", json!({})).await?;
    namespace(&cluster, "tools", json!({})).await?;
    let privileged = pod("p", json!({"privileged": true}));

    // An unlabelled namespace gets the configured default: restricted, enforced.
    let (status, body, _) = post(&cluster, "/api/v1/namespaces/plain/pods", &privileged).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        // Upstream orders violations by check ID (allowPrivilegeEscalation, capabilities,
        // privileged, runAsNonRoot, seccompProfile).
        r#"pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), privileged (container "c" must not set securityContext.privileged=true), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    );
    // A label still overrides the default.
    namespace(
        &cluster,
        "open",
        json!({"pod-security.kubernetes.io/enforce": "privileged"}),
    )
    .await?;
    let (status, body, _) = post(&cluster, "/api/v1/namespaces/open/pods", &privileged).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The exempt namespace takes the pod whatever its labels say.
    let (status, body, warnings) =
        post(&cluster, "/api/v1/namespaces/tools/pods", &privileged).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");

    // The exempt user (here impersonated by the admin) creates it anywhere.
    let (status, body) = send(
        cluster
            .client()
            .post(cluster.url("/api/v1/namespaces/plain/pods"))
            .header("Impersonate-User", "ops")
            .header("Impersonate-Group", "system:masters")
            .json(&privileged),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The audit events say why the pods were not evaluated.
    let mut audited = exemptions_audited(&log, 2).await?;
    audited.sort();
    assert_eq!(
        audited,
        [
            ("plain".to_string(), "user".to_string()),
            ("tools".to_string(), "namespace".to_string())
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_admission_configuration_stops_the_apiserver() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("admission.yaml");
    std::fs::write(&config, ADMISSION_CONFIG)?;
    std::fs::write(
        dir.path().join("pod-security.yaml"),
        POD_SECURITY_CONFIG.replace("enforce: restricted", "enforce: strict"),
    )?;
    let flag = format!("--admission-control-config-file={}", config.display());
    let started = TestCluster::start_with_args(&[&flag]).await;
    let Err(e) = started else {
        anyhow::bail!("the apiserver started with an invalid PodSecurity configuration");
    };
    let e = format!("{e:#}");
    assert!(
        e.contains(r#"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    Ok(())
}
