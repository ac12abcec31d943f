//! Deletion: preconditions, finalizers, propagation policy (recorded as the garbage
//! collector's finalizers), graceful pod deletion and namespace termination.

use api_types::catalog::ResourceInfo;
use serde_json::{json, Value};

use super::context::RequestContext;
use super::{meta, ListOptions, Store};
use crate::errors::ApiError;
use crate::storage::etcd::WriteOutcome;

/// `DeleteOptions` from the body and query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`.
    pub grace_period: Option<i64>,
    /// `propagationPolicy`: Orphan, Background or Foreground.
    pub propagation: Option<String>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_rv: Option<String>,
    /// `dryRun: ["All"]` in the body: client-go sends a dry-run delete's options there, not
    /// in the query, and the object must then survive.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Read a `DeleteOptions` JSON body (may be null/empty).
    pub fn from_json(v: &Value) -> Result<Self, ApiError> {
        let propagation = match v.get("propagationPolicy").and_then(Value::as_str) {
            None => match v.get("orphanDependents").and_then(Value::as_bool) {
                Some(true) => Some("Orphan".to_string()),
                Some(false) => Some("Background".to_string()),
                None => None,
            },
            Some(p @ ("Orphan" | "Background" | "Foreground")) => Some(p.to_string()),
            Some(other) => {
                return Err(ApiError::invalid(
                    "",
                    "DeleteOptions",
                    "",
                    &[crate::errors::FieldError::not_supported(
                        "propagationPolicy",
                        other,
                        &["Foreground", "Background", "Orphan", "nil"],
                    )],
                ))
            }
        };
        Ok(Self {
            dry_run: dry_run_of(v)?,
            grace_period: v.get("gracePeriodSeconds").and_then(Value::as_i64),
            propagation,
            precondition_uid: v
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from),
            precondition_rv: v
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from),
        })
    }
}

/// `DeleteOptions.dryRun`: only `All` is valid, as on every write.
pub fn dry_run_of(opts: &Value) -> Result<bool, ApiError> {
    let Some(list) = opts.get("dryRun").and_then(Value::as_array) else {
        return Ok(false);
    };
    let mut dry = false;
    for v in list {
        match v.as_str() {
            Some("All") => dry = true,
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid dryRun value: {other:?}; supported values: \"All\""
                )))
            }
        }
    }
    Ok(dry)
}

/// What a delete did.
pub enum DeleteResult {
    /// The object is gone; its last state.
    Deleted(Value),
    /// Deletion started but waits for finalizers or a grace period; the object now.
    Pending(Value),
}

/// Whether an object whose last finalizer was just removed may be removed from storage.
pub(crate) fn may_remove_after_finalizers(res: &ResourceInfo, obj: &Value) -> bool {
    let grace = obj
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if grace > 0 {
        return false;
    }
    if res.plural == "namespaces" {
        return obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_none_or(|f| f.is_empty());
    }
    true
}

fn add_finalizer(obj: &mut Value, f: &str) {
    let meta = &mut obj["metadata"];
    if !meta["finalizers"].is_array() {
        meta["finalizers"] = json!([]);
    }
    if let Some(list) = meta["finalizers"].as_array_mut() {
        if !list.iter().any(|x| x == f) {
            list.push(json!(f));
        }
    }
}

fn rfc3339_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The grace period a pod deletion gets: none for pods never scheduled or already finished.
fn pod_grace(obj: &Value, requested: Option<i64>) -> i64 {
    let unscheduled = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if unscheduled || phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    requested
        .or_else(|| {
            obj.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

impl Store {
    /// Delete one object.
    pub async fn delete(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
        ctx: &RequestContext,
    ) -> Result<DeleteResult, ApiError> {
        let key = self.key(res, ns, name);
        // etcd's state as the last lost race reported it.
        let mut after_conflict: Option<Option<(Value, i64)>> = None;
        let give_up = std::time::Instant::now() + super::RETRY_RACES_FOR;
        while std::time::Instant::now() < give_up {
            let state = match after_conflict.take() {
                Some(reported) => reported,
                None => self.read_current(res, &key).await?,
            };
            let Some((current, rev)) = state else {
                return Err(ApiError::not_found(res.group, res.plural, name));
            };
            if let Some(uid) = &opts.precondition_uid {
                let actual = meta::meta_str(&current, "uid").unwrap_or_default();
                if uid != actual {
                    return Err(ApiError::conflict(res.group, res.plural, name, &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    )));
                }
            }
            if let Some(want) = &opts.precondition_rv {
                if want != &rev.to_string() {
                    return Err(ApiError::conflict(res.group, res.plural, name, &format!(
                        "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in meta: {rev}"
                    )));
                }
            }
            self.admission.validate_delete(res, &current, &ctx.user)?;
            let Some(updated) = self.deletion_update(res, &current, opts) else {
                // Remove now.
                if ctx.dry_run {
                    return Ok(DeleteResult::Deleted(current));
                }
                match self.etcd.delete(&key, rev).await? {
                    WriteOutcome::Written(_) => {
                        self.admission.release_deleted(self, res, &current).await;
                        return Ok(DeleteResult::Deleted(current));
                    }
                    WriteOutcome::Conflict(state) => {
                        after_conflict = Some(self.state_after_conflict(res, state)?);
                        continue;
                    }
                }
            };
            if updated == current || ctx.dry_run {
                return Ok(DeleteResult::Pending(updated));
            }
            let bytes = super::encode_for_storage(self.to_storage(res, updated.clone()))?;
            match self.etcd.update(&key, bytes, rev).await? {
                WriteOutcome::Written(r) => {
                    return Ok(DeleteResult::Pending(
                        crate::storage::watch_cache::with_resource_version(updated, r),
                    ))
                }
                WriteOutcome::Conflict(state) => {
                    after_conflict = Some(self.state_after_conflict(res, state)?);
                }
            }
        }
        Err(ApiError::conflict(
            res.group,
            res.plural,
            name,
            "too many concurrent writers; try again",
        ))
    }

    /// The object as it should be stored while deletion waits, or `None` to remove it now.
    fn deletion_update(
        &self,
        res: &ResourceInfo,
        current: &Value,
        opts: &DeleteOptions,
    ) -> Option<Value> {
        let mut obj = current.clone();
        let already = obj.pointer("/metadata/deletionTimestamp").is_some();
        if res.plural == "namespaces" && res.group.is_empty() {
            let spec_finalizers = obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
            let meta_finalizers = obj
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
            if !spec_finalizers && !meta_finalizers {
                return None;
            }
            if !already {
                obj["metadata"]["deletionTimestamp"] = json!(meta::now());
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            }
            obj["status"]["phase"] = json!("Terminating");
            return Some(obj);
        }
        match opts.propagation.as_deref() {
            Some("Foreground") => add_finalizer(&mut obj, "foregroundDeletion"),
            Some("Orphan") => add_finalizer(&mut obj, "orphan"),
            _ => {}
        }
        let has_finalizers = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let grace = if res.plural == "pods" && res.group.is_empty() {
            pod_grace(&obj, opts.grace_period)
        } else {
            0
        };
        if grace == 0 && !has_finalizers {
            // A pod already waiting for its grace period is removed when asked with grace 0.
            return None;
        }
        if grace > 0 {
            let current_grace = obj
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            // Only ever shorten a grace period that is already running.
            if !already || current_grace.is_none_or(|g| grace < g) {
                obj["metadata"]["deletionTimestamp"] = json!(rfc3339_in(grace));
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            }
        } else if !already {
            obj["metadata"]["deletionTimestamp"] = json!(meta::now());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        } else {
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        Some(obj)
    }

    /// Delete every object of a collection that matches the selectors; returns what was deleted
    /// or marked for deletion.
    pub async fn delete_collection(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        list_opts: &ListOptions,
        opts: &DeleteOptions,
        ctx: &RequestContext,
    ) -> Result<Vec<Value>, ApiError> {
        let listed = self.list(res, ns, list_opts).await?;
        let mut out = Vec::new();
        for item in listed.items {
            let name = meta::meta_str(&item, "name")
                .unwrap_or_default()
                .to_string();
            let item_ns = meta::meta_str(&item, "namespace").map(String::from);
            match self
                .delete(res, item_ns.as_deref().or(ns), &name, opts, ctx)
                .await
            {
                Ok(DeleteResult::Deleted(v)) | Ok(DeleteResult::Pending(v)) => out.push(v),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
