//! Lists with upstream's resourceVersion semantics: consistent lists from the watch cache once
//! it has caught up with etcd, `resourceVersion=0` from the cache as it is, paged lists
//! (`limit`/`continue`) from etcd at a pinned revision.

use std::sync::Arc;
use std::time::Duration;

use api_types::catalog::ResourceInfo;
use base64::Engine;
use serde_json::{json, Value};

use super::Store;
use crate::errors::ApiError;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::storage::etcd::prefix_end;
use crate::storage::{Object, StorageError};

/// How long a list waits for the watch cache to reach a revision before reading etcd.
const CACHE_WAIT: Duration = Duration::from_secs(3);

/// List parameters.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = none).
    pub limit: i64,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
}

/// A list answer.
pub struct ListResult {
    /// Matching objects in key order (served version).
    pub items: Vec<Arc<Object>>,
    /// The list's resourceVersion.
    pub resource_version: i64,
    /// The continue token, when more items follow.
    pub continue_token: Option<String>,
    /// `remainingItemCount`, when known.
    pub remaining: Option<i64>,
}

impl ListResult {
    /// `ListMeta`.
    pub fn list_meta(&self) -> Value {
        let mut m = json!({"resourceVersion": self.resource_version.to_string()});
        if let Some(c) = &self.continue_token {
            m["continue"] = json!(c);
        }
        if let Some(r) = self.remaining {
            m["remainingItemCount"] = json!(r);
        }
        m
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let t = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.to_string(),
    };
    base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<ContinueToken, ApiError> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" || t.rv <= 0 || t.start.contains("..") {
        return Err(bad());
    }
    Ok(t)
}

fn parse_rv(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {s:?}")))
}

impl Store {
    fn matches(opts: &ListOptions, obj: &Value) -> bool {
        opts.labels.matches_object(obj) && opts.fields.matches(obj)
    }

    /// List a collection (`ns = None` lists across namespaces).
    pub async fn list(
        &self,
        res: &'static ResourceInfo,
        ns: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListResult, ApiError> {
        let prefix = self.collection_prefix(res, ns);
        if let Some(token) = &opts.continue_token {
            if opts
                .resource_version
                .as_deref()
                .is_some_and(|r| !r.is_empty())
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let t = decode_continue(token)?;
            let start = format!("{prefix}{}", t.start);
            return self.list_from_etcd(res, &prefix, &start, opts, t.rv).await;
        }
        let rv = opts.resource_version.as_deref().unwrap_or("");
        let exact = opts.resource_version_match.as_deref() == Some("Exact");
        if let Some(m) = opts.resource_version_match.as_deref() {
            if !matches!(m, "" | "Exact" | "NotOlderThan") {
                return Err(ApiError::bad_request(format!(
                    "invalid resourceVersionMatch: {m:?}"
                )));
            }
            if !m.is_empty() && rv.is_empty() {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
        }
        if exact {
            let rev = parse_rv(rv)?;
            if rev == 0 {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            return self.list_from_etcd(res, &prefix, &prefix, opts, rev).await;
        }
        if rv.is_empty() && opts.limit > 0 {
            return self.list_from_etcd(res, &prefix, &prefix, opts, 0).await;
        }
        // Served from the cache: "0" = whatever it has; "" = consistent; N = not older than N.
        let wanted = match rv {
            "0" => 0,
            "" => self.etcd.current_revision().await?,
            other => parse_rv(other)?,
        };
        if wanted > 0 && !self.cache.wait_for(wanted, CACHE_WAIT).await {
            if rv.is_empty() {
                return self.list_from_etcd(res, &prefix, &prefix, opts, 0).await;
            }
            return Err(ApiError::timeout(format!("Too large resource version: {wanted}, current: {}", self.cache.revision()))
                .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})));
        }
        let (all, revision) = self.cache.list(&prefix);
        let converted = Self::storage_resource(res).version != res.version
            || Self::storage_resource(res).group != res.group;
        let items = all
            .into_iter()
            .map(|o| {
                if converted {
                    Arc::new(Object::new(self.from_storage(res, o.value().clone())))
                } else {
                    o
                }
            })
            .filter(|o| Self::matches(opts, o))
            .collect();
        Ok(ListResult {
            items,
            resource_version: revision,
            continue_token: None,
            remaining: None,
        })
    }

    /// A (possibly paged) list read from etcd at `revision` (0 = latest), starting at key `start`.
    async fn list_from_etcd(
        &self,
        res: &'static ResourceInfo,
        prefix: &str,
        start: &str,
        opts: &ListOptions,
        revision: i64,
    ) -> Result<ListResult, ApiError> {
        let end = prefix_end(prefix);
        let mut items = Vec::new();
        let mut revision = revision;
        let mut next = start.to_string();
        let page_size = if opts.limit > 0 { opts.limit.max(1) } else { 0 };
        loop {
            let page = match self.etcd.range(&next, &end, page_size, revision).await {
                Ok(p) => p,
                Err(StorageError::Compacted) => {
                    return Err(ApiError::gone(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            if revision == 0 {
                revision = page.revision;
            }
            let last_key = page.items.last().map(|o| o.key.clone());
            for stored in &page.items {
                let obj = self.decode(res, stored)?;
                if Self::matches(opts, &obj) {
                    items.push(Arc::new(Object::new(obj)));
                }
            }
            let Some(last_key) = last_key else { break };
            if !page.more {
                break;
            }
            next = format!("{last_key}\0");
            if page_size > 0 && items.len() as i64 >= opts.limit {
                let rel = next.strip_prefix(prefix).unwrap_or(&next).to_string();
                return Ok(ListResult {
                    items,
                    resource_version: revision,
                    continue_token: Some(encode_continue(revision, &rel)),
                    remaining: None,
                });
            }
        }
        Ok(ListResult {
            items,
            resource_version: revision,
            continue_token: None,
            remaining: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(42, "default/web-1\0");
        let d = decode_continue(&t).expect("decodes");
        assert_eq!(d.rv, 42);
        assert_eq!(d.start, "default/web-1\0");
        assert!(decode_continue("not-base64!").is_err());
    }
}
