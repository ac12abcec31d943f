//! NodeRestriction (upstream's admission plugin of that name): narrows what a kubelet's
//! credential may write beyond what the Node authorizer lets through.
//!
//! - Nodes: only its own Node object; not the labels under `node-restriction.kubernetes.io/`;
//!   not its taints once the Node exists.
//! - Pods: create only mirror pods bound to itself; update (status) and delete only pods bound
//!   to itself.
//! - Leases in `kube-node-lease`: only its own.
//!
//! Requests from users that are not nodes pass untouched.

use api_types::catalog::ResourceInfo;
use serde_json::Value;

use crate::authn::UserInfo;
use crate::authz::forbidden_for;
use crate::authz::node::{node_identity, NODE_LEASE_NAMESPACE};
use crate::errors::ApiError;

/// Label prefix only administrators may set on Nodes.
pub const RESTRICTED_LABEL_PREFIX: &str = "node-restriction.kubernetes.io/";
/// Annotation that marks a mirror pod.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn node_name_of(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn restricted_labels(obj: &Value) -> Vec<(String, Option<String>)> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| is_restricted(k))
                .map(|(k, v)| (k.clone(), v.as_str().map(String::from)))
                .collect()
        })
        .unwrap_or_default()
}

fn is_restricted(key: &str) -> bool {
    match key.split_once('/') {
        Some((domain, _)) => {
            let restricted = RESTRICTED_LABEL_PREFIX.trim_end_matches('/');
            domain == restricted || domain.ends_with(&format!(".{restricted}"))
        }
        None => false,
    }
}

/// Check a create (`old = None`) or update of `obj`.
pub fn admit_write(
    user: &UserInfo,
    res: &ResourceInfo,
    ns: Option<&str>,
    obj: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let Some(node) = node_identity(&user.name, &user.groups) else {
        return Ok(());
    };
    let name = name_of(obj);
    let deny = |why: String| Err(forbidden_for(res.group, res.plural, name, &why));
    match (res.group, res.plural) {
        ("", "nodes") => {
            if name != node {
                return deny(format!(
                    "node {node:?} is not allowed to modify node {name:?}"
                ));
            }
            let new_labels = restricted_labels(obj);
            match old {
                None => {
                    if !new_labels.is_empty() {
                        let keys: Vec<String> = new_labels.into_iter().map(|(k, _)| k).collect();
                        return deny(format!(
                            "node {node:?} is not allowed to set the following labels: {}",
                            keys.join(", ")
                        ));
                    }
                }
                Some(old) => {
                    let old_labels = restricted_labels(old);
                    let mut changed: Vec<String> = new_labels
                        .iter()
                        .filter(|l| !old_labels.contains(l))
                        .chain(old_labels.iter().filter(|l| !new_labels.contains(l)))
                        .map(|(k, _)| k.clone())
                        .collect();
                    changed.sort();
                    changed.dedup();
                    if !changed.is_empty() {
                        return deny(format!(
                            "node {node:?} is not allowed to modify labels: {}",
                            changed.join(", ")
                        ));
                    }
                    if obj.pointer("/spec/taints") != old.pointer("/spec/taints") {
                        return deny(format!("node {node:?} is not allowed to modify taints"));
                    }
                }
            }
            Ok(())
        }
        ("", "pods") => match old {
            None => {
                let mirror = obj
                    .pointer("/metadata/annotations")
                    .and_then(Value::as_object)
                    .is_some_and(|a| a.contains_key(MIRROR_ANNOTATION));
                if !mirror {
                    return deny(format!(
                        "pod does not have {MIRROR_ANNOTATION:?} annotation, node {node:?} can only create mirror pods"
                    ));
                }
                if node_name_of(obj) != node {
                    return deny(format!(
                        "node {node:?} can only create pods with spec.nodeName set to itself"
                    ));
                }
                Ok(())
            }
            Some(old) => {
                if node_name_of(old) != node {
                    return deny(format!(
                        "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
                    ));
                }
                Ok(())
            }
        },
        ("coordination.k8s.io", "leases") if ns == Some(NODE_LEASE_NAMESPACE) => {
            if name != node {
                return deny(
                    "can only access node lease with the same name as the requesting node".into(),
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Check a delete of `obj`.
pub fn admit_delete(user: &UserInfo, res: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    let Some(node) = node_identity(&user.name, &user.groups) else {
        return Ok(());
    };
    let name = name_of(obj);
    match (res.group, res.plural) {
        ("", "pods") if node_name_of(obj) != node => Err(forbidden_for(
            res.group,
            res.plural,
            name,
            &format!("node {node:?} can only delete pods with spec.nodeName set to itself"),
        )),
        ("", "nodes") if name != node => Err(forbidden_for(
            res.group,
            res.plural,
            name,
            &format!("node {node:?} is not allowed to delete node {name:?}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use api_types::catalog;
    use serde_json::json;

    use super::*;

    fn n1() -> UserInfo {
        UserInfo::system("system:node:n1", &["system:nodes", "system:authenticated"])
    }

    fn res(plural: &str) -> &'static ResourceInfo {
        catalog::find("", "v1", plural).expect("catalog entry")
    }

    #[test]
    fn own_node_only_and_restricted_labels() {
        let node =
            |name: &str, labels: Value| json!({"metadata": {"name": name, "labels": labels}});
        let e = admit_write(
            &n1(),
            res("nodes"),
            None,
            &node("n2", json!({})),
            Some(&node("n2", json!({}))),
        )
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
        assert_eq!(
            e,
            r#"nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2""#
        );
        let old = node("n1", json!({"a": "1"}));
        assert!(admit_write(
            &n1(),
            res("nodes"),
            None,
            &node("n1", json!({"a": "2"})),
            Some(&old)
        )
        .is_ok());
        let bad = node(
            "n1",
            json!({"a": "1", "node-restriction.kubernetes.io/x": "y"}),
        );
        assert!(admit_write(&n1(), res("nodes"), None, &bad, Some(&old)).is_err());
        // Other users are not restricted.
        let admin = UserInfo::system("admin", &["system:masters"]);
        assert!(admit_write(&admin, res("nodes"), None, &bad, Some(&old)).is_ok());
    }

    #[test]
    fn mirror_pods_and_pod_status() {
        let pod = |node: &str, mirror: bool| {
            let mut p =
                json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"nodeName": node}});
            if mirror {
                p["metadata"]["annotations"] = json!({MIRROR_ANNOTATION: "x"});
            }
            p
        };
        assert!(admit_write(&n1(), res("pods"), Some("d"), &pod("n1", true), None).is_ok());
        assert!(admit_write(&n1(), res("pods"), Some("d"), &pod("n1", false), None).is_err());
        assert!(admit_write(&n1(), res("pods"), Some("d"), &pod("n2", true), None).is_err());
        assert!(admit_write(
            &n1(),
            res("pods"),
            Some("d"),
            &pod("n1", false),
            Some(&pod("n1", false))
        )
        .is_ok());
        assert!(admit_write(
            &n1(),
            res("pods"),
            Some("d"),
            &pod("n2", false),
            Some(&pod("n2", false))
        )
        .is_err());
        assert!(admit_delete(&n1(), res("pods"), &pod("n2", true)).is_err());
        assert!(admit_delete(&n1(), res("pods"), &pod("n1", true)).is_ok());
    }
}
