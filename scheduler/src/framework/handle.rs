//! The framework handle (upstream's `framework.Handle`): what plugins read besides the node
//! snapshot — the informer stores of PersistentVolumeClaims, PersistentVolumes and
//! StorageClasses, and the volume bindings the scheduler assumed but has not written yet
//! (VolumeBinding); Services, ReplicationControllers, ReplicaSets and StatefulSets, whose
//! selectors PodTopologySpread's default constraints spread by.
//!
//! The stores exist before the informers start (a reflector store is created empty and
//! filled by its writer), so profiles can be built, and refused, before touching the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, ReplicationController, Service,
};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::runtime::reflector::{self, store::Writer, Store};

/// PersistentVolumes reserved for claims by a scheduling cycle whose PreBind has not
/// landed yet (upstream's assume cache), so two pods cannot pick the same volume.
#[derive(Debug, Default)]
pub struct AssumedVolumes {
    /// PersistentVolume name → the claim (`namespace/name`) it is reserved for.
    pub by_volume: HashMap<String, String>,
    /// Pod key → the volume names it reserved (released together).
    pub by_pod: HashMap<String, Vec<String>>,
}

/// The stores plugins read, shared by every profile.
#[derive(Clone)]
pub struct Handle {
    /// All PersistentVolumeClaims.
    pub pvcs: Store<PersistentVolumeClaim>,
    /// All PersistentVolumes.
    pub pvs: Store<PersistentVolume>,
    /// All StorageClasses.
    pub storage_classes: Store<StorageClass>,
    /// All Services.
    pub services: Store<Service>,
    /// All ReplicationControllers.
    pub replication_controllers: Store<ReplicationController>,
    /// All ReplicaSets.
    pub replica_sets: Store<ReplicaSet>,
    /// All StatefulSets.
    pub stateful_sets: Store<StatefulSet>,
    assumed: Arc<Mutex<AssumedVolumes>>,
}

/// The write side of [`Handle`]'s stores, handed to the informers.
pub struct HandleWriters {
    /// Fills [`Handle::pvcs`].
    pub pvcs: Writer<PersistentVolumeClaim>,
    /// Fills [`Handle::pvs`].
    pub pvs: Writer<PersistentVolume>,
    /// Fills [`Handle::storage_classes`].
    pub storage_classes: Writer<StorageClass>,
    /// Fills [`Handle::services`].
    pub services: Writer<Service>,
    /// Fills [`Handle::replication_controllers`].
    pub replication_controllers: Writer<ReplicationController>,
    /// Fills [`Handle::replica_sets`].
    pub replica_sets: Writer<ReplicaSet>,
    /// Fills [`Handle::stateful_sets`].
    pub stateful_sets: Writer<StatefulSet>,
}

impl Handle {
    /// Empty stores and their writers.
    pub fn new() -> (Handle, HandleWriters) {
        let (pvcs, pvcs_writer) = reflector::store();
        let (pvs, pvs_writer) = reflector::store();
        let (storage_classes, classes_writer) = reflector::store();
        let (services, services_writer) = reflector::store();
        let (replication_controllers, rcs_writer) = reflector::store();
        let (replica_sets, rss_writer) = reflector::store();
        let (stateful_sets, sss_writer) = reflector::store();
        let handle = Handle {
            pvcs,
            pvs,
            storage_classes,
            services,
            replication_controllers,
            replica_sets,
            stateful_sets,
            assumed: Arc::default(),
        };
        let writers = HandleWriters {
            pvcs: pvcs_writer,
            pvs: pvs_writer,
            storage_classes: classes_writer,
            services: services_writer,
            replication_controllers: rcs_writer,
            replica_sets: rss_writer,
            stateful_sets: sss_writer,
        };
        (handle, writers)
    }

    /// The assumed volume bindings (held briefly: no await while locked).
    pub fn assumed_volumes(&self) -> MutexGuard<'_, AssumedVolumes> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.assumed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A handle whose stores stay empty (unit tests, config validation).
    #[cfg(test)]
    pub fn empty() -> Handle {
        Handle::new().0
    }
}
