//! Reading the objects admission decides by (PriorityClasses, LimitRanges, StorageClasses)
//! from the watch cache — the apiserver's equivalent of the informer listers upstream's
//! admission plugins read, with the same eventual consistency.

use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::store::Store;

/// Every object of `group/version/plural` in `ns` (all namespaces, or a cluster-scoped
/// resource, when `None`).
pub fn cached_list(
    store: &Store,
    group: &str,
    version: &str,
    plural: &str,
    ns: Option<&str>,
) -> Vec<Value> {
    let Some(res) = api_types::catalog::find(group, version, plural) else {
        return Vec::new();
    };
    let (objects, _) = store.cache.list(&store.collection_prefix(res, ns));
    objects.iter().map(|o| o.value().clone()).collect()
}

/// `pods "<name>" is forbidden: <why>` as a 403, as upstream's admission.NewForbidden words it.
pub fn forbidden(kind_plural: &str, obj: &Value, why: impl std::fmt::Display) -> ApiError {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    ApiError::forbidden(format!("{kind_plural} \"{name}\" is forbidden: {why}"))
        .with_details(json!({"name": name, "kind": kind_plural}))
}
