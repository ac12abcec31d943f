//! ClusterIP and NodePort allocation for Services (the health-check node port of
//! `externalTrafficPolicy: Local` load balancers is in `service_health_check`).
//!
//! Each allocated ClusterIP is an `IPAddress` object (networking.k8s.io/v1, named by the
//! address, parentRef = the Service), as upstream's allocator does since v1.33; each NodePort
//! is a key under `/registry/ranges/servicenodeports/`. Allocation is an etcd create that only
//! succeeds when the key is absent, so two concurrent creates can never get the same address.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use rand::Rng;
use serde_json::{json, Value};

use super::service_health_check as health_check;
use crate::errors::{ApiError, FieldError};
use crate::storage::etcd::WriteOutcome;
use crate::store::Store;

/// The ranges services draw from.
#[derive(Debug, Clone)]
pub struct ServiceRanges {
    /// `--service-cluster-ip-range`.
    pub cluster_ips: Ipv4Net,
    /// `--service-node-port-range` (inclusive).
    pub node_ports: (u16, u16),
}

impl ServiceRanges {
    /// The first usable address: the `kubernetes` Service's ClusterIP.
    pub fn first_ip(&self) -> Ipv4Addr {
        let base = u32::from(self.cluster_ips.network());
        Ipv4Addr::from(base + 1)
    }
}

/// Keys allocated during one request.
#[derive(Debug, Default)]
pub struct Allocations {
    keys: Vec<String>,
}

impl Allocations {
    /// Remember a key claimed for this request.
    pub(super) fn push(&mut self, key: String) {
        self.keys.push(key);
    }

    /// The request succeeded: keep them.
    pub fn keep(self) {}

    /// The request failed: free them.
    pub async fn release(self, store: &Store) {
        for k in self.keys {
            release_key(store, &k).await;
        }
    }
}

pub(super) async fn release_key(store: &Store, key: &str) {
    if let Ok(Some(cur)) = store.etcd.get(key).await {
        let _ = store.etcd.delete(key, cur.mod_revision).await;
    }
}

fn ip_key(store: &Store, ip: Ipv4Addr) -> String {
    format!("{}/ipaddresses/{ip}", store.prefix)
}

pub(super) fn port_key(store: &Store, port: u16) -> String {
    format!("{}/ranges/servicenodeports/{port}", store.prefix)
}

fn ip_address_object(ip: Ipv4Addr, ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IPAddress",
        "metadata": {
            "name": ip.to_string(),
            "uid": uuid::Uuid::new_v4().to_string(),
            "creationTimestamp": crate::store::meta::now(),
            "labels": {
                "ipaddress.kubernetes.io/ip-family": "IPv4",
                "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io",
            },
        },
        "spec": {"parentRef": {"group": "", "resource": "services", "namespace": ns, "name": name}},
    })
}

async fn try_claim(store: &Store, key: &str, value: &Value) -> Result<bool, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(matches!(
        store.etcd.create(key, bytes).await?,
        WriteOutcome::Written(_)
    ))
}

/// Claim a specific ClusterIP.
pub async fn claim_ip(
    store: &Store,
    ranges: &ServiceRanges,
    ip: Ipv4Addr,
    ns: &str,
    name: &str,
) -> Result<Option<String>, ApiError> {
    if !ranges.cluster_ips.contains(&ip)
        || ip == ranges.cluster_ips.network()
        || ip == ranges.cluster_ips.broadcast()
    {
        return Err(ApiError::invalid("", "Service", name, &[FieldError::invalid(
            "spec.clusterIPs",
            json!([ip.to_string()]),
            format!("failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}", ranges.cluster_ips),
        )]));
    }
    let key = ip_key(store, ip);
    if try_claim(store, &key, &ip_address_object(ip, ns, name)).await? {
        Ok(Some(key))
    } else {
        Ok(None)
    }
}

async fn allocate_ip(
    store: &Store,
    ranges: &ServiceRanges,
    ns: &str,
    name: &str,
) -> Result<(Ipv4Addr, String), ApiError> {
    let base = u32::from(ranges.cluster_ips.network());
    let size = 1u64 << (32 - ranges.cluster_ips.prefix_len());
    if size < 4 {
        return Err(ApiError::internal("service cluster IP range is too small"));
    }
    // Offsets 2.. (1 is the kubernetes Service); random probing, then give up.
    for _ in 0..64 {
        let off = rand::rng().random_range(2..(size - 1)) as u32;
        let ip = Ipv4Addr::from(base + off);
        if let Some(key) = claim_ip(store, ranges, ip, ns, name).await? {
            return Ok((ip, key));
        }
    }
    Err(ApiError::internal(
        "failed to allocate a serviceIP: range is full",
    ))
}

pub(super) async fn claim_port(
    store: &Store,
    port: u16,
    ns: &str,
    name: &str,
) -> Result<Option<String>, ApiError> {
    let key = port_key(store, port);
    let owner = json!({"namespace": ns, "name": name});
    Ok(try_claim(store, &key, &owner).await?.then_some(key))
}

/// Claim a free port of the range: random probes first (cheap while the range is mostly
/// free), then a scan, so a nearly full range still finds its last ports. `None` when full.
pub(super) async fn next_free_port(
    store: &Store,
    ranges: &ServiceRanges,
    ns: &str,
    name: &str,
) -> Result<Option<(u16, String)>, ApiError> {
    let (lo, hi) = ranges.node_ports;
    for _ in 0..64 {
        let p = rand::rng().random_range(lo..=hi);
        if let Some(k) = claim_port(store, p, ns, name).await? {
            return Ok(Some((p, k)));
        }
    }
    for p in lo..=hi {
        if let Some(k) = claim_port(store, p, ns, name).await? {
            return Ok(Some((p, k)));
        }
    }
    Ok(None)
}

async fn allocate_port(
    store: &Store,
    ranges: &ServiceRanges,
    ns: &str,
    name: &str,
) -> Result<(u16, String), ApiError> {
    next_free_port(store, ranges, ns, name)
        .await?
        .ok_or_else(|| ApiError::internal("failed to allocate a nodePort: range is full"))
}

pub(super) fn svc_type(obj: &Value) -> &str {
    obj.pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

pub(super) fn names(obj: &Value) -> (String, String) {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (ns, name)
}

async fn allocate_node_ports(
    store: &Store,
    ranges: &ServiceRanges,
    obj: &mut Value,
    keep: &[u16],
    out: &mut Allocations,
) -> Result<(), ApiError> {
    if !matches!(svc_type(obj), "NodePort" | "LoadBalancer") {
        return Ok(());
    }
    if svc_type(obj) == "LoadBalancer"
        && obj.pointer("/spec/allocateLoadBalancerNodePorts") == Some(&json!(false))
    {
        return Ok(());
    }
    let (ns, name) = names(obj);
    let count = obj
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    for i in 0..count {
        let requested = obj
            .pointer(&format!("/spec/ports/{i}/nodePort"))
            .and_then(Value::as_u64)
            .map(|p| p as u16);
        match requested {
            Some(p) if keep.contains(&p) => {}
            Some(p) => {
                let (lo, hi) = ranges.node_ports;
                if p < lo || p > hi {
                    return Err(ApiError::invalid("", "Service", &name, &[FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        p,
                        format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
                    )]));
                }
                match claim_port(store, p, &ns, &name).await? {
                    Some(k) => out.keys.push(k),
                    None => {
                        return Err(ApiError::invalid(
                            "",
                            "Service",
                            &name,
                            &[FieldError::invalid(
                                format!("spec.ports[{i}].nodePort"),
                                p,
                                "provided port is already allocated",
                            )],
                        ))
                    }
                }
            }
            None => {
                let (p, k) = allocate_port(store, ranges, &ns, &name).await?;
                out.keys.push(k);
                obj["spec"]["ports"][i]["nodePort"] = json!(p);
            }
        }
    }
    Ok(())
}

/// Allocate a new Service's ClusterIP and NodePorts.
pub async fn allocate_for_create(
    store: &Store,
    ranges: &ServiceRanges,
    obj: &mut Value,
) -> Result<Allocations, ApiError> {
    let mut out = Allocations::default();
    let result = allocate_inner(store, ranges, obj, &mut out).await;
    match result {
        Ok(()) => Ok(out),
        Err(e) => {
            out.release(store).await;
            Err(e)
        }
    }
}

async fn allocate_inner(
    store: &Store,
    ranges: &ServiceRanges,
    obj: &mut Value,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    let (ns, name) = names(obj);
    if svc_type(obj) != "ExternalName" {
        let requested = obj
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match requested.as_str() {
            "None" => {
                obj["spec"]["clusterIPs"] = json!(["None"]);
            }
            "" => {
                let (ip, key) = allocate_ip(store, ranges, &ns, &name).await?;
                out.keys.push(key);
                obj["spec"]["clusterIP"] = json!(ip.to_string());
                obj["spec"]["clusterIPs"] = json!([ip.to_string()]);
            }
            given => {
                let ip: Ipv4Addr = given.parse().map_err(|_| {
                    ApiError::invalid(
                        "",
                        "Service",
                        &name,
                        &[FieldError::invalid(
                            "spec.clusterIPs[0]",
                            given,
                            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                        )],
                    )
                })?;
                match claim_ip(store, ranges, ip, &ns, &name).await? {
                    Some(k) => out.keys.push(k),
                    None => {
                        return Err(ApiError::invalid(
                            "",
                            "Service",
                            &name,
                            &[FieldError::invalid(
                                "spec.clusterIPs",
                                json!([given]),
                                format!(
                                "failed to allocate IP {given}: provided IP is already allocated"
                            ),
                            )],
                        ))
                    }
                }
                obj["spec"]["clusterIPs"] = json!([given]);
            }
        }
        obj["spec"]["ipFamilies"] = json!(["IPv4"]);
        if obj.pointer("/spec/ipFamilyPolicy").is_none() {
            obj["spec"]["ipFamilyPolicy"] = json!("SingleStack");
        }
    }
    allocate_node_ports(store, ranges, obj, &[], out).await?;
    health_check::allocate_for_create(store, ranges, obj, out).await
}

fn node_ports(obj: &Value) -> Vec<u16> {
    obj.pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
                .map(|p| p as u16)
                .collect()
        })
        .unwrap_or_default()
}

/// On update, keep allocated values the client left out, allocate node ports for new ports,
/// and free node ports the Service no longer uses (after the write; see `release_unused`).
pub async fn allocate_for_update(
    store: &Store,
    ranges: &ServiceRanges,
    new: &mut Value,
    old: &Value,
) -> Result<Allocations, ApiError> {
    if svc_type(new) != "ExternalName"
        && new
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        if let Some(ip) = old.pointer("/spec/clusterIP") {
            new["spec"]["clusterIP"] = ip.clone();
        }
        if let Some(ips) = old.pointer("/spec/clusterIPs") {
            new["spec"]["clusterIPs"] = ips.clone();
        }
    }
    // Ports the client left without nodePort keep the old one for the same port number.
    if matches!(svc_type(new), "NodePort" | "LoadBalancer") {
        let old_ports = old
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut() {
                if p.get("nodePort").is_none() {
                    if let Some(prev) = old_ports.iter().find(|o| {
                        o.get("port") == p.get("port") && o.get("protocol") == p.get("protocol")
                    }) {
                        if let Some(np) = prev.get("nodePort") {
                            p["nodePort"] = np.clone();
                        }
                    }
                }
            }
        }
    } else if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if let Some(o) = p.as_object_mut() {
                o.remove("nodePort");
            }
        }
    }
    let mut out = Allocations::default();
    let keep = node_ports(old);
    let result = match allocate_node_ports(store, ranges, new, &keep, &mut out).await {
        Ok(()) => health_check::allocate_for_update(store, ranges, new, old, &mut out).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        out.release(store).await;
        return Err(e);
    }
    Ok(out)
}

/// After a successful update: free node ports the old object had and the new one does not,
/// and the health-check node port the new one no longer needs.
pub async fn release_unused(store: &Store, new: &Value, old: &Value) {
    let now = node_ports(new);
    for p in node_ports(old) {
        if !now.contains(&p) {
            release_key(store, &port_key(store, p)).await;
        }
    }
    if let Some(p) = health_check::released_by_update(new, old) {
        release_key(store, &port_key(store, p)).await;
    }
}

/// Free a deleted Service's ClusterIP and NodePorts.
pub async fn release_service(store: &Store, obj: &Value) {
    if let Some(ips) = obj.pointer("/spec/clusterIPs").and_then(Value::as_array) {
        for ip in ips.iter().filter_map(Value::as_str) {
            if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                release_key(store, &ip_key(store, ip)).await;
            }
        }
    }
    for p in node_ports(obj) {
        release_key(store, &port_key(store, p)).await;
    }
    if let Some(p) = health_check::held(obj) {
        release_key(store, &port_key(store, p)).await;
    }
}
