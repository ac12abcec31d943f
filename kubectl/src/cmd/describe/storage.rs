//! PersistentVolumeClaims: class, phase, bound volume, capacity and access modes, the pods
//! using the claim, and a StatefulSet's volume claim templates.

use serde_json::Value;

use super::format::{self as f, arr, s};
use crate::printers::tabbed::PrefixWriter;

/// The beta annotation upstream still reads before `spec.storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Upstream's `GetPersistentVolumeClaimClass`: the beta annotation, else the spec field.
fn claim_class(pvc: &Value) -> &str {
    pvc.pointer("/metadata/annotations")
        .and_then(|a| a.get(BETA_STORAGE_CLASS))
        .and_then(Value::as_str)
        .unwrap_or_else(|| s(pvc, "/spec/storageClassName"))
}

/// Upstream's `GetAccessModesAsString`: RWO,ROX,RWX,RWOP in that order, each once.
pub fn access_modes_short(modes: &[Value]) -> String {
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.iter().any(|m| m.as_str() == Some(mode)))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(f::scalar).collect();
    format!("[{}]", parts.join(" "))
}

/// `kubectl describe pvc`; `used_by` are the names of the pods mounting or owning it.
pub fn describe_pvc(pvc: &Value, used_by: &[String], events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(pvc, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(pvc, "/metadata/namespace")),
    );
    w.write(0, &format!("StorageClass:\t{}\n", claim_class(pvc)));
    let deleting = s(pvc, "/metadata/deletionTimestamp");
    if deleting.is_empty() {
        w.write(0, &format!("Status:\t{}\n", s(pvc, "/status/phase")));
    } else {
        w.write(
            0,
            &format!("Status:\tTerminating (lasts {})\n", f::since(deleting)),
        );
    }
    let volume = s(pvc, "/spec/volumeName");
    w.write(0, &format!("Volume:\t{volume}\n"));
    f::labels(&mut w, "Labels", f::map(pvc, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(pvc, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "Finalizers:\t{}\n",
            go_list(arr(pvc, "/metadata/finalizers"))
        ),
    );
    // Capacity and modes are the bound volume's, so blank until the claim is bound.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            s(pvc, "/status/capacity/storage").to_string(),
            access_modes_short(arr(pvc, "/status/accessModes")),
        )
    };
    w.write(0, &format!("Capacity:\t{capacity}\n"));
    w.write(0, &format!("Access Modes:\t{modes}\n"));
    let mode = s(pvc, "/spec/volumeMode");
    if !mode.is_empty() {
        w.write(0, &format!("VolumeMode:\t{mode}\n"));
    }
    let source = &pvc["spec"]["dataSource"];
    if source.is_object() {
        w.write(0, "DataSource:\n");
        if let Some(g) = source["apiGroup"].as_str() {
            w.write(1, &format!("APIGroup:\t{g}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", s(source, "/kind")));
        w.write(1, &format!("Name:\t{}\n", s(source, "/name")));
    }
    let mut pods = used_by.to_vec();
    pods.sort();
    if pods.is_empty() {
        w.write(0, "Used By:\t<none>\n");
    } else {
        for (n, p) in pods.iter().enumerate() {
            let title = if n == 0 { "Used By:" } else { "" };
            w.write(0, &format!("{title}\t{p}\n"));
        }
    }
    let conds = arr(pvc, "/status/conditions");
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(
            1,
            "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conds {
            w.write(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    s(c, "/type"),
                    s(c, "/status"),
                    f::rfc1123z(s(c, "/lastProbeTime")),
                    f::rfc1123z(s(c, "/lastTransitionTime")),
                    s(c, "/reason"),
                    s(c, "/message")
                ),
            );
        }
    }
    f::events(&mut w, events);
    w.finish()
}

/// The names of the pods using a claim, as upstream's `getPodsForPVC`: pods with a volume
/// naming the claim, then pods that own it (generic ephemeral volumes).
pub fn pods_for_claim(pvc: &Value, pods: &[Value]) -> Vec<String> {
    let name = s(pvc, "/metadata/name");
    let mut used: Vec<&Value> = pods
        .iter()
        .filter(|p| {
            arr(p, "/spec/volumes")
                .iter()
                .any(|v| s(v, "/persistentVolumeClaim/claimName") == name)
        })
        .collect();
    for owner in arr(pvc, "/metadata/ownerReferences") {
        if s(owner, "/kind") != "Pod" {
            continue;
        }
        let uid = s(owner, "/uid");
        if let Some(p) = pods.iter().find(|p| s(p, "/metadata/uid") == uid) {
            if !used.iter().any(|u| s(u, "/metadata/uid") == uid) {
                used.push(p);
            }
        }
    }
    used.iter()
        .map(|p| s(p, "/metadata/name").to_string())
        .collect()
}

/// Upstream's `describeVolumeClaimTemplates`.
pub fn volume_claim_templates(w: &mut PrefixWriter, templates: &[Value]) {
    if templates.is_empty() {
        w.write(0, "Volume Claims:\t<none>\n");
        return;
    }
    w.write(0, "Volume Claims:\n");
    for pvc in templates {
        w.write(1, &format!("Name:\t{}\n", s(pvc, "/metadata/name")));
        w.write(1, &format!("StorageClass:\t{}\n", claim_class(pvc)));
        f::labels_with_indent(w, "  ", "Labels", f::map(pvc, "/metadata/labels"));
        // Upstream prints a template's annotations with the label printer.
        f::labels_with_indent(w, "  ", "Annotations", f::map(pvc, "/metadata/annotations"));
        match pvc.pointer("/spec/resources/requests/storage") {
            Some(q) => w.write(1, &format!("Capacity:\t{}\n", f::scalar(q))),
            None => w.write(1, "Capacity:\t<default>\n"),
        }
        w.write(
            1,
            &format!(
                "Access Modes:\t{}\n",
                go_list(arr(pvc, "/spec/accessModes"))
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn access_modes_are_in_upstream_order() {
        let modes = [
            json!("ReadWriteMany"),
            json!("ReadWriteOnce"),
            json!("ReadWriteOnce"),
        ];
        assert_eq!(access_modes_short(&modes), "RWO,RWX");
    }

    #[test]
    fn pending_claim_has_blank_capacity_and_used_by_lists_pods() {
        let pvc = json!({
            "metadata": {"name": "data", "namespace": "ns", "finalizers": ["kubernetes.io/pvc-protection"]},
            "spec": {"storageClassName": "local", "volumeMode": "Filesystem",
                     "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"}
        });
        let pods = vec![
            json!({"metadata": {"name": "b", "uid": "2"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}),
            json!({"metadata": {"name": "a", "uid": "1"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}),
            json!({"metadata": {"name": "c", "uid": "3"}, "spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}),
        ];
        let used = pods_for_claim(&pvc, &pods);
        let out = describe_pvc(&pvc, &used, None);
        assert!(out.contains("Finalizers:    [kubernetes.io/pvc-protection]\nCapacity:      \nAccess Modes:  \nVolumeMode:    Filesystem\nUsed By:       a\n               b\n"), "{out}");
    }
}
