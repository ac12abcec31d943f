//! `pods/eviction`: a pod delete that respects PodDisruptionBudgets, as upstream's
//! `EvictionREST`.
//!
//! The order of checks follows upstream: a pod that is terminal, Pending or already being
//! deleted is deleted without looking at budgets; otherwise the one budget selecting the pod
//! (more than one is a 500) must allow a disruption, which the eviction spends by
//! decrementing `status.disruptionsAllowed` and recording the pod in `status.disruptedPods`
//! (a compare-and-swap write, retried on conflict, so two evictions never spend the same
//! disruption). A pod that is not Ready does not count toward the budget and may go without
//! spending it when the budget is met (`IfHealthyBudget`, the default) or always
//! (`AlwaysAllow`); that delete carries the pod's resourceVersion as a precondition so it
//! cannot race the pod becoming Ready.

use std::sync::Mutex;

use serde_json::{json, Value};

use super::ApiServer;
use crate::authn::UserInfo;
use crate::errors::ApiError;
use crate::selectors::LabelSelector;
use crate::store::delete::DeleteOptions;
use crate::store::{meta, RequestContext};

/// Most entries `status.disruptedPods` may hold before evictions are refused: many approved
/// evictions the disruption controller has not seen yet (upstream's `MaxDisruptedPodSize`).
pub const MAX_DISRUPTED_POD_SIZE: usize = 2000;

/// The message of every refusal that would violate a budget (upstream's text).
pub const VIOLATION_MESSAGE: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";

/// What an eviction did, for the response.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// The pod was deleted (or marked for graceful deletion).
    Evicted,
    /// More than one budget selects the pod: upstream answers a 500 Status (no reason).
    MultipleBudgets,
}

/// Evict pod `name` in `ns` as the body `eviction` (a policy/v1 or v1beta1 `Eviction`) asks.
pub async fn evict(
    server: &ApiServer,
    ns: Option<&str>,
    name: &str,
    eviction: &Value,
    ctx: &RequestContext,
) -> Result<Outcome, ApiError> {
    let store = &server.store;
    if meta::meta_str(eviction, "name").unwrap_or_default() != name {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let raw_opts = eviction
        .get("deleteOptions")
        .filter(|d| d.is_object())
        .cloned()
        .unwrap_or(json!({}));
    let opts = DeleteOptions::from_json(&raw_opts)?;
    let body_dry_run = crate::store::delete::dry_run_of(&raw_opts)?;
    let dry_run = ctx.dry_run || body_dry_run;
    let ctx = with_dry_run(ctx, dry_run);
    let pods = api_types::catalog::find("", "v1", "pods").expect("pods are in the catalog");

    let pod = store.get(pods, ns, name).await?;
    if can_ignore_budget(&pod) {
        let mut opts = opts.clone();
        if enforce_resource_version(&pod) && opts.precondition_rv.is_none() {
            opts.precondition_rv = meta::meta_str(&pod, "resourceVersion").map(String::from);
        }
        store.delete(pods, ns, name, &opts, &ctx).await?;
        return Ok(Outcome::Evicted);
    }

    let budgets = matching_budgets(server, ns, &pod).await?;
    if budgets.len() > 1 {
        return Ok(Outcome::MultipleBudgets);
    }
    let mut opts_for_delete = opts.clone();
    let mut guard_with_rv = false;
    let mut budget_name = String::new();
    if let Some(pdb) = budgets.first() {
        budget_name = meta::meta_str(pdb, "name").unwrap_or_default().to_string();
        if may_skip_budget(pdb, &pod) {
            guard_with_rv = true;
        } else {
            spend_disruption(server, ns, &budget_name, name, &ctx).await?;
        }
    }
    if guard_with_rv {
        opts_for_delete.precondition_rv = meta::meta_str(&pod, "resourceVersion").map(String::from);
    }
    match store.delete(pods, ns, name, &opts_for_delete, &ctx).await {
        Ok(_) => Ok(Outcome::Evicted),
        // The pod changed (perhaps became Ready) since we judged it: let the client retry.
        Err(e) if e.code == 409 && guard_with_rv && opts.precondition_rv.is_none() => {
            Err(still_processing(&budget_name))
        }
        Err(e) => Err(e),
    }
}

fn with_dry_run(ctx: &RequestContext, dry_run: bool) -> RequestContext {
    RequestContext {
        user: ctx.user.clone(),
        dry_run,
        field_manager: ctx.field_manager.clone(),
        field_manager_given: ctx.field_manager_given,
        field_validation: ctx.field_validation,
        warnings: Mutex::new(Vec::new()),
    }
}

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_deleting(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// Terminal, Pending and already-terminating pods caused (or cause) no new disruption, so
/// budgets are not consulted (upstream's `canIgnorePDB`).
pub fn can_ignore_budget(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed" | "Pending") || is_deleting(pod)
}

/// Whether a budget-free delete must be pinned to the pod's resourceVersion: everything but
/// terminal or terminating pods, so a Pending pod that turns Ready meanwhile is not lost.
fn enforce_resource_version(pod: &Value) -> bool {
    !(matches!(phase(pod), "Succeeded" | "Failed") || is_deleting(pod))
}

/// The pod's `Ready` condition is `True` (upstream's `IsPodReady`, what the disruption
/// controller counts as healthy).
pub fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// An unhealthy (not Ready) pod may go without spending the budget: always under
/// `unhealthyPodEvictionPolicy: AlwaysAllow`, and under `IfHealthyBudget` (the default) when
/// the budget is currently met.
pub fn may_skip_budget(pdb: &Value, pod: &Value) -> bool {
    if is_ready(pod) {
        return false;
    }
    if pdb.pointer("/spec/unhealthyPodEvictionPolicy") == Some(&json!("AlwaysAllow")) {
        return true;
    }
    let int = |p: &str| pdb.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let desired = int("/status/desiredHealthy");
    int("/status/currentHealthy") >= desired && desired > 0
}

/// The budgets in the pod's namespace whose selector selects it. An empty or invalid
/// selector selects nothing here, as upstream's eviction handler decides.
async fn matching_budgets(
    server: &ApiServer,
    ns: Option<&str>,
    pod: &Value,
) -> Result<Vec<Value>, ApiError> {
    let pdbs = api_types::catalog::find("policy", "v1", "poddisruptionbudgets")
        .expect("poddisruptionbudgets are in the catalog");
    let list = server.store.list(pdbs, ns, &Default::default()).await?;
    Ok(list
        .items
        .iter()
        .map(|o| o.value().clone())
        .filter(|pdb| selects(pdb, pod))
        .collect())
}

/// Whether `pdb`'s selector selects `pod` by the eviction handler's rule.
pub fn selects(pdb: &Value, pod: &Value) -> bool {
    let Some(sel) = pdb.pointer("/spec/selector").filter(|s| !s.is_null()) else {
        return false;
    };
    let Ok(selector) = LabelSelector::from_json(sel) else {
        return false;
    };
    !selector.is_empty() && selector.matches_object(pod)
}

/// Spend one disruption of budget `pdb_name` for `pod_name`, retried on conflicting writes
/// with the budget read afresh each time (the store's compare-and-swap loop).
async fn spend_disruption(
    server: &ApiServer,
    ns: Option<&str>,
    pdb_name: &str,
    pod_name: &str,
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    let pdbs = api_types::catalog::find("policy", "v1", "poddisruptionbudgets")
        .expect("poddisruptionbudgets are in the catalog");
    // The budget is the server's own bookkeeping: written as the apiserver, not as the caller
    // (who may evict but need not be allowed to write budgets).
    let internal = RequestContext {
        user: UserInfo::system("system:apiserver", &["system:masters"]),
        ..with_dry_run(ctx, ctx.dry_run)
    };
    let now = meta::now();
    server
        .store
        .guaranteed_update(pdbs, ns, pdb_name, None, &internal, |current, _rev| {
            let Some(old) = current else {
                return Err(ApiError::not_found(
                    "policy",
                    "poddisruptionbudgets",
                    pdb_name,
                ));
            };
            let new = decrement(&old, pod_name, &now)?;
            server
                .store
                .finish_update(pdbs, old, new, Some("status"), &internal)
        })
        .await?;
    Ok(())
}

/// The budget after spending one disruption on `pod_name` at `now`, or the refusal
/// (upstream's `checkAndDecrement`).
pub fn decrement(pdb: &Value, pod_name: &str, now: &str) -> Result<Value, ApiError> {
    let name = meta::meta_str(pdb, "name").unwrap_or_default();
    let int = |p: &str| pdb.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if int("/status/observedGeneration") < int("/metadata/generation") {
        return Err(still_processing(name));
    }
    let allowed = int("/status/disruptionsAllowed");
    let disrupted = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    if allowed < 0 {
        return Err(budget_forbidden(
            name,
            "pdb disruptions allowed is negative",
        ));
    }
    if disrupted > MAX_DISRUPTED_POD_SIZE {
        return Err(budget_forbidden(
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        ));
    }
    if allowed == 0 {
        return Err(violation(
            0,
            &format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                int("/status/desiredHealthy"),
                int("/status/currentHealthy")
            ),
        ));
    }
    let mut new = pdb.clone();
    new["status"]["disruptionsAllowed"] = json!(allowed - 1);
    if allowed - 1 == 0 {
        set_disruption_allowed_condition(&mut new, now);
    }
    if !new["status"]["disruptedPods"].is_object() {
        new["status"]["disruptedPods"] = json!({});
    }
    new["status"]["disruptedPods"][pod_name] = json!(now);
    Ok(new)
}

/// Upstream's `UpdateDisruptionAllowedCondition`: `DisruptionAllowed` True/SufficientPods
/// while disruptions remain, False/InsufficientPods otherwise; the transition time only
/// moves when the status flips.
fn set_disruption_allowed_condition(pdb: &mut Value, now: &str) {
    let allowed = pdb
        .pointer("/status/disruptionsAllowed")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let observed = pdb
        .pointer("/status/observedGeneration")
        .cloned()
        .unwrap_or(json!(0));
    let mut conditions: Vec<Value> = pdb
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let existing = conditions
        .iter_mut()
        .find(|c| c["type"] == "DisruptionAllowed");
    match existing {
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["observedGeneration"] = observed;
        }
        None => conditions.push(json!({"type": "DisruptionAllowed", "status": status,
            "reason": reason, "message": "", "observedGeneration": observed,
            "lastTransitionTime": now})),
    }
    pdb["status"]["conditions"] = Value::Array(conditions);
}

/// 429 with the `DisruptionBudget` cause.
fn violation(retry_after: i64, cause: &str) -> ApiError {
    let mut details = json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]});
    if retry_after > 0 {
        details["retryAfterSeconds"] = json!(retry_after);
    }
    ApiError {
        message: VIOLATION_MESSAGE.to_string(),
        ..ApiError::too_many_requests()
    }
    .with_details(details)
}

/// The budget has not caught up with its spec (or a guarded delete lost a race): retry in
/// 10 s, as upstream suggests.
fn still_processing(name: &str) -> ApiError {
    violation(
        10,
        &format!("The disruption budget {name} is still being processed by the server."),
    )
}

fn budget_forbidden(name: &str, why: &str) -> ApiError {
    ApiError::forbidden(format!(
        "poddisruptionbudget.policy \"{name}\" is forbidden: {why}"
    ))
    .with_details(json!({"name": name, "group": "policy", "kind": "poddisruptionbudget"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdb(allowed: i64, current: i64, desired: i64) -> Value {
        json!({"metadata": {"name": "web", "generation": 2},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
            "status": {"observedGeneration": 2, "disruptionsAllowed": allowed,
                "currentHealthy": current, "desiredHealthy": desired, "expectedPods": 3}})
    }

    fn pod(phase: &str, ready: bool) -> Value {
        json!({"metadata": {"name": "p", "labels": {"app": "web"}},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    #[test]
    fn decrement_spends_one_disruption_and_records_the_pod() {
        let new = decrement(&pdb(2, 3, 1), "p", "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(new["status"]["disruptionsAllowed"], 1);
        assert_eq!(new["status"]["disruptedPods"]["p"], "2026-01-01T00:00:00Z");
        assert!(
            new["status"]["conditions"].is_null(),
            "still allowed: unchanged"
        );
        let last = decrement(&pdb(1, 3, 2), "p", "t").unwrap();
        assert_eq!(last["status"]["conditions"][0]["status"], "False");
        assert_eq!(
            last["status"]["conditions"][0]["reason"],
            "InsufficientPods"
        );
    }

    #[test]
    fn no_disruption_left_is_429_with_the_budget_cause() {
        let e = decrement(&pdb(0, 2, 2), "p", "t").unwrap_err();
        assert_eq!((e.code, e.reason), (429, "TooManyRequests"));
        assert_eq!(e.message, VIOLATION_MESSAGE);
        let d = e.details.unwrap();
        assert_eq!(d["causes"][0]["reason"], "DisruptionBudget");
        assert_eq!(
            d["causes"][0]["message"],
            "The disruption budget web needs 2 healthy pods and has 2 currently"
        );
    }

    #[test]
    fn a_budget_behind_its_generation_is_still_being_processed() {
        let mut p = pdb(5, 3, 1);
        p["metadata"]["generation"] = json!(3);
        let e = decrement(&p, "p", "t").unwrap_err();
        assert_eq!(e.code, 429);
        assert_eq!(e.details.unwrap()["retryAfterSeconds"], 10);
    }

    #[test]
    fn negative_or_overfull_budgets_are_forbidden() {
        assert_eq!(decrement(&pdb(-1, 0, 1), "p", "t").unwrap_err().code, 403);
        let mut p = pdb(1, 3, 1);
        let many: serde_json::Map<String, Value> = (0..=MAX_DISRUPTED_POD_SIZE)
            .map(|i| (format!("p{i}"), json!("t")))
            .collect();
        p["status"]["disruptedPods"] = Value::Object(many);
        assert_eq!(decrement(&p, "x", "t").unwrap_err().code, 403);
    }

    #[test]
    fn terminal_pending_and_terminating_pods_skip_budgets() {
        assert!(can_ignore_budget(&pod("Pending", false)));
        assert!(can_ignore_budget(&pod("Succeeded", false)));
        assert!(!can_ignore_budget(&pod("Running", true)));
        let mut p = pod("Running", true);
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(can_ignore_budget(&p));
        assert!(enforce_resource_version(&pod("Pending", false)));
        assert!(!enforce_resource_version(&pod("Failed", false)));
    }

    #[test]
    fn unhealthy_pods_follow_the_unhealthy_pod_eviction_policy() {
        let unready = pod("Running", false);
        // IfHealthyBudget (default): only when the budget is met.
        assert!(may_skip_budget(&pdb(0, 2, 2), &unready));
        assert!(!may_skip_budget(&pdb(0, 1, 2), &unready));
        assert!(!may_skip_budget(&pdb(0, 0, 0), &unready));
        let mut always = pdb(0, 0, 2);
        always["spec"]["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
        assert!(may_skip_budget(&always, &unready));
        // A Ready pod always spends the budget.
        assert!(!may_skip_budget(&always, &pod("Running", true)));
    }

    #[test]
    fn empty_selectors_select_nothing_for_eviction() {
        let p = pod("Running", true);
        assert!(selects(&pdb(1, 1, 1), &p));
        let mut empty = pdb(1, 1, 1);
        empty["spec"]["selector"] = json!({});
        assert!(!selects(&empty, &p));
        let mut other = pdb(1, 1, 1);
        other["spec"]["selector"] = json!({"matchLabels": {"app": "db"}});
        assert!(!selects(&other, &p));
    }
}
