//! Upstream's `initIPFamilyFields` (pkg/registry/core/service/storage/alloc.go): settles a
//! Service's `ipFamilyPolicy`, `ipFamilies` and `clusterIPs` against the families this
//! cluster serves before any address is allocated, and refuses combinations the cluster
//! cannot honour (RequireDualStack on a single-stack cluster, a family it has no range for,
//! dropping the secondary address without saying SingleStack).

use serde_json::{json, Value};

use super::ServiceRanges;
use crate::errors::{ApiError, FieldError};

/// `spec.ipFamilyPolicy` values.
pub const SINGLE_STACK: &str = "SingleStack";
/// `spec.ipFamilyPolicy: PreferDualStack`.
pub const PREFER_DUAL_STACK: &str = "PreferDualStack";
/// `spec.ipFamilyPolicy: RequireDualStack`.
pub const REQUIRE_DUAL_STACK: &str = "RequireDualStack";

/// The IP-related fields of a Service spec, as the allocator works on them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IpFields {
    pub kind: String,
    pub cluster_ip: String,
    pub cluster_ips: Vec<String>,
    pub families: Vec<String>,
    pub policy: Option<String>,
    pub has_selector: bool,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl IpFields {
    /// Read the fields from a Service object.
    pub fn read(svc: &Value) -> Self {
        let s = |p: &str| svc.pointer(p).and_then(Value::as_str).map(str::to_string);
        Self {
            kind: s("/spec/type").unwrap_or_else(|| "ClusterIP".into()),
            cluster_ip: s("/spec/clusterIP").unwrap_or_default(),
            cluster_ips: strings(svc.pointer("/spec/clusterIPs")),
            families: strings(svc.pointer("/spec/ipFamilies")),
            policy: s("/spec/ipFamilyPolicy"),
            has_selector: svc
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty()),
        }
    }

    /// Write the fields back into the Service object (`clusterIP` is `clusterIPs[0]`).
    pub fn write(&self, svc: &mut Value) {
        if !svc.get("spec").is_some_and(Value::is_object) {
            svc["spec"] = json!({});
        }
        let spec = &mut svc["spec"];
        if let Some(first) = self.cluster_ips.first() {
            spec["clusterIP"] = json!(first);
            spec["clusterIPs"] = json!(self.cluster_ips);
        }
        if !self.families.is_empty() {
            spec["ipFamilies"] = json!(self.families);
        }
        if let Some(p) = &self.policy {
            spec["ipFamilyPolicy"] = json!(p);
        }
    }

    /// `clusterIPs` is `["None"]`.
    pub fn is_headless(&self) -> bool {
        self.cluster_ips.first().map(String::as_str) == Some("None")
            || (self.cluster_ips.is_empty() && self.cluster_ip == "None")
    }

    fn policy_is(&self, p: &str) -> bool {
        self.policy.as_deref() == Some(p)
    }

    fn policy_value(&self) -> Value {
        self.policy.clone().map(Value::from).unwrap_or(Value::Null)
    }

    /// Whether these fields are so malformed that only validation can say what is wrong
    /// (upstream validates them first; here the strategy's validation reports them, after
    /// admission on create and before it on update).
    fn malformed(&self) -> bool {
        let bad_ip =
            self.cluster_ips.iter().enumerate().any(|(i, ip)| {
                !(i == 0 && ip == "None") && ip.parse::<std::net::IpAddr>().is_err()
            });
        let bad_family = self.families.iter().any(|f| f != "IPv4" && f != "IPv6")
            || (self.families.len() == 2 && self.families[0] == self.families[1]);
        let bad_policy = self
            .policy
            .as_deref()
            .is_some_and(|p| ![SINGLE_STACK, PREFER_DUAL_STACK, REQUIRE_DUAL_STACK].contains(&p));
        let unsynced = if self.cluster_ip.is_empty() {
            !self.cluster_ips.is_empty()
        } else {
            self.cluster_ips.first() != Some(&self.cluster_ip)
        };
        let same_family_twice = self.cluster_ips.len() == 2
            && family_of(&self.cluster_ips[0]) == family_of(&self.cluster_ips[1]);
        let mismatched = !self.is_headless()
            && self
                .cluster_ips
                .iter()
                .zip(&self.families)
                .any(|(ip, fam)| family_of(ip) != Some(fam.as_str()));
        bad_ip
            || bad_family
            || bad_policy
            || unsynced
            || self.cluster_ips.len() > 2
            || self.families.len() > 2
            || same_family_twice
            || mismatched
    }
}

/// `IPv4` or `IPv6` for an address, `None` when it is not one.
pub fn family_of(ip: &str) -> Option<&'static str> {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Some("IPv4"),
        Ok(std::net::IpAddr::V6(_)) => Some("IPv6"),
        Err(_) => None,
    }
}

fn other_family(f: &str) -> &'static str {
    if f == "IPv4" {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// Whether an update leaves a PreferDualStack Service's addresses as they were: such a
/// Service is never upgraded or downgraded just because the cluster changed.
pub fn is_matching_prefer_dual_stack(new: &IpFields, old: Option<&IpFields>) -> bool {
    let Some(old) = old else { return false };
    new.policy.is_some()
        && old.kind == new.kind
        && new.kind != "ExternalName"
        && new.policy_is(PREFER_DUAL_STACK)
        && (old.policy.is_none() || old.policy_is(PREFER_DUAL_STACK))
        && old.cluster_ips == new.cluster_ips
        && old.families == new.families
}

/// Settle the family fields of `new` (an update when `old` is given). `Ok(false)` means the
/// fields are malformed and were left for validation to report.
pub fn init(
    ranges: &ServiceRanges,
    new: &mut IpFields,
    old: Option<&IpFields>,
    name: &str,
) -> Result<bool, ApiError> {
    if new.kind == "ExternalName" || is_matching_prefer_dual_stack(new, old) {
        return Ok(true);
    }
    if new.policy.is_none() {
        new.policy = Some(match old.and_then(|o| o.policy.clone()) {
            Some(p) => p,
            None if new.is_headless() && !new.has_selector => REQUIRE_DUAL_STACK.into(),
            None => SINGLE_STACK.into(),
        });
    }
    if new.malformed() {
        return Ok(false);
    }
    let invalid = |errs: Vec<FieldError>| ApiError::invalid("", "Service", name, &errs);
    let mut errs = Vec::new();
    if let Some(old) = old {
        if new.policy_is(SINGLE_STACK) {
            // Same addresses and families plus SingleStack is a clear request to downgrade;
            // the primary address is immutable, so keeping it is always right.
            if old.cluster_ips == new.cluster_ips && new.cluster_ips.len() > 1 {
                new.cluster_ips.truncate(1);
            }
            if old.families == new.families && new.families.len() > 1 {
                new.families.truncate(1);
            }
        } else {
            if !new.cluster_ips.is_empty() && new.cluster_ips.len() < old.cluster_ips.len() {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    new.policy_value(),
                    "must be 'SingleStack' to release the secondary cluster IP",
                ));
            }
            if !new.families.is_empty() && new.families.len() < old.families.len() {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    new.policy_value(),
                    "must be 'SingleStack' to release the secondary IP family",
                ));
            }
        }
    }
    if new.policy_is(SINGLE_STACK) {
        if new.cluster_ips.len() == 2 {
            errs.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                new.policy_value(),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
            ));
        }
        if new.families.len() == 2 {
            errs.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                new.policy_value(),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
            ));
        }
    }
    // Families the addresses imply, where the client named none.
    let ips = new.cluster_ips.clone();
    for (i, ip) in ips.iter().enumerate() {
        if ip == "None" {
            break;
        }
        if i >= new.families.len() {
            let fam = family_of(ip).unwrap_or("IPv4");
            if ranges.for_family(fam).is_none() {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    json!(ips),
                    format!("{fam} is not configured on this cluster"),
                ));
            } else {
                new.families.push(fam.to_string());
            }
        }
    }
    if !errs.is_empty() {
        return Err(invalid(errs));
    }
    // Headless without a selector: the families are only a hint for DNS, so they may name
    // families the cluster has no range for.
    if new.is_headless() && !new.has_selector {
        if new.families.is_empty() {
            new.families.push(ranges.primary_family().to_string());
        }
        if new.families.len() < 2 && !new.policy_is(SINGLE_STACK) {
            let alt = other_family(&new.families[0]).to_string();
            new.families.push(alt);
        }
        return Ok(true);
    }
    if new.policy_is(REQUIRE_DUAL_STACK) && !ranges.is_dual_stack() {
        errs.push(FieldError::invalid(
            "spec.ipFamilyPolicy",
            new.policy_value(),
            "this cluster is not configured for dual-stack services",
        ));
    }
    for (i, fam) in new.families.iter().enumerate() {
        if ranges.for_family(fam).is_none() {
            errs.push(FieldError::invalid(
                format!("spec.ipFamilies[{i}]"),
                fam.as_str(),
                "not configured on this cluster",
            ));
        }
    }
    if !errs.is_empty() {
        return Err(invalid(errs));
    }
    if new.families.is_empty() {
        new.families.push(ranges.primary_family().to_string());
    }
    if !new.policy_is(SINGLE_STACK) && new.families.len() == 1 && ranges.is_dual_stack() {
        let alt = other_family(&new.families[0]).to_string();
        new.families.push(alt);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(dual: bool) -> ServiceRanges {
        ServiceRanges {
            cluster_ips: "10.96.0.0/12".parse().unwrap(),
            secondary_cluster_ips: dual.then(|| "fd00:10:96::/108".parse().unwrap()),
            node_ports: (30000, 32767),
        }
    }

    fn fields(spec: Value) -> IpFields {
        IpFields::read(&json!({ "spec": spec }))
    }

    fn message(e: ApiError) -> String {
        e.to_string()
    }

    #[test]
    fn policies_on_a_dual_stack_cluster() {
        let r = ranges(true);
        let mut f = fields(json!({"selector": {"a": "b"}}));
        init(&r, &mut f, None, "s").unwrap();
        assert_eq!(f.policy.as_deref(), Some(SINGLE_STACK));
        assert_eq!(f.families, ["IPv4"]);
        let mut f = fields(json!({"ipFamilyPolicy": "PreferDualStack"}));
        init(&r, &mut f, None, "s").unwrap();
        assert_eq!(f.families, ["IPv4", "IPv6"]);
        let mut f = fields(json!({"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6"]}));
        init(&r, &mut f, None, "s").unwrap();
        assert_eq!(f.families, ["IPv6", "IPv4"]);
        let mut f = fields(json!({"clusterIP": "fd00:10:96::5", "clusterIPs": ["fd00:10:96::5"]}));
        init(&r, &mut f, None, "s").unwrap();
        assert_eq!(f.families, ["IPv6"]);
    }

    #[test]
    fn single_stack_cluster_refuses_dual_stack_demands() {
        let r = ranges(false);
        let mut f = fields(json!({"ipFamilyPolicy": "RequireDualStack"}));
        let e = message(init(&r, &mut f, None, "s").unwrap_err());
        assert!(
            e.contains("this cluster is not configured for dual-stack services"),
            "{e}"
        );
        let mut f = fields(json!({"ipFamilyPolicy": "PreferDualStack"}));
        init(&r, &mut f, None, "s").unwrap();
        assert_eq!(f.families, ["IPv4"]);
        let mut f = fields(json!({"ipFamilies": ["IPv6"]}));
        let e = message(init(&r, &mut f, None, "s").unwrap_err());
        assert!(e.contains("spec.ipFamilies[0]"), "{e}");
        let mut f = fields(json!({"clusterIP": "fd00::1", "clusterIPs": ["fd00::1"]}));
        let e = message(init(&r, &mut f, None, "s").unwrap_err());
        assert!(e.contains("IPv6 is not configured on this cluster"), "{e}");
    }

    #[test]
    fn headless_selectorless_defaults_to_dual_families_even_on_single_stack() {
        let mut f = fields(json!({"clusterIP": "None", "clusterIPs": ["None"]}));
        init(&ranges(false), &mut f, None, "s").unwrap();
        assert_eq!(f.policy.as_deref(), Some(REQUIRE_DUAL_STACK));
        assert_eq!(f.families, ["IPv4", "IPv6"]);
        let mut f =
            fields(json!({"clusterIP": "None", "clusterIPs": ["None"], "selector": {"a": "b"}}));
        init(&ranges(false), &mut f, None, "s").unwrap();
        assert_eq!(f.families, ["IPv4"]);
    }

    #[test]
    fn downgrade_needs_single_stack() {
        let r = ranges(true);
        let old = fields(
            json!({"clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9", "fd00:10:96::9"],
            "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack"}),
        );
        let mut new = old.clone();
        new.policy = Some(SINGLE_STACK.into());
        init(&r, &mut new, Some(&old), "s").unwrap();
        assert_eq!(new.cluster_ips, ["10.96.0.9"]);
        assert_eq!(new.families, ["IPv4"]);
        let mut new = old.clone();
        new.cluster_ips.truncate(1);
        let e = message(init(&r, &mut new, Some(&old), "s").unwrap_err());
        assert!(
            e.contains("must be 'SingleStack' to release the secondary cluster IP"),
            "{e}"
        );
    }
}
