//! Reading the bootstrap kubeconfig's cluster, judging whether `--kubeconfig` still holds a
//! usable client certificate, and writing the `--kubeconfig` that names the certificate the
//! kubelet obtained (upstream's layout: cluster `default-cluster`, user `default-auth`,
//! context `default-context`, the client certificate and key both in
//! `kubelet-client-current.pem`).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use super::store::{certificates_valid_at, write_private};
use super::CertificateError;

const CLUSTER: &str = "default-cluster";
const USER: &str = "default-auth";
const CONTEXT: &str = "default-context";

fn read(path: &Path) -> Result<Kubeconfig, CertificateError> {
    Kubeconfig::read_from(path).map_err(|e| CertificateError::Kubeconfig {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A path from a kubeconfig, relative to the kubeconfig's directory (kubectl's rule).
fn resolve(kubeconfig: &Path, file: &str) -> PathBuf {
    let file = Path::new(file);
    match kubeconfig.parent() {
        Some(dir) if file.is_relative() => dir.join(file),
        _ => file.to_path_buf(),
    }
}

/// The current context's cluster and user entries.
fn current<'a>(
    path: &Path,
    config: &'a Kubeconfig,
) -> Result<(&'a Cluster, Option<&'a AuthInfo>), CertificateError> {
    let bad = |reason: String| CertificateError::Kubeconfig {
        path: path.to_path_buf(),
        reason,
    };
    let context_name = config
        .current_context
        .as_deref()
        .or_else(|| config.contexts.first().map(|c| c.name.as_str()))
        .ok_or_else(|| bad("no current-context".into()))?;
    let context = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .ok_or_else(|| bad(format!("context {context_name:?} not found")))?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(|| bad(format!("cluster {:?} not found", context.cluster)))?;
    let user = context.user.as_deref().and_then(|u| {
        config
            .auth_infos
            .iter()
            .find(|a| a.name == u)
            .and_then(|a| a.auth_info.as_ref())
    });
    Ok((cluster, user))
}

/// The bootstrap kubeconfig's cluster (server and CA), with a `certificate-authority` file
/// read in as `certificate-authority-data`, so the kubeconfig written from it does not
/// depend on where the bootstrap file's CA lives.
pub fn bootstrap_cluster(path: &Path) -> Result<Cluster, CertificateError> {
    let config = read(path)?;
    let (cluster, _) = current(path, &config)?;
    if cluster.server.as_deref().unwrap_or("").is_empty() {
        return Err(CertificateError::Kubeconfig {
            path: path.to_path_buf(),
            reason: "the cluster has no server".into(),
        });
    }
    let mut cluster = cluster.clone();
    if let Some(file) = cluster.certificate_authority.take() {
        let ca_path = resolve(path, &file);
        let ca = std::fs::read(&ca_path).map_err(CertificateError::io(ca_path))?;
        cluster.certificate_authority_data =
            Some(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    Ok(cluster)
}

/// Whether the kubeconfig at `path` exists and its user's client certificates are all
/// valid at `now`. A missing or unreadable file, a user without a client certificate (a
/// token), or an expired certificate all mean: bootstrap again.
pub fn client_config_valid(path: &Path, now: DateTime<Utc>) -> bool {
    let Ok(config) = read(path) else {
        return false;
    };
    let Ok((_, Some(user))) = current(path, &config) else {
        return false;
    };
    let pem = if let Some(data) = &user.client_certificate_data {
        match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
            Ok(pem) => pem,
            Err(_) => return false,
        }
    } else if let Some(file) = &user.client_certificate {
        match std::fs::read(resolve(path, file)) {
            Ok(pem) => pem,
            Err(_) => return false,
        }
    } else {
        return false;
    };
    certificates_valid_at(&pem, now)
}

/// Writes `path` (mode 0600): `cluster` and a user whose certificate and key are both read
/// from `pem_path`.
pub fn write_client_kubeconfig(
    path: &Path,
    cluster: &Cluster,
    pem_path: &Path,
) -> Result<(), CertificateError> {
    let pem = pem_path.display().to_string();
    let config = Kubeconfig {
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        clusters: vec![NamedCluster {
            name: CLUSTER.into(),
            cluster: Some(cluster.clone()),
            ..Default::default()
        }],
        auth_infos: vec![NamedAuthInfo {
            name: USER.into(),
            auth_info: Some(AuthInfo {
                client_certificate: Some(pem.clone()),
                client_key: Some(pem),
                ..Default::default()
            }),
            ..Default::default()
        }],
        contexts: vec![NamedContext {
            name: CONTEXT.into(),
            context: Some(Context {
                cluster: CLUSTER.into(),
                user: Some(USER.into()),
                namespace: Some("default".into()),
                ..Default::default()
            }),
            ..Default::default()
        }],
        current_context: Some(CONTEXT.into()),
        ..Default::default()
    };
    let yaml = serde_yaml::to_string(&config).map_err(|e| CertificateError::Kubeconfig {
        path: path.to_path_buf(),
        reason: format!("serializing: {e}"),
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(CertificateError::io(dir))?;
    }
    write_private(path, yaml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::store::ClientCertStore;

    const BOOTSTRAP: &str = r#"apiVersion: v1
kind: Config
clusters:
- name: rudder
  cluster:
    server: https://172.30.60.1:6443
    certificate-authority: ca.crt
users:
- name: tls-bootstrap-token-user
  user:
    token: abcdef.0123456789abcdef
contexts:
- name: tls-bootstrap-token-user@rudder
  context:
    cluster: rudder
    user: tls-bootstrap-token-user
current-context: tls-bootstrap-token-user@rudder
"#;

    #[test]
    fn kubeconfig_from_bootstrap_names_the_current_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let ca = common::pki::Ca::generate("kubernetes").unwrap();
        std::fs::write(dir.path().join("ca.crt"), ca.cert_pem()).unwrap();
        let bootstrap = dir.path().join("bootstrap-kubelet.conf");
        std::fs::write(&bootstrap, BOOTSTRAP).unwrap();
        // A token user is no client certificate: it must bootstrap.
        assert!(!client_config_valid(&bootstrap, Utc::now()));

        let cluster = bootstrap_cluster(&bootstrap).unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://172.30.60.1:6443"));
        assert!(cluster.certificate_authority.is_none());
        let ca_data = base64::engine::general_purpose::STANDARD
            .decode(cluster.certificate_authority_data.as_deref().unwrap())
            .unwrap();
        assert_eq!(ca_data, ca.cert_pem().as_bytes());

        let issued = ca
            .issue_client("system:node:w1", &["system:nodes".into()])
            .unwrap();
        let store = ClientCertStore::new(&dir.path().join("pki"));
        let pem = store
            .update(issued.cert_pem.as_bytes(), &issued.key_pem, Utc::now())
            .unwrap();
        let kubeconfig = dir.path().join("kubelet.conf");
        assert!(
            !client_config_valid(&kubeconfig, Utc::now()),
            "missing file"
        );
        write_client_kubeconfig(&kubeconfig, &cluster, &pem).unwrap();

        let written = Kubeconfig::read_from(&kubeconfig).unwrap();
        let (c, user) = current(&kubeconfig, &written).unwrap();
        assert_eq!(c.server, cluster.server);
        assert_eq!(
            c.certificate_authority_data,
            cluster.certificate_authority_data
        );
        let user = user.unwrap();
        assert_eq!(user.client_certificate.as_deref(), pem.to_str());
        assert_eq!(user.client_key.as_deref(), pem.to_str());
        assert!(
            user.token.is_none(),
            "no bootstrap credentials carried over"
        );
        assert!(client_config_valid(&kubeconfig, Utc::now()));
        // Judged expired far in the future (certificates last a year).
        let later = Utc::now() + chrono::Duration::days(3650);
        assert!(!client_config_valid(&kubeconfig, later));
    }

    #[test]
    fn bootstrap_without_server_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.conf");
        std::fs::write(
            &path,
            BOOTSTRAP.replace("    server: https://172.30.60.1:6443\n", ""),
        )
        .unwrap();
        let err = bootstrap_cluster(&path).unwrap_err().to_string();
        assert!(err.contains("no server"), "{err}");
    }
}
