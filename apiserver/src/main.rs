//! kube-apiserver binary: parse flags, connect to etcd, fill the watch cache, create the
//! built-in objects, serve HTTPS until SIGTERM.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use anyhow::Context;
use apiserver::admission::{Admission, ServiceRanges};
use apiserver::authn::Authenticator;
use apiserver::authz::{self, feed::Feed, Authorizer};
use apiserver::config::Config;
use apiserver::endpoint_reconciler::{EndpointReconciler, ReconcilerType};
use apiserver::handlers::ApiServer;
use apiserver::kubelet::KubeletClient;
use apiserver::storage::{compaction, EtcdStore, WatchCache};
use apiserver::store::Store;
use apiserver::{bootstrap, server};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    common::logging::init(config.verbosity);
    let _ = rustls::crypto::ring::default_provider().install_default();

    // Front proxies' certificates come from their own CA (kubeadm's front-proxy-ca).
    let client_cas: Vec<&std::path::Path> = std::iter::once(config.client_ca_file.as_path())
        .chain(config.requestheader_client_ca_file.as_deref())
        .collect();
    let tls = server::tls_config(
        &config.tls_cert_file,
        &config.tls_private_key_file,
        &client_cas,
    )
    .context("loading TLS material")?;
    let addr = SocketAddr::new(config.bind_address, config.secure_port);
    let listener = server::bind(addr)
        .await
        .context("opening the secure port")?;

    let etcd_tls = etcd_tls(&config)?;
    let etcd = EtcdStore::connect(&config.etcd_servers, etcd_tls.as_ref())
        .await
        .with_context(|| format!("connecting to etcd at {}", config.etcd_servers.join(",")))?;
    let prefix = config.etcd_prefix.trim_end_matches('/').to_string();
    if let Some(path) = &config.encryption_provider_config {
        let encryption = apiserver::storage::encryption::Encryption::load(path, &prefix)?;
        etcd.set_encryption(Some(encryption));
        if config.encryption_provider_config_automatic_reload {
            tokio::spawn(apiserver::storage::encryption::reload_on_change(
                etcd.clone(),
                path.clone(),
                prefix.clone(),
                std::time::Duration::from_secs(1),
            ));
        }
    }
    let cache = WatchCache::start(
        etcd.clone(),
        format!("{prefix}/"),
        config.watch_cache_window,
    )
    .await
    .context("loading the watch cache from etcd")?;
    let modes = authz::parse_modes(&config.authorization_mode).map_err(|e| anyhow::anyhow!(e))?;
    let authorizer = Arc::new(Authorizer::new(modes));
    let store = Store {
        etcd: etcd.clone(),
        cache,
        prefix,
        admission: Admission {
            ranges: ServiceRanges {
                cluster_ips: config.service_cluster_ip_range.primary,
                secondary_cluster_ips: config.service_cluster_ip_range.secondary,
                node_ports: config.service_node_port_range,
            },
            service_account: config.admission_plugin_enabled("ServiceAccount"),
            limit_ranger: config.admission_plugin_enabled("LimitRanger"),
            priority: config.admission_plugin_enabled("Priority"),
            default_toleration_seconds: config
                .admission_plugin_enabled("DefaultTolerationSeconds")
                .then_some((
                    config.default_not_ready_toleration_seconds,
                    config.default_unreachable_toleration_seconds,
                )),
            default_storage_class: config.admission_plugin_enabled("DefaultStorageClass"),
            storage_object_in_use_protection: config
                .admission_plugin_enabled("StorageObjectInUseProtection"),
            authorizer: authorizer.clone(),
            resource_quota: config.admission_plugin_enabled("ResourceQuota"),
            pod_security: apiserver::admission::pod_security::PodSecurityConfig::from_config(
                &config,
            )
            .context("loading --admission-control-config-file")?,
            certificate_approval: config.admission_plugin_enabled("CertificateApproval"),
            certificate_signing: config.admission_plugin_enabled("CertificateSigning"),
            certificate_subject_restriction: config
                .admission_plugin_enabled("CertificateSubjectRestriction"),
        },
    };
    bootstrap::run(&store, config.secure_port)
        .await
        .map_err(|e| anyhow::anyhow!("creating built-in objects: {}", e.message))?;
    // The authorizers decide from the watch cache; the bootstrap policy is reconciled through
    // the store like any write (upstream's rbac/bootstrap-roles post-start hook).
    let feed = Feed::start(
        store.cache.clone(),
        &store.prefix,
        authorizer.rbac.clone(),
        authorizer.graph.clone(),
    );
    authz::reconcile::run(&store)
        .await
        .map_err(|e| anyhow::anyhow!("reconciling the bootstrap RBAC policy: {}", e.message))?;
    let endpoint_reconciler = match config.endpoint_reconciler_type {
        ReconcilerType::Lease => {
            let reconciler = EndpointReconciler::lease(
                etcd.clone(),
                &store.prefix,
                config.advertise_ip(),
                config.secure_port,
            );
            // A first pass before serving, so the Endpoints list this apiserver at once.
            if let Err(e) = reconciler.reconcile(&store).await {
                tracing::warn!(error = %e.message, "reconciling the kubernetes service's endpoints");
            }
            Some(Arc::new(reconciler))
        }
        ReconcilerType::None => None,
    };
    if !config.etcd_compaction_interval.is_zero() {
        tokio::spawn(compaction::run(etcd, config.etcd_compaction_interval));
    }
    let kubelet = KubeletClient::from_config(&config).context("loading the kubelet client")?;
    let authn = Authenticator::from_config(&config).context("setting up authentication")?;
    let audit = apiserver::audit::Auditor::from_config(&config).context("setting up auditing")?;
    apiserver::aggregator::authentication_config::publish(&store, &config)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "publishing kube-system/extension-apiserver-authentication: {}",
                e.message
            )
        })?;
    let aggregator = Arc::new(
        apiserver::aggregator::Aggregator::new(store.cache.clone(), &store.prefix, &config)
            .context("loading the proxy client certificate")?,
    );
    let api = Arc::new(ApiServer {
        store,
        config: config.clone(),
        inflight: AtomicUsize::new(0),
        kubelet,
        authn,
        authorizer: authorizer.clone(),
        audit,
        aggregator,
    });
    tokio::spawn(apiserver::aggregator::available::run(api.clone()));
    tokio::spawn(authz::aggregation::run(
        api.clone(),
        authorizer.rbac.clone(),
        feed.cluster_roles_changed.clone(),
    ));
    if let Some(reconciler) = &endpoint_reconciler {
        tokio::spawn(reconciler.clone().run(api.clone()));
    }
    // On SIGTERM this apiserver first leaves the kubernetes Endpoints, then stops serving,
    // so in-cluster clients move to the others before its connections close.
    let shutdown = {
        let api = api.clone();
        async move {
            common::signals::shutdown().await;
            if let Some(reconciler) = endpoint_reconciler {
                if let Err(e) = reconciler.remove(&api.store).await {
                    tracing::warn!(error = %e.message, "removing this apiserver from the kubernetes endpoints");
                }
            }
        }
    };
    tracing::info!(%addr, "serving securely");
    server::serve(listener, tls, api, shutdown).await;
    tracing::info!("shut down");
    Ok(())
}

/// The TLS material for etcd from `--etcd-cafile/--etcd-certfile/--etcd-keyfile`; `None`
/// when none is given (plain `http://` endpoints).
fn etcd_tls(config: &Config) -> anyhow::Result<Option<apiserver::storage::etcd::EtcdTls>> {
    let read =
        |p: &std::path::Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let ca_pem = config.etcd_cafile.as_deref().map(read).transpose()?;
    let identity = match (&config.etcd_certfile, &config.etcd_keyfile) {
        (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
        _ => None,
    };
    if ca_pem.is_none() && identity.is_none() {
        return Ok(None);
    }
    Ok(Some(apiserver::storage::etcd::EtcdTls { ca_pem, identity }))
}
