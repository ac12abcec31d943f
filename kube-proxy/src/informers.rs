//! Service and EndpointSlice informers: reflector stores the sync reads, and a wake-up of the
//! sync loop on every change.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};

use crate::changes::{change_time, ChangeTracker};
use crate::health::ProxierHealth;

/// The informers' read side.
#[derive(Clone)]
pub struct Informers {
    /// All Services.
    pub services: Store<Service>,
    /// All EndpointSlices.
    pub slices: Store<EndpointSlice>,
}

impl Informers {
    /// Start both watches; every event wakes the sync loop through `tracker`.
    pub fn start(
        client: Client,
        tracker: Arc<ChangeTracker>,
        health: Arc<ProxierHealth>,
    ) -> Informers {
        let (services, writer) = reflector::store();
        let events = reflector::reflector(
            writer,
            watcher(
                Api::<Service>::all(client.clone()),
                watcher::Config::default(),
            ),
        )
        .default_backoff();
        let (t, h) = (tracker.clone(), health.clone());
        tokio::spawn(events.for_each(move |event| {
            match event {
                Ok(watcher::Event::Apply(_))
                | Ok(watcher::Event::Delete(_))
                | Ok(watcher::Event::InitDone) => {
                    h.queued();
                    t.service_changed();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "service watch failed; retrying"),
            }
            futures::future::ready(())
        }));

        let (slices, writer) = reflector::store();
        let events = reflector::reflector(
            writer,
            watcher(
                Api::<EndpointSlice>::all(client),
                watcher::Config::default(),
            ),
        )
        .default_backoff();
        tokio::spawn(events.for_each(move |event| {
            match event {
                Ok(watcher::Event::Apply(slice)) | Ok(watcher::Event::Delete(slice)) => {
                    health.queued();
                    tracker.endpoints_changed(change_time(&slice));
                }
                Ok(watcher::Event::InitDone) => {
                    health.queued();
                    tracker.service_changed();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "endpointslice watch failed; retrying"),
            }
            futures::future::ready(())
        }));
        Informers { services, slices }
    }

    /// Wait until both stores hold a complete list.
    pub async fn wait_until_ready(&self) -> Result<(), reflector::store::WriterDropped> {
        self.services.wait_until_ready().await?;
        self.slices.wait_until_ready().await
    }
}
