//! Writes: create, update (PUT), patch, and the guaranteed-update loop they share.

use api_types::catalog::ResourceInfo;
use serde_json::Value;

use super::context::RequestContext;
use super::{encode_for_storage, meta, Store, RETRY_RACES_FOR};
use crate::errors::ApiError;
use crate::patch::{self, PatchError};
use crate::registry::strategies;
use crate::storage::etcd::WriteOutcome;

/// The patch formats the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply {
        /// `force=true`.
        force: bool,
    },
}

/// What a mutation decided to do with the current object.
pub enum Mutation {
    /// Write this object (create when there was none).
    Write(Value),
    /// Nothing changed; answer with the current object.
    Unchanged(Value),
    /// Remove the object (e.g. the last finalizer of a deleting object went away).
    Delete(Value),
}

/// Result of a write.
pub struct WriteResult {
    /// The object as stored (or as it would be stored, on dry run).
    pub object: Value,
    /// Whether the object was newly created.
    pub created: bool,
}

/// Every resource quantity in the form upstream stores it (its Go type writes each one back
/// canonically: `0.5` as `500m`, `1.5Gi` as `1536Mi`, a JSON number as a string). A value
/// that is not a quantity fails as upstream's decoding fails: 400.
fn canonicalize_quantities(res: &ResourceInfo, obj: &mut Value) -> Result<(), ApiError> {
    let definition = (res.typed.schema_name)();
    let mut malformed = false;
    crate::patch::schema::for_each_quantity(&definition, obj, &mut |q| {
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return,
        };
        match common::quantity::canonical(&text) {
            Some(canonical) => *q = Value::String(canonical),
            None => malformed = true,
        }
    });
    if malformed {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            kind = res.kind,
            version = res.version
        )));
    }
    Ok(())
}

impl Store {
    /// Create an object.
    pub async fn create(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        obj: Value,
        ctx: &RequestContext,
    ) -> Result<Value, ApiError> {
        self.create_tracked(res, ns, obj, ctx, true).await
    }

    /// Create; `track` is false when server-side apply already recorded the manager's fields.
    async fn create_tracked(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        obj: Value,
        ctx: &RequestContext,
        track: bool,
    ) -> Result<Value, ApiError> {
        let mut obj = meta::normalize(res, obj, ctx)?;
        canonicalize_quantities(res, &mut obj)?;
        meta::prepare_for_create(res, &mut obj, ns)?;
        self.admission.namespace_exists(self, res, ns).await?;
        let strategy = strategies::for_resource(res);
        strategy.prepare_for_create(&mut obj, &ctx.user);
        strategy.default(&mut obj);
        let name = meta::meta_str(&obj, "name").unwrap_or_default().to_string();
        // Mutating admission before validation, as upstream orders them, so what admission
        // adds (LimitRanger's resources, default tolerations) is validated too.
        let release = self.admission.admit_create(self, res, &mut obj).await?;
        let mut errs = meta::validate_metadata(strategy, &obj);
        errs.extend(strategy.validate(&obj, None));
        if !errs.is_empty() {
            release.release(self).await;
            return Err(ApiError::invalid(res.group, res.kind, &name, &errs));
        }
        if track {
            super::fields::track_update(res, None, &mut obj, ctx, None);
        }
        // After the field manager: the status nobody set is the server's, not the creator's.
        meta::show_zero_status(res, &mut obj);
        if let Err(e) = self
            .admission
            .validate_write(res, ns, &obj, None, &ctx.user)
            .and_then(|_| self.admission.pod_security(self, res, ns, &obj, None, ctx))
        {
            release.release(self).await;
            return Err(e);
        }
        if let Err(e) = self.admission.charge_quota(self, res, &obj).await {
            release.release(self).await;
            return Err(e);
        }
        let key = self.key(res, ns, &name);
        if ctx.dry_run {
            release.release(self).await;
            return Ok(obj);
        }
        let bytes = encode_for_storage(self.to_storage(res, obj.clone()))?;
        let outcome = self.etcd.create(&key, bytes).await;
        match outcome {
            Ok(WriteOutcome::Written(rev)) => {
                release.keep();
                Ok(crate::storage::watch_cache::with_resource_version(obj, rev))
            }
            Ok(WriteOutcome::Conflict(_)) => {
                release.release(self).await;
                Err(ApiError::already_exists(res.group, res.plural, &name))
            }
            Err(e) => {
                release.release(self).await;
                Err(e.into())
            }
        }
    }

    /// Replace an object (PUT), or its status (`subresource = Some("status")`).
    pub async fn update(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        subresource: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<WriteResult, ApiError> {
        let obj = meta::normalize(res, obj, ctx)?;
        match meta::meta_str(&obj, "name") {
            Some(n) if n == name => {}
            Some(n) if !n.is_empty() => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )))
            }
            _ => {
                return Err(ApiError::bad_request(
                    "name is required in the object's metadata",
                ))
            }
        }
        if let (true, Some(ns), Some(given)) =
            (res.namespaced, ns, meta::meta_str(&obj, "namespace"))
        {
            if !given.is_empty() && given != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let precondition: Option<i64> = meta::meta_str(&obj, "resourceVersion")
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))
            })
            .transpose()?;
        self.guaranteed_update(res, ns, name, precondition, ctx, |current, rev| {
            let Some(old) = current else {
                return Err(ApiError::not_found(res.group, res.plural, name));
            };
            if let Some(p) = precondition {
                if p != rev {
                    return Err(ApiError::stale(res.group, res.plural, name));
                }
            }
            self.finish_update(res, old, obj.clone(), subresource, ctx)
        })
        .await
    }

    /// Apply a patch to an object (or its status), retrying on races unless the patch pins a
    /// resourceVersion. Server-side apply creates the object when it does not exist.
    // The arguments are the request's coordinates; bundling them would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        name: &str,
        patch_type: PatchType,
        patch_doc: Value,
        subresource: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<WriteResult, ApiError> {
        let pinned: Option<i64> = patch_doc
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse().ok());
        let schema_name = (res.typed.schema_name)().into_owned();
        // Server-side apply may create.
        if let PatchType::Apply { force } = patch_type {
            let key = self.key(res, ns, name);
            if self.read_current(res, &key).await?.is_none() && subresource.is_none() {
                let mut obj = super::fields::apply(res, None, &patch_doc, ctx, force)?;
                if meta::meta_str(&obj, "name").is_none_or(str::is_empty) {
                    obj["metadata"]["name"] = Value::String(name.to_string());
                }
                return self
                    .create_tracked(res, ns, obj, ctx, false)
                    .await
                    .map(|object| WriteResult {
                        object,
                        created: true,
                    });
            }
        }
        self.guaranteed_update(res, ns, name, pinned, ctx, |current, rev| {
            let Some(old) = current else {
                return Err(ApiError::not_found(res.group, res.plural, name));
            };
            if let Some(p) = pinned {
                if p != rev {
                    return Err(ApiError::stale(res.group, res.plural, name));
                }
            }
            let patched = match patch_type {
                PatchType::Json => patch::json_patch(&old, &patch_doc),
                PatchType::Merge => patch::merge_patch(&old, &patch_doc),
                PatchType::Strategic => {
                    patch::strategic_merge_patch(&old, &patch_doc, &schema_name)
                }
                PatchType::Apply { force } => {
                    return {
                        let applied =
                            super::fields::apply(res, Some(&old), &patch_doc, ctx, force)?;
                        self.finish_update_tracked(res, old, applied, subresource, ctx, false)
                    }
                }
            }
            .map_err(|e| match e {
                PatchError::BadPatch(m) => ApiError::bad_request(m),
                PatchError::Failed(m) => ApiError::invalid(
                    res.group,
                    res.kind,
                    name,
                    &[crate::errors::FieldError::invalid("", Value::Null, m)],
                )
                .with_details(serde_json::json!({"name": name, "kind": res.kind})),
            })?;
            self.finish_update(res, old, patched, subresource, ctx)
        })
        .await
    }

    /// Turn a requested new object into the object to store: system fields, status split,
    /// defaults, validation, managedFields; detect no-ops and finalizer-driven deletion.
    pub(crate) fn finish_update(
        &self,
        res: &'static ResourceInfo,
        old: Value,
        new: Value,
        subresource: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Mutation, ApiError> {
        self.finish_update_tracked(res, old, new, subresource, ctx, true)
    }

    fn finish_update_tracked(
        &self,
        res: &'static ResourceInfo,
        old: Value,
        new: Value,
        subresource: Option<&str>,
        ctx: &RequestContext,
        track: bool,
    ) -> Result<Mutation, ApiError> {
        let mut new = meta::normalize(res, new, ctx)?;
        canonicalize_quantities(res, &mut new)?;
        meta::prepare_for_update(res, &mut new, &old, subresource);
        let strategy = strategies::for_resource(res);
        strategy.prepare_for_update(&mut new, &old, subresource);
        strategy.default(&mut new);
        let name = meta::meta_str(&old, "name").unwrap_or_default().to_string();
        if meta::meta_str(&new, "name") != Some(name.as_str()) {
            return Err(ApiError::invalid(
                res.group,
                res.kind,
                &name,
                &[crate::errors::FieldError::invalid(
                    "metadata.name",
                    meta::meta_str(&new, "name").unwrap_or_default(),
                    "field is immutable",
                )],
            ));
        }
        let mut errs = meta::validate_metadata(strategy, &new);
        match subresource {
            None => errs.extend(strategy.validate(&new, Some(&old))),
            Some(sub) => errs.extend(strategy.validate_subresource_update(&new, &old, sub)),
        }
        if !errs.is_empty() {
            return Err(ApiError::invalid(res.group, res.kind, &name, &errs));
        }
        if let Some(sub) = subresource {
            self.admission
                .validate_subresource_write(res, sub, &new, &old, &ctx.user)?;
        }
        if track {
            super::fields::track_update(res, Some(&old), &mut new, ctx, subresource);
        }
        if meta::semantically_equal(&old, &new) {
            return Ok(Mutation::Unchanged(old));
        }
        let deleting = new.pointer("/metadata/deletionTimestamp").is_some();
        let finalizers_left = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if deleting
            && !finalizers_left
            && crate::store::delete::may_remove_after_finalizers(res, &new)
        {
            return Ok(Mutation::Delete(new));
        }
        Ok(Mutation::Write(new))
    }

    /// Read-mutate-write with compare-and-swap, retrying when another writer got in between
    /// (unless the client pinned a resourceVersion, which then turns into a 409).
    pub(crate) async fn guaranteed_update<F>(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        name: &str,
        precondition: Option<i64>,
        ctx: &RequestContext,
        mut mutate: F,
    ) -> Result<WriteResult, ApiError>
    where
        F: FnMut(Option<Value>, i64) -> Result<Mutation, ApiError>,
    {
        let key = self.key(res, ns, name);
        // The first attempt starts from the watch cache's copy, as upstream's GuaranteedUpdate
        // takes the cacher's object as a suggestion: when it is current (the common case) the
        // write needs one etcd round trip instead of two. The compare-and-swap on its revision
        // catches a stale copy; then, and whenever the mutation fails or finds nothing to do on
        // the cached copy, the next attempt reads etcd, so no answer rests on a stale read.
        // A dry run answers from etcd: it writes nothing that could catch a stale copy.
        let mut suggestion = match ctx.dry_run {
            true => None,
            false => self.cached_current(res, &key),
        };
        // etcd's state as the last lost race reported it.
        let mut after_conflict: Option<Option<(Value, i64)>> = None;
        let give_up = std::time::Instant::now() + RETRY_RACES_FOR;
        while std::time::Instant::now() < give_up {
            let from_cache = suggestion.is_some();
            let current = match (suggestion.take(), after_conflict.take()) {
                (Some(cached), _) => Some(cached),
                (None, Some(reported)) => reported,
                (None, None) => self.read_current(res, &key).await?,
            };
            let rev = current.as_ref().map(|(_, r)| *r).unwrap_or(0);
            let old = current.map(|(v, _)| v);
            let mutation = match mutate(old.clone(), rev) {
                Err(_) if from_cache => continue,
                result => result?,
            };
            match mutation {
                Mutation::Unchanged(_) if from_cache => continue,
                Mutation::Unchanged(v) => {
                    return Ok(WriteResult {
                        object: v,
                        created: false,
                    })
                }
                Mutation::Delete(last) => {
                    if ctx.dry_run {
                        return Ok(WriteResult {
                            object: last,
                            created: false,
                        });
                    }
                    match self.etcd.delete(&key, rev).await? {
                        WriteOutcome::Written(_) => {
                            self.admission.release_deleted(self, res, &last).await;
                            return Ok(WriteResult {
                                object: last,
                                created: false,
                            });
                        }
                        WriteOutcome::Conflict(_) if precondition.is_some() && !from_cache => {
                            return Err(ApiError::stale(res.group, res.plural, name))
                        }
                        WriteOutcome::Conflict(state) => {
                            after_conflict = Some(self.state_after_conflict(res, state)?);
                        }
                    }
                }
                Mutation::Write(mut new) => {
                    let admitted = self
                        .admission
                        .validate_write(res, ns, &new, old.as_ref(), &ctx.user)
                        .and_then(|()| {
                            self.admission
                                .pod_security(self, res, ns, &new, old.as_ref(), ctx)
                        });
                    match admitted {
                        Err(_) if from_cache => continue,
                        result => result?,
                    }
                    let allocations = match &old {
                        Some(o) => {
                            match self.admission.admit_update(self, res, &mut new, o).await {
                                Err(_) if from_cache => continue,
                                result => result?,
                            }
                        }
                        None => Default::default(),
                    };
                    if ctx.dry_run {
                        allocations.release(self).await;
                        return Ok(WriteResult {
                            object: new,
                            created: old.is_none(),
                        });
                    }
                    let bytes = encode_for_storage(self.to_storage(res, new.clone()))?;
                    let outcome = if old.is_some() {
                        self.etcd.update(&key, bytes, rev).await
                    } else {
                        self.etcd.create(&key, bytes).await
                    };
                    let outcome = match outcome {
                        Ok(WriteOutcome::Written(r)) => {
                            allocations.keep();
                            if let Some(o) = &old {
                                self.admission.after_update(self, res, &new, o).await;
                            }
                            WriteOutcome::Written(r)
                        }
                        Ok(other) => {
                            allocations.release(self).await;
                            other
                        }
                        Err(e) => {
                            allocations.release(self).await;
                            return Err(e.into());
                        }
                    };
                    match outcome {
                        WriteOutcome::Written(r) => {
                            return Ok(WriteResult {
                                object: crate::storage::watch_cache::with_resource_version(new, r),
                                created: old.is_none(),
                            })
                        }
                        WriteOutcome::Conflict(_) if precondition.is_some() && !from_cache => {
                            return Err(ApiError::stale(res.group, res.plural, name))
                        }
                        WriteOutcome::Conflict(state) => {
                            after_conflict = Some(self.state_after_conflict(res, state)?);
                        }
                    }
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
}
