//! The ReplicaSet controller (upstream's `pkg/controller/replicaset`): keeps
//! `spec.replicas` active pods matching the selector, adopting orphans and releasing pods
//! that stop matching, and reports counts in status.
//!
//! The same engine runs the ReplicationController controller (`super::replication`), as
//! upstream wraps its ReplicaSet controller: a kind only says how to read its spec and
//! status through [`ReplicaOwner`].
//!
//! Pods come from one watch-fed cache ([`pod_events`]), never from a LIST per sync, so
//! memory stays one copy of the pods however often owners sync. A cache can lag behind our
//! own writes, so every create and delete is first recorded as an expectation
//! ([`super::expectations`]); the pod events lower it, and an owner whose expectations are
//! not yet met only has its status refreshed — it never creates or deletes on a stale view.

mod pod_events;
mod status;
mod sync;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use common::events::Recorder;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::Api;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::expectations::Expectations;

#[cfg(test)]
pub(crate) use sync::pod_from_template;

/// Most pods created or deleted in one sync (upstream's `burstReplicas`).
const BURST_REPLICAS: usize = 500;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the apiserver failed.
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    /// The owner object has no namespace (the API never serves one like that).
    #[error("object has no namespace")]
    NoNamespace,
    /// The sync task panicked or was cancelled.
    #[error("sync aborted: {0}")]
    Aborted(String),
}

/// A kind that owns a number of identical pods: ReplicaSet, or ReplicationController
/// through its adapter. Everything the sync reads of the owner goes through here.
pub trait ReplicaOwner:
    Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    /// The controller's name, as `--controllers` takes it and logs show it.
    const CONTROLLER: &'static str;
    /// The `source.component` of its events (upstream's recorder name).
    const EVENT_SOURCE: &'static str;
    /// The pods it selects; `None` when the object has no spec.
    fn selector(&self) -> Option<LabelSelector>;
    /// Desired replicas (`spec.replicas`, default 1).
    fn replicas(&self) -> i32;
    /// `spec.minReadySeconds`.
    fn min_ready_seconds(&self) -> i32;
    /// The template new pods are made from.
    fn template(&self) -> Option<&PodTemplateSpec>;
    /// The current status, in ReplicaSet's shape (the fields are the same for both kinds).
    fn replica_status(&self) -> ReplicaSetStatus;
    /// A copy of the object with `status` as its status, for a status update.
    fn with_replica_status(&self, status: ReplicaSetStatus) -> Self;
}

impl ReplicaOwner for ReplicaSet {
    const CONTROLLER: &'static str = "replicaset";
    const EVENT_SOURCE: &'static str = "replicaset-controller";

    fn selector(&self) -> Option<LabelSelector> {
        self.spec.as_ref().map(|s| s.selector.clone())
    }

    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|s| s.template.as_ref())
    }

    fn replica_status(&self) -> ReplicaSetStatus {
        self.status.clone().unwrap_or_default()
    }

    fn with_replica_status(&self, status: ReplicaSetStatus) -> Self {
        ReplicaSet {
            status: Some(status),
            ..self.clone()
        }
    }
}

/// What every sync of one controller shares.
struct Context<K: ReplicaOwner> {
    client: Client,
    /// Reports each pod created or deleted on its owner.
    recorder: Recorder,
    /// All pods, fed by the watch in [`pod_events`].
    pods: Store<Pod>,
    /// Outstanding creates and deletes per owner key (`namespace/name`).
    expectations: Arc<Expectations>,
    _kind: std::marker::PhantomData<K>,
}

/// The expectations key of an owner: `namespace/name`, as upstream's `KeyFunc`.
fn owner_key<K: ReplicaOwner>(owner: &K) -> String {
    format!(
        "{}/{}",
        owner.namespace().unwrap_or_default(),
        owner.name_any()
    )
}

/// Run the ReplicaSet controller until its watches end.
pub async fn run(client: Client) {
    run_owner::<ReplicaSet>(client).await
}

/// Run the controller of owner kind `K`: one watch of `K`, one watch of all pods, and a
/// work queue fed by both.
pub async fn run_owner<K: ReplicaOwner>(client: Client) {
    let expectations = Arc::new(Expectations::new());
    let (owners, owner_writer) = reflector::store::<K>();
    let (queue, requests) = futures::channel::mpsc::unbounded::<ObjectRef<K>>();
    let pods = pod_events::start(
        Api::all(client.clone()),
        owners.clone(),
        expectations.clone(),
        queue,
    );
    let forget = expectations.clone();
    let owner_events = reflector::reflector(
        owner_writer,
        watcher(Api::<K>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .filter_map(move |event| {
        let request = match event {
            Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => {
                Some(Ok(ObjectRef::from_obj(&o)))
            }
            // A deleted owner's expectations go with it (upstream's deleteRS), so a new
            // owner of the same name does not inherit them.
            Ok(watcher::Event::Delete(o)) => {
                forget.delete(&owner_key(&o));
                None
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        };
        futures::future::ready(request)
    });
    let queue = futures::stream::select(owner_events, requests.map(Ok));
    let ctx = Arc::new(Context::<K> {
        recorder: Recorder::new(client.clone(), K::EVENT_SOURCE),
        client,
        pods,
        expectations,
        _kind: std::marker::PhantomData,
    });
    let results = controller::applier(
        |owner, ctx| {
            // Each sync on its own task, as kube's Controller does, so syncs of different
            // owners run in parallel.
            let task = tokio::spawn(sync::reconcile(owner, ctx));
            async move {
                task.await
                    .unwrap_or_else(|e| Err(Error::Aborted(e.to_string())))
            }
            .boxed()
        },
        error_policy::<K>,
        ctx,
        owners,
        queue,
        controller::Config::default(),
    );
    super::drain(K::CONTROLLER, results).await;
}

fn error_policy<K: ReplicaOwner>(_owner: Arc<K>, _err: &Error, _ctx: Arc<Context<K>>) -> Action {
    Action::requeue(Duration::from_secs(2))
}
