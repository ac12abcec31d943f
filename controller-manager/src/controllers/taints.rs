//! Taints and tolerations: the well-known node taints and upstream's toleration matching
//! (`Toleration.ToleratesTaint`), shared by the DaemonSet, node lifecycle and taint
//! eviction controllers.

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// The node's Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The node's Ready condition is Unknown (the node controller lost touch).
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// spec.unschedulable (cordoned).
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// MemoryPressure condition True.
pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// DiskPressure condition True.
pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
/// PIDPressure condition True.
pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
/// NetworkUnavailable condition True.
pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
/// Set by an operator on a node known to be shut down (non-graceful node shutdown).
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// Effect evicting running pods that do not tolerate the taint.
pub const NO_EXECUTE: &str = "NoExecute";
/// Effect keeping new pods off the node.
pub const NO_SCHEDULE: &str = "NoSchedule";

/// Whether `toleration` tolerates `taint`: same effect (or any, when empty), same key (or
/// any, when empty with `Exists`), and `Exists` or an equal value.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = toleration.effect.as_deref() {
        if !effect.is_empty() && effect != taint.effect {
            return false;
        }
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            // An empty key with Equal is invalid upstream; it tolerates nothing.
            !key.is_empty()
                && toleration.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

/// Whether some toleration tolerates `taint`.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first taint with one of `effects` that no toleration tolerates.
pub fn first_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    effects: &[&str],
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| effects.contains(&t.effect.as_str()))
        .find(|t| !tolerated(tolerations, t))
}

/// A toleration of `key` with operator Exists and `effect`.
pub fn exists_toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    }
}

/// A taint `key:effect` without value.
pub fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        value: None,
        time_added: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, op: &str, value: Option<&str>, effect: Option<&str>) -> Toleration {
        Toleration {
            key: (!key.is_empty()).then(|| key.to_string()),
            operator: Some(op.into()),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        }
    }

    #[test]
    fn matching_follows_upstream_rules() {
        let t = Taint {
            value: Some("v".into()),
            ..taint("k", NO_SCHEDULE)
        };
        assert!(tolerates(&tol("k", "Equal", Some("v"), None), &t));
        assert!(!tolerates(&tol("k", "Equal", Some("w"), None), &t));
        assert!(tolerates(&tol("k", "Exists", None, Some(NO_SCHEDULE)), &t));
        assert!(!tolerates(&tol("k", "Exists", None, Some(NO_EXECUTE)), &t));
        // Empty key with Exists tolerates everything.
        assert!(tolerates(&tol("", "Exists", None, None), &t));
        assert!(!tolerates(&tol("other", "Exists", None, None), &t));
    }

    #[test]
    fn first_untolerated_only_looks_at_given_effects() {
        let taints = [taint("a", "PreferNoSchedule"), taint("b", NO_SCHEDULE)];
        assert_eq!(
            first_untolerated(&taints, &[], &[NO_SCHEDULE]).map(|t| t.key.as_str()),
            Some("b")
        );
        assert!(first_untolerated(&taints, &[], &[NO_EXECUTE]).is_none());
        let tols = [exists_toleration("b", NO_SCHEDULE)];
        assert!(first_untolerated(&taints, &tols, &[NO_SCHEDULE, NO_EXECUTE]).is_none());
    }
}
