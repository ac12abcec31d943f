//! `spec.healthCheckNodePort`: a LoadBalancer Service with `externalTrafficPolicy: Local`
//! gets a port of the NodePort range on which every node's kube-proxy answers whether it
//! has local endpoints (load balancers send traffic only to nodes that say yes).
//!
//! As upstream's Service REST layer: the port is drawn from the NodePort range (the same
//! etcd keys as node ports, so neither can take the other's) when the client leaves it
//! unset, a port the client names is reserved if free, and it is freed when the Service
//! stops needing it (type or policy change) or is deleted. An update that leaves it out
//! keeps the allocated one; an update that stops needing it and still carries the old value
//! drops it. Allocation failures are internal errors (500), as upstream reports them; a
//! port on a Service that needs none, or a changed one, is Invalid (422).

use serde_json::Value;

use super::service_alloc::{claim_port, names, next_free_port, svc_type, Allocations};
use super::ServiceRanges;
use crate::errors::{ApiError, FieldError};
use crate::store::Store;

const FIELD: &str = "spec.healthCheckNodePort";

/// Whether the Service needs a health-check node port (upstream `NeedsHealthCheck`).
fn needs_health_check(obj: &Value) -> bool {
    svc_type(obj) == "LoadBalancer"
        && obj
            .pointer("/spec/externalTrafficPolicy")
            .and_then(Value::as_str)
            == Some("Local")
}

/// `spec.healthCheckNodePort`, 0 when unset.
fn requested(obj: &Value) -> i64 {
    obj.pointer("/spec/healthCheckNodePort")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn set(obj: &mut Value, port: u16) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("healthCheckNodePort".into(), port.into());
    }
}

fn clear(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("healthCheckNodePort");
    }
}

fn invalid(obj: &Value, err: FieldError) -> ApiError {
    let (_, name) = names(obj);
    ApiError::invalid("", "Service", &name, &[err])
}

/// Upstream's `validateServiceExternalTrafficPolicy` part for this field: only a Service
/// that needs a health check may carry one.
fn check_allowed(obj: &Value) -> Result<(), ApiError> {
    let port = requested(obj);
    if port != 0 && !needs_health_check(obj) {
        return Err(invalid(
            obj,
            FieldError::invalid(
                FIELD,
                port,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ),
        ));
    }
    Ok(())
}

/// Reserve the port the client named, or any free one, and record the key in `out`.
async fn allocate(
    store: &Store,
    ranges: &ServiceRanges,
    obj: &mut Value,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    let (ns, name) = names(obj);
    let port = requested(obj);
    if port == 0 {
        let (p, key) = next_free_port(store, ranges, &ns, &name)
            .await?
            .ok_or_else(|| {
                ApiError::internal("failed to allocate a HealthCheck NodePort: range is full")
            })?;
        out.push(key);
        set(obj, p);
        return Ok(());
    }
    let (lo, hi) = ranges.node_ports;
    let in_range = u16::try_from(port).ok().filter(|p| (lo..=hi).contains(p));
    let Some(p) = in_range else {
        return Err(ApiError::internal(format!(
            "failed to allocate requested HealthCheck NodePort {port}: provided port is not in the valid range. The range of valid ports is {lo}-{hi}"
        )));
    };
    match claim_port(store, p, &ns, &name).await? {
        Some(key) => {
            out.push(key);
            Ok(())
        }
        None => Err(ApiError::internal(format!(
            "failed to allocate requested HealthCheck NodePort {p}: provided port is already allocated"
        ))),
    }
}

/// On create: refuse the field where it does not belong, allocate it where it does.
pub(super) async fn allocate_for_create(
    store: &Store,
    ranges: &ServiceRanges,
    obj: &mut Value,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    check_allowed(obj)?;
    if needs_health_check(obj) {
        allocate(store, ranges, obj, out).await?;
    }
    Ok(())
}

/// On update: keep the allocated port when the client left it out (upstream
/// `patchAllocatedValues`), drop it when the Service stops needing it and the client sent the
/// old value back (`dropTypeDependentFields`), refuse a changed one, and allocate one when
/// the Service starts needing it. Freeing the old port waits for the write
/// ([`released_by_update`]).
pub(super) async fn allocate_for_update(
    store: &Store,
    ranges: &ServiceRanges,
    new: &mut Value,
    old: &Value,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    let needed = needs_health_check(old);
    let needs = needs_health_check(new);
    if needed && needs && requested(new) == 0 {
        if let Ok(p) = u16::try_from(requested(old)) {
            if p != 0 {
                set(new, p);
            }
        }
    }
    if needed && !needs && requested(new) == requested(old) {
        clear(new);
    }
    check_allowed(new)?;
    if needed && needs && requested(new) != requested(old) {
        return Err(invalid(
            new,
            FieldError::forbidden(FIELD, "field is immutable"),
        ));
    }
    if !needed && needs {
        allocate(store, ranges, new, out).await?;
    }
    Ok(())
}

/// The port an update freed: the old object's, when the new one no longer needs a health
/// check.
pub(super) fn released_by_update(new: &Value, old: &Value) -> Option<u16> {
    if needs_health_check(new) {
        return None;
    }
    held(old)
}

/// The health-check node port `obj` holds, if any (freed when it is deleted).
pub(super) fn held(obj: &Value) -> Option<u16> {
    if !needs_health_check(obj) {
        return None;
    }
    u16::try_from(requested(obj)).ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lb(policy: &str, port: Option<u16>) -> Value {
        let mut svc = json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": policy},
        });
        if let Some(p) = port {
            svc["spec"]["healthCheckNodePort"] = json!(p);
        }
        svc
    }

    #[test]
    fn only_local_load_balancers_hold_a_port() {
        assert_eq!(held(&lb("Local", Some(30100))), Some(30100));
        assert_eq!(held(&lb("Cluster", Some(30100))), None);
        let mut node_port = lb("Local", Some(30100));
        node_port["spec"]["type"] = json!("NodePort");
        assert_eq!(held(&node_port), None);
    }

    #[test]
    fn a_port_outside_local_load_balancers_is_invalid() {
        let err = check_allowed(&lb("Cluster", Some(30100))).expect_err("refused");
        let body = err.to_status().to_string();
        assert!(body.contains("spec.healthCheckNodePort"), "{body}");
        assert!(check_allowed(&lb("Local", Some(30100))).is_ok());
        assert!(check_allowed(&lb("Cluster", None)).is_ok());
    }

    #[test]
    fn switching_to_cluster_releases_the_old_port() {
        assert_eq!(
            released_by_update(&lb("Cluster", None), &lb("Local", Some(30100))),
            Some(30100)
        );
        assert_eq!(
            released_by_update(&lb("Local", Some(30100)), &lb("Local", Some(30100))),
            None
        );
    }
}
