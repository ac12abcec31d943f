//! ResourceQuota admission: a create in a namespace with quotas is charged against each
//! quota that constrains what the object uses; one that would go over `status.hard` is
//! refused (403, upstream's `exceeded quota: …` text), otherwise `status.used` is raised
//! at once (a compare-and-swap write per quota) so the next create sees it before the
//! controller's recount.
//!
//! Limits: only creates are charged (updates such as a claim resize are not); a dry-run
//! create is charged too until the controller's next recount; quota scopes are not built.

use serde_json::{json, Value};

use api_types::catalog::ResourceInfo;

use crate::errors::ApiError;
use crate::store::{meta, Mutation, RequestContext, Store};
use common::quota::{self as usage, Usage};

/// Charge the creation of `obj` (a `res`) against the quotas of its namespace.
pub async fn admit_create(store: &Store, res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    let Some(ns) = meta::meta_str(obj, "namespace").filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let quotas_res = api_types::catalog::find("", "v1", "resourcequotas")
        .expect("resourcequotas are in the catalog");
    let quotas = store
        .list(quotas_res, Some(ns), &Default::default())
        .await?;
    if quotas.items.is_empty() {
        return Ok(());
    }
    let delta = usage::usage(res.group, res.plural, obj);
    if delta.is_empty() {
        return Ok(());
    }
    let name = meta::meta_str(obj, "name")
        .or_else(|| meta::meta_str(obj, "generateName"))
        .unwrap_or_default()
        .to_string();
    let ctx = RequestContext::internal("resource-quota-admission");
    for quota in &quotas.items {
        let quota_name = meta::meta_str(quota.value(), "name")
            .unwrap_or_default()
            .to_string();
        if constrained(quota.value(), &delta).is_empty() {
            continue;
        }
        store
            .guaranteed_update(
                quotas_res,
                Some(ns),
                &quota_name,
                None,
                &ctx,
                |current, _| {
                    let Some(old) = current else {
                        // Deleted meanwhile: nothing to charge.
                        return Ok(Mutation::Unchanged(Value::Null));
                    };
                    let new = charge(&old, &delta).map_err(|why| forbidden(res, &name, &why))?;
                    store.finish_update(quotas_res, old, new, Some("status"), &ctx)
                },
            )
            .await?;
    }
    Ok(())
}

/// The resources of `delta` that `quota` limits (its `spec.hard`).
fn constrained(quota: &Value, delta: &Usage) -> Vec<String> {
    let Some(hard) = quota.pointer("/spec/hard").and_then(Value::as_object) else {
        return Vec::new();
    };
    delta
        .keys()
        .filter(|k| hard.contains_key(k.as_str()))
        .cloned()
        .collect()
}

fn amounts(quota: &Value, pointer: &str) -> Usage {
    quota
        .pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), usage::parse_milli(v.as_str()?)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// `quota` with `delta` added to `status.used`, or why it may not be (upstream's texts).
pub fn charge(quota: &Value, delta: &Usage) -> Result<Value, String> {
    let name = meta::meta_str(quota, "name").unwrap_or_default();
    let keys = constrained(quota, delta);
    let hard = amounts(quota, "/status/hard");
    let used = amounts(quota, "/status/used");
    let unknown: Vec<String> = keys
        .iter()
        .filter(|k| !hard.contains_key(*k) || !used.contains_key(*k))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "status unknown for quota: {name}, resources: {}",
            unknown.join(",")
        ));
    }
    let exceeded: Vec<String> = keys
        .iter()
        .filter(|k| used[*k] + delta[*k] > hard[*k])
        .cloned()
        .collect();
    if !exceeded.is_empty() {
        return Err(format!(
            "exceeded quota: {name}, requested: {}, used: {}, limited: {}",
            usage::pretty(delta, &exceeded),
            usage::pretty(&used, &exceeded),
            usage::pretty(&hard, &exceeded)
        ));
    }
    let mut new = quota.clone();
    for k in &keys {
        new["status"]["used"][k] = json!(usage::format_milli(used[k] + delta[k]));
    }
    Ok(new)
}

fn forbidden(res: &ResourceInfo, name: &str, why: &str) -> ApiError {
    let qualified = if res.group.is_empty() {
        res.plural.to_string()
    } else {
        format!("{}.{}", res.plural, res.group)
    };
    ApiError::forbidden(format!("{qualified} \"{name}\" is forbidden: {why}"))
        .with_details(json!({"name": name, "kind": res.plural, "group": res.group}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(hard: Value, used: Value) -> Value {
        json!({"metadata": {"name": "compute"}, "spec": {"hard": hard},
            "status": {"hard": hard, "used": used}})
    }

    #[test]
    fn charges_raise_used_for_constrained_resources_only() {
        let q = quota(
            json!({"pods": "2", "requests.cpu": "1"}),
            json!({"pods": "1", "requests.cpu": "250m"}),
        );
        let pod = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "500m"}}}]}});
        let new = charge(&q, &usage::usage("", "pods", &pod)).unwrap();
        assert_eq!(new["status"]["used"]["pods"], "2");
        assert_eq!(new["status"]["used"]["requests.cpu"], "750m");
        assert!(new["status"]["used"]["limits.cpu"].is_null());
    }

    #[test]
    fn going_over_is_refused_with_upstreams_message() {
        let q = quota(
            json!({"pods": "2", "configmaps": "5"}),
            json!({"pods": "2", "configmaps": "0"}),
        );
        let err = charge(&q, &usage::usage("", "pods", &json!({"spec": {}}))).unwrap_err();
        assert_eq!(
            err,
            "exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2"
        );
    }

    #[test]
    fn a_quota_the_controller_has_not_counted_yet_refuses() {
        let q = json!({"metadata": {"name": "fresh"}, "spec": {"hard": {"secrets": "1"}}});
        let err = charge(&q, &usage::usage("", "secrets", &json!({}))).unwrap_err();
        assert_eq!(err, "status unknown for quota: fresh, resources: secrets");
    }
}
