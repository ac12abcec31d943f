//! Deployments and ReplicaSets: replica counts, strategy, the pod template, conditions and
//! (for deployments) the old and new ReplicaSets.

use serde_json::Value;

use super::format::{self as f, arr, i, s};
use super::pod::pod_template;
use crate::printers::tabbed::PrefixWriter;

/// Pod phase counts of a controller's pods: running, waiting, succeeded, failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PodCounts {
    /// Running pods.
    pub running: usize,
    /// Pending pods.
    pub waiting: usize,
    /// Succeeded pods.
    pub succeeded: usize,
    /// Failed pods.
    pub failed: usize,
}

impl PodCounts {
    /// Counts the pods whose controller is the object with `uid` (upstream skips orphans and
    /// pods of other controllers).
    pub fn of(pods: &[Value], uid: &str) -> Self {
        let mut c = PodCounts::default();
        for p in pods {
            let owned = arr(p, "/metadata/ownerReferences")
                .iter()
                .any(|o| o["controller"].as_bool() == Some(true) && s(o, "/uid") == uid);
            if !owned {
                continue;
            }
            match s(p, "/status/phase") {
                "Running" => c.running += 1,
                "Pending" => c.waiting += 1,
                "Succeeded" => c.succeeded += 1,
                "Failed" => c.failed += 1,
                _ => {}
            }
        }
        c
    }
}

/// `kubectl describe replicaset`.
pub fn describe_replica_set(rs: &Value, pods: PodCounts, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(rs, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(rs, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::format_label_selector(&rs["spec"]["selector"])
        ),
    );
    f::labels(&mut w, "Labels", f::map(rs, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(rs, "/metadata/annotations"));
    if let Some(c) = f::controlled_by(rs) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            i(rs, "/status/replicas"),
            i(rs, "/spec/replicas")
        ),
    );
    w.write(
        0,
        &format!(
            "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed\n",
            pods.running, pods.waiting, pods.succeeded, pods.failed
        ),
    );
    pod_template(&mut w, &rs["spec"]["template"]);
    conditions(&mut w, rs);
    f::events(&mut w, events);
    w.finish()
}

fn conditions(w: &mut PrefixWriter, obj: &Value) {
    let conds = arr(obj, "/status/conditions");
    if conds.is_empty() {
        return;
    }
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for c in conds {
        w.write(
            1,
            &format!(
                "{} \t{}\t{}\n",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason")
            ),
        );
    }
}

/// Splits the ReplicaSets a deployment controls into (old, new): the new one has the
/// deployment's pod template (ignoring the pod-template-hash label).
pub fn split_replica_sets<'a>(d: &Value, all: &'a [Value]) -> (Vec<&'a Value>, Vec<&'a Value>) {
    let uid = s(d, "/metadata/uid");
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(l) = t
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            l.remove("pod-template-hash");
            if l.is_empty() {
                if let Some(m) = t.pointer_mut("/metadata").and_then(Value::as_object_mut) {
                    m.remove("labels");
                }
            }
        }
        t
    };
    let want = strip(&d["spec"]["template"]);
    let mut old = Vec::new();
    let mut new = Vec::new();
    for rs in all {
        let owned = arr(rs, "/metadata/ownerReferences")
            .iter()
            .any(|o| o["controller"].as_bool() == Some(true) && s(o, "/uid") == uid);
        if !owned {
            continue;
        }
        if new.is_empty() && strip(&rs["spec"]["template"]) == want {
            new.push(rs);
        } else {
            old.push(rs);
        }
    }
    (old, new)
}

fn replica_sets_text(list: &[&Value]) -> String {
    if list.is_empty() {
        return "<none>".into();
    }
    list.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(rs, "/metadata/name"),
                i(rs, "/status/replicas"),
                i(rs, "/spec/replicas")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `kubectl describe deployment`.
pub fn describe_deployment(d: &Value, replica_sets: &[Value], events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(d, "/metadata/name")));
    w.write(0, &format!("Namespace:\t{}\n", s(d, "/metadata/namespace")));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            f::rfc1123z(s(d, "/metadata/creationTimestamp"))
        ),
    );
    f::labels(&mut w, "Labels", f::map(d, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(d, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::selector_string(&d["spec"]["selector"])
        ),
    );
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            i(d, "/spec/replicas"),
            i(d, "/status/updatedReplicas"),
            i(d, "/status/replicas"),
            i(d, "/status/availableReplicas"),
            i(d, "/status/unavailableReplicas")
        ),
    );
    w.write(
        0,
        &format!("StrategyType:\t{}\n", s(d, "/spec/strategy/type")),
    );
    w.write(
        0,
        &format!("MinReadySeconds:\t{}\n", i(d, "/spec/minReadySeconds")),
    );
    if let Some(ru) = d
        .pointer("/spec/strategy/rollingUpdate")
        .filter(|v| v.is_object())
    {
        w.write(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                f::scalar(&ru["maxUnavailable"]),
                f::scalar(&ru["maxSurge"])
            ),
        );
    }
    pod_template(&mut w, &d["spec"]["template"]);
    conditions(&mut w, d);
    let (old, new) = split_replica_sets(d, replica_sets);
    if !old.is_empty() || !new.is_empty() {
        w.write(
            0,
            &format!("OldReplicaSets:\t{}\n", replica_sets_text(&old)),
        );
        w.write(0, &format!("NewReplicaSet:\t{}\n", replica_sets_text(&new)));
    }
    f::events(&mut w, events);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "d1", "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "busybox"}]}}},
            "status": {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
        })
    }

    fn rs(name: &str, image: &str) -> Value {
        json!({"metadata": {"name": name, "ownerReferences": [{"uid": "d1", "controller": true}]},
               "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "x"}},
                                                     "spec": {"containers": [{"name": "web", "image": image}]}}},
               "status": {"replicas": 2}})
    }

    #[test]
    fn new_replica_set_is_the_one_with_the_current_template() {
        let d = deployment();
        let all = vec![rs("web-old", "nginx"), rs("web-new", "busybox")];
        let (old, new) = split_replica_sets(&d, &all);
        assert_eq!(old.len(), 1);
        assert_eq!(s(new[0], "/metadata/name"), "web-new");
    }

    #[test]
    fn deployment_layout() {
        let out = describe_deployment(&deployment(), &[rs("web-new", "busybox")], None);
        assert!(out.contains("Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable\n"), "{out}");
        assert!(out.contains("RollingUpdateStrategy:  25% max unavailable, 25% max surge\nPod Template:\n  Labels:  app=web\n  Containers:\n   web:\n"), "{out}");
        assert!(out.contains("  Type           Status  Reason\n  ----           ------  ------\n  Available      True    MinimumReplicasAvailable\n"), "{out}");
        assert!(
            out.ends_with(
                "OldReplicaSets:  <none>\nNewReplicaSet:   web-new (2/2 replicas created)\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn pod_counts_skip_orphans() {
        let pods = vec![
            json!({"metadata": {"ownerReferences": [{"uid": "r", "controller": true}]}, "status": {"phase": "Running"}}),
            json!({"metadata": {}, "status": {"phase": "Running"}}),
            json!({"metadata": {"ownerReferences": [{"uid": "r", "controller": true}]}, "status": {"phase": "Pending"}}),
        ];
        assert_eq!(
            PodCounts::of(&pods, "r"),
            PodCounts {
                running: 1,
                waiting: 1,
                succeeded: 0,
                failed: 0
            }
        );
    }
}
