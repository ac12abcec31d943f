//! Conversion between served versions that share storage (autoscaling/v1 ↔ v2
//! HorizontalPodAutoscaler, core/v1 ↔ events.k8s.io/v1 Event).

use api_types::catalog::ResourceInfo;
use serde_json::Value;

/// Convert `obj` (in `from`'s version) into `to`'s version. Same version: unchanged.
pub fn convert(obj: Value, from: &ResourceInfo, to: &ResourceInfo) -> Value {
    if from.group == to.group && from.version == to.version {
        return obj;
    }
    let mut obj = obj;
    obj["apiVersion"] = Value::String(to.api_version());
    obj
}
