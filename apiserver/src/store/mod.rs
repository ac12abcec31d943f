//! The generic store: create, get, list, update, patch and delete for every resource, on
//! `serde_json::Value` objects, driven by the catalog entry and the resource's [`Strategy`].
//!
//! Reads of single objects and all writes go to etcd (writes are compare-and-swap on the
//! key's mod_revision); lists and watches are served by the watch cache when their
//! resourceVersion semantics allow it.
//!
//! [`Strategy`]: crate::registry::Strategy

mod context;
pub mod delete;
mod fields;
mod list;
pub mod meta;
pub mod write;

use std::sync::Arc;

use api_types::catalog::{self, ResourceInfo};
use serde_json::Value;

pub use context::{manager_from_user_agent as context_manager, FieldValidation, RequestContext};
pub use list::{ListOptions, ListResult};
pub use write::Mutation;

use crate::admission::Admission;
use crate::errors::ApiError;
use crate::registry::conversion;
use crate::storage::{EtcdStore, StorageError, StoredObject, WatchCache};

/// The store shared by all handlers.
pub struct Store {
    /// etcd.
    pub etcd: EtcdStore,
    /// The watch cache over the whole registry prefix.
    pub cache: Arc<WatchCache>,
    /// Key prefix, `/registry` by default.
    pub prefix: String,
    /// Admission plugins (namespace lifecycle, service allocation …).
    pub admission: Admission,
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Compacted => {
                ApiError::gone("The resourceVersion for the provided list is too old.")
            }
            StorageError::Etcd(e) => ApiError::internal(format!("etcd: {e}")),
            e @ StorageError::Transform { .. } => ApiError::internal(e.to_string()),
        }
    }
}

impl Store {
    /// The etcd key of one object.
    pub fn key(&self, res: &ResourceInfo, ns: Option<&str>, name: &str) -> String {
        match (res.namespaced, ns) {
            (true, Some(ns)) => format!("{}/{}/{}/{}", self.prefix, res.storage, ns, name),
            _ => format!("{}/{}/{}", self.prefix, res.storage, name),
        }
    }

    /// The key prefix of a collection (one namespace, or all).
    pub fn collection_prefix(&self, res: &ResourceInfo, ns: Option<&str>) -> String {
        match (res.namespaced, ns) {
            (true, Some(ns)) => format!("{}/{}/{}/", self.prefix, res.storage, ns),
            _ => format!("{}/{}/", self.prefix, res.storage),
        }
    }

    /// The catalog entry whose version objects of `res` are stored in.
    pub fn storage_resource(res: &'static ResourceInfo) -> &'static ResourceInfo {
        catalog::storage_version(res.storage).unwrap_or(res)
    }

    /// Decode a stored object into the version `res` serves.
    pub fn decode(
        &self,
        res: &'static ResourceInfo,
        stored: &StoredObject,
    ) -> Result<Value, ApiError> {
        let v: Value = serde_json::from_slice(&stored.value).map_err(|e| {
            ApiError::internal(format!(
                "object stored at {} cannot be decoded: {e}",
                stored.key
            ))
        })?;
        let v = crate::storage::watch_cache::with_resource_version(v, stored.mod_revision);
        Ok(self.from_storage(res, v))
    }

    /// Convert an object from its storage version into `res`'s version.
    pub fn from_storage(&self, res: &'static ResourceInfo, v: Value) -> Value {
        let storage = Self::storage_resource(res);
        conversion::convert(v, storage, res)
    }

    /// Convert an object from `res`'s version into the storage version.
    pub fn to_storage(&self, res: &'static ResourceInfo, v: Value) -> Value {
        let storage = Self::storage_resource(res);
        conversion::convert(v, res, storage)
    }

    /// Read one object (quorum read from etcd).
    pub async fn get(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let key = self.key(res, ns, name);
        match self.etcd.get(&key).await? {
            Some(stored) => self.decode(res, &stored),
            None => Err(ApiError::not_found(res.group, res.plural, name)),
        }
    }

    /// The watch cache's copy of one object, converted to `res`'s version, with its revision.
    /// It may lag etcd: only a compare-and-swap may rest on it.
    pub(crate) fn cached_current(
        &self,
        res: &'static ResourceInfo,
        key: &str,
    ) -> Option<(Value, i64)> {
        let cached = self.cache.get(key)?;
        let rev = meta::meta_str(cached.value(), "resourceVersion")?
            .parse()
            .ok()?;
        Some((self.from_storage(res, cached.value().clone()), rev))
    }

    /// Read one object from etcd, with its revision, if it exists.
    pub(crate) async fn read_current(
        &self,
        res: &'static ResourceInfo,
        key: &str,
    ) -> Result<Option<(Value, i64)>, ApiError> {
        match self.etcd.get(key).await? {
            Some(stored) => Ok(Some((self.decode(res, &stored)?, stored.mod_revision))),
            None => Ok(None),
        }
    }

    /// The key's state as a failed compare-and-swap reported it (etcd's transaction reads
    /// it in the same round trip), so the retry needs no second read.
    pub(crate) fn state_after_conflict(
        &self,
        res: &'static ResourceInfo,
        stored: Option<StoredObject>,
    ) -> Result<Option<(Value, i64)>, ApiError> {
        stored
            .map(|s| Ok((self.decode(res, &s)?, s.mod_revision)))
            .transpose()
    }
}

/// How long a write keeps retrying after losing compare-and-swap races. Upstream's
/// GuaranteedUpdate retries until the request times out (60 s by default); a fixed count
/// turned plain contention (two dozen patches to one object at once) into 409s.
pub(crate) const RETRY_RACES_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// Serialize an object for storage: without resourceVersion (the key's revision is the truth).
pub(crate) fn encode_for_storage(mut v: Value) -> Result<Vec<u8>, ApiError> {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    serde_json::to_vec(&v).map_err(|e| ApiError::internal(e.to_string()))
}
