//! Reading what the HorizontalPodAutoscaler controller wrote: an HPA's conditions, the
//! events about it, and the replicas of the Deployment it scales.

use anyhow::Result;
use serde_json::Value;

pub use crate::controller_manager::pod_names;
use crate::controller_manager::{get_ok, set_pod_ready};
use crate::TestCluster;

/// The autoscaling/v2 HPAs of namespace `default`.
pub const HPAS_V2: &str = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
/// The Deployments of namespace `default`.
pub const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// The condition of `type_` of HPA `name` in `default` (v2 view), once it has one.
pub async fn condition(cluster: &TestCluster, name: &str, type_: &str) -> Result<Option<Value>> {
    let h = get_ok(cluster, &format!("{HPAS_V2}/{name}")).await?;
    Ok(h["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_).cloned()))
}

/// The core/v1 events in `default` about HPA `name` with `reason`.
pub async fn events(cluster: &TestCluster, name: &str, reason: &str) -> Result<Vec<Value>> {
    crate::events::about(cluster, "HorizontalPodAutoscaler", name, Some(reason)).await
}

/// `spec.replicas` of Deployment `name` in `default` (-1 when unset).
pub async fn spec_replicas(cluster: &TestCluster, name: &str) -> Result<i64> {
    let d = get_ok(cluster, &format!("{DEPLOYMENTS}/{name}")).await?;
    Ok(d["spec"]["replicas"].as_i64().unwrap_or(-1))
}

/// Mark every pod labelled `app=<app>` Running and Ready (no kubelet runs here).
pub async fn make_ready(cluster: &TestCluster, app: &str) -> Result<Vec<String>> {
    let names = pod_names(cluster, app).await?;
    for n in &names {
        set_pod_ready(cluster, "default", n, true).await?;
    }
    Ok(names)
}
