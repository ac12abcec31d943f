//! The ResourceQuota controller (upstream `pkg/controller/resourcequota`): for every quota,
//! `status.hard` mirrors `spec.hard` and `status.used` is recomputed from the objects in the
//! namespace for each constrained resource. The apiserver's ResourceQuota admission charges
//! creates against `status.used` between passes; this recount corrects it (deletions free
//! usage here, within the resync period of 10 s).
//!
//! A quota with scopes (`scopes`, `scopeSelector`) counts only the pods they match
//! (`resourcequota_scopes.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use common::quota::{self as usage, Usage};

use super::resourcequota_scopes;

/// How often every quota is recounted (upstream's `--resource-quota-sync-period` is 5 m,
/// with event-driven replenishment we do not build).
const RESYNC: Duration = Duration::from_secs(10);

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("ResourceQuota has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    resources: Mutex<HashMap<(String, String), ApiResource>>,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let quotas: Api<ResourceQuota> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        client,
        resources: Mutex::new(HashMap::new()),
    });
    let results =
        Controller::new(quotas, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("resourcequota", results).await;
}

fn error_policy(_q: Arc<ResourceQuota>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(quota: Arc<ResourceQuota>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = quota.namespace().ok_or(Error::NoNamespace)?;
    let hard = quota
        .spec
        .as_ref()
        .and_then(|s| s.hard.clone())
        .unwrap_or_default();
    let keys: Vec<String> = hard.keys().cloned().collect();
    let mut by_resource: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for k in &keys {
        if let Some(r) = usage::counted_resource(k) {
            by_resource.entry(r).or_default().push(k.clone());
        }
    }
    let scopes = quota
        .spec
        .as_ref()
        .map(resourcequota_scopes::quota_scopes)
        .unwrap_or_default();
    let mut used = Usage::new();
    for ((group, plural), wanted) in by_resource {
        let Some(ar) = api_resource(&ctx, &group, &plural).await? else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &ar);
        let items = api.list(&ListParams::default()).await?.items;
        for obj in items {
            let value = serde_json::to_value(&obj).unwrap_or_default();
            if !resourcequota_scopes::matches(&group, &plural, &value, &scopes) {
                continue;
            }
            let charged = usage::usage(&group, &plural, &value);
            for k in &wanted {
                *used.entry(k.clone()).or_default() += charged.get(k).copied().unwrap_or(0);
            }
        }
    }
    let used_json: BTreeMap<String, String> = keys
        .iter()
        .map(|k| {
            (
                k.clone(),
                usage::format_milli(used.get(k).copied().unwrap_or(0)),
            )
        })
        .collect();
    let old = quota.status.clone().unwrap_or_default();
    let old_used: BTreeMap<String, String> = old
        .used
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    let old_hard = old.hard.unwrap_or_default();
    if old_used != used_json || old_hard != hard {
        let api: Api<ResourceQuota> = Api::namespaced(ctx.client.clone(), &ns);
        // Replace, not merge: keys dropped from spec.hard must leave the status too.
        let mut new = (*quota).clone();
        new.status = Some(k8s_openapi::api::core::v1::ResourceQuotaStatus {
            hard: Some(hard),
            used: Some(
                used_json
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            k8s_openapi::apimachinery::pkg::api::resource::Quantity(v),
                        )
                    })
                    .collect(),
            ),
        });
        match api
            .replace_status(&quota.name_any(), &Default::default(), &new)
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::requeue(RESYNC))
}

/// The API resource for `plural` in `group` (core is `v1`; groups by discovery, cached).
async fn api_resource(
    ctx: &Context,
    group: &str,
    plural: &str,
) -> Result<Option<ApiResource>, Error> {
    let key = (group.to_string(), plural.to_string());
    if let Some(ar) = ctx.resources.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(Some(ar));
    }
    let found = if group.is_empty() {
        Some(ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: String::new(),
            plural: plural.to_string(),
        })
    } else {
        match kube::discovery::group(&ctx.client, group).await {
            Ok(g) => g
                .recommended_resources()
                .into_iter()
                .map(|(ar, _)| ar)
                .find(|ar| ar.plural == plural),
            Err(kube::Error::Discovery(_)) => None,
            Err(kube::Error::Api(e)) if e.code == 404 => None,
            Err(e) => return Err(e.into()),
        }
    };
    if let (Some(ar), Ok(mut m)) = (found.as_ref(), ctx.resources.lock()) {
        m.insert(key, ar.clone());
    }
    Ok(found)
}
