//! NamespaceLifecycle: content may only be created in a namespace that exists and is not
//! being terminated.

use api_types::catalog::ResourceInfo;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::store::Store;

pub(super) async fn check(
    store: &Store,
    res: &ResourceInfo,
    ns: Option<&str>,
) -> Result<(), ApiError> {
    let Some(ns) = ns.filter(|_| res.namespaced) else {
        return Ok(());
    };
    let ns_res =
        api_types::catalog::find("", "v1", "namespaces").expect("namespaces are in the catalog");
    let key = store.key(ns_res, None, ns);
    // The cache is usually enough; a namespace created a moment ago may not be in it yet.
    let namespace: Option<Value> = match store.cache.get(&key) {
        Some(v) => Some(v.value().clone()),
        None => store
            .etcd
            .get(&key)
            .await?
            .and_then(|s| serde_json::from_slice(&s.value).ok()),
    };
    let Some(namespace) = namespace else {
        return Err(ApiError::not_found("", "namespaces", ns));
    };
    if namespace.pointer("/metadata/deletionTimestamp").is_some()
        || namespace.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
    {
        return Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))
        .with_details(json!({"name": ns, "kind": res.plural, "group": res.group, "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]})));
    }
    Ok(())
}
