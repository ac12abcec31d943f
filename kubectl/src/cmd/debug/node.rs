//! Debugging a node: a new pod pinned to it, tolerating every taint, in the host's
//! namespaces with the host's `/` at `/host` (as the profile says).

use serde_json::{json, Value};

use super::out;
use super::profile::Style;
use super::{apply_profile, create_pod, debug_container, random_suffix, DebugArgs, Plan};
use crate::client::ApiClient;
use crate::error::Result;

/// Creates the node's debugging pod in the current namespace; the pod and its container.
pub async fn debug(
    client: &ApiClient,
    a: &DebugArgs,
    plan: &Plan,
    node: &Value,
) -> Result<(Value, String)> {
    let node_name = node["metadata"]["name"].as_str().unwrap_or_default();
    let pod = node_debug_pod(a, plan, node_name, &client.namespace);
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let container = pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !a.quiet {
        out(&format!(
            "Creating debugging pod {pod_name} with container {container} on node {node_name}.\n"
        ));
    }
    let created = create_pod(client, &pod).await?;
    Ok((created, container))
}

/// `node-debugger-<node>-xxxxx`, never restarted, on the node whatever its taints.
fn node_debug_pod(a: &DebugArgs, plan: &Plan, node: &str, namespace: &str) -> Value {
    let container = a.container().unwrap_or("debugger");
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("node-debugger-{node}-{}", random_suffix()),
            "namespace": namespace
        },
        "spec": {
            "containers": [debug_container(a, plan, container)],
            "nodeName": node,
            "restartPolicy": "Never",
            "tolerations": [{"operator": "Exists"}]
        }
    });
    apply_profile(a, plan, &mut pod, container, Style::Node);
    pod
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, plan};
    use super::*;

    #[test]
    fn the_node_pod_runs_on_the_node_in_its_namespaces() {
        let a = parse(&[
            "node/vm",
            "--image=busybox",
            "-it",
            "--profile=general",
            "--",
            "sh",
        ]);
        let pod = node_debug_pod(&a, &plan(&a), "vm", "default");
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(
            name.starts_with("node-debugger-vm-") && name.len() == 22,
            "{name}"
        );
        assert_eq!(pod["spec"]["nodeName"], "vm");
        assert_eq!(pod["spec"]["restartPolicy"], "Never");
        assert_eq!(pod["spec"]["tolerations"], json!([{"operator": "Exists"}]));
        assert_eq!(pod["spec"]["hostNetwork"], true);
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["name"], "debugger");
        assert_eq!(c["command"], json!(["sh"]));
        assert_eq!(c["volumeMounts"][0]["mountPath"], "/host");
        assert!(c.get("securityContext").is_none());

        let named = parse(&[
            "node/vm",
            "--image=busybox",
            "-c",
            "x",
            "--profile=baseline",
        ]);
        let pod = node_debug_pod(&named, &plan(&named), "vm", "default");
        assert_eq!(pod["spec"]["containers"][0]["name"], "x");
        assert!(pod["spec"].get("hostNetwork").is_none());
    }
}
