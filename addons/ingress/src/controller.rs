//! The watches and the sync: after any change to IngressClasses, Ingresses, Services,
//! EndpointSlices or Secrets, rebuild the route table and the TLS certificates, swap them in
//! (requests in flight keep the table they started with, so nothing is dropped), and write the
//! Ingresses' status.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use tokio::sync::Notify;

use crate::class::our_ingresses;
use crate::routes::{tls_hosts, Cluster, RouteTable};
use crate::status::{PublishSource, StatusWriter};
use crate::tls::{certified_key, SniResolver};

/// How long to wait before writing a status again after a failed write.
const STATUS_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// What the proxy reads: the current route table and the certificate resolver.
pub struct Shared {
    routes: RwLock<Arc<RouteTable>>,
    /// Certificates by SNI name.
    pub tls: Arc<SniResolver>,
    synced: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// Empty routes (every request 404) until the first sync.
    pub fn new(tls: Arc<SniResolver>) -> Arc<Shared> {
        Arc::new(Shared {
            routes: RwLock::new(Arc::new(RouteTable::default())),
            tls,
            synced: Default::default(),
        })
    }

    /// The table to route one request with.
    pub fn routes(&self) -> Arc<RouteTable> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the routes were built from complete lists.
    pub fn is_synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The controller's settings.
pub struct Settings {
    /// The IngressClass `spec.controller` value we implement.
    pub controller_name: String,
    /// What to write into `status.loadBalancer.ingress`.
    pub publish: PublishSource,
}

/// Watch everything and keep `shared` current until the process exits.
pub async fn run(client: Client, settings: Settings, shared: Arc<Shared>) {
    let changed = Arc::new(Notify::new());
    let classes = spawn_reflector::<IngressClass>(client.clone(), changed.clone());
    let ingresses = spawn_reflector::<Ingress>(client.clone(), changed.clone());
    let services = spawn_reflector::<Service>(client.clone(), changed.clone());
    let slices = spawn_reflector::<EndpointSlice>(client.clone(), changed.clone());
    let secrets = spawn_reflector::<Secret>(client.clone(), changed.clone());
    for ready in [
        classes.wait_until_ready().await,
        ingresses.wait_until_ready().await,
        services.wait_until_ready().await,
        slices.wait_until_ready().await,
        secrets.wait_until_ready().await,
    ] {
        if ready.is_err() {
            tracing::error!("informers stopped before their first list");
            return;
        }
    }
    let status = StatusWriter::new(client);
    loop {
        let ours = our_ingresses(
            &settings.controller_name,
            &classes.state(),
            &ingresses.state(),
        );
        let all_services = services.state();
        let table = RouteTable::build(
            &ours,
            &Cluster {
                services: &all_services,
                slices: &slices.state(),
            },
        );
        {
            let mut routes = shared.routes.write().unwrap_or_else(|e| e.into_inner());
            table.continue_round_robin(&routes);
            *routes = Arc::new(table);
        }
        shared.tls.replace(certificates(&ours, &secrets));
        shared
            .synced
            .store(true, std::sync::atomic::Ordering::Release);
        tracing::debug!(ingresses = ours.len(), "routes rebuilt");
        let desired = settings.publish.entries(&all_services);
        let failed = match desired {
            Some(desired) => status.update(&ours, &desired).await,
            None => false,
        };
        if failed {
            let changed = changed.clone();
            tokio::spawn(async move {
                tokio::time::sleep(STATUS_RETRY).await;
                changed.notify_one();
            });
        }
        changed.notified().await;
    }
}

/// Host → certificate from the Secrets the Ingresses' `tls` sections name (same namespace).
fn certificates(
    ingresses: &[Arc<Ingress>],
    secrets: &Store<Secret>,
) -> HashMap<String, Arc<rustls::sign::CertifiedKey>> {
    let mut out = HashMap::new();
    for ((ns, name), hosts) in tls_hosts(ingresses) {
        let Some(secret) = secrets.get(&reflector::ObjectRef::new(&name).within(&ns)) else {
            tracing::warn!(secret = %format!("{ns}/{name}"), "TLS secret not found");
            continue;
        };
        let data = secret.data.clone().unwrap_or_default();
        let (Some(crt), Some(key)) = (data.get("tls.crt"), data.get("tls.key")) else {
            tracing::warn!(secret = %format!("{ns}/{name}"), "TLS secret lacks tls.crt/tls.key");
            continue;
        };
        match certified_key(&crt.0, &key.0) {
            Ok(cert) => {
                for host in hosts {
                    // The oldest Ingress's Secret wins a host named twice.
                    out.entry(host).or_insert_with(|| cert.clone());
                }
            }
            Err(e) => {
                tracing::warn!(secret = %format!("{ns}/{name}"), error = %e, "unusable TLS secret")
            }
        }
    }
    out
}

fn spawn_reflector<K>(client: Client, changed: Arc<Notify>) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let events = reflector::reflector(
        writer,
        watcher(Api::<K>::all(client), watcher::Config::default()),
    )
    .default_backoff();
    let kind = K::kind(&());
    tokio::spawn(events.for_each(move |event| {
        match event {
            Ok(watcher::Event::Apply(_))
            | Ok(watcher::Event::Delete(_))
            | Ok(watcher::Event::InitDone) => changed.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(%kind, error = %e, "watch failed; retrying"),
        }
        futures::future::ready(())
    }));
    store
}
