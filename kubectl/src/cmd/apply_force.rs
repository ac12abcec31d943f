//! `kubectl apply --force`: when the server refuses a client-side apply's patch as invalid
//! or conflicting (an immutable field changed, say), the live object is deleted and the new
//! configuration created in its place; should that creation fail, the old object is created
//! again, as upstream's patcher does.

use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::time::Instant;

use super::apply_options::Deletion;
use super::create::post;
use super::print_flags::DryRun;
use super::write::Write;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// Whether `--force` replaces the object after this patch failure (the server found the
/// patch conflicting or invalid).
pub fn replaces_after(e: &KubectlError) -> bool {
    matches!(
        e,
        KubectlError::Server {
            code: 409 | 422,
            ..
        }
    )
}

/// One object to replace.
pub struct Replacement<'a> {
    /// Its type.
    pub res: &'a ApiResource,
    /// Its namespace (None for cluster-scoped types).
    pub ns: Option<&'a str>,
    /// Its name.
    pub name: &'a str,
    /// The live object, created again if the new one cannot be.
    pub current: &'a Value,
    /// The new configuration, with its last-applied annotation.
    pub modified: &'a Value,
}

impl Replacement<'_> {
    /// Deletes the live object, waits (at most `deletion.timeout`, looking once a second)
    /// until it is gone, then creates the new one.
    pub async fn run(
        &self,
        client: &ApiClient,
        deletion: &Deletion,
        write: &Write,
    ) -> Result<Value> {
        let path = self.res.object_path(self.ns, self.name);
        client
            .request(
                Method::DELETE,
                &path,
                "application/json",
                Some(Body::json(&deletion.body(DryRun::None))),
            )
            .await?;
        wait_gone(client, &path, deletion.timeout).await?;
        let collection = self.res.collection_path(self.ns);
        match post(client, &collection, self.modified, write).await {
            Ok(created) => Ok(created),
            Err(e) => match post(client, &collection, self.current, write).await {
                // The old object is back; the failure to replace it is still the answer.
                Ok(_) => Err(e),
                Err(restore) => Err(KubectlError::usage(format!(
                    "An error occurred force-replacing the existing object with the newly provided one:\n\n{}.\n\nAdditionally, an error occurred attempting to restore the original object:\n\n{}",
                    bare(&e),
                    bare(&restore)
                ))),
            },
        }
    }
}

/// An error's text as Go's `%v` prints it (a server error is its message).
fn bare(e: &KubectlError) -> String {
    match e {
        KubectlError::Server { message, .. } => message.clone(),
        KubectlError::Usage(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Polls until `path` answers NotFound: once at once, then every second until `timeout` has
/// passed, when the wait fails as Go's context deadline does.
async fn wait_gone(client: &ApiClient, path: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match client.get(path).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(KubectlError::usage("context deadline exceeded"));
        }
        let next = now + Duration::from_secs(1);
        if next > deadline {
            tokio::time::sleep_until(deadline).await;
            return Err(KubectlError::usage("context deadline exceeded"));
        }
        tokio::time::sleep_until(next).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, message: &str) -> KubectlError {
        KubectlError::Server {
            details: None,
            reason: String::new(),
            message: message.into(),
            code,
            context: None,
        }
    }

    #[test]
    fn only_refused_patches_are_replaced() {
        assert!(replaces_after(&server(422, "invalid")));
        assert!(replaces_after(&server(409, "conflict")));
        assert!(!replaces_after(&server(403, "forbidden")));
        assert!(!replaces_after(&KubectlError::usage("x")));
        assert_eq!(bare(&server(422, "bad")), "bad");
    }
}
