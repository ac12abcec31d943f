//! Reading the core/v1 Events components recorded, as `kubectl describe` lists them.

use anyhow::Result;
use serde_json::Value;

use crate::controller_manager::get_ok;
use crate::TestCluster;

/// The events in `default` about the object of `kind` named `name`, optionally only those
/// with `reason`.
pub async fn about(
    cluster: &TestCluster,
    kind: &str,
    name: &str,
    reason: Option<&str>,
) -> Result<Vec<Value>> {
    let list = get_ok(cluster, "/api/v1/namespaces/default/events").await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            e["involvedObject"]["kind"] == kind
                && e["involvedObject"]["name"] == name
                && reason.is_none_or(|r| e["reason"] == r)
        })
        .cloned()
        .collect())
}

/// The messages of `events`.
pub fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect()
}
