//! Debugging a copy of a pod (`--copy-to`): the copy gets a debug container, or one of its
//! containers is changed (`-c` with a new image, command or env), or only its images change
//! (`--set-image`). `--replace` deletes the original.

use http::Method;
use serde_json::{json, Map, Value};

use super::profile::{self, Style};
use super::{
    apply_profile, container_names, create_pod, debug_container_name, warn_if_non_root, DebugArgs,
    Plan,
};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};

/// Creates the copy; the created pod and the container to attach to (none when only images
/// changed).
pub async fn debug(
    client: &ApiClient,
    a: &DebugArgs,
    plan: &Plan,
    pod: &Value,
    copy_to: &str,
) -> Result<Option<(Value, String)>> {
    let (copy, container) = pod_copy(a, plan, pod, copy_to)?;
    if let Some(c) = &container {
        warn_if_non_root(&copy, c);
    }
    let created = create_pod(client, &copy).await?;
    if a.replace {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        client
            .request(
                Method::DELETE,
                &format!(
                    "/api/v1/namespaces/{ns}/pods/{}?gracePeriodSeconds=0",
                    q(name)
                ),
                "application/json",
                None,
            )
            .await?;
    }
    Ok(container.map(|c| (created, c)))
}

/// The copy as upstream makes it: name, namespace, labels, annotations and spec of the
/// original without its ephemeral containers, off its node unless `--same-node`, with the
/// images, debug container and profile applied.
fn pod_copy(
    a: &DebugArgs,
    plan: &Plan,
    pod: &Value,
    copy_to: &str,
) -> Result<(Value, Option<String>)> {
    let meta = &pod["metadata"];
    let mut copy = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": copy_to, "namespace": meta["namespace"]},
        "spec": pod["spec"].clone()
    });
    for key in ["labels", "annotations"] {
        if meta[key].as_object().is_some_and(|m| !m.is_empty()) {
            copy["metadata"][key] = meta[key].clone();
        }
    }
    let Some(spec) = copy["spec"].as_object_mut() else {
        return Err(KubectlError::usage(format!(
            "pod {:?} has no spec to copy",
            meta["name"].as_str().unwrap_or_default()
        )));
    };
    spec.remove("ephemeralContainers");
    if let Some(share) = a.share_processes {
        spec.insert("shareProcessNamespace".into(), json!(share));
    }
    if !a.same_node {
        spec.remove("nodeName");
    }
    set_images(spec, &plan.set_images);

    let existing = a
        .container()
        .filter(|name| container_names(&copy).contains(name));
    let name = match existing {
        Some(name) => name.to_string(),
        None => {
            if a.image().is_none() {
                if !plan.set_images.is_empty() {
                    // Only the images change: no debug container, no profile.
                    return Ok((copy, None));
                }
                return Err(KubectlError::usage(
                    "you must specify image when creating new container",
                ));
            }
            let name = debug_container_name(a, &copy);
            let new = json!({"name": name, "terminationMessagePolicy": "File"});
            match copy["spec"]["containers"].as_array_mut() {
                Some(list) => list.push(new),
                None => copy["spec"]["containers"] = json!([new]),
            }
            name
        }
    };
    if let Some(c) = profile::container_mut(&mut copy, &name) {
        change_container(c, a, plan);
    }
    apply_profile(a, plan, &mut copy, &name, Style::Copy);
    Ok((copy, Some(name)))
}

/// `--set-image`: a container's own entry wins over `*`; the last of repeated names wins.
fn set_images(spec: &mut Map<String, Value>, images: &[(String, String)]) {
    let image_for = |name: &str| {
        let find = |key: &str| images.iter().rev().find(|(n, _)| n == key).map(|(_, i)| i);
        find(name).or_else(|| find("*")).filter(|i| !i.is_empty())
    };
    for c in spec
        .get_mut("containers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        if let Some(image) = image_for(&name) {
            c["image"] = json!(image);
        }
    }
}

/// What the flags change in the debug container, new or existing: the command (or args),
/// env, image, pull policy, stdin and tty.
fn change_container(c: &mut Map<String, Value>, a: &DebugArgs, plan: &Plan) {
    if !a.args.is_empty() {
        if a.arguments_only {
            c.insert("args".into(), json!(a.args));
        } else {
            c.insert("command".into(), json!(a.args));
            c.remove("args");
        }
    }
    if !plan.env.is_empty() {
        c.insert("env".into(), json!(plan.env));
    }
    if let Some(image) = a.image() {
        c.insert("image".into(), json!(image));
    }
    if let Some(policy) = a.image_pull_policy.as_deref().filter(|p| !p.is_empty()) {
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    for (key, on) in [("stdin", a.stdin), ("tty", a.tty)] {
        if on {
            c.insert(key.into(), json!(true));
        } else {
            c.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, plan};
    use super::*;

    fn web() -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"},
                "annotations": {"a": "b"}, "uid": "u1", "resourceVersion": "7"},
            "spec": {
                "nodeName": "vm",
                "containers": [{"name": "web", "image": "httpd", "args": ["-f"], "livenessProbe": {}},
                               {"name": "side", "image": "side:1"}],
                "ephemeralContainers": [{"name": "old"}]
            },
            "status": {"phase": "Running"}
        })
    }

    #[test]
    fn a_debug_container_is_added_to_a_fresh_copy() {
        let a = parse(&[
            "web",
            "--copy-to=c",
            "--image=busybox",
            "-c",
            "dbg",
            "--profile=general",
            "--keep-labels",
            "--",
            "sleep",
            "1",
        ]);
        let (copy, name) = pod_copy(&a, &plan(&a), &web(), "c").unwrap();
        assert_eq!(name.as_deref(), Some("dbg"));
        assert_eq!(
            copy["metadata"],
            json!({"name": "c", "namespace": "ns", "labels": {"app": "web"}})
        );
        assert!(copy.get("status").is_none());
        assert!(copy["spec"].get("nodeName").is_none());
        assert!(copy["spec"].get("ephemeralContainers").is_none());
        assert_eq!(copy["spec"]["shareProcessNamespace"], true);
        assert!(copy["spec"]["containers"][0].get("livenessProbe").is_none());
        let dbg = &copy["spec"]["containers"][2];
        assert_eq!(dbg["image"], "busybox");
        assert_eq!(dbg["command"], json!(["sleep", "1"]));
        assert_eq!(
            dbg["securityContext"]["capabilities"]["add"],
            json!(["SYS_PTRACE"])
        );
    }

    #[test]
    fn an_existing_container_is_changed_in_place() {
        let a = parse(&[
            "web",
            "--copy-to=c",
            "-c",
            "web",
            "--same-node",
            "--share-processes=false",
            "--profile=sysadmin",
            "--",
            "sh",
        ]);
        let (copy, name) = pod_copy(&a, &plan(&a), &web(), "c").unwrap();
        assert_eq!(name.as_deref(), Some("web"));
        assert_eq!(copy["spec"]["nodeName"], "vm");
        assert_eq!(copy["spec"]["shareProcessNamespace"], false);
        let web = &copy["spec"]["containers"][0];
        assert_eq!(web["command"], json!(["sh"]));
        assert!(web.get("args").is_none());
        assert_eq!(web["image"], "httpd");
        assert_eq!(web["securityContext"]["privileged"], true);
        assert_eq!(copy["spec"]["containers"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn set_image_alone_changes_only_images() {
        let a = parse(&[
            "web",
            "--copy-to=c",
            "--set-image=*=busybox:1,side=side:2",
            "--profile=general",
        ]);
        let (copy, name) = pod_copy(&a, &plan(&a), &web(), "c").unwrap();
        assert_eq!(name, None);
        assert_eq!(copy["spec"]["containers"][0]["image"], "busybox:1");
        assert_eq!(copy["spec"]["containers"][1]["image"], "side:2");
        // No profile: labels, annotations and probes stay.
        assert_eq!(copy["metadata"]["annotations"], json!({"a": "b"}));
        assert!(copy["spec"]["containers"][0].get("livenessProbe").is_some());

        let missing = parse(&["web", "--copy-to=c", "-c", "nosuch", "--", "sh"]);
        let e = pod_copy(&missing, &plan(&missing), &web(), "c").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: you must specify image when creating new container"
        );
    }
}
