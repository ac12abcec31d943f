//! A shared-informer stand-in: a kube-runtime reflector driven in the background, for the
//! controllers that work from periodic passes over a cache rather than a work queue.

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};

/// Start a reflector over `api` and return its store once the initial list is in.
pub async fn store<K>(api: Api<K>, config: watcher::Config) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
    tokio::spawn(stream.for_each(|_| async {}));
    // Only fails if the writer is dropped, which the spawned task never does while running.
    let _ = reader.wait_until_ready().await;
    reader
}
