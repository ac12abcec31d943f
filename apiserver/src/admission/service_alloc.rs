//! ClusterIP and NodePort allocation for Services (the health-check node port of
//! `externalTrafficPolicy: Local` load balancers is in `service_health_check`).
//!
//! `--service-cluster-ip-range` holds one CIDR or, on a dual-stack cluster, one per family
//! (the first is the primary family). Before any address is claimed, `ip_families` settles
//! `ipFamilyPolicy` (SingleStack unless asked; headless Services without a selector get
//! RequireDualStack), `ipFamilies` and `clusterIPs` as upstream's `initIPFamilyFields` does;
//! then every family without an address gets one from its range. On update a Service
//! upgraded to two families gets its secondary address, one downgraded with
//! `ipFamilyPolicy: SingleStack` (or turned into ExternalName) frees it after the write.
//!
//! Each allocated ClusterIP, IPv4 or IPv6, is an `IPAddress` object (networking.k8s.io/v1,
//! named by the address, parentRef = the Service), as upstream's allocator does since v1.33;
//! each NodePort is a key under `/registry/ranges/servicenodeports/`. Allocation is an etcd
//! create that only succeeds when the key is absent, so two concurrent creates can never get
//! the same address; a request that fails frees everything it claimed.

mod ip_families;

use std::net::IpAddr;

use ipnet::IpNet;
use rand::Rng;
use serde_json::{json, Value};

use self::ip_families::{family_of, IpFields};
use super::service_health_check as health_check;
use crate::errors::{ApiError, FieldError};
use crate::storage::etcd::WriteOutcome;
use crate::store::Store;

/// The ranges services draw from.
#[derive(Debug, Clone)]
pub struct ServiceRanges {
    /// `--service-cluster-ip-range[0]`: the primary family's range (single-stack Services
    /// without `ipFamilies` get this family).
    pub cluster_ips: IpNet,
    /// `--service-cluster-ip-range[1]`: the other family's range on a dual-stack cluster.
    pub secondary_cluster_ips: Option<IpNet>,
    /// `--service-node-port-range` (inclusive).
    pub node_ports: (u16, u16),
}

impl ServiceRanges {
    /// The first usable address of the primary range: the `kubernetes` Service's ClusterIP.
    pub fn first_ip(&self) -> IpAddr {
        nth_ip(&self.cluster_ips, 1)
    }

    /// `IPv4` or `IPv6`: the family of the primary range.
    pub fn primary_family(&self) -> &'static str {
        net_family(&self.cluster_ips)
    }

    /// Whether the cluster serves two families.
    pub fn is_dual_stack(&self) -> bool {
        self.secondary_cluster_ips.is_some()
    }

    /// The range of `family` (`IPv4` / `IPv6`), when this cluster has one.
    pub fn for_family(&self, family: &str) -> Option<IpNet> {
        std::iter::once(self.cluster_ips)
            .chain(self.secondary_cluster_ips)
            .find(|n| net_family(n) == family)
    }
}

fn net_family(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "IPv4",
        IpNet::V6(_) => "IPv6",
    }
}

/// The address `offset` places after the network address.
fn nth_ip(net: &IpNet, offset: u128) -> IpAddr {
    match net {
        IpNet::V4(n) => IpAddr::V4((u32::from(n.network()).wrapping_add(offset as u32)).into()),
        IpNet::V6(n) => IpAddr::V6((u128::from(n.network()).wrapping_add(offset)).into()),
    }
}

/// How many addresses `net` holds.
fn range_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// Whether `ip` may be handed out from `net`: inside it, and neither the network address nor
/// (IPv4 only; IPv6 has no broadcast) the last address, as upstream's allocator reserves.
fn usable(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
        && ip != net.network()
        && !(matches!(net, IpNet::V4(_)) && ip == net.broadcast())
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

fn ip_key(store: &Store, ip: IpAddr) -> String {
    format!("{}/ipaddresses/{ip}", store.prefix)
}

pub(super) fn port_key(store: &Store, port: u16) -> String {
    format!("{}/ranges/servicenodeports/{port}", store.prefix)
}

fn ip_address_object(ip: IpAddr, ns: &str, name: &str) -> Value {
    let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IPAddress",
        "metadata": {
            "name": ip.to_string(),
            "uid": uuid::Uuid::new_v4().to_string(),
            "creationTimestamp": crate::store::meta::now(),
            "labels": {
                "ipaddress.kubernetes.io/ip-family": family,
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

/// Claim a specific ClusterIP of `range`. `Ok(None)` when another Service holds it.
pub async fn claim_ip(
    store: &Store,
    range: &IpNet,
    ip: IpAddr,
    ns: &str,
    name: &str,
    shown: &Value,
) -> Result<Option<String>, ApiError> {
    if !usable(range, ip) {
        return Err(ApiError::invalid("", "Service", name, &[FieldError::invalid(
            "spec.clusterIPs",
            shown.clone(),
            format!("failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {range}"),
        )]));
    }
    let key = ip_key(store, ip);
    if try_claim(store, &key, &ip_address_object(ip, ns, name)).await? {
        Ok(Some(key))
    } else {
        Ok(None)
    }
}

/// Claim a free address of `range`: random probes (offset 1 is the `kubernetes` Service's),
/// then a bounded scan so a small, nearly full range still finds its last addresses.
async fn allocate_ip(
    store: &Store,
    range: &IpNet,
    ns: &str,
    name: &str,
) -> Result<(IpAddr, String), ApiError> {
    let size = range_size(range);
    // IPv4 loses the broadcast address too.
    let end = if matches!(range, IpNet::V4(_)) {
        size - 1
    } else {
        size
    };
    if end <= 2 {
        return Err(ApiError::internal("service cluster IP range is too small"));
    }
    let candidates = (0..64)
        .map(|_| rand::rng().random_range(2..end))
        .chain(2..end.min(2 + 4096));
    for off in candidates {
        let ip = nth_ip(range, off);
        let key = ip_key(store, ip);
        if try_claim(store, &key, &ip_address_object(ip, ns, name)).await? {
            return Ok((ip, key));
        }
    }
    Err(ApiError::internal(
        "failed to allocate a serviceIP: range is full",
    ))
}

/// Give each family of `fields` without an address one from its range, and claim the
/// addresses the client asked for, from index `from` on (earlier ones are already held).
async fn allocate_cluster_ips(
    store: &Store,
    ranges: &ServiceRanges,
    fields: &mut IpFields,
    from: usize,
    ns: &str,
    name: &str,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    if fields.is_headless() {
        fields.cluster_ips = vec!["None".into()];
        return Ok(());
    }
    fields.cluster_ips.resize(
        fields.families.len().max(fields.cluster_ips.len()),
        String::new(),
    );
    let shown = json!(fields.cluster_ips);
    for i in from..fields.families.len() {
        let family = fields.families[i].clone();
        let range = ranges
            .for_family(&family)
            .ok_or_else(|| ApiError::internal(format!("no service range for {family}")))?;
        let requested = fields.cluster_ips[i].clone();
        if requested.is_empty() {
            let (ip, key) = allocate_ip(store, &range, ns, name).await?;
            out.keys.push(key);
            fields.cluster_ips[i] = ip.to_string();
            continue;
        }
        let ip: IpAddr = requested.parse().map_err(|_| {
            ApiError::invalid(
                "",
                "Service",
                name,
                &[FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    requested.as_str(),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )],
            )
        })?;
        match claim_ip(store, &range, ip, ns, name, &shown).await? {
            Some(k) => out.keys.push(k),
            None => {
                return Err(ApiError::invalid(
                    "",
                    "Service",
                    name,
                    &[FieldError::invalid(
                        "spec.clusterIPs",
                        shown,
                        format!(
                            "failed to allocate IP {requested}: provided IP is already allocated"
                        ),
                    )],
                ))
            }
        }
    }
    Ok(())
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
        let mut fields = IpFields::read(obj);
        // Malformed fields get no addresses; validation (next) says what is wrong.
        if ip_families::init(ranges, &mut fields, None, &name)? {
            allocate_cluster_ips(store, ranges, &mut fields, 0, &ns, &name, out).await?;
            fields.write(obj);
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
    let mut out = Allocations::default();
    if let Err(e) = update_cluster_ips(store, ranges, new, old, &mut out).await {
        out.release(store).await;
        return Err(e);
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

/// Upstream's `updateClusterIPs`: a Service that stops being ExternalName gets all its
/// addresses, one upgraded to dual-stack gets its secondary address. What the update
/// drops (downgrade, change to ExternalName) is freed only after the write succeeded
/// (`release_unused`).
async fn update_cluster_ips(
    store: &Store,
    ranges: &ServiceRanges,
    new: &mut Value,
    old: &Value,
    out: &mut Allocations,
) -> Result<(), ApiError> {
    if svc_type(new) == "ExternalName" {
        return Ok(());
    }
    let (ns, name) = names(new);
    let old_fields = IpFields::read(old);
    let mut fields = IpFields::read(new);
    if ip_families::is_matching_prefer_dual_stack(&fields, Some(&old_fields)) {
        return Ok(());
    }
    if !ip_families::init(ranges, &mut fields, Some(&old_fields), &name)? {
        return Ok(());
    }
    if old_fields.kind == "ExternalName" {
        allocate_cluster_ips(store, ranges, &mut fields, 0, &ns, &name, out).await?;
    } else if !old_fields.is_headless()
        && old_fields.families.len() == 1
        && fields.families.len() == 2
    {
        allocate_cluster_ips(store, ranges, &mut fields, 1, &ns, &name, out).await?;
    }
    fields.write(new);
    Ok(())
}

/// The ClusterIPs (not `None`) a Service holds.
fn held_ips(obj: &Value) -> Vec<IpAddr> {
    if svc_type(obj) == "ExternalName" {
        return Vec::new();
    }
    IpFields::read(obj)
        .cluster_ips
        .iter()
        .filter(|ip| family_of(ip).is_some())
        .filter_map(|ip| ip.parse().ok())
        .collect()
}

/// After a successful update: free the ClusterIPs and node ports the old object had and
/// the new one does not, and the health-check node port the new one no longer needs.
pub async fn release_unused(store: &Store, new: &Value, old: &Value) {
    let ips_now = held_ips(new);
    for ip in held_ips(old) {
        if !ips_now.contains(&ip) {
            release_key(store, &ip_key(store, ip)).await;
        }
    }
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

/// Free a deleted Service's ClusterIPs (both families) and NodePorts.
pub async fn release_service(store: &Store, obj: &Value) {
    for ip in held_ips(obj) {
        release_key(store, &ip_key(store, ip)).await;
    }
    for p in node_ports(obj) {
        release_key(store, &port_key(store, p)).await;
    }
    if let Some(p) = health_check::held(obj) {
        release_key(store, &port_key(store, p)).await;
    }
}
