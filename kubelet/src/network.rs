//! The pod network as the kubelet sets it up: the CNI conflist containerd reads (a bridge on
//! the node's pod CIDR with host-local IPAM), each sandbox's DNS configuration, and the
//! `/etc/hosts` file mounted into containers.
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Pod;
use proto::cri::v1 as cri;

/// The default bridge the pods of this node attach to (`--cni-bridge-name`).
pub const DEFAULT_BRIDGE: &str = "rudder0";
const CONFLIST_NAME: &str = "10-rudder.conflist";

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("pod CIDR {0:?} is not an IPv4 or IPv6 CIDR with room for pods")]
    BadCidr(String),
    #[error("pod CIDRs {0:?}: at most one per IP family")]
    TooManyCidrs(Vec<String>),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The gateway (first host) address of a pod CIDR; the CIDR must leave room for pods.
fn gateway(cidr: &str) -> Result<IpAddr, NetworkError> {
    let bad = || NetworkError::BadCidr(cidr.to_string());
    let net: ipnet::IpNet = cidr.parse().map_err(|_| bad())?;
    match net.trunc() {
        ipnet::IpNet::V4(v4) if v4.prefix_len() <= 30 => {
            Ok(IpAddr::V4((u32::from(v4.network()) + 1).into()))
        }
        ipnet::IpNet::V6(v6) if v6.prefix_len() <= 126 => {
            Ok(IpAddr::V6((u128::from(v6.network()) + 1).into()))
        }
        _ => Err(bad()),
    }
}

/// The conflist for the node's pod CIDRs (`spec.podCIDRs`: one, or one per family on a
/// dual-stack node): one bridge plugin with host-local IPAM handing each pod an address from
/// every range (its own data dir under the kubelet's root), and portmap for hostPort
/// mappings. The first CIDR's family is the pod's primary IP, as upstream orders podIPs.
pub fn conflist(
    bridge: &str,
    pod_cidrs: &[String],
    ipam_dir: &Path,
) -> Result<serde_json::Value, NetworkError> {
    let mut ranges = Vec::new();
    let mut routes = Vec::new();
    let mut families = Vec::new();
    for cidr in pod_cidrs {
        let gateway = gateway(cidr)?;
        if families.contains(&gateway.is_ipv4()) {
            return Err(NetworkError::TooManyCidrs(pod_cidrs.to_vec()));
        }
        families.push(gateway.is_ipv4());
        ranges.push(serde_json::json!([{"subnet": cidr, "gateway": gateway.to_string()}]));
        routes
            .push(serde_json::json!({"dst": if gateway.is_ipv4() { "0.0.0.0/0" } else { "::/0" }}));
    }
    if ranges.is_empty() {
        return Err(NetworkError::BadCidr(String::new()));
    }
    Ok(serde_json::json!({
        "cniVersion": "0.4.0",
        "name": "rudder",
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "dataDir": ipam_dir,
                    "ranges": ranges,
                    "routes": routes
                }
            },
            {"type": "portmap", "capabilities": {"portMappings": true}}
        ]
    }))
}

/// Writes the conflist atomically (containerd watches the directory and must never read a
/// half-written file).
pub fn write_conflist(
    conf_dir: &Path,
    bridge: &str,
    pod_cidrs: &[String],
    ipam_dir: &Path,
) -> Result<(), NetworkError> {
    let text =
        serde_json::to_string_pretty(&conflist(bridge, pod_cidrs, ipam_dir)?).unwrap_or_default();
    let path = conf_dir.join(CONFLIST_NAME);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let io = |source| NetworkError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(conf_dir).map_err(io)?;
    std::fs::create_dir_all(ipam_dir).map_err(io)?;
    common::atomic_file::write(&path, text.as_bytes(), 0o644).map_err(io)
}

/// Cluster DNS settings from the kubelet's flags.
#[derive(Clone, Debug)]
pub struct DnsSettings {
    pub cluster_dns: Vec<IpAddr>,
    pub cluster_domain: String,
    pub resolv_conf: PathBuf,
}

/// The host's resolver settings (for dnsPolicy Default).
fn host_dns(resolv_conf: &Path) -> cri::DnsConfig {
    let text = std::fs::read_to_string(resolv_conf).unwrap_or_default();
    let mut dns = cri::DnsConfig::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => dns.servers.extend(words.next().map(String::from)),
            Some("search") => dns.searches = words.map(String::from).collect(),
            Some("options") => dns.options.extend(words.map(String::from)),
            _ => {}
        }
    }
    dns
}

/// The sandbox's DNS config for the pod's dnsPolicy, as upstream builds it.
pub fn dns_config(pod: &Pod, settings: &DnsSettings) -> Option<cri::DnsConfig> {
    let spec = pod.spec.as_ref()?;
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let host_network = spec.host_network.unwrap_or(false);
    let policy = spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    let cluster_first = || cri::DnsConfig {
        servers: settings
            .cluster_dns
            .iter()
            .map(|ip| ip.to_string())
            .collect(),
        searches: vec![
            format!("{namespace}.svc.{}", settings.cluster_domain),
            format!("svc.{}", settings.cluster_domain),
            settings.cluster_domain.clone(),
        ],
        options: vec!["ndots:5".into()],
    };
    let mut dns = match policy {
        "None" => cri::DnsConfig::default(),
        // Without --cluster-dns, upstream falls back to the host's resolver.
        "ClusterFirst" if !host_network && !settings.cluster_dns.is_empty() => cluster_first(),
        "ClusterFirstWithHostNet" if !settings.cluster_dns.is_empty() => cluster_first(),
        _ => host_dns(&settings.resolv_conf),
    };
    if let Some(config) = &spec.dns_config {
        dns.servers
            .extend(config.nameservers.iter().flatten().cloned());
        dns.searches
            .extend(config.searches.iter().flatten().cloned());
        for option in config.options.iter().flatten() {
            let Some(name) = option.name.as_deref() else {
                continue;
            };
            dns.options.retain(|o| o.split(':').next() != Some(name));
            dns.options.push(match &option.value {
                Some(v) => format!("{name}:{v}"),
                None => name.to_string(),
            });
        }
    }
    Some(dns)
}

/// The `/etc/hosts` content for a pod: localhost, the pod's own name on its IP, hostAliases.
pub fn hosts_file(pod: &Pod, pod_ip: Option<&str>, cluster_domain: &str) -> String {
    let mut text = String::from(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
    );
    let spec = pod.spec.as_ref();
    let hostname = pod_hostname(pod);
    if let Some(ip) = pod_ip {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        match spec.and_then(|s| s.subdomain.as_deref()) {
            Some(sub) if !sub.is_empty() => text.push_str(&format!(
                "{ip}\t{hostname}.{sub}.{namespace}.svc.{cluster_domain}\t{hostname}\n"
            )),
            _ => text.push_str(&format!("{ip}\t{hostname}\n")),
        }
    }
    let aliases = spec.and_then(|s| s.host_aliases.as_ref());
    if let Some(aliases) = aliases.filter(|a| !a.is_empty()) {
        text.push_str("\n# Entries added by HostAliases.\n");
        for alias in aliases {
            text.push_str(&format!(
                "{}\t{}\n",
                alias.ip,
                alias.hostnames.clone().unwrap_or_default().join("\t")
            ));
        }
    }
    text
}

/// The pod's hostname: spec.hostname, else the pod name (cut to 63 characters, as upstream).
pub fn pod_hostname(pod: &Pod) -> String {
    let name = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    let cut: String = name.chars().take(63).collect();
    cut.trim_end_matches(['-', '.']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflist_uses_the_cidr_gateway() {
        let list = conflist("cbr1", &["10.244.3.0/24".into()], Path::new("/tmp/ipam")).unwrap();
        assert_eq!(list["plugins"][0]["bridge"], "cbr1");
        let ipam = &list["plugins"][0]["ipam"];
        assert_eq!(ipam["ranges"].as_array().unwrap().len(), 1);
        assert_eq!(ipam["ranges"][0][0]["subnet"], "10.244.3.0/24");
        assert_eq!(ipam["ranges"][0][0]["gateway"], "10.244.3.1");
        assert_eq!(ipam["routes"], serde_json::json!([{"dst": "0.0.0.0/0"}]));
        assert!(conflist("b", &["10.244.0.0".into()], Path::new("/x")).is_err());
        assert!(conflist("b", &["10.244.0.0/31".into()], Path::new("/x")).is_err());
        assert!(conflist("b", &[], Path::new("/x")).is_err());
    }

    #[test]
    fn dual_stack_conflist_has_a_range_and_default_route_per_family() {
        let cidrs = [
            "fd00:10:244:3::/64".to_string(),
            "10.244.3.0/24".to_string(),
        ];
        let list = conflist("cbr1", &cidrs, Path::new("/tmp/ipam")).unwrap();
        let ipam = &list["plugins"][0]["ipam"];
        // The first CIDR's family comes first: host-local's first range is the pod's primary IP.
        assert_eq!(ipam["ranges"][0][0]["subnet"], "fd00:10:244:3::/64");
        assert_eq!(ipam["ranges"][0][0]["gateway"], "fd00:10:244:3::1");
        assert_eq!(ipam["ranges"][1][0]["gateway"], "10.244.3.1");
        assert_eq!(
            ipam["routes"],
            serde_json::json!([{"dst": "::/0"}, {"dst": "0.0.0.0/0"}])
        );
        let same_family = ["10.244.3.0/24".to_string(), "10.244.4.0/24".to_string()];
        assert!(matches!(
            conflist("b", &same_family, Path::new("/x")),
            Err(NetworkError::TooManyCidrs(_))
        ));
    }

    #[test]
    fn cluster_first_dns_and_fallback() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns1"},
            "spec": {"containers": [], "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}}
        }))
        .unwrap();
        let settings = DnsSettings {
            cluster_dns: vec!["10.96.0.10".parse().unwrap()],
            cluster_domain: "cluster.local".into(),
            resolv_conf: "/nonexistent".into(),
        };
        let dns = dns_config(&pod, &settings).unwrap();
        assert_eq!(dns.servers, vec!["10.96.0.10"]);
        assert_eq!(dns.searches[0], "ns1.svc.cluster.local");
        assert_eq!(dns.options, vec!["ndots:2"]);
        let no_dns = DnsSettings {
            cluster_dns: vec![],
            ..settings
        };
        assert!(dns_config(&pod, &no_dns).unwrap().servers.is_empty());
    }

    #[test]
    fn hosts_file_names_the_pod() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-0", "namespace": "ns1"},
            "spec": {"containers": [], "subdomain": "web",
                     "hostAliases": [{"ip": "10.1.1.1", "hostnames": ["a", "b"]}]}
        }))
        .unwrap();
        let text = hosts_file(&pod, Some("10.244.0.5"), "cluster.local");
        assert!(text.contains("10.244.0.5\tweb-0.web.ns1.svc.cluster.local\tweb-0\n"));
        assert!(text.contains("10.1.1.1\ta\tb\n"));
    }
}
