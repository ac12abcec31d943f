//! TLS bootstrapping end to end against a real apiserver (`--enable-bootstrap-token-auth`),
//! the controller-manager's csrapproving + csrsigning, and the kubelet binary
//! (`--fake-runtime`, so no containerd): with only a bootstrap token and the CA, the kubelet
//! posts its CSR as `system:bootstrap:<id>`, gets it approved and signed, writes its
//! `--kubeconfig` and registers its Node with the issued identity. A restart reuses it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use base64::Engine as _;
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const TOKEN_ID: &str = "abcdef";
const TOKEN_SECRET: &str = "0123456789abcdef";
const GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
const NODE: &str = "tls-bootstrap-node";

async fn kubeadm_objects(cluster: &TestCluster) -> Result<()> {
    let secret = json!({
        "metadata": {"name": format!("bootstrap-token-{TOKEN_ID}"), "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": {"token-id": TOKEN_ID, "token-secret": TOKEN_SECRET,
                       "usage-bootstrap-authentication": "true", "auth-extra-groups": GROUP}});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/kube-system/secrets", &secret)
        .await?;
    assert!(code.is_success(), "{body}");
    for (name, role, group) in [
        (
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            GROUP,
        ),
        (
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            GROUP,
        ),
    ] {
        let binding = json!({"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]});
        let (code, body) = cluster
            .post_json(
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                &binding,
            )
            .await?;
        assert!(code.is_success(), "{body}");
    }
    Ok(())
}

fn bootstrap_kubeconfig(cluster: &TestCluster, path: &Path) -> Result<()> {
    let ca = base64::engine::general_purpose::STANDARD.encode(cluster.ca().cert_pem());
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: bootstrap\n  user:\n    token: {TOKEN_ID}.{TOKEN_SECRET}\ncontexts:\n- name: b\n  context:\n    cluster: c\n    user: bootstrap\ncurrent-context: b\n",
            cluster.base_url()
        ),
    )?;
    Ok(())
}

fn start_kubelet(dir: &Path, run: u32) -> Result<Daemon> {
    let args: Vec<String> = [
        "--kubeconfig",
        &dir.join("kubelet.conf").display().to_string(),
        "--bootstrap-kubeconfig",
        &dir.join("bootstrap-kubelet.conf").display().to_string(),
        "--root-dir",
        &dir.join("root").display().to_string(),
        "--fake-runtime",
        "--hostname-override",
        NODE,
        "--port",
        "0",
        "--healthz-port",
        "0",
        "--eviction-hard",
        "",
        "-v",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Daemon::spawn(
        "kubelet",
        &process::bin_dir()?.join("kubelet"),
        &args,
        &dir.join(format!("kubelet-{run}.log")),
    )
}

async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn kubelet_joins_with_a_bootstrap_token_and_a_csr() -> Result<()> {
    let cluster = TestCluster::start_with_args(&["--enable-bootstrap-token-auth"]).await?;
    kubeadm_objects(&cluster).await?;
    let pki = cluster.dir().join("pki");
    let _cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=csrapproving,csrsigning",
            &format!(
                "--cluster-signing-cert-file={}",
                pki.join("ca.crt").display()
            ),
            &format!(
                "--cluster-signing-key-file={}",
                pki.join("ca.key").display()
            ),
            "--leader-elect=false",
        ],
    )?;
    let dir = tempfile::tempdir()?;
    bootstrap_kubeconfig(&cluster, &dir.path().join("bootstrap-kubelet.conf"))?;
    let kubelet = start_kubelet(dir.path(), 1)?;

    // The Node appears: registered with the certificate the CSR brought.
    let node_path = format!("/api/v1/nodes/{NODE}");
    wait_for("the node to register", Duration::from_secs(60), || async {
        let (code, _) = cluster.get_json(&node_path).await?;
        Ok(code.is_success().then_some(()))
    })
    .await
    .map_err(|e| {
        let log = std::fs::read_to_string(dir.path().join("kubelet-1.log")).unwrap_or_default();
        e.context(format!("kubelet log:\n{log}"))
    })?;

    let (_, list) = cluster
        .get_json("/apis/certificates.k8s.io/v1/certificatesigningrequests")
        .await?;
    let csrs: Vec<&Value> = list["items"].as_array().into_iter().flatten().collect();
    assert_eq!(csrs.len(), 1, "{list}");
    let csr = csrs[0];
    assert!(csr["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .starts_with("node-csr-"));
    assert_eq!(
        csr["spec"]["username"],
        format!("system:bootstrap:{TOKEN_ID}")
    );
    assert_eq!(
        csr["spec"]["signerName"],
        "kubernetes.io/kube-apiserver-client-kubelet"
    );
    let approved = csr["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Approved" && c["status"] == "True");
    assert!(approved, "{csr}");
    let issued = base64::engine::general_purpose::STANDARD
        .decode(csr["status"]["certificate"].as_str().unwrap_or_default())?;
    let current = std::fs::read(dir.path().join("root/pki/kubelet-client-current.pem"))?;
    assert!(
        current.starts_with(&issued),
        "the kubelet stores the certificate its CSR was issued"
    );
    let kubeconfig = std::fs::read_to_string(dir.path().join("kubelet.conf"))?;
    assert!(
        kubeconfig.contains("kubelet-client-current.pem"),
        "{kubeconfig}"
    );
    assert!(!kubeconfig.contains(TOKEN_SECRET));

    // A restart keeps the identity: no second CSR.
    drop(kubelet);
    let _again = start_kubelet(dir.path(), 2)?;
    wait_for("the restarted kubelet", Duration::from_secs(30), || async {
        let log = std::fs::read_to_string(dir.path().join("kubelet-2.log")).unwrap_or_default();
        Ok(log.contains("no bootstrap needed").then_some(()))
    })
    .await?;
    let (_, list) = cluster
        .get_json("/apis/certificates.k8s.io/v1/certificatesigningrequests")
        .await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}
