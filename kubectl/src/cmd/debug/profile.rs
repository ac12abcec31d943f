//! Debugging profiles (`--profile`): what each one changes in the pod that carries the debug
//! container, for each way of debugging, as upstream's profiles do.
//!
//! The pod is JSON: the scratch pod holding a new ephemeral container, the copy of a pod, or
//! the pod created on a node.

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// Upstream's warning for the default profile.
pub const LEGACY_WARNING: &str = "--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example \"--profile=general\".";

/// A debugging profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// 1.23 behaviour: host namespaces and the host's root for nodes, nothing else.
    Legacy,
    /// May trace processes; host namespaces and root for nodes.
    General,
    /// Nothing the baseline Pod Security level forbids.
    Baseline,
    /// What the restricted Pod Security level requires: non-root, no capabilities.
    Restricted,
    /// NET_ADMIN and NET_RAW; host namespaces for nodes.
    Netadmin,
    /// Privileged; host namespaces and root for nodes.
    Sysadmin,
}

impl Profile {
    /// The profile a `--profile` value names.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "legacy" => Self::Legacy,
            "general" => Self::General,
            "baseline" => Self::Baseline,
            "restricted" => Self::Restricted,
            "netadmin" => Self::Netadmin,
            "sysadmin" => Self::Sysadmin,
            other => return Err(KubectlError::usage(format!("unknown profile: {other}"))),
        })
    }
}

/// How the debug container reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// An ephemeral container added to the running pod.
    Ephemeral,
    /// A copy of the pod (`--copy-to`).
    Copy,
    /// A new pod on a node, in the host's namespaces.
    Node,
}

/// What a copy keeps of the original (`--keep-*`); everything else a profile removes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep {
    pub labels: bool,
    pub annotations: bool,
    pub liveness: bool,
    pub readiness: bool,
    pub startup: bool,
    pub init_containers: bool,
}

/// Applies `profile` to `pod`, whose debug container is `container`.
pub fn apply(profile: Profile, pod: &mut Value, container: &str, style: Style, keep: Keep) {
    match profile {
        Profile::Legacy => match style {
            Style::Node => {
                mount_host_root(pod, container);
                use_host_namespaces(pod);
            }
            // The legacy copy never kept labels, so that Services and controllers do not
            // select it.
            Style::Copy => remove_copied_metadata(
                pod,
                Keep {
                    labels: false,
                    annotations: true,
                    ..keep
                },
            ),
            Style::Ephemeral => {}
        },
        Profile::General => match style {
            Style::Node => {
                mount_host_root(pod, container);
                with_container(pod, container, |c| {
                    c.remove("securityContext");
                });
                use_host_namespaces(pod);
            }
            Style::Copy => {
                trim_copy(pod, keep);
                add_capabilities(pod, container, &["SYS_PTRACE"]);
                share_process_namespace(pod);
            }
            Style::Ephemeral => add_capabilities(pod, container, &["SYS_PTRACE"]),
        },
        Profile::Baseline => {
            with_container(pod, container, |c| {
                c.remove("securityContext");
            });
            if style == Style::Copy {
                trim_copy(pod, keep);
                share_process_namespace(pod);
            }
        }
        Profile::Restricted => {
            with_container(pod, container, |c| {
                c.insert(
                    "securityContext".into(),
                    json!({
                        "runAsNonRoot": true,
                        "capabilities": {"drop": ["ALL"]},
                        "allowPrivilegeEscalation": false,
                        "seccompProfile": {"type": "RuntimeDefault"}
                    }),
                );
            });
            if style == Style::Copy {
                trim_copy(pod, keep);
                share_process_namespace(pod);
            }
        }
        Profile::Netadmin => {
            add_capabilities(pod, container, &["NET_ADMIN", "NET_RAW"]);
            match style {
                Style::Node => use_host_namespaces(pod),
                Style::Copy => {
                    trim_copy(pod, keep);
                    share_process_namespace(pod);
                }
                Style::Ephemeral => {}
            }
        }
        Profile::Sysadmin => {
            with_container(pod, container, |c| {
                security_context(c).insert("privileged".into(), json!(true));
            });
            match style {
                Style::Node => {
                    use_host_namespaces(pod);
                    mount_host_root(pod, container);
                }
                Style::Copy => {
                    trim_copy(pod, keep);
                    share_process_namespace(pod);
                }
                Style::Ephemeral => {}
            }
        }
    }
}

/// Runs `f` on the container named `name`, wherever the pod declares it.
fn with_container(pod: &mut Value, name: &str, f: impl FnOnce(&mut Map<String, Value>)) {
    if let Some(c) = container_mut(pod, name) {
        f(c);
    }
}

/// The container named `name`, among the pod's init, regular and ephemeral containers.
pub fn container_mut<'a>(pod: &'a mut Value, name: &str) -> Option<&'a mut Map<String, Value>> {
    pod.get_mut("spec")?
        .as_object_mut()?
        .iter_mut()
        .filter(|(key, _)| {
            matches!(
                key.as_str(),
                "initContainers" | "containers" | "ephemeralContainers"
            )
        })
        .filter_map(|(_, list)| list.as_array_mut())
        .flat_map(|list| list.iter_mut())
        .filter_map(Value::as_object_mut)
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

fn security_context(c: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let sc = c.entry("securityContext").or_insert_with(|| json!({}));
    if !sc.is_object() {
        *sc = json!({});
    }
    sc.as_object_mut().expect("made an object above")
}

fn add_capabilities(pod: &mut Value, container: &str, add: &[&str]) {
    with_container(pod, container, |c| {
        let caps = security_context(c)
            .entry("capabilities")
            .or_insert_with(|| json!({}));
        if !caps.is_object() {
            *caps = json!({});
        }
        let list = caps
            .as_object_mut()
            .expect("made an object above")
            .entry("add")
            .or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        let list = list.as_array_mut().expect("made an array above");
        list.extend(add.iter().map(|a| json!(a)));
    });
}

/// The node's `/` as volume `host-root`, mounted at `/host` in the debug container.
fn mount_host_root(pod: &mut Value, container: &str) {
    push(
        &mut pod["spec"],
        "volumes",
        json!({"name": "host-root", "hostPath": {"path": "/"}}),
    );
    with_container(pod, container, |c| {
        let mounts = c.entry("volumeMounts").or_insert_with(|| json!([]));
        if let Some(list) = mounts.as_array_mut() {
            list.push(json!({"name": "host-root", "mountPath": "/host"}));
        }
    });
}

fn push(parent: &mut Value, key: &str, item: Value) {
    match parent.get_mut(key).and_then(Value::as_array_mut) {
        Some(list) => list.push(item),
        None => parent[key] = json!([item]),
    }
}

fn use_host_namespaces(pod: &mut Value) {
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        pod["spec"][key] = json!(true);
    }
}

/// Shares one process namespace among the copy's containers, unless the user chose.
fn share_process_namespace(pod: &mut Value) {
    if pod["spec"].get("shareProcessNamespace").is_none() {
        pod["spec"]["shareProcessNamespace"] = json!(true);
    }
}

/// What a copy drops unless `--keep-*` says otherwise: labels, annotations, probes and init
/// containers.
fn trim_copy(pod: &mut Value, keep: Keep) {
    remove_copied_metadata(pod, keep);
    for c in pod["spec"]
        .get_mut("containers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        for (probe, kept) in [
            ("livenessProbe", keep.liveness),
            ("readinessProbe", keep.readiness),
            ("startupProbe", keep.startup),
        ] {
            if !kept {
                c.remove(probe);
            }
        }
    }
    if !keep.init_containers {
        if let Some(spec) = pod["spec"].as_object_mut() {
            spec.remove("initContainers");
        }
    }
}

fn remove_copied_metadata(pod: &mut Value, keep: Keep) {
    if let Some(meta) = pod["metadata"].as_object_mut() {
        if !keep.labels {
            meta.remove("labels");
        }
        if !keep.annotations {
            meta.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_of_web() -> Value {
        json!({
            "metadata": {"name": "copy", "labels": {"app": "web"}, "annotations": {"a": "b"}},
            "spec": {
                "initContainers": [{"name": "init"}],
                "containers": [
                    {"name": "web", "livenessProbe": {}, "readinessProbe": {}, "startupProbe": {}},
                    {"name": "dbg", "securityContext": {"capabilities": {"add": ["CHOWN"]}}}
                ]
            }
        })
    }

    #[test]
    fn general_copy_drops_what_is_not_kept_and_may_trace() {
        let mut pod = copy_of_web();
        let keep = Keep {
            labels: true,
            readiness: true,
            ..Keep::default()
        };
        apply(Profile::General, &mut pod, "dbg", Style::Copy, keep);
        assert_eq!(pod["metadata"]["labels"], json!({"app": "web"}));
        assert!(pod["metadata"].get("annotations").is_none());
        assert!(pod["spec"].get("initContainers").is_none());
        let web = &pod["spec"]["containers"][0];
        assert!(web.get("livenessProbe").is_none() && web.get("startupProbe").is_none());
        assert!(web.get("readinessProbe").is_some());
        assert_eq!(
            pod["spec"]["containers"][1]["securityContext"]["capabilities"]["add"],
            json!(["CHOWN", "SYS_PTRACE"])
        );
        assert_eq!(pod["spec"]["shareProcessNamespace"], true);
    }

    #[test]
    fn an_explicit_share_processes_and_the_legacy_copy_are_respected() {
        let mut pod = copy_of_web();
        pod["spec"]["shareProcessNamespace"] = json!(false);
        apply(
            Profile::Sysadmin,
            &mut pod,
            "dbg",
            Style::Copy,
            Keep::default(),
        );
        assert_eq!(pod["spec"]["shareProcessNamespace"], false);
        assert_eq!(
            pod["spec"]["containers"][1]["securityContext"]["privileged"],
            true
        );

        let mut pod = copy_of_web();
        let keep = Keep {
            labels: true,
            ..Keep::default()
        };
        apply(Profile::Legacy, &mut pod, "dbg", Style::Copy, keep);
        assert!(pod["metadata"].get("labels").is_none());
        assert_eq!(pod["metadata"]["annotations"], json!({"a": "b"}));
        assert!(pod["spec"].get("shareProcessNamespace").is_none());
        assert!(pod["spec"]["containers"][0].get("livenessProbe").is_some());
    }

    #[test]
    fn node_profiles_choose_namespaces_root_and_privileges() {
        let node_pod = || json!({"spec": {"containers": [{"name": "debugger"}]}});
        let mut general = node_pod();
        apply(
            Profile::General,
            &mut general,
            "debugger",
            Style::Node,
            Keep::default(),
        );
        assert_eq!(general["spec"]["hostPID"], true);
        assert_eq!(general["spec"]["volumes"][0]["hostPath"]["path"], "/");
        assert_eq!(
            general["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "host-root", "mountPath": "/host"}])
        );

        let mut baseline = node_pod();
        apply(
            Profile::Baseline,
            &mut baseline,
            "debugger",
            Style::Node,
            Keep::default(),
        );
        assert_eq!(baseline, node_pod());

        let mut netadmin = node_pod();
        apply(
            Profile::Netadmin,
            &mut netadmin,
            "debugger",
            Style::Node,
            Keep::default(),
        );
        assert_eq!(netadmin["spec"]["hostNetwork"], true);
        assert!(netadmin["spec"].get("volumes").is_none());
        assert_eq!(
            netadmin["spec"]["containers"][0]["securityContext"],
            json!({"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}})
        );

        let mut restricted = node_pod();
        apply(
            Profile::Restricted,
            &mut restricted,
            "debugger",
            Style::Node,
            Keep::default(),
        );
        assert_eq!(
            restricted["spec"]["containers"][0]["securityContext"]["capabilities"],
            json!({"drop": ["ALL"]})
        );
        assert!(restricted["spec"].get("hostPID").is_none());
    }

    #[test]
    fn unknown_profiles_are_refused() {
        assert!(Profile::parse("general").is_ok());
        let e = Profile::parse("bogus").unwrap_err();
        assert_eq!(e.to_string(), "error: unknown profile: bogus");
    }
}
