//! The `kube-system/extension-apiserver-authentication` ConfigMap (upstream's
//! `ClusterAuthenticationTrust` controller): the client CA and the request-header settings,
//! so that extension apiservers can authenticate both direct clients and the front proxy.

use api_types::catalog;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::errors::ApiError;
use crate::store::{RequestContext, Store};

/// Namespace of the ConfigMap.
pub const NAMESPACE: &str = "kube-system";
/// Name of the ConfigMap.
pub const NAME: &str = "extension-apiserver-authentication";

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn read(path: &std::path::Path) -> Result<String, ApiError> {
    std::fs::read_to_string(path)
        .map_err(|e| ApiError::internal(format!("reading {}: {e}", path.display())))
}

/// The ConfigMap's data for these flags.
pub fn data(config: &Config) -> Result<Map<String, Value>, ApiError> {
    let mut data = Map::new();
    data.insert(
        "client-ca-file".into(),
        json!(read(&config.client_ca_file)?),
    );
    if let Some(ca) = &config.requestheader_client_ca_file {
        data.insert("requestheader-client-ca-file".into(), json!(read(ca)?));
        for (key, values) in [
            (
                "requestheader-allowed-names",
                &config.requestheader_allowed_names,
            ),
            (
                "requestheader-username-headers",
                &config.requestheader_username_headers,
            ),
            (
                "requestheader-uid-headers",
                &config.requestheader_uid_headers,
            ),
            (
                "requestheader-group-headers",
                &config.requestheader_group_headers,
            ),
            (
                "requestheader-extra-headers-prefix",
                &config.requestheader_extra_headers_prefix,
            ),
        ] {
            data.insert(key.into(), json!(json_list(values)));
        }
    }
    Ok(data)
}

/// The kube-system Role that lets extension apiservers read the ConfigMap (upstream's
/// bootstrap `extension-apiserver-authentication-reader`).
pub const READER_ROLE: &str = "extension-apiserver-authentication-reader";

async fn ensure_reader_role(store: &Store) -> Result<(), ApiError> {
    let res = catalog::find("rbac.authorization.k8s.io", "v1", "roles")
        .ok_or_else(|| ApiError::internal("roles missing from catalog"))?;
    if store.get(res, Some(NAMESPACE), READER_ROLE).await.is_ok() {
        return Ok(());
    }
    let role = json!({
        "metadata": {
            "name": READER_ROLE,
            "namespace": NAMESPACE,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"],
                   "resourceNames": [NAME]}],
    });
    let ctx = RequestContext::internal("kube-apiserver");
    match store.create(res, Some(NAMESPACE), role, &ctx).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Create the ConfigMap, or bring its data up to date; and the Role that may read it.
pub async fn publish(store: &Store, config: &Config) -> Result<(), ApiError> {
    ensure_reader_role(store).await?;
    let res = catalog::find("", "v1", "configmaps")
        .ok_or_else(|| ApiError::internal("configmaps missing from catalog"))?;
    let data = data(config)?;
    let ctx = RequestContext::internal("kube-apiserver");
    match store.get(res, Some(NAMESPACE), NAME).await {
        Ok(mut current) => {
            if current.get("data") == Some(&Value::Object(data.clone())) {
                return Ok(());
            }
            current["data"] = Value::Object(data);
            store
                .update(res, Some(NAMESPACE), NAME, current, None, &ctx)
                .await
                .map(|_| ())
        }
        Err(e) if e.code == 404 => {
            let obj = json!({"metadata": {"name": NAME, "namespace": NAMESPACE}, "data": data});
            match store.create(res, Some(NAMESPACE), obj, &ctx).await {
                Ok(_) => Ok(()),
                Err(e) if e.code == 409 => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
