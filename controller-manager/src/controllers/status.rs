//! Writing a controller's status: a merge patch of the `status` subresource, where an object
//! deleted meanwhile is not an error (the next event for it is its deletion).

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::Api;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Merge `status` into the object's status; `Ok` when the object is gone (404).
pub async fn patch_status<K>(api: &Api<K>, name: &str, status: &Value) -> Result<(), kube::Error>
where
    K: Clone + DeserializeOwned + Debug,
{
    match api
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "status": status })),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
