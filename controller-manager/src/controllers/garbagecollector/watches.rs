//! One metadata-only watch per discovered resource, feeding the [`Graph`] (upstream's
//! GraphBuilder monitors). Rediscovery starts watches for new resources and stops those of
//! resources no longer served.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::ObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Client;
use tokio::task::JoinHandle;

use super::cache::Graph;
use super::discovery::Resource;

/// The running watches, by resource key.
#[derive(Default)]
pub struct Watches {
    running: HashMap<String, JoinHandle<()>>,
}

impl Watches {
    /// Make the running watches those of `resources`.
    pub fn reconcile(&mut self, client: &Client, graph: &Arc<Graph>, resources: &[Arc<Resource>]) {
        let wanted: HashMap<&str, &Arc<Resource>> =
            resources.iter().map(|r| (r.key.as_str(), r)).collect();
        self.running.retain(|key, task| {
            // A watch whose task ended (it never should) is started again below.
            let keep = wanted.contains_key(key.as_str()) && !task.is_finished();
            if !keep {
                tracing::info!(resource = %key, "garbage collector: stopping watch");
                task.abort();
                graph.forget(key);
            }
            keep
        });
        for (key, res) in wanted {
            if self.running.contains_key(key) {
                continue;
            }
            tracing::debug!(resource = %key, "garbage collector: starting watch");
            let generation = graph.track(res);
            let task = tokio::spawn(watch(
                client.clone(),
                graph.clone(),
                res.clone(),
                generation,
            ));
            self.running.insert(key.to_string(), task);
        }
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        for task in self.running.values() {
            task.abort();
        }
    }
}

/// Feed the graph from the watch of `res` until aborted; errors are retried with backoff
/// by the watcher, which re-lists (an `Init` … `InitDone` run) when it must.
async fn watch(client: Client, graph: Arc<Graph>, res: Arc<Resource>, generation: u64) {
    let api: Api<DynamicObject> = Api::all_with(client, &res.ar);
    // kube 5 deprecates this for `watcher` over `Api<PartialObjectMeta<K>>`, but its
    // client sends no metadata-only Accept header for that type (checked in kube-client
    // 5.0.0), so this is still the way to ask for metadata only.
    #[allow(deprecated)]
    let events = watcher::metadata_watcher(api, watcher::Config::default()).default_backoff();
    let mut events = std::pin::pin!(events);
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(o)) => graph.upsert(&res, generation, slim(o.metadata)),
            Ok(Event::Delete(o)) => graph.remove(&res, generation, &o.metadata),
            Ok(Event::Init) => graph.begin_relist(&res, generation),
            Ok(Event::InitApply(o)) => graph.relist_item(&res, generation, slim(o.metadata)),
            Ok(Event::InitDone) => graph.end_relist(&res, generation),
            Err(e) => {
                tracing::debug!(resource = %res.key, error = %e, "garbage collector: watch error")
            }
        }
    }
}

/// Keep only what decisions read: the graph holds every object of the cluster, and
/// managed fields and annotations (last-applied-configuration) are most of their metadata.
fn slim(mut meta: ObjectMeta) -> ObjectMeta {
    meta.managed_fields = None;
    meta.annotations = None;
    meta.labels = None;
    meta
}
