//! Policy and cluster-wide bookkeeping: horizontal pod autoscalers (`autoscaling/v2` and `v1`
//! shapes), pod disruption budgets, leases, priority classes, runtime classes and RBAC bindings.
//! Roles and cluster roles have no printer upstream: they keep the default NAME + CREATED AT.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{
    age, array_at, bool_at, int_at, int_or_string, name, quantity, s, str_at, NONE,
};
use super::{Cells, Column, Printer, AGE, NAME};

fn printer_of(columns: &'static [Column], cells: Cells) -> Option<Printer> {
    Some(Printer::new(columns, cells))
}

/// The printer of a resource of the policy, coordination, scheduling, node or RBAC groups.
pub fn printer(group: &str, plural: &str) -> Option<Printer> {
    match (group, plural) {
        ("policy", "poddisruptionbudgets") => printer_of(PDB, pdb),
        ("coordination.k8s.io", "leases") => printer_of(LEASE, lease),
        ("scheduling.k8s.io", "priorityclasses") => printer_of(PRIORITYCLASS, priorityclass),
        ("node.k8s.io", "runtimeclasses") => printer_of(RUNTIMECLASS, runtimeclass),
        ("rbac.authorization.k8s.io", "rolebindings") => printer_of(ROLEBINDING, binding),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            printer_of(CLUSTERROLEBINDING, binding)
        }
        _ => None,
    }
}

/// The HPA printer of an `autoscaling` version.
pub fn hpa_printer(version: &str, plural: &str) -> Option<Printer> {
    match (version, plural) {
        ("v1", "horizontalpodautoscalers") => printer_of(HPA, hpa_v1),
        (_, "horizontalpodautoscalers") => printer_of(HPA, hpa_v2),
        _ => None,
    }
}

const HPA: &[Column] = &[
    NAME,
    Column::new("Reference", "string", "The target resource being scaled."),
    Column::new(
        "Targets",
        "string",
        "Current and target values of the metrics.",
    ),
    Column::new("MinPods", "string", "Lower limit for the number of pods."),
    Column::new("MaxPods", "string", "Upper limit for the number of pods."),
    Column::new("Replicas", "string", "Current number of pods."),
    AGE,
];

fn hpa_cells(hpa: &Value, targets: String, now: DateTime<Utc>) -> Vec<Value> {
    let min_pods = match hpa.pointer("/spec/minReplicas").and_then(Value::as_i64) {
        Some(n) => n.to_string(),
        None => "<unset>".to_string(),
    };
    vec![
        name(hpa),
        s(format!(
            "{}/{}",
            str_at(hpa, "/spec/scaleTargetRef/kind"),
            str_at(hpa, "/spec/scaleTargetRef/name")
        )),
        s(targets),
        s(min_pods),
        Value::from(int_at(hpa, "/spec/maxReplicas")),
        Value::from(int_at(hpa, "/status/currentReplicas")),
        age(hpa, now),
    ]
}

/// `autoscaling/v1`: a CPU utilization target, 80% when unset as upstream's conversion defaults.
fn hpa_v1(hpa: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let target = hpa
        .pointer("/spec/targetCPUUtilizationPercentage")
        .and_then(Value::as_i64)
        .unwrap_or(80);
    let current = match hpa
        .pointer("/status/currentCPUUtilizationPercentage")
        .and_then(Value::as_i64)
    {
        Some(c) => format!("{c}%"),
        None => "<unknown>".to_string(),
    };
    hpa_cells(hpa, format!("cpu: {current}/{target}%"), now)
}

fn hpa_v2(hpa: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let specs = array_at(hpa, "/spec/metrics");
    let statuses = array_at(hpa, "/status/currentMetrics");
    hpa_cells(hpa, format_hpa_metrics(specs, statuses), now)
}

/// One metric as `current/target`; statuses are matched to specs by position, as upstream does.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    const UNKNOWN: &str = "<unknown>";
    let source_of = |kind: &str| match kind {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => "",
    };
    let kind = str_at(spec, "/type");
    let field = source_of(kind);
    let target = spec.get(field).and_then(|m| m.get("target"));
    let current = status
        .and_then(|st| st.get(field))
        .filter(|m| m.is_object())
        .map(|m| m.get("current").unwrap_or(&Value::Null));
    let target_value = |key: &str| target.and_then(|t| t.get(key)).filter(|v| !v.is_null());
    let current_text = |key: &str| {
        current
            .map(|c| quantity(c.get(key)))
            .unwrap_or_else(|| UNKNOWN.to_string())
    };
    match kind {
        "External" | "Object" => match target_value("averageValue") {
            Some(avg) => {
                let cur = current
                    .and_then(|c| c.get("averageValue"))
                    .filter(|v| !v.is_null())
                    .map(|v| quantity(Some(v)))
                    .unwrap_or_else(|| UNKNOWN.to_string());
                format!("{cur}/{} (avg)", quantity(Some(avg)))
            }
            None => format!(
                "{}/{}",
                current_text("value"),
                quantity(target_value("value"))
            ),
        },
        "Pods" => format!(
            "{}/{}",
            current_text("averageValue"),
            quantity(target_value("averageValue"))
        ),
        "Resource" | "ContainerResource" => {
            let resource = str_at(spec, &format!("/{field}/name"));
            match target_value("averageValue") {
                Some(avg) => format!(
                    "{resource}: {}/{}",
                    current_text("averageValue"),
                    quantity(Some(avg))
                ),
                None => {
                    let cur = current
                        .and_then(|c| c.get("averageUtilization"))
                        .and_then(Value::as_i64)
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| UNKNOWN.to_string());
                    let tgt = target_value("averageUtilization")
                        .and_then(Value::as_i64)
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<auto>".to_string());
                    format!("{resource}: {cur}/{tgt}")
                }
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

/// TARGETS: up to two metrics, then `+ N more...`; `<none>` without metrics.
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return NONE.to_string();
    }
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| format_metric(spec, statuses.get(i)))
        .collect();
    const MAX: usize = 2;
    let shown = list
        .iter()
        .take(MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > MAX {
        format!("{shown} + {} more...", list.len() - MAX)
    } else {
        shown
    }
}

const PDB: &[Column] = &[
    NAME,
    Column::new(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    Column::new(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    Column::new(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

fn pdb(pdb: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let field = |key: &str| match pdb.pointer(key).filter(|v| !v.is_null()) {
        Some(v) => int_or_string(v),
        None => "N/A".to_string(),
    };
    vec![
        name(pdb),
        s(field("/spec/minAvailable")),
        s(field("/spec/maxUnavailable")),
        Value::from(int_at(pdb, "/status/disruptionsAllowed")),
        age(pdb, now),
    ]
}

const LEASE: &[Column] = &[
    NAME,
    Column::new(
        "Holder",
        "string",
        "The identity of the holder of the lease.",
    ),
    AGE,
];

fn lease(l: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(l), s(str_at(l, "/spec/holderIdentity")), age(l, now)]
}

const PRIORITYCLASS: &[Column] = &[
    NAME,
    Column::new("Value", "integer", "The priority of pods of this class."),
    Column::new(
        "Global-Default",
        "boolean",
        "Whether this is the default priority class.",
    ),
    AGE,
    Column::new(
        "PreemptionPolicy",
        "string",
        "Whether pods of this class preempt lower priority pods.",
    ),
];

fn priorityclass(pc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(pc),
        Value::from(int_at(pc, "/value")),
        Value::Bool(bool_at(pc, "/globalDefault")),
        age(pc, now),
        s(str_at(pc, "/preemptionPolicy")),
    ]
}

const RUNTIMECLASS: &[Column] = &[
    NAME,
    Column::new(
        "Handler",
        "string",
        "The CRI handler that runs pods of this class.",
    ),
    AGE,
];

fn runtimeclass(rc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(rc), s(str_at(rc, "/handler")), age(rc, now)]
}

const ROLEBINDING: &[Column] = &[
    NAME,
    Column::new("Role", "string", "The role the binding grants."),
    AGE,
    Column::new("Users", "string", "Users in the roleBinding").wide(),
    Column::new("Groups", "string", "Groups in the roleBinding").wide(),
    Column::new(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    )
    .wide(),
];

const CLUSTERROLEBINDING: &[Column] = &[
    NAME,
    Column::new("Role", "string", "The cluster role the binding grants."),
    AGE,
    Column::new("Users", "string", "Users in the clusterRoleBinding").wide(),
    Column::new("Groups", "string", "Groups in the clusterRoleBinding").wide(),
    Column::new(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    )
    .wide(),
];

fn binding(b: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for subject in array_at(b, "/subjects") {
        let subject_name = str_at(subject, "/name").to_string();
        match str_at(subject, "/kind") {
            "User" => users.push(subject_name),
            "Group" => groups.push(subject_name),
            "ServiceAccount" => {
                sas.push(format!("{}/{subject_name}", str_at(subject, "/namespace")))
            }
            _ => {}
        }
    }
    vec![
        name(b),
        s(format!(
            "{}/{}",
            str_at(b, "/roleRef/kind"),
            str_at(b, "/roleRef/name")
        )),
        age(b, now),
        s(users.join(", ")),
        s(groups.join(", ")),
        s(sas.join(", ")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn hpa_v2_targets() {
        let hpa = json!({"metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1,
                "maxReplicas": 10, "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "1k"}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": 23, "averageValue": "115m"}}}]}});
        assert_eq!(
            hpa_v2(&hpa, now())[1..6],
            [
                json!("Deployment/web"),
                json!("cpu: 23%/50%, memory: <unknown>/100Mi + 1 more..."),
                json!("1"),
                json!(10),
                json!(2)
            ]
        );
    }

    #[test]
    fn hpa_v1_targets() {
        let hpa = json!({"metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "targetCPUUtilizationPercentage": 60}});
        assert_eq!(
            hpa_v1(&hpa, now())[2..4],
            [json!("cpu: <unknown>/60%"), json!("<unset>")]
        );
    }

    #[test]
    fn bindings_pdbs_and_leases() {
        let rb = json!({"metadata": {"name": "admins"},
            "roleRef": {"kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "ops"},
                {"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"},
                {"kind": "User", "name": "bob"}]});
        let c = binding(&rb, now());
        assert_eq!(c[1], json!("ClusterRole/admin"));
        assert_eq!(
            c[3..6],
            [json!("alice, bob"), json!("ops"), json!("ci/deployer")]
        );

        let p = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": "50%"},
            "status": {"disruptionsAllowed": 1}});
        assert_eq!(pdb(&p, now())[1..4], [json!("50%"), json!("N/A"), json!(1)]);

        let l = json!({"metadata": {"name": "kube-scheduler"},
            "spec": {"holderIdentity": "host_1234"}});
        assert_eq!(lease(&l, now())[1], json!("host_1234"));
    }
}
