//! Writes the `default/kubernetes` Endpoints and EndpointSlice for a set of apiserver IPs
//! (upstream's `EndpointsAdapter`): one subset with every IP and the apiserver's port, the
//! Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: "true"` so that the mirroring
//! controller leaves it alone, and a slice named `kubernetes` labelled only with its Service
//! name, one ready endpoint per IP. Objects are rewritten only when they differ.

use std::net::IpAddr;

use api_types::catalog::{self, ResourceInfo};
use serde_json::{json, Map, Value};

use crate::errors::ApiError;
use crate::store::delete::DeleteOptions;
use crate::store::{RequestContext, Store};

/// Namespace and name of the apiserver's own Service.
pub const NAMESPACE: &str = "default";
/// See [`NAMESPACE`].
pub const SERVICE: &str = "kubernetes";
/// How often a lost compare-and-swap race is retried within one reconcile (another
/// apiserver wrote the same object meanwhile), as upstream's `retry.DefaultBackoff`.
const ATTEMPTS: usize = 4;

/// The port every apiserver serves on, as the Endpoints list it.
fn endpoint_ports(port: u16) -> Value {
    json!([{"name": "https", "port": port, "protocol": "TCP"}])
}

/// The Endpoints `current` should become for `ips` (sorted, one family) and `port`.
pub fn desired_endpoints(current: Option<&Value>, ips: &[String], port: u16) -> Value {
    let mut obj = current.cloned().unwrap_or_else(|| {
        json!({"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": SERVICE, "namespace": NAMESPACE}})
    });
    obj["metadata"]["labels"] = json!({"endpointslice.kubernetes.io/skip-mirror": "true"});
    let addresses: Vec<Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
    obj["subsets"] = if addresses.is_empty() {
        // An Endpoints subset needs at least one address; none means no subsets at all.
        json!([])
    } else {
        json!([{"addresses": addresses, "ports": endpoint_ports(port)}])
    };
    obj
}

/// The EndpointSlice `current` should become for `ips` of `address_type`.
pub fn desired_slice(
    current: Option<&Value>,
    address_type: &str,
    ips: &[String],
    port: u16,
) -> Value {
    let mut obj = current.cloned().unwrap_or_else(|| {
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": SERVICE, "namespace": NAMESPACE}})
    });
    obj["metadata"]["labels"] = json!({"kubernetes.io/service-name": SERVICE});
    obj["addressType"] = json!(address_type);
    obj["endpoints"] = ips
        .iter()
        .map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}}))
        .collect();
    obj["ports"] = endpoint_ports(port);
    obj
}

/// Whether `a` and `b` agree on every field this adapter owns.
fn same(a: &Value, b: &Value, fields: &[&str]) -> bool {
    owned(a, fields) == owned(b, fields)
}

/// What this adapter owns of an object: its labels and `fields`, each missing, null or empty
/// one read as absent (the store may keep an empty list or drop it).
fn owned(v: &Value, fields: &[&str]) -> Vec<Value> {
    let absent_if_empty = |x: Option<&Value>| match x {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(a)) if a.is_empty() => Value::Null,
        Some(Value::Object(o)) if o.is_empty() => Value::Null,
        Some(x) => x.clone(),
    };
    std::iter::once(absent_if_empty(v.pointer("/metadata/labels")))
        .chain(fields.iter().map(|f| absent_if_empty(v.get(*f))))
        .collect()
}

/// The address type of an IP (`IPv4` or `IPv6`).
pub fn address_type(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

fn resource(group: &str, plural: &str) -> Result<&'static ResourceInfo, ApiError> {
    catalog::find(group, "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} missing from the catalog")))
}

/// Write the Endpoints and EndpointSlice for `ips` (only those of `family`'s address type
/// are listed) and `port`.
pub async fn sync(
    store: &Store,
    family: IpAddr,
    ips: &[String],
    port: u16,
) -> Result<(), ApiError> {
    let kind = address_type(family);
    let mut ips: Vec<String> = ips
        .iter()
        .filter(|ip| {
            ip.parse::<IpAddr>()
                .is_ok_and(|ip| address_type(ip) == kind)
        })
        .cloned()
        .collect();
    ips.sort();
    ips.dedup();
    let ctx = RequestContext::internal("kube-apiserver");
    let endpoints = resource("", "endpoints")?;
    write_until_settled(
        store,
        endpoints,
        &ctx,
        |current| desired_endpoints(current, &ips, port),
        &["subsets"],
    )
    .await?;
    let slices = resource("discovery.k8s.io", "endpointslices")?;
    // addressType is immutable: a slice of the other family is replaced, not updated.
    if let Ok(current) = store.get(slices, Some(NAMESPACE), SERVICE).await {
        if current.get("addressType").and_then(Value::as_str) != Some(kind) {
            match store
                .delete(
                    slices,
                    Some(NAMESPACE),
                    SERVICE,
                    &DeleteOptions::default(),
                    &ctx,
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
    }
    write_until_settled(
        store,
        slices,
        &ctx,
        |current| desired_slice(current, kind, &ips, port),
        &["addressType", "endpoints", "ports"],
    )
    .await
}

/// Read `default/kubernetes` of `res`, and create or update it to `desired(current)` unless
/// `fields` and the labels already agree; a lost race (409) is retried from a fresh read.
async fn write_until_settled(
    store: &Store,
    res: &'static ResourceInfo,
    ctx: &RequestContext,
    desired: impl Fn(Option<&Value>) -> Value,
    fields: &[&str],
) -> Result<(), ApiError> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let current = match store.get(res, Some(NAMESPACE), SERVICE).await {
            Ok(v) => Some(v),
            Err(e) if e.code == 404 => None,
            Err(e) => return Err(e),
        };
        let want = desired(current.as_ref());
        let result = match &current {
            Some(c) if same(c, &want, fields) => return Ok(()),
            Some(_) => {
                tracing::info!(resource = res.plural, object = %strip_meta(&want), "resetting the kubernetes service's endpoints");
                store
                    .update(res, Some(NAMESPACE), SERVICE, want, None, ctx)
                    .await
                    .map(|_| ())
            }
            None => store
                .create(res, Some(NAMESPACE), want, ctx)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => return Ok(()),
            // Another apiserver wrote it first: decide again from what it wrote.
            Err(e) if e.code == 409 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::internal("endpoint reconcile gave up")))
}

/// The object without its metadata, for a log line.
fn strip_meta(v: &Value) -> Value {
    let mut m: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    m.remove("metadata");
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn endpoints_list_every_ip_in_one_subset_with_the_skip_mirror_label() {
        let e = desired_endpoints(None, &ips(&["10.0.0.1", "10.0.0.2"]), 6443);
        assert_eq!(e["metadata"]["name"], "kubernetes");
        assert_eq!(
            e["metadata"]["labels"]["endpointslice.kubernetes.io/skip-mirror"],
            "true"
        );
        assert_eq!(
            e["subsets"],
            json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}])
        );
    }

    #[test]
    fn an_existing_object_keeps_its_metadata_but_loses_foreign_labels_and_subsets() {
        let current = json!({"metadata": {"name": "kubernetes", "namespace": "default",
            "resourceVersion": "42", "labels": {"x": "y"}},
            "subsets": [{"addresses": [{"ip": "10.0.0.9"}]}, {"addresses": [{"ip": "10.0.0.8"}]}]});
        let e = desired_endpoints(Some(&current), &ips(&["10.0.0.1"]), 443);
        assert_eq!(e["metadata"]["resourceVersion"], "42");
        assert_eq!(
            e["metadata"]["labels"],
            json!({"endpointslice.kubernetes.io/skip-mirror": "true"})
        );
        assert_eq!(e["subsets"].as_array().map(Vec::len), Some(1));
        assert!(!same(&current, &e, &["subsets"]));
        assert!(same(
            &e,
            &desired_endpoints(Some(&e), &ips(&["10.0.0.1"]), 443),
            &["subsets"]
        ));
    }

    #[test]
    fn the_slice_has_one_ready_endpoint_per_ip_and_only_the_service_name_label() {
        let s = desired_slice(None, "IPv4", &ips(&["10.0.0.1", "10.0.0.2"]), 6443);
        assert_eq!(
            s["metadata"]["labels"],
            json!({"kubernetes.io/service-name": "kubernetes"})
        );
        assert_eq!(s["addressType"], "IPv4");
        assert_eq!(
            s["endpoints"][1],
            json!({"addresses": ["10.0.0.2"], "conditions": {"ready": true}})
        );
        assert_eq!(s["ports"][0]["port"], 6443);
        let moved = desired_slice(Some(&s), "IPv4", &ips(&["10.0.0.1"]), 6443);
        assert!(!same(&s, &moved, &["addressType", "endpoints", "ports"]));
    }

    #[test]
    fn missing_null_and_empty_owned_fields_agree_but_values_do_not() {
        let stored = json!({"metadata": {"name": "kubernetes"}});
        let written = json!({"metadata": {"name": "kubernetes", "labels": {}}, "subsets": []});
        assert!(same(&stored, &written, &["subsets"]));
        assert!(same(&json!({"subsets": null}), &stored, &["subsets"]));
        let slice = json!({"addressType": "IPv4"});
        assert!(!same(&stored, &slice, &["addressType"]));
        assert!(!same(
            &json!({"addressType": "IPv6"}),
            &slice,
            &["addressType"]
        ));
    }

    #[test]
    fn no_ips_means_no_subsets() {
        assert_eq!(desired_endpoints(None, &[], 443)["subsets"], json!([]));
    }
}
