//! Service and EndpointSlice watches feeding the zone: after every change a new
//! [`ClusterRecords`] snapshot is built and published.

use std::sync::{Arc, RwLock};

use futures::StreamExt;
use hickory_proto::rr::Name;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use tokio::sync::Notify;

use crate::records::ClusterRecords;

/// The current zone snapshot, shared by the informers (writer) and the DNS server (readers).
#[derive(Clone)]
pub struct Zone {
    current: Arc<RwLock<Arc<ClusterRecords>>>,
    ready: Arc<std::sync::atomic::AtomicBool>,
}

impl Zone {
    /// An empty zone (every cluster name NXDOMAIN) until the informers have listed.
    pub fn new(zone: &Name, ttl: u32) -> Zone {
        Zone {
            current: Arc::new(RwLock::new(Arc::new(ClusterRecords::build(
                zone,
                ttl,
                &[],
                &[],
            )))),
            ready: Arc::default(),
        }
    }

    /// The snapshot to answer from.
    pub fn snapshot(&self) -> Arc<ClusterRecords> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the zone was built from a complete list of Services and EndpointSlices.
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Swap in a new snapshot built from complete lists.
    pub(crate) fn publish(&self, records: ClusterRecords) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(records);
        self.ready.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// Watch Services and EndpointSlices cluster-wide and keep `zone` current. Runs until the
/// process exits.
pub async fn run(client: Client, zone: Zone, zone_name: Name, ttl: u32) {
    let changed = Arc::new(Notify::new());
    let services = spawn_reflector::<Service>(client.clone(), changed.clone());
    let slices = spawn_reflector::<EndpointSlice>(client, changed.clone());
    if services.wait_until_ready().await.is_err() || slices.wait_until_ready().await.is_err() {
        tracing::error!("informers stopped before their first list");
        return;
    }
    loop {
        let records = ClusterRecords::build(&zone_name, ttl, &services.state(), &slices.state());
        tracing::debug!(names = records.len(), "cluster zone rebuilt");
        zone.publish(records);
        // Notify keeps one permit: changes that land during a rebuild cause one more rebuild.
        changed.notified().await;
    }
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
