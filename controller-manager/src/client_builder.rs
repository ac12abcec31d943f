//! One API client per controller (upstream's `controller-manager/pkg/clientbuilder`).
//!
//! Without `--use-service-account-credentials` every controller shares the manager's own
//! client. With it, each controller talks to the apiserver as
//! `system:serviceaccount:kube-system:<name>` (upstream's names: `replicaset-controller`,
//! `certificate-controller`, …), so the `system:controller:<name>` RBAC roles bound to those
//! ServiceAccounts are what it may do. The manager creates a missing ServiceAccount with its
//! own credentials, asks for a token with TokenRequest (`serviceaccounts/<name>/token`, one
//! hour, the apiserver's default audiences) and asks again once 80% of the token's life has
//! passed, as upstream's dynamic client builder does.
//!
//! As upstream, only what a controller does runs under its account: reads (GET: get, list,
//! watch — upstream's shared informers) keep the manager's credentials, every other verb
//! carries the controller's token. So a role such as `system:controller:root-ca-cert-publisher`
//! (create/update ConfigMaps only) is enough.
//!
//! The token reaches the controller's client through a 0600 file in a 0700 directory: kube's
//! client re-reads a `token_file` at least once a minute, far inside the fifth of an hour
//! left when a new token is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::config::AuthInfo;
use kube::Client;

/// Where the controllers' ServiceAccounts live.
pub const NAMESPACE: &str = "kube-system";
/// The lifetime asked for (upstream's default for controller tokens).
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How long to wait before asking again after a failed TokenRequest.
const RETRY: Duration = Duration::from_secs(10);

/// Hands each controller its client.
pub struct ClientBuilder {
    /// The manager's own client (creates ServiceAccounts, requests tokens).
    root: Client,
    /// With `--use-service-account-credentials`: the manager's config, whose cluster
    /// settings the controllers' clients reuse, and the private token directory.
    service_accounts: Option<(Box<kube::Config>, PathBuf)>,
    /// One client per ServiceAccount (several controllers share `certificate-controller`).
    clients: tokio::sync::Mutex<HashMap<String, Client>>,
}

impl ClientBuilder {
    /// The builder for `--use-service-account-credentials=<use_service_accounts>`.
    pub fn new(
        root: Client,
        base: kube::Config,
        use_service_accounts: bool,
    ) -> anyhow::Result<ClientBuilder> {
        let service_accounts = if use_service_accounts {
            let token_dir = std::env::temp_dir().join(format!(
                "kube-controller-manager-{}-tokens",
                std::process::id()
            ));
            make_private_dir(&token_dir)?;
            Some((Box::new(base), token_dir))
        } else {
            None
        };
        Ok(ClientBuilder {
            root,
            service_accounts,
            clients: Default::default(),
        })
    }

    /// The client for the controller that runs as ServiceAccount `name` (the manager's
    /// own client without `--use-service-account-credentials`).
    pub async fn client(&self, name: &str) -> anyhow::Result<Client> {
        let Some((base, token_dir)) = &self.service_accounts else {
            return Ok(self.root.clone());
        };
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(name) {
            return Ok(client.clone());
        }
        ensure_service_account(&self.root, name).await?;
        let path = token_dir.join(format!("{name}.token"));
        let first = request_token(&self.root, name).await?;
        write_private(&path, &first.token)?;
        tokio::spawn(refresh_forever(
            self.root.clone(),
            name.to_string(),
            path.clone(),
            first.valid_for,
        ));
        let mut config = (**base).clone();
        // Only the token: a client certificate would win over it in the apiserver's
        // authenticator chain.
        config.auth_info = AuthInfo {
            token_file: Some(path.to_string_lossy().into_owned()),
            ..Default::default()
        };
        let default_namespace = config.default_namespace.clone();
        let writer = Client::try_from(config)
            .with_context(|| format!("client for ServiceAccount {name}"))?;
        let client = split_client(self.root.clone(), writer, default_namespace);
        tracing::info!(
            service_account = name,
            "controller client uses its ServiceAccount token"
        );
        clients.insert(name.to_string(), client.clone());
        Ok(client)
    }

    /// Remove the token files (on shutdown).
    pub fn cleanup(&self) {
        if let Some((_, token_dir)) = &self.service_accounts {
            let _ = std::fs::remove_dir_all(token_dir);
        }
    }
}

/// A client that sends GET requests with `reads` and everything else with `writes`.
fn split_client(reads: Client, writes: Client, default_namespace: String) -> Client {
    let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
        let client = if uses_shared_credentials(req.method()) {
            reads.clone()
        } else {
            writes.clone()
        };
        async move { client.send(req).await }
    });
    Client::new(service, default_namespace)
}

/// Whether a request is a read, served under the manager's own credentials.
pub fn uses_shared_credentials(method: &http::Method) -> bool {
    method == http::Method::GET
}

/// A token and how long it is valid from now.
struct IssuedToken {
    token: String,
    valid_for: Duration,
}

async fn ensure_service_account(root: &Client, name: &str) -> anyhow::Result<()> {
    let api: Api<ServiceAccount> = Api::namespaced(root.clone(), NAMESPACE);
    if api.get_opt(name).await?.is_some() {
        return Ok(());
    }
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &sa).await {
        Ok(_) => {
            tracing::info!(service_account = name, "created controller ServiceAccount");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating ServiceAccount {NAMESPACE}/{name}")),
    }
}

async fn request_token(root: &Client, name: &str) -> anyhow::Result<IssuedToken> {
    let api: Api<ServiceAccount> = Api::namespaced(root.clone(), NAMESPACE);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(TOKEN_LIFETIME.as_secs() as i64),
            ..Default::default()
        },
        ..Default::default()
    };
    let issued: TokenRequest = api
        .create_subresource("token", name, &PostParams::default(), &request)
        .await
        .with_context(|| format!("TokenRequest for ServiceAccount {NAMESPACE}/{name}"))?;
    let status = issued
        .status
        .context("TokenRequest answered without status")?;
    let left =
        status.expiration_timestamp.0.as_second() - k8s_openapi::jiff::Timestamp::now().as_second();
    Ok(IssuedToken {
        token: status.token,
        valid_for: Duration::from_secs(left.max(0) as u64),
    })
}

/// When to ask for the next token: after 80% of the current one's life.
pub fn refresh_after(valid_for: Duration) -> Duration {
    valid_for.mul_f64(0.8)
}

async fn refresh_forever(root: Client, name: String, path: PathBuf, mut valid_for: Duration) {
    loop {
        tokio::time::sleep(refresh_after(valid_for)).await;
        match request_token(&root, &name).await {
            Ok(t) => match write_private(&path, &t.token) {
                Ok(()) => valid_for = t.valid_for,
                Err(e) => {
                    tracing::warn!(service_account = %name, error = %e, "writing refreshed token");
                    valid_for = RETRY.mul_f64(1.25);
                }
            },
            Err(e) => {
                tracing::warn!(service_account = %name, error = %e, "refreshing controller token");
                // Sleep RETRY, then try again (refresh_after takes 80%).
                valid_for = RETRY.mul_f64(1.25);
            }
        }
    }
}

fn make_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Write `contents` with mode 0600, whole or not at all, so the client never reads half a
/// token.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    common::atomic_file::write(path, contents.as_bytes(), 0o600)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_use_the_managers_credentials() {
        assert!(uses_shared_credentials(&http::Method::GET));
        for m in [
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
        ] {
            assert!(!uses_shared_credentials(&m), "{m}");
        }
    }

    #[test]
    fn tokens_are_refreshed_after_four_fifths_of_their_life() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(2880)
        );
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn token_files_are_private_and_replaced_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("cb-test-{}", std::process::id()));
        make_private_dir(&dir).expect("dir");
        let path = dir.join("x.token");
        write_private(&path, "one").expect("write");
        write_private(&path, "two").expect("rewrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert!(!path.with_extension("tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
