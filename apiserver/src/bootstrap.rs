//! What exists from the start, as upstream's apiserver creates it: the system namespaces, the
//! `kubernetes` Service, the default ServiceCIDR and the system PriorityClasses. Idempotent:
//! existing objects are left alone. The Service's Endpoints and EndpointSlice are the
//! endpoint reconciler's ([`crate::endpoint_reconciler`]).

use api_types::catalog;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::store::{RequestContext, Store};

async fn ensure(
    store: &Store,
    group: &str,
    version: &str,
    plural: &str,
    ns: Option<&str>,
    obj: Value,
) -> Result<(), ApiError> {
    let res = catalog::find(group, version, plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} missing from catalog")))?;
    let ctx = RequestContext::internal("kube-apiserver");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if store.get(res, ns, name).await.is_ok() {
        return Ok(());
    }
    match store.create(res, ns, obj, &ctx).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Create the built-in objects.
pub async fn run(store: &Store, port: u16) -> Result<(), ApiError> {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure(
            store,
            "",
            "v1",
            "namespaces",
            None,
            json!({"metadata": {"name": ns}}),
        )
        .await?;
    }
    let first_ip = store.admission.ranges.first_ip().to_string();
    ensure(
        store,
        "",
        "v1",
        "services",
        Some("default"),
        json!({
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": first_ip,
                "sessionAffinity": "None",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            },
        }),
    )
    .await?;
    // Both ranges on a dual-stack cluster, the primary first (upstream's default ServiceCIDR).
    let ranges = &store.admission.ranges;
    let cidrs: Vec<String> = std::iter::once(ranges.cluster_ips)
        .chain(ranges.secondary_cluster_ips)
        .map(|c| c.to_string())
        .collect();
    ensure(
        store,
        "networking.k8s.io",
        "v1",
        "servicecidrs",
        None,
        json!({"metadata": {"name": "kubernetes"}, "spec": {"cidrs": cidrs}}),
    )
    .await?;
    for (name, value, desc) in [
        ("system-node-critical", 2_000_001_000i64, "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2_000_000_000i64, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ] {
        ensure(
            store,
            "scheduling.k8s.io",
            "v1",
            "priorityclasses",
            None,
            json!({"metadata": {"name": name}, "value": value, "globalDefault": false, "description": desc, "preemptionPolicy": "PreemptLowerPriority"}),
        )
        .await?;
    }
    Ok(())
}
