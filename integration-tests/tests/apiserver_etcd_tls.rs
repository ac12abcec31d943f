//! kube-apiserver talking to an etcd that requires client TLS (`--client-cert-auth`), with
//! `--etcd-cafile`, `--etcd-certfile` and `--etcd-keyfile` as kubeadm configures them.

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use common::pki::{self, Ca, IssuedCert};
use integration_tests::process::{self, Daemon};
use reqwest::StatusCode;
use serde_json::json;

fn https_client(ca: &Ca, identity: &IssuedCert) -> Result<reqwest::Client> {
    let pem = format!("{}{}", identity.cert_pem, identity.key_pem);
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem().as_bytes())?)
        .identity(reqwest::Identity::from_pem(pem.as_bytes())?)
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// Poll `url` until it answers 2xx, while `daemon` runs.
async fn wait_healthy(client: &reqwest::Client, url: &str, daemon: &mut Daemon) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if !daemon.is_running() {
            bail!("{} exited:\n{}", daemon.name(), daemon.log_tail(30));
        }
        if let Ok(resp) = client.get(url).send().await {
            if resp.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} not healthy:\n{}", daemon.log_tail(30))
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

#[tokio::test]
async fn apiserver_stores_through_an_etcd_that_requires_client_certificates() -> Result<()> {
    process::ensure_traffic_guard();
    let tmp = tempfile::Builder::new()
        .prefix("rudder-etcd-tls-")
        .tempdir()?;
    let dir = tmp.path();
    let loopback: Vec<IpAddr> = vec![[127, 0, 0, 1].into()];
    let localhost = vec!["localhost".to_string()];

    // etcd's own CA, as kubeadm's etcd/ca: etcd's serving certificate and the apiserver's
    // client certificate (apiserver-etcd-client).
    let etcd_ca = Ca::generate("etcd-ca")?;
    pki::write_cert_pem(&dir.join("etcd-ca.crt"), etcd_ca.cert_pem())?;
    etcd_ca
        .issue_server("etcd", &localhost, &loopback)?
        .write(&dir.join("etcd-server.crt"), &dir.join("etcd-server.key"))?;
    let etcd_client_cert = etcd_ca.issue_client("kube-apiserver-etcd-client", &[])?;
    etcd_client_cert.write(
        &dir.join("apiserver-etcd-client.crt"),
        &dir.join("apiserver-etcd-client.key"),
    )?;

    let (client_port, peer_port) = (process::free_port()?, process::free_port()?);
    let endpoint = format!("https://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let etcd_args: Vec<String> = vec![
        "--name=tls".into(),
        format!("--data-dir={}", path(dir, "etcd-data")),
        format!("--listen-client-urls={endpoint}"),
        format!("--advertise-client-urls={endpoint}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=tls={peer}"),
        "--client-cert-auth".into(),
        format!("--trusted-ca-file={}", path(dir, "etcd-ca.crt")),
        format!("--cert-file={}", path(dir, "etcd-server.crt")),
        format!("--key-file={}", path(dir, "etcd-server.key")),
    ];
    let mut etcd = Daemon::spawn(
        "etcd",
        &process::etcd_bin(),
        &etcd_args,
        &dir.join("etcd.log"),
    )?;
    let etcd_http = https_client(&etcd_ca, &etcd_client_cert)?;
    wait_healthy(&etcd_http, &format!("{endpoint}/health"), &mut etcd).await?;

    // The cluster CA: the apiserver's serving certificate and an admin.
    let ca = Ca::generate("kubernetes")?;
    ca.write(&dir.join("ca.crt"), &dir.join("ca.key"))?;
    ca.issue_server("kube-apiserver", &localhost, &loopback)?
        .write(&dir.join("apiserver.crt"), &dir.join("apiserver.key"))?;
    pki::ServiceAccountKey::generate()?.write(&dir.join("sa.key"), &dir.join("sa.pub"))?;
    let admin = ca.issue_client("kubernetes-admin", &["system:masters".to_string()])?;

    let api_port = process::free_port()?;
    let api_args: Vec<String> = vec![
        format!("--etcd-servers={endpoint}"),
        format!("--etcd-cafile={}", path(dir, "etcd-ca.crt")),
        format!("--etcd-certfile={}", path(dir, "apiserver-etcd-client.crt")),
        format!("--etcd-keyfile={}", path(dir, "apiserver-etcd-client.key")),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={api_port}"),
        "--advertise-address=127.0.0.1".into(),
        format!("--tls-cert-file={}", path(dir, "apiserver.crt")),
        format!("--tls-private-key-file={}", path(dir, "apiserver.key")),
        format!("--client-ca-file={}", path(dir, "ca.crt")),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        format!(
            "--service-account-issuer={}",
            integration_tests::SERVICE_ACCOUNT_ISSUER
        ),
        format!("--service-account-key-file={}", path(dir, "sa.pub")),
        format!("--service-account-signing-key-file={}", path(dir, "sa.key")),
        "--disable-admission-plugins=ServiceAccount".into(),
    ];
    let bin = process::bin_dir()?.join("kube-apiserver");
    let mut apiserver = Daemon::spawn(
        "kube-apiserver",
        &bin,
        &api_args,
        &dir.join("apiserver.log"),
    )?;
    let api = https_client(&ca, &admin)?;
    let base = format!("https://127.0.0.1:{api_port}");
    wait_healthy(&api, &format!("{base}/readyz"), &mut apiserver).await?;

    let resp = api
        .post(format!("{base}/api/v1/namespaces/default/configmaps"))
        .json(&json!({"metadata": {"name": "over-tls"}, "data": {"k": "v"}}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let got: serde_json::Value = api
        .get(format!(
            "{base}/api/v1/namespaces/default/configmaps/over-tls"
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(got["data"]["k"], "v");

    // That etcd is the only one, and it serves nobody without a client certificate: the
    // apiserver got there with --etcd-certfile/--etcd-keyfile.
    let anonymous = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(
            etcd_ca.cert_pem().as_bytes(),
        )?)
        .timeout(Duration::from_secs(5))
        .build()?;
    assert!(anonymous
        .get(format!("{endpoint}/health"))
        .send()
        .await
        .is_err_and(|e| e.is_connect() || e.is_request()));
    Ok(())
}
