//! Sending one edited object back: the merge patch from what the editor was given to what
//! it saved, and upstream's three kinds of failure (invalid: reopen the file; not found;
//! anything else: suggest `kubectl replace`).

use http::Method;
use serde_json::{Map, Value};

use super::super::write::Write;
use crate::client::{ApiClient, Body};
use crate::error::KubectlError;
use crate::resource::ApiResource;
use crate::strategic::{self, PatchSchemas};

/// A JSON merge patch that turns `from` into `to` (lists are replaced whole).
pub fn merge_patch(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(f), Value::Object(t)) => {
            let mut p = Map::new();
            for (k, tv) in t {
                match f.get(k) {
                    Some(fv) if fv == tv => {}
                    Some(fv @ Value::Object(_)) if tv.is_object() => {
                        p.insert(k.clone(), merge_patch(fv, tv));
                    }
                    _ => {
                        p.insert(k.clone(), tv.clone());
                    }
                }
            }
            for k in f.keys() {
                if !t.contains_key(k) {
                    p.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(p)
        }
        _ => to.clone(),
    }
}

/// Why saving an edit failed.
pub enum EditFailure {
    /// The server found the object invalid: reopen the file with `header` in it.
    Invalid {
        /// `deployments.apps "web" is invalid`
        short: String,
        /// `deployments.apps "web" was not valid:\n* <cause>`
        header: String,
    },
    /// The object is gone.
    NotFound(String),
    /// Anything else: give up.
    Other(String),
}

/// How the edits are sent.
pub struct Sending<'a> {
    pub client: &'a ApiClient,
    /// Field manager and validation.
    pub write: &'a Write,
    /// `--subresource` (only `status`).
    pub subresource: Option<&'a str>,
    /// `--output-patch`: print each patch before sending it.
    pub output_patch: bool,
    /// The OpenAPI documents read so far, for the strategic patches of built-in types.
    pub schemas: PatchSchemas,
}

impl Sending<'_> {
    /// Sends one edited object as a patch (strategic for built-in types, as upstream's
    /// two-way patch; a JSON merge patch for the others), answering the object the server
    /// stored.
    pub async fn send(
        &mut self,
        res: &ApiResource,
        orig: &Value,
        new: &Value,
    ) -> std::result::Result<Value, EditFailure> {
        let name = orig["metadata"]["name"].as_str().unwrap_or("");
        let ns = orig["metadata"]["namespace"].as_str();
        let what = format!("{} {name:?}", res.qualified_plural());
        if new["metadata"]["name"].as_str() != Some(name)
            || new["kind"] != orig["kind"]
            || new["apiVersion"] != orig["apiVersion"]
        {
            return Err(EditFailure::Invalid {
                short: format!("{what} is invalid"),
                header: format!(
                    "{what} was not valid:\n* At least one of apiVersion, kind and name was changed"
                ),
            });
        }
        let (patch, content_type) = match self.schemas.for_resource(self.client, res).await {
            Some(schema) => (
                strategic::two_way(&schema, orig, new)
                    .map_err(|e| EditFailure::Other(e.to_string()))?,
                "application/strategic-merge-patch+json",
            ),
            None => (merge_patch(orig, new), "application/merge-patch+json"),
        };
        if self.output_patch {
            crate::cmd::out(&format!("Patch: {patch}\n"));
        }
        let body = Body {
            content_type,
            bytes: patch.to_string().into_bytes(),
        };
        let mut path = res.object_path(ns, name);
        if let Some(sub) = self.subresource {
            path.push('/');
            path.push_str(sub);
        }
        path.push_str(&self.write.query());
        self.client
            .request(Method::PATCH, &path, "application/json", Some(body))
            .await
            .map_err(|e| match e {
                KubectlError::Server {
                    code: 422, message, ..
                } => {
                    // The causes follow upstream's `<Kind> "<name>" is invalid: ` prefix.
                    let cause = message
                        .split_once(" is invalid: ")
                        .map_or(message.as_str(), |(_, c)| c);
                    EditFailure::Invalid {
                        short: format!("{what} is invalid"),
                        header: format!("{what} was not valid:\n* {cause}"),
                    }
                }
                KubectlError::Server { code: 404, .. } => {
                    EditFailure::NotFound(format!("{what} could not be found on the server"))
                }
                KubectlError::Server { message, .. } => {
                    EditFailure::Other(format!("{what} could not be patched: {message}"))
                }
                other => EditFailure::Other(other.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_only_what_changed() {
        let a =
            json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}});
        let b = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "w"}});
        assert_eq!(
            merge_patch(&a, &b),
            json!({"metadata": {"labels": {"b": null}}, "data": {"k": "w"}})
        );
    }
}
