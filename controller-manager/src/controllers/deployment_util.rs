//! Pure helpers of the Deployment controller: the pod-template hash that names ReplicaSets,
//! maxSurge / maxUnavailable resolution, revisions and template comparison.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

/// Label carrying the template hash on ReplicaSets, their selector and their pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// Annotation holding a ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Annotation with the Deployment's replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation with replicas + maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Characters upstream's `rand.SafeEncodeString` maps into (no vowels, no confusable digits).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-32a over `data`, continuing from `hash`.
fn fnv32a(mut hash: u32, data: &[u8]) -> u32 {
    for b in data {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The `pod-template-hash` of a template: FNV-32a of the template (its canonical JSON here)
/// and the collision count, rendered as upstream does, the decimal digits of the hash
/// mapped through the safe alphabet.
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_vec(template).unwrap_or_default();
    let mut hash = fnv32a(0x811c_9dc5, &json);
    if let Some(c) = collision_count {
        hash = fnv32a(hash, &(c as u32).to_le_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// The template without the `pod-template-hash` label, as JSON, for equality checks
/// (upstream's `EqualIgnoreHash`).
pub fn template_ignoring_hash(template: &PodTemplateSpec) -> serde_json::Value {
    let mut t = template.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(POD_TEMPLATE_HASH);
        if labels.is_empty() {
            if let Some(m) = t.metadata.as_mut() {
                m.labels = None;
            }
        }
    }
    let mut v = serde_json::to_value(&t).unwrap_or_default();
    prune_empty(&mut v);
    v
}

/// Drop nulls, empty objects and empty arrays, recursively: upstream compares Go structs,
/// where `resources: {}` and an absent `resources` are the same value, and kubectl's
/// rollback sends the former.
fn prune_empty(v: &mut serde_json::Value) {
    use serde_json::Value;
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(prune_empty);
            m.retain(|_, v| !empty(v));
        }
        Value::Array(a) => a.iter_mut().for_each(prune_empty),
        _ => {}
    }
}

/// Resolve an int-or-percent against `total`, rounding up or down.
fn scaled_value(v: Option<&IntOrString>, default_percent: i32, total: i32, round_up: bool) -> i32 {
    let percent = match v {
        Some(IntOrString::Int(i)) => return (*i).max(0),
        Some(IntOrString::String(s)) => s
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<i64>().ok())
            .unwrap_or(0),
        None => i64::from(default_percent),
    };
    let product = percent * i64::from(total);
    let v = if round_up {
        (product + 99) / 100
    } else {
        product / 100
    };
    v.max(0) as i32
}

/// `(maxSurge, maxUnavailable)` of a RollingUpdate deployment: surge rounds up, unavailable
/// down; when both come out 0, maxUnavailable becomes 1 so the rollout can progress
/// (upstream's `ResolveFenceposts`). Defaults are 25% each.
pub fn resolve_fenceposts(d: &Deployment) -> (i32, i32) {
    let spec = d.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ru = spec
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let surge = scaled_value(ru.and_then(|r| r.max_surge.as_ref()), 25, replicas, true);
    let unavailable = scaled_value(
        ru.and_then(|r| r.max_unavailable.as_ref()),
        25,
        replicas,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// The revision annotation of an object (0 when absent or malformed).
pub fn revision(annotations: &std::collections::BTreeMap<String, String>) -> i64 {
    annotations
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The ReplicaSet's revision.
pub fn rs_revision(rs: &ReplicaSet) -> i64 {
    revision(rs.annotations())
}

/// `spec.replicas` of a ReplicaSet (upstream defaults it to 1).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `status.availableReplicas` of a ReplicaSet.
pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn deployment(
        replicas: i32,
        surge: Option<IntOrString>,
        unavail: Option<IntOrString>,
    ) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: surge,
                        max_unavailable: unavail,
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn percentages_round_surge_up_and_unavailable_down() {
        assert_eq!(resolve_fenceposts(&deployment(3, None, None)), (1, 0));
        assert_eq!(resolve_fenceposts(&deployment(10, None, None)), (3, 2));
        let p = |s: &str| Some(IntOrString::String(s.into()));
        assert_eq!(
            resolve_fenceposts(&deployment(5, p("50%"), p("50%"))),
            (3, 2)
        );
    }

    #[test]
    fn both_zero_allows_one_unavailable() {
        let z = Some(IntOrString::Int(0));
        assert_eq!(resolve_fenceposts(&deployment(4, z.clone(), z)), (0, 1));
    }

    #[test]
    fn hash_is_safe_stable_and_changes_with_template_and_collisions() {
        let mut t = PodTemplateSpec {
            metadata: Some(ObjectMeta::default()),
            spec: None,
        };
        let h = compute_hash(&t, None);
        assert!(!h.is_empty() && h.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
        assert_eq!(h, compute_hash(&t, None));
        assert_ne!(h, compute_hash(&t, Some(1)));
        if let Some(m) = t.metadata.as_mut() {
            m.name = Some("x".into());
        }
        assert_ne!(h, compute_hash(&t, None));
    }

    #[test]
    fn templates_compare_equal_ignoring_the_hash_label() {
        let mut a = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            spec: None,
        };
        let b = a.clone();
        a.metadata
            .as_mut()
            .and_then(|m| m.labels.as_mut())
            .map(|l| l.insert(POD_TEMPLATE_HASH.into(), "abc".into()));
        assert_eq!(template_ignoring_hash(&a), template_ignoring_hash(&b));
    }

    #[test]
    fn empty_resources_equal_absent_resources() {
        let parse = |s: &str| -> PodTemplateSpec { serde_json::from_str(s).expect("template") };
        let a = parse(r#"{"spec":{"containers":[{"name":"app","image":"x","resources":{}}]}}"#);
        let b = parse(r#"{"spec":{"containers":[{"name":"app","image":"x"}]}}"#);
        assert_eq!(template_ignoring_hash(&a), template_ignoring_hash(&b));
    }
}
