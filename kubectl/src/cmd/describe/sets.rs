//! StatefulSets and DaemonSets: replica or per-node counts, update strategy, the pod
//! template and (for StatefulSets) the volume claim templates.

use serde_json::Value;

use super::format::{self as f, i, s};
use super::pod::pod_template;
use super::storage::volume_claim_templates;
use super::workloads::PodCounts;
use crate::printers::tabbed::PrefixWriter;

fn pods_status(w: &mut PrefixWriter, pods: PodCounts) {
    w.write(
        0,
        &format!(
            "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed\n",
            pods.running, pods.waiting, pods.succeeded, pods.failed
        ),
    );
}

/// `kubectl describe statefulset` (kubectl 1.32's layout).
pub fn describe_stateful_set(sts: &Value, pods: PodCounts, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(sts, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(sts, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            f::rfc1123z(s(sts, "/metadata/creationTimestamp"))
        ),
    );
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::selector_string(&sts["spec"]["selector"])
        ),
    );
    f::labels(&mut w, "Labels", f::map(sts, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(sts, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} total\n",
            i(sts, "/spec/replicas"),
            i(sts, "/status/replicas")
        ),
    );
    w.write(
        0,
        &format!(
            "Update Strategy:\t{}\n",
            s(sts, "/spec/updateStrategy/type")
        ),
    );
    let ru = &sts["spec"]["updateStrategy"]["rollingUpdate"];
    if let Some(partition) = ru["partition"].as_i64() {
        w.write(1, &format!("Partition:\t{partition}\n"));
        if !ru["maxUnavailable"].is_null() {
            w.write(
                1,
                &format!("MaxUnavailable:\t{}\n", f::scalar(&ru["maxUnavailable"])),
            );
        }
    }
    pods_status(&mut w, pods);
    pod_template(&mut w, &sts["spec"]["template"]);
    volume_claim_templates(&mut w, f::arr(sts, "/spec/volumeClaimTemplates"));
    f::events(&mut w, events);
    w.finish()
}

/// `kubectl describe daemonset`.
pub fn describe_daemon_set(ds: &Value, pods: PodCounts, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(ds, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(ds, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::selector_string(&ds["spec"]["selector"])
        ),
    );
    w.write(
        0,
        &format!(
            "Node-Selector:\t{}\n",
            f::format_labels(f::map(ds, "/spec/template/spec/nodeSelector"))
        ),
    );
    f::labels(&mut w, "Labels", f::map(ds, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(ds, "/metadata/annotations"));
    // These lines have no tab: upstream does not align them.
    for (title, field) in [
        (
            "Desired Number of Nodes Scheduled",
            "desiredNumberScheduled",
        ),
        (
            "Current Number of Nodes Scheduled",
            "currentNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Up-to-date Pods",
            "updatedNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Available Pods",
            "numberAvailable",
        ),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ] {
        w.write(
            0,
            &format!("{title}: {}\n", i(ds, &format!("/status/{field}"))),
        );
    }
    pods_status(&mut w, pods);
    pod_template(&mut w, &ds["spec"]["template"]);
    f::events(&mut w, events);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statefulset_prints_partition_and_claim_templates() {
        let sts = json!({
            "metadata": {"name": "db", "namespace": "ns", "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "db"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "busybox"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]},
            "status": {"replicas": 2}
        });
        let out = describe_stateful_set(
            &sts,
            PodCounts {
                running: 2,
                ..Default::default()
            },
            None,
        );
        assert!(out.contains("Replicas:           3 desired | 2 total\nUpdate Strategy:    RollingUpdate\n  Partition:        1\nPods Status:        2 Running / 0 Waiting / 0 Succeeded / 0 Failed\n"), "{out}");
        assert!(out.contains("Volume Claims:\n  Name:          data\n  StorageClass:  \n  Labels:        <none>\n  Annotations:   <none>\n  Capacity:      1Gi\n  Access Modes:  [ReadWriteOnce]\n"), "{out}");
    }

    #[test]
    fn daemonset_counts_are_not_aligned() {
        let ds = json!({
            "metadata": {"name": "agent", "namespace": "ns"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"spec": {"containers": [{"name": "a", "image": "busybox"}]}}},
            "status": {"desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberAvailable": 1}
        });
        let out = describe_daemon_set(&ds, PodCounts::default(), None);
        assert!(
            out.starts_with(
                "Name:           agent\nNamespace:      ns\nSelector:       app=agent\nNode-Selector:  <none>\n"
            ),
            "{out}"
        );
        assert!(out.contains("\nDesired Number of Nodes Scheduled: 1\nCurrent Number of Nodes Scheduled: 1\nNumber of Nodes Scheduled with Up-to-date Pods: 0\n"), "{out}");
    }
}
