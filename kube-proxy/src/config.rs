//! Command-line flags, named as upstream's, and their validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipnet::IpNet;

/// Flags, named as upstream's.
#[derive(Debug, Parser)]
#[command(name = "kube-proxy", version)]
pub struct Flags {
    /// Path to a kubeconfig with the apiserver's address and credentials.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Which proxy mode to use; only `nftables` exists in Rudder (empty means nftables).
    #[arg(long, default_value = "nftables")]
    pub proxy_mode: String,
    /// Pod ranges (comma-separated, IPv4 and/or IPv6 on a dual-stack cluster); traffic to a
    /// cluster IP from outside them (of the same family) is masqueraded.
    #[arg(long, default_value = "")]
    pub cluster_cidr: String,
    /// Masquerade all traffic sent to cluster IPs.
    #[arg(long, default_value_t = false)]
    pub masquerade_all: bool,
    /// This node's name, used for the `Local` traffic policies (default: the hostname).
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// Ranges (comma-separated, either family) of local addresses that answer on node ports;
    /// a family without a range answers on every local address of that family (127.0.0.1
    /// included; never ::1).
    #[arg(long, default_value = "")]
    pub nodeport_addresses: String,
    /// Address of the /healthz server; empty disables it.
    #[arg(long, default_value = "0.0.0.0:10256")]
    pub healthz_bind_address: String,
    /// Address of the /metrics server; empty disables it.
    #[arg(long, default_value = "127.0.0.1:10249")]
    pub metrics_bind_address: String,
    /// Least time between two syncs of the rules (e.g. `1s`, `500ms`).
    #[arg(long, default_value = "1s", value_parser = common::duration::parse_flag)]
    pub min_sync_period: Duration,
    /// Time between full rewrites of the rules (e.g. `30s`, `1m`).
    #[arg(long, default_value = "30s", value_parser = common::duration::parse_flag)]
    pub sync_period: Duration,
    /// Remove kube-proxy's nftables table and exit.
    #[arg(long, default_value_t = false)]
    pub cleanup: bool,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

/// Why the flags cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlagError {
    /// `--proxy-mode` other than nftables.
    #[error("--proxy-mode={0:?} is not supported: Rudder's kube-proxy implements only the \"nftables\" mode")]
    UnsupportedMode(String),
    /// A CIDR that does not parse.
    #[error("{flag}: invalid CIDR {value:?}")]
    BadCidr {
        /// The flag.
        flag: &'static str,
        /// The bad entry.
        value: String,
    },
    /// A host:port that does not parse.
    #[error("{flag}: invalid address {value:?} (want IP:port)")]
    BadAddress {
        /// The flag.
        flag: &'static str,
        /// The bad value.
        value: String,
    },
}

/// Parse a comma-separated CIDR list of either family (a bare address counts as /32 or /128).
pub fn parse_cidrs(flag: &'static str, value: &str) -> Result<Vec<IpNet>, FlagError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| FlagError::BadCidr {
                    flag,
                    value: s.to_string(),
                })
        })
        .collect()
}

/// Parse a bind address flag; empty means disabled.
pub fn parse_bind(flag: &'static str, value: &str) -> Result<Option<SocketAddr>, FlagError> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| FlagError::BadAddress {
        flag,
        value: value.to_string(),
    })
}

/// Accept nftables (or empty, upstream's "default"), refuse the rest clearly.
pub fn check_mode(mode: &str) -> Result<(), FlagError> {
    match mode {
        "" | "nftables" => Ok(()),
        other => Err(FlagError::UnsupportedMode(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nftables_mode_is_accepted() {
        assert!(check_mode("nftables").is_ok());
        assert!(check_mode("").is_ok());
        let err = check_mode("iptables").unwrap_err();
        assert!(err.to_string().contains("only the \"nftables\" mode"));
        assert!(check_mode("ipvs").is_err());
    }

    #[test]
    fn cidr_lists_parse_and_reject_garbage() {
        let nets = parse_cidrs("--cluster-cidr", "10.244.0.0/16, 192.0.2.7").unwrap();
        assert_eq!(nets[0].to_string(), "10.244.0.0/16");
        assert_eq!(nets[1].to_string(), "192.0.2.7/32");
        assert!(parse_cidrs("--cluster-cidr", "").unwrap().is_empty());
        let dual = parse_cidrs("--cluster-cidr", "10.244.0.0/16,fd00:10:244::/56").unwrap();
        assert_eq!(dual[1].to_string(), "fd00:10:244::/56");
        assert_eq!(
            parse_cidrs("--nodeport-addresses", "2001:db8::1").unwrap()[0].to_string(),
            "2001:db8::1/128"
        );
        assert!(parse_cidrs("--cluster-cidr", "fd00::/129").is_err());
        assert!(parse_cidrs("--cluster-cidr", "nope").is_err());
    }

    #[test]
    fn bind_addresses() {
        assert_eq!(
            parse_bind("--metrics-bind-address", "127.0.0.1:10249").unwrap(),
            Some("127.0.0.1:10249".parse().unwrap())
        );
        assert_eq!(parse_bind("--metrics-bind-address", "").unwrap(), None);
        assert!(parse_bind("--metrics-bind-address", "localhost").is_err());
    }
}
