//! Debugging a running pod with an ephemeral container (the default way).

use http::Method;
use serde_json::{json, Value};

use super::profile::Style;
use super::{
    apply_profile, debug_container, debug_container_name, warn_if_non_root, DebugArgs, Plan,
};
use crate::client::{q, ApiClient, Body};
use crate::error::Result;

/// Adds the debug container to `pod` through its `ephemeralcontainers` subresource; the
/// updated pod and the container's name.
pub async fn debug(
    client: &ApiClient,
    a: &DebugArgs,
    plan: &Plan,
    pod: &Value,
) -> Result<(Value, String)> {
    let name = debug_container_name(a, pod);
    let container = ephemeral_container(a, plan, &name);
    let mut with_it = pod.clone();
    with_it["spec"]["ephemeralContainers"] = json!([container.clone()]);
    warn_if_non_root(&with_it, &name);
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    // The subresource takes only spec.ephemeralContainers; a strategic merge adds ours to
    // those the pod already has (merge key: name).
    let patch = json!({"spec": {"ephemeralContainers": [container]}});
    let updated = client
        .request(
            Method::PATCH,
            &format!(
                "/api/v1/namespaces/{ns}/pods/{}/ephemeralcontainers",
                q(pod_name)
            ),
            "application/json",
            Some(Body::strategic_merge_patch(&patch)),
        )
        .await?;
    Ok((updated, name))
}

/// The ephemeral container as upstream builds it: the flags' container, `--target`, then
/// the profile.
fn ephemeral_container(a: &DebugArgs, plan: &Plan, name: &str) -> Value {
    let mut container = debug_container(a, plan, name);
    if let Some(t) = a.target.as_deref().filter(|t| !t.is_empty()) {
        container["targetContainerName"] = json!(t);
    }
    let mut scratch = json!({"spec": {"ephemeralContainers": [container]}});
    apply_profile(a, plan, &mut scratch, name, Style::Ephemeral);
    scratch["spec"]["ephemeralContainers"][0].take()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, plan};
    use super::*;

    #[test]
    fn builds_the_ephemeral_container_as_upstream() {
        let a = parse(&["web", "--image=busybox", "-it", "--target=web", "--", "ps"]);
        let c = ephemeral_container(&a, &plan(&a), "dbg");
        assert_eq!(
            c,
            json!({"name": "dbg", "image": "busybox", "stdin": true, "tty": true,
                "terminationMessagePolicy": "File", "targetContainerName": "web",
                "resources": {}, "command": ["ps"]})
        );
        let general = parse(&["web", "--image=busybox", "--profile=general"]);
        let c = ephemeral_container(&general, &plan(&general), "dbg");
        assert_eq!(
            c["securityContext"],
            json!({"capabilities": {"add": ["SYS_PTRACE"]}})
        );
        let restricted = parse(&["web", "--image=busybox", "--profile=restricted"]);
        let c = ephemeral_container(&restricted, &plan(&restricted), "dbg");
        assert_eq!(c["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            c["securityContext"]["capabilities"],
            json!({"drop": ["ALL"]})
        );
    }
}
