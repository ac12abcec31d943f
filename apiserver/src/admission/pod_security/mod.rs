//! PodSecurity admission: the Pod Security Standards (privileged, baseline, restricted)
//! applied per namespace through the labels `pod-security.kubernetes.io/<mode>` and
//! `pod-security.kubernetes.io/<mode>-version`, where the mode is
//!
//! - `enforce`: pods that violate the level are refused (403, `violates PodSecurity
//!   "restricted:latest": …`);
//! - `warn`: the request succeeds with a `Warning` header (`would violate PodSecurity …`);
//! - `audit`: the audit event gets a `pod-security.kubernetes.io/audit-violations` annotation.
//!
//! Workload resources (Deployments, Jobs, CronJobs …) are checked through their pod template
//! and only warned and audited about, never refused, as upstream. A mode a namespace's labels do
//! not set takes the configured default ([`config`], `privileged:latest` unless
//! `--admission-control-config-file` says otherwise). Exempt namespaces, users and runtime
//! classes are not evaluated at all; the audit event says why
//! (`pod-security.kubernetes.io/exempt: namespace|user|runtimeClass`).

pub mod checks;
pub mod config;

use api_types::catalog::ResourceInfo;
use serde_json::Value;

pub use checks::Level;
pub use config::PodSecurityConfig;

use crate::errors::{ApiError, FieldError};
use crate::store::{RequestContext, Store};

const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
/// The newest policy version this server knows (its own Kubernetes minor).
const LATEST_MINOR: u32 = 33;

/// A level at a version, as a namespace label pair names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelVersion {
    /// The level.
    pub level: Level,
    /// `latest` or `v1.N`.
    pub version: String,
}

impl LevelVersion {
    fn privileged() -> Self {
        Self {
            level: Level::Privileged,
            version: "latest".into(),
        }
    }

    /// `restricted:latest`, as messages show it.
    pub fn label(&self) -> String {
        format!("{}:{}", self.level.as_str(), self.version)
    }
}

/// The three modes of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePolicy {
    /// Refuse pods that violate this.
    pub enforce: LevelVersion,
    /// Warn about objects that violate this.
    pub warn: LevelVersion,
    /// Annotate audit events of objects that violate this.
    pub audit: LevelVersion,
}

impl Default for NamespacePolicy {
    /// Upstream's default configuration: everything privileged.
    fn default() -> Self {
        Self {
            enforce: LevelVersion::privileged(),
            warn: LevelVersion::privileged(),
            audit: LevelVersion::privileged(),
        }
    }
}

fn valid_version(v: &str) -> bool {
    if v == "latest" {
        return true;
    }
    v.strip_prefix("v1.")
        .and_then(|m| m.parse::<u32>().ok())
        .is_some()
}

/// A valid version as it is evaluated and shown: one newer than this server's is `latest`.
fn normalize_version(v: &str) -> String {
    let minor = v.strip_prefix("v1.").and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if m > LATEST_MINOR => "latest".to_string(),
        _ => v.to_string(),
    }
}

/// Read one mode from namespace labels: the level and the version labels each override their
/// half of `default`. An unparsable level is `restricted` for enforce and `privileged` for warn
/// and audit (upstream fails closed only where it refuses); an unparsable version is `latest`.
/// (Such labels cannot be written any more — [`validate_namespace`] refuses them.)
fn mode(
    labels: &serde_json::Map<String, Value>,
    mode: &str,
    default: &LevelVersion,
) -> LevelVersion {
    let get = |k: String| labels.get(&k).and_then(Value::as_str);
    let level = match get(format!("{LABEL_PREFIX}{mode}")) {
        None => default.level,
        Some(l) => Level::parse(l).unwrap_or(if mode == "enforce" {
            Level::Restricted
        } else {
            Level::Privileged
        }),
    };
    let version = match get(format!("{LABEL_PREFIX}{mode}-version")) {
        None => default.version.clone(),
        Some(v) if valid_version(v) => normalize_version(v),
        Some(_) => "latest".into(),
    };
    LevelVersion { level, version }
}

impl NamespacePolicy {
    /// The policy a namespace object's labels give, over `defaults`.
    pub fn from_namespace(ns: &Value, defaults: &NamespacePolicy) -> Self {
        let Some(labels) = ns
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .filter(|l| !l.is_empty())
        else {
            return defaults.clone();
        };
        Self {
            enforce: mode(labels, "enforce", &defaults.enforce),
            warn: mode(labels, "warn", &defaults.warn),
            audit: mode(labels, "audit", &defaults.audit),
        }
    }
}

/// Refuse namespace labels PodSecurity cannot use (422 naming the label).
pub fn validate_namespace(ns: &Value) -> Result<(), ApiError> {
    let Some(labels) = ns.pointer("/metadata/labels").and_then(Value::as_object) else {
        return Ok(());
    };
    let mut errs = Vec::new();
    for m in ["enforce", "warn", "audit"] {
        let key = format!("{LABEL_PREFIX}{m}");
        if let Some(v) = labels.get(&key).and_then(Value::as_str) {
            if Level::parse(v).is_none() {
                errs.push(FieldError::invalid(
                    format!("metadata.labels[{key}]"),
                    v,
                    "must be one of privileged, baseline, restricted",
                ));
            }
        }
        let key = format!("{key}-version");
        if let Some(v) = labels.get(&key).and_then(Value::as_str) {
            if !valid_version(v) {
                errs.push(FieldError::invalid(
                    format!("metadata.labels[{key}]"),
                    v,
                    "must be \"latest\" or \"v1.x\"",
                ));
            }
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let name = ns
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Err(ApiError::invalid("", "Namespace", name, &errs))
}

/// The pod metadata and spec a resource carries: a pod's own, or a workload's template.
fn pod_of<'a>(res: &ResourceInfo, obj: &'a Value) -> Option<(&'a Value, &'a Value)> {
    let template = match (res.group, res.plural) {
        ("", "pods") => return Some((obj.get("metadata")?, obj.get("spec")?)),
        ("", "podtemplates") => obj.get("template")?,
        ("", "replicationcontrollers")
        | ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => obj.pointer("/spec/template")?,
        ("batch", "cronjobs") => obj.pointer("/spec/jobTemplate/spec/template")?,
        _ => return None,
    };
    Some((
        template.get("metadata").unwrap_or(&Value::Null),
        template.get("spec")?,
    ))
}

fn describe(violations: &[checks::Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{} ({})", v.reason, v.detail))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The namespace's policy, from the watch cache (admission never waits for etcd).
fn namespace_policy(
    store: &Store,
    ns: &str,
    defaults: &NamespacePolicy,
) -> Option<NamespacePolicy> {
    let key = format!("{}/namespaces/{ns}", store.prefix);
    store
        .cache
        .get(&key)
        .map(|o| NamespacePolicy::from_namespace(o.value(), defaults))
}

/// Record on the audit event why a request was not evaluated.
fn exempt(reason: &str) -> Result<(), ApiError> {
    crate::audit::annotate("pod-security.kubernetes.io/exempt", reason);
    Ok(())
}

/// Admit a create (`old = None`) or update of `obj` in namespace `ns`.
pub fn admit(
    store: &Store,
    config: &PodSecurityConfig,
    res: &ResourceInfo,
    ns: Option<&str>,
    obj: &Value,
    old: Option<&Value>,
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    if res.group.is_empty() && res.plural == "namespaces" {
        return validate_namespace(obj);
    }
    let Some((meta, spec)) = pod_of(res, obj) else {
        return Ok(());
    };
    // Updates that leave the pod (template) spec alone — labels, status, finalizers — are not
    // re-evaluated, as upstream.
    if let Some(old) = old {
        if pod_of(res, old).is_some_and(|(m, s)| s == spec && m == meta) {
            return Ok(());
        }
    }
    let Some(ns) = ns else { return Ok(()) };
    // Upstream's order: exempt namespaces and users before the namespace is even read.
    if config.exemptions.namespace(ns) {
        return exempt("namespace");
    }
    if config.exemptions.user(&ctx.user.name) {
        return exempt("user");
    }
    let Some(policy) = namespace_policy(store, ns, &config.defaults) else {
        return Ok(());
    };
    let is_pod = res.group.is_empty() && res.plural == "pods";
    let enforced = is_pod && policy.enforce.level != Level::Privileged;
    if !enforced
        && policy.warn.level == Level::Privileged
        && policy.audit.level == Level::Privileged
    {
        return Ok(());
    }
    if config
        .exemptions
        .runtime_class(spec.get("runtimeClassName").and_then(Value::as_str))
    {
        return exempt("runtimeClass");
    }
    if enforced {
        crate::audit::annotate(
            "pod-security.kubernetes.io/enforce-policy",
            &policy.enforce.label(),
        );
        let v = checks::evaluate(policy.enforce.level, meta, spec);
        if !v.is_empty() {
            let name = meta.get("name").and_then(Value::as_str).unwrap_or_default();
            let why = format!(
                "violates PodSecurity {:?}: {}",
                policy.enforce.label(),
                describe(&v)
            );
            return Err(crate::authz::forbidden_for("", "pods", name, &why));
        }
    }
    if policy.audit.level != Level::Privileged {
        let v = checks::evaluate(policy.audit.level, meta, spec);
        if !v.is_empty() {
            crate::audit::annotate(
                "pod-security.kubernetes.io/audit-violations",
                &format!(
                    "would violate PodSecurity {:?}: {}",
                    policy.audit.label(),
                    describe(&v)
                ),
            );
        }
    }
    if policy.warn.level != Level::Privileged {
        let v = checks::evaluate(policy.warn.level, meta, spec);
        if !v.is_empty() {
            ctx.warn(format!(
                "would violate PodSecurity {:?}: {}",
                policy.warn.label(),
                describe(&v)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_give_the_policy() {
        let ns = json!({"metadata": {"name": "x", "labels": {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.29",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest"
        }}});
        let p = NamespacePolicy::from_namespace(&ns, &NamespacePolicy::default());
        assert_eq!(p.enforce.label(), "baseline:v1.29");
        assert_eq!(p.warn.label(), "restricted:latest");
        assert_eq!(p.audit.level, Level::Privileged);
        let unlabeled = NamespacePolicy::from_namespace(
            &json!({"metadata": {"name": "d"}}),
            &NamespacePolicy::default(),
        );
        assert_eq!(unlabeled.enforce, LevelVersion::privileged());
        let future = json!({"metadata": {"labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.99"}}});
        assert_eq!(
            NamespacePolicy::from_namespace(&future, &NamespacePolicy::default())
                .enforce
                .label(),
            "restricted:latest"
        );
    }

    #[test]
    fn labels_override_the_configured_defaults_half_by_half() {
        let defaults = NamespacePolicy {
            enforce: LevelVersion {
                level: Level::Restricted,
                version: "v1.30".into(),
            },
            ..NamespacePolicy::default()
        };
        let unlabeled = json!({"metadata": {"name": "d"}});
        assert_eq!(
            NamespacePolicy::from_namespace(&unlabeled, &defaults),
            defaults
        );
        // Only the version label: the default level at the labelled version.
        let versioned = json!({"metadata": {"labels": {
            "pod-security.kubernetes.io/enforce-version": "latest"}}});
        let p = NamespacePolicy::from_namespace(&versioned, &defaults);
        assert_eq!(p.enforce.label(), "restricted:latest");
        // Unrelated labels leave the defaults alone; a level label replaces the level.
        let other = json!({"metadata": {"labels": {"team": "a",
            "pod-security.kubernetes.io/enforce": "privileged"}}});
        let p = NamespacePolicy::from_namespace(&other, &defaults);
        assert_eq!(p.enforce.label(), "privileged:v1.30");
    }

    #[test]
    fn invalid_labels_are_refused() {
        let bad = json!({"metadata": {"name": "x", "labels": {
            "pod-security.kubernetes.io/enforce": "strict",
            "pod-security.kubernetes.io/warn-version": "1.2"}}});
        let e = validate_namespace(&bad).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(
            e.message
                .contains("metadata.labels[pod-security.kubernetes.io/enforce]"),
            "{}",
            e.message
        );
        assert!(validate_namespace(&json!({"metadata": {"name": "ok"}})).is_ok());
    }

    #[test]
    fn workloads_expose_their_template() {
        let deploy = api_types::catalog::find("apps", "v1", "deployments").expect("catalog");
        let obj = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}});
        let (meta, spec) = pod_of(deploy, &obj).expect("template");
        assert_eq!(meta["labels"]["a"], "b");
        assert!(spec["containers"].is_array());
        let cj = api_types::catalog::find("batch", "v1", "cronjobs").expect("catalog");
        let obj =
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        assert!(pod_of(cj, &obj).is_some());
        let cm = api_types::catalog::find("", "v1", "configmaps").expect("catalog");
        assert!(pod_of(cm, &json!({})).is_none());
    }
}
