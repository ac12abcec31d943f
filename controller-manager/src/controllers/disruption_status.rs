//! The arithmetic of a PodDisruptionBudget's status, as upstream's disruption controller
//! computes it: how many pods are expected, how many must stay healthy, how many are, and
//! so how many may be disrupted now. Pure functions; the controller feeds them the pods
//! and the owning controllers' scale.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudgetSpec, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::podutil;

/// How long an eviction's entry in `disruptedPods` is trusted: a pod the apiserver approved
/// for eviction that is still not being deleted after this is counted again (upstream's
/// `DeletionTimeout`, 2 minutes).
pub const DELETION_TIMEOUT: chrono::Duration = chrono::Duration::minutes(2);

/// The condition type upstream reports.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";

/// Whether the budget's numbers depend on the owning controllers' scale: `maxUnavailable`
/// (any form) and a percentage `minAvailable` do; an integer `minAvailable` counts pods.
pub fn needs_scale(spec: &PodDisruptionBudgetSpec) -> bool {
    spec.max_unavailable.is_some() || matches!(spec.min_available, Some(IntOrString::String(_)))
}

/// Resolve an int-or-percent against `total`, percentages rounding up (upstream's
/// `GetScaledValueFromIntOrPercent(…, roundUp=true)`).
fn scaled_up(v: &IntOrString, total: i32) -> Result<i32, String> {
    match v {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let p: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            Ok(((p * i64::from(total) + 99) / 100) as i32)
        }
    }
}

/// `(expectedCount, desiredHealthy)` for `pod_count` selected pods and `scale`, the summed
/// replicas of their controllers (needed only when [`needs_scale`]).
pub fn expected_and_desired(
    spec: &PodDisruptionBudgetSpec,
    pod_count: i32,
    scale: i32,
) -> Result<(i32, i32), String> {
    if let Some(max_unavailable) = &spec.max_unavailable {
        let unavailable = scaled_up(max_unavailable, scale)?;
        return Ok((scale, (scale - unavailable).max(0)));
    }
    match &spec.min_available {
        Some(IntOrString::Int(i)) => Ok((pod_count, *i)),
        Some(v @ IntOrString::String(_)) => Ok((scale, scaled_up(v, scale)?)),
        None => Ok((0, 0)),
    }
}

/// The `disruptedPods` entries still worth keeping at `now`: the pod exists, is not yet
/// being deleted, and its eviction is younger than [`DELETION_TIMEOUT`]. Also returns when
/// the youngest kept entry expires, so the budget is looked at again then.
pub fn live_disrupted_pods(
    recorded: &BTreeMap<String, Time>,
    pods: &[&Pod],
    now: DateTime<Utc>,
) -> (BTreeMap<String, Time>, Option<DateTime<Utc>>) {
    let mut kept = BTreeMap::new();
    let mut recheck: Option<DateTime<Utc>> = None;
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(at) = recorded.get(&name) else {
            continue;
        };
        let Some(at_utc) = DateTime::<Utc>::from_timestamp(at.0.as_second(), 0) else {
            continue;
        };
        let expires = at_utc + DELETION_TIMEOUT;
        if expires < now {
            tracing::info!(pod = %name, "pod was expected to be deleted by its budget but it wasn't");
            continue;
        }
        recheck = Some(recheck.map_or(expires, |r| r.min(expires)));
        kept.insert(name, at.clone());
    }
    (kept, recheck)
}

/// Pods that count as healthy: Ready, not being deleted and not about to be (in
/// `disrupted`).
pub fn current_healthy(pods: &[&Pod], disrupted: &BTreeMap<String, Time>) -> i32 {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| !disrupted.contains_key(p.metadata.name.as_deref().unwrap_or_default()))
        .filter(|p| podutil::is_ready(p))
        .count() as i32
}

/// Everything the controller writes, given the numbers it found.
pub struct Computed {
    /// `status.expectedPods`.
    pub expected: i32,
    /// `status.desiredHealthy`.
    pub desired_healthy: i32,
    /// `status.currentHealthy`.
    pub current_healthy: i32,
    /// `status.disruptedPods`.
    pub disrupted: BTreeMap<String, Time>,
}

/// The new status: disruptions allowed are the healthy pods above the desired count (none
/// when nothing is expected), with the `DisruptionAllowed` condition to match.
pub fn status(
    old: &PodDisruptionBudgetStatus,
    generation: i64,
    c: Computed,
    now: DateTime<Utc>,
) -> PodDisruptionBudgetStatus {
    let mut allowed = c.current_healthy - c.desired_healthy;
    if c.expected <= 0 || allowed <= 0 {
        allowed = 0;
    }
    let mut new = PodDisruptionBudgetStatus {
        current_healthy: c.current_healthy,
        desired_healthy: c.desired_healthy,
        expected_pods: c.expected,
        disruptions_allowed: allowed,
        disrupted_pods: (!c.disrupted.is_empty()).then_some(c.disrupted),
        observed_generation: Some(generation),
        conditions: old.conditions.clone(),
    };
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    set_condition(&mut new, status, reason, "", now);
    new
}

/// The status of a budget whose sync failed: nothing may be disrupted (upstream's
/// `failSafe`, reason `SyncFailed`).
pub fn fail_safe(
    old: &PodDisruptionBudgetStatus,
    message: &str,
    now: DateTime<Utc>,
) -> PodDisruptionBudgetStatus {
    let mut new = old.clone();
    new.disruptions_allowed = 0;
    set_condition(&mut new, "False", "SyncFailed", message, now);
    new
}

/// Upsert the `DisruptionAllowed` condition; the transition time moves only when its
/// status flips (`meta.SetStatusCondition`).
fn set_condition(
    s: &mut PodDisruptionBudgetStatus,
    status: &str,
    reason: &str,
    message: &str,
    now: DateTime<Utc>,
) {
    let observed = s.observed_generation;
    let conditions = s.conditions.get_or_insert_with(Vec::new);
    let now_time = Time(jiff_now(now));
    match conditions
        .iter_mut()
        .find(|c| c.type_ == DISRUPTION_ALLOWED)
    {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = now_time;
            }
            c.status = status.into();
            c.reason = reason.into();
            c.message = message.into();
            c.observed_generation = observed;
        }
        None => conditions.push(Condition {
            type_: DISRUPTION_ALLOWED.into(),
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
            observed_generation: observed,
            last_transition_time: now_time,
        }),
    }
}

/// chrono → the timestamp type k8s-openapi's `Time` wraps, at second precision.
fn jiff_now(now: DateTime<Utc>) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_second(now.timestamp()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn spec(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudgetSpec {
        PodDisruptionBudgetSpec {
            min_available: min,
            max_unavailable: max,
            ..Default::default()
        }
    }

    fn pod(name: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    fn time(t: DateTime<Utc>) -> Time {
        Time(jiff_now(t))
    }

    #[test]
    fn integer_min_available_counts_pods_not_scale() {
        let s = spec(Some(IntOrString::Int(2)), None);
        assert!(!needs_scale(&s));
        assert_eq!(expected_and_desired(&s, 4, 0), Ok((4, 2)));
    }

    #[test]
    fn percentages_resolve_against_the_controllers_scale_rounding_up() {
        let s = spec(Some(IntOrString::String("50%".into())), None);
        assert!(needs_scale(&s));
        assert_eq!(expected_and_desired(&s, 2, 5), Ok((5, 3)));
        let s = spec(None, Some(IntOrString::String("30%".into())));
        // 30% of 10 rounds up to 3 unavailable: 7 must stay healthy.
        assert_eq!(expected_and_desired(&s, 10, 10), Ok((10, 7)));
        let s = spec(None, Some(IntOrString::Int(1)));
        assert_eq!(expected_and_desired(&s, 3, 3), Ok((3, 2)));
        // More unavailable than expected: nothing needs to stay healthy.
        let s = spec(None, Some(IntOrString::Int(5)));
        assert_eq!(expected_and_desired(&s, 3, 3), Ok((3, 0)));
        let bad = spec(None, Some(IntOrString::String("x".into())));
        assert!(expected_and_desired(&bad, 1, 1).is_err());
    }

    #[test]
    fn healthy_pods_exclude_unready_terminating_and_disrupted() {
        let mut terminating = pod("c", true);
        terminating.metadata.deletion_timestamp = Some(time(Utc::now()));
        let pods = [pod("a", true), pod("b", false), terminating, pod("d", true)];
        let refs: Vec<&Pod> = pods.iter().collect();
        let disrupted: BTreeMap<String, Time> = [("d".to_string(), time(Utc::now()))].into();
        assert_eq!(current_healthy(&refs, &disrupted), 1);
    }

    #[test]
    fn disrupted_entries_expire_and_vanish_with_their_pods() {
        let now = Utc::now();
        let pods = [pod("fresh", true), pod("stale", true)];
        let refs: Vec<&Pod> = pods.iter().collect();
        let recorded: BTreeMap<String, Time> = [
            (
                "fresh".to_string(),
                time(now - chrono::Duration::seconds(30)),
            ),
            (
                "stale".to_string(),
                time(now - chrono::Duration::minutes(3)),
            ),
            ("gone".to_string(), time(now)),
        ]
        .into();
        let (kept, recheck) = live_disrupted_pods(&recorded, &refs, now);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["fresh"]);
        let r = recheck.expect("recheck when the fresh entry expires");
        assert!(
            (r - (now + chrono::Duration::seconds(90)))
                .num_seconds()
                .abs()
                <= 1
        );
    }

    #[test]
    fn disruptions_allowed_and_condition_follow_the_counts() {
        let now = Utc::now();
        let c = |cur, des, exp| Computed {
            expected: exp,
            desired_healthy: des,
            current_healthy: cur,
            disrupted: BTreeMap::new(),
        };
        let s = status(&Default::default(), 3, c(3, 2, 3), now);
        assert_eq!(s.disruptions_allowed, 1);
        assert_eq!(s.observed_generation, Some(3));
        let cond = &s.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("True", "SufficientPods")
        );
        let s2 = status(&s, 3, c(2, 2, 3), now + chrono::Duration::seconds(5));
        assert_eq!(s2.disruptions_allowed, 0);
        let cond2 = &s2.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (cond2.status.as_str(), cond2.reason.as_str()),
            ("False", "InsufficientPods")
        );
        assert_ne!(cond2.last_transition_time, cond.last_transition_time);
        // No pods expected: nothing may be disrupted even with surplus healthy pods.
        assert_eq!(status(&s, 3, c(2, 0, 0), now).disruptions_allowed, 0);
        let failed = fail_safe(&s, "found no controllers for pod \"x\"", now);
        assert_eq!(failed.disruptions_allowed, 0);
        assert_eq!(failed.conditions.unwrap()[0].reason, "SyncFailed");
    }
}
