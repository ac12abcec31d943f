//! The PodSecurity plugin's configuration: a `pod-security.admission.config.k8s.io/v1
//! PodSecurityConfiguration` given in the `--admission-control-config-file`, with
//!
//! - `defaults`: the levels and versions of namespaces whose labels do not say (upstream's
//!   default is `privileged:latest` for all three modes);
//! - `exemptions`: `usernames`, `runtimeClasses` and `namespaces` whose pods are not evaluated
//!   at all.
//!
//! It is decoded strictly (an unknown field is an error) and validated as upstream does, so a
//! bad file stops the apiserver at start-up with the field at fault.

use serde::Deserialize;
use serde_json::Value;

use super::{normalize_version, valid_version, Level, LevelVersion, NamespacePolicy};
use crate::admission::plugin_config::{self, AdmissionConfigError};
use crate::config::Config;
use crate::errors::FieldError;

/// The plugin's name in `--enable-admission-plugins` and the admission configuration.
pub const PLUGIN: &str = "PodSecurity";
const API_VERSIONS: &[&str] = &[
    "pod-security.admission.config.k8s.io/v1",
    "pod-security.admission.config.k8s.io/v1beta1",
    "pod-security.admission.config.k8s.io/v1alpha1",
];
const KIND: &str = "PodSecurityConfiguration";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfiguration {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    exemptions: Exemptions,
}

/// Empty strings default as upstream's v1 defaulting does: `privileged` and `latest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
struct RawDefaults {
    enforce: String,
    enforce_version: String,
    audit: String,
    audit_version: String,
    warn: String,
    warn_version: String,
}

/// Who and what PodSecurity leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Exemptions {
    /// Users whose requests (after impersonation) are not evaluated.
    pub usernames: Vec<String>,
    /// Pods with one of these `runtimeClassName`s are not evaluated.
    pub runtime_classes: Vec<String>,
    /// Namespaces whose pods are not evaluated.
    pub namespaces: Vec<String>,
}

impl Exemptions {
    /// Whether `ns` is exempt.
    pub fn namespace(&self, ns: &str) -> bool {
        !ns.is_empty() && self.namespaces.iter().any(|n| n == ns)
    }

    /// Whether `user` is exempt.
    pub fn user(&self, user: &str) -> bool {
        !user.is_empty() && self.usernames.iter().any(|u| u == user)
    }

    /// Whether pods of runtime class `class` are exempt.
    pub fn runtime_class(&self, class: Option<&str>) -> bool {
        class.is_some_and(|c| !c.is_empty() && self.runtime_classes.iter().any(|r| r == c))
    }
}

/// The plugin's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodSecurityConfig {
    /// The policy of a namespace without PodSecurity labels (each label overrides its part).
    pub defaults: NamespacePolicy,
    /// What is never evaluated.
    pub exemptions: Exemptions,
}

fn or_default<'a>(v: &'a str, default: &'a str) -> &'a str {
    if v.is_empty() {
        default
    } else {
        v
    }
}

fn level(field: &str, value: &str, errs: &mut Vec<FieldError>) -> Level {
    let value = or_default(value, "privileged");
    Level::parse(value).unwrap_or_else(|| {
        errs.push(FieldError::invalid(
            format!("defaults.{field}"),
            value,
            "must be one of privileged, baseline, restricted",
        ));
        Level::Privileged
    })
}

fn version(field: &str, value: &str, errs: &mut Vec<FieldError>) -> String {
    let value = or_default(value, "latest");
    if !valid_version(value) {
        errs.push(FieldError::invalid(
            format!("defaults.{field}"),
            value,
            "must be \"latest\" or \"v1.x\"",
        ));
        return "latest".into();
    }
    normalize_version(value)
}

/// Exemption lists: each entry valid by `check` and none twice.
fn validate_list(
    field: &str,
    values: &[String],
    check: impl Fn(&str) -> Vec<String>,
    errs: &mut Vec<FieldError>,
) {
    let mut seen = std::collections::HashSet::new();
    for (i, v) in values.iter().enumerate() {
        let path = format!("exemptions.{field}[{i}]");
        let problems = check(v);
        if !problems.is_empty() {
            errs.push(FieldError::invalid(path, v.as_str(), problems.join(", ")));
        } else if !seen.insert(v.as_str()) {
            errs.push(FieldError::duplicate(path, v.as_str()));
        }
    }
}

impl PodSecurityConfig {
    /// Decode and validate a `PodSecurityConfiguration` object; `None` is upstream's default
    /// configuration.
    pub fn from_value(value: Option<Value>) -> Result<Self, String> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let raw: RawConfiguration =
            serde_json::from_value(value).map_err(|e| format!("strict decoding error: {e}"))?;
        if raw.kind != KIND || !API_VERSIONS.contains(&raw.api_version.as_str()) {
            return Err(format!(
                "expected kind {KIND} of apiVersion {}, got kind {:?} of apiVersion {:?}",
                API_VERSIONS[0], raw.kind, raw.api_version
            ));
        }
        let d = &raw.defaults;
        let mut errs = Vec::new();
        let defaults = NamespacePolicy {
            enforce: LevelVersion {
                level: level("enforce", &d.enforce, &mut errs),
                version: version("enforce-version", &d.enforce_version, &mut errs),
            },
            warn: LevelVersion {
                level: level("warn", &d.warn, &mut errs),
                version: version("warn-version", &d.warn_version, &mut errs),
            },
            audit: LevelVersion {
                level: level("audit", &d.audit, &mut errs),
                version: version("audit-version", &d.audit_version, &mut errs),
            },
        };
        let ex = &raw.exemptions;
        validate_list(
            "namespaces",
            &ex.namespaces,
            api_types::names::dns1123_label,
            &mut errs,
        );
        validate_list(
            "runtimeClasses",
            &ex.runtime_classes,
            api_types::names::dns1123_subdomain,
            &mut errs,
        );
        let mut seen = std::collections::HashSet::new();
        for (i, u) in ex.usernames.iter().enumerate() {
            let path = format!("exemptions.usernames[{i}]");
            if u.is_empty() {
                errs.push(FieldError::required(path, ""));
            } else if !seen.insert(u.as_str()) {
                errs.push(FieldError::duplicate(path, u.as_str()));
            }
        }
        if !errs.is_empty() {
            let list: Vec<String> = errs.iter().map(FieldError::message).collect();
            return Err(format!("invalid configuration: {}", list.join(", ")));
        }
        Ok(PodSecurityConfig {
            defaults,
            exemptions: raw.exemptions,
        })
    }

    /// The configuration the flags give: `Ok(None)` when the plugin is off, upstream's default
    /// when `--admission-control-config-file` does not configure it.
    pub fn from_config(config: &Config) -> Result<Option<Self>, AdmissionConfigError> {
        if !config.admission_plugin_enabled(PLUGIN) {
            return Ok(None);
        }
        let value = match &config.admission_control_config_file {
            Some(file) => plugin_config::plugin_config(file, PLUGIN)?,
            None => None,
        };
        Self::from_value(value)
            .map(Some)
            .map_err(|reason| AdmissionConfigError::Plugin {
                plugin: PLUGIN.to_string(),
                reason,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_exemptions_are_read() {
        let c = PodSecurityConfig::from_value(Some(json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "restricted", "enforce-version": "v1.30", "warn": "baseline"},
            "exemptions": {"usernames": ["ops"], "namespaces": ["tools"], "runtimeClasses": ["kata"]}
        })))
        .expect("valid");
        assert_eq!(c.defaults.enforce.label(), "restricted:v1.30");
        assert_eq!(c.defaults.warn.label(), "baseline:latest");
        assert_eq!(c.defaults.audit.label(), "privileged:latest");
        assert!(c.exemptions.user("ops") && !c.exemptions.user("dev"));
        assert!(c.exemptions.namespace("tools") && !c.exemptions.namespace(""));
        assert!(c.exemptions.runtime_class(Some("kata")));
        assert!(!c.exemptions.runtime_class(None));
        assert_eq!(
            PodSecurityConfig::from_value(None).expect("default"),
            PodSecurityConfig::default()
        );
    }

    #[test]
    fn invalid_configurations_name_the_field() {
        let bad = |v: Value| PodSecurityConfig::from_value(Some(v)).unwrap_err();
        let base = |extra: Value| {
            let mut v = json!({"apiVersion": "pod-security.admission.config.k8s.io/v1",
                               "kind": "PodSecurityConfiguration"});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        let e = bad(base(json!({"defaults": {"enforce": "strict"}})));
        assert!(
            e.contains("defaults.enforce: Invalid value: \"strict\""),
            "{e}"
        );
        let e = bad(base(json!({"defaults": {"warn-version": "1.2"}})));
        assert!(e.contains("defaults.warn-version"), "{e}");
        let e = bad(base(
            json!({"exemptions": {"namespaces": ["Tools", "a", "a"]}}),
        ));
        assert!(e.contains("exemptions.namespaces[0]"), "{e}");
        assert!(
            e.contains("exemptions.namespaces[2]: Duplicate value"),
            "{e}"
        );
        let e = bad(base(json!({"exemptions": {"usernames": [""]}})));
        assert!(e.contains("exemptions.usernames[0]: Required value"), "{e}");
        let e = bad(base(json!({"exemption": {}})));
        assert!(e.contains("unknown field"), "{e}");
        let e = bad(json!({"kind": "AdmissionConfiguration"}));
        assert!(e.contains("PodSecurityConfiguration"), "{e}");
    }
}
