//! A cluster CIDR cut into equal per-node subnets, with a record of which are taken
//! (upstream's `nodeipam/ipam/cidrset`). IPv4 and IPv6 alike: addresses are held as `u128`.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Most subnets one cluster CIDR may be cut into: upstream refuses a node mask more than 16
/// bits longer than the cluster's.
pub const MAX_PREFIX_DIFFERENCE: u8 = 16;

/// Why a CIDR or a set could not be made, or a subnet not be allocated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("invalid CIDR address: {0}")]
    Parse(String),
    #[error("--node-cidr-mask-size {node} must be at least the cluster CIDR's /{cluster} and at most {MAX_PREFIX_DIFFERENCE} bits longer")]
    MaskSize { cluster: u8, node: u8 },
    #[error("{0} is not a subnet of the cluster CIDR {1} of size /{2}")]
    NotInRange(Cidr, Cidr, u8),
    #[error("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")]
    Full,
}

/// An IP network: address (host bits zero) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    addr: u128,
    prefix: u8,
    v6: bool,
}

impl Cidr {
    /// Whether this is an IPv6 network.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn bits(&self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }
}

impl FromStr for Cidr {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Parse(s.to_string());
        let (ip, len) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = len.parse().map_err(|_| bad())?;
        let (addr, v6) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), false),
            IpAddr::V6(a) => (u128::from(a), true),
        };
        let bits = if v6 { 128 } else { 32 };
        if prefix > bits {
            return Err(bad());
        }
        // As Go's net.ParseCIDR: the network, host bits dropped.
        Ok(Cidr {
            addr: addr & mask(bits, prefix),
            prefix,
            v6,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v6 {
            write!(f, "{}/{}", Ipv6Addr::from(self.addr), self.prefix)
        } else {
            write!(f, "{}/{}", Ipv4Addr::from(self.addr as u32), self.prefix)
        }
    }
}

/// The network mask of `prefix` bits in a `bits`-bit address.
fn mask(bits: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let all: u128 = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    all & !((1u128 << (bits - prefix)) - 1)
}

/// The subnets of one cluster CIDR and which of them are in use.
#[derive(Debug)]
pub struct CidrSet {
    cluster: Cidr,
    node_prefix: u8,
    max: u128,
    used: BTreeSet<u128>,
    /// Where the next search starts, so freed subnets are not handed out again at once.
    next: u128,
}

impl CidrSet {
    /// Cut `cluster` into subnets of `/node_prefix`.
    pub fn new(cluster: Cidr, node_prefix: u8) -> Result<Self, Error> {
        if node_prefix < cluster.prefix
            || node_prefix > cluster.bits()
            || node_prefix - cluster.prefix > MAX_PREFIX_DIFFERENCE
        {
            return Err(Error::MaskSize {
                cluster: cluster.prefix,
                node: node_prefix,
            });
        }
        Ok(Self {
            cluster,
            node_prefix,
            max: 1u128 << (node_prefix - cluster.prefix),
            used: BTreeSet::new(),
            next: 0,
        })
    }

    fn subnet(&self, index: u128) -> Cidr {
        Cidr {
            addr: self.cluster.addr | (index << (self.cluster.bits() - self.node_prefix)),
            prefix: self.node_prefix,
            v6: self.cluster.v6,
        }
    }

    /// The index of `cidr` if it is exactly one of our subnets.
    fn index_of(&self, cidr: &Cidr) -> Result<u128, Error> {
        let inside = cidr.v6 == self.cluster.v6
            && cidr.prefix == self.node_prefix
            && cidr.addr & mask(self.cluster.bits(), self.cluster.prefix) == self.cluster.addr;
        if !inside {
            return Err(Error::NotInRange(*cidr, self.cluster, self.node_prefix));
        }
        Ok((cidr.addr - self.cluster.addr) >> (self.cluster.bits() - self.node_prefix))
    }

    /// Take the next free subnet.
    pub fn allocate_next(&mut self) -> Result<Cidr, Error> {
        for step in 0..self.max {
            let i = (self.next + step) % self.max;
            if self.used.insert(i) {
                self.next = (i + 1) % self.max;
                return Ok(self.subnet(i));
            }
        }
        Err(Error::Full)
    }

    /// Mark `cidr` as taken (a node that already has it).
    pub fn occupy(&mut self, cidr: &Cidr) -> Result<(), Error> {
        let i = self.index_of(cidr)?;
        self.used.insert(i);
        Ok(())
    }

    /// Give `cidr` back.
    pub fn release(&mut self, cidr: &Cidr) -> Result<(), Error> {
        let i = self.index_of(cidr)?;
        self.used.remove(&i);
        Ok(())
    }

    /// How many subnets are taken.
    pub fn used(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_networks_dropping_host_bits() {
        assert_eq!(cidr("10.244.3.7/16").to_string(), "10.244.0.0/16");
        assert_eq!(cidr("fd00:1::5/64").to_string(), "fd00:1::/64");
        assert!("10.0.0.0".parse::<Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn allocates_subnets_in_order_and_skips_occupied_ones() {
        let mut set = CidrSet::new(cidr("10.244.0.0/16"), 24).unwrap();
        set.occupy(&cidr("10.244.0.0/24")).unwrap();
        assert_eq!(set.allocate_next().unwrap(), cidr("10.244.1.0/24"));
        assert_eq!(set.allocate_next().unwrap(), cidr("10.244.2.0/24"));
        assert_eq!(set.used(), 3);
        // A released subnet is not reused before the rest of the range.
        set.release(&cidr("10.244.1.0/24")).unwrap();
        assert_eq!(set.allocate_next().unwrap(), cidr("10.244.3.0/24"));
    }

    #[test]
    fn a_full_range_says_so_and_frees_again() {
        let mut set = CidrSet::new(cidr("10.0.0.0/30"), 31).unwrap();
        let a = set.allocate_next().unwrap();
        let b = set.allocate_next().unwrap();
        assert_ne!(a, b);
        assert_eq!(set.allocate_next(), Err(Error::Full));
        set.release(&a).unwrap();
        assert_eq!(set.allocate_next().unwrap(), a);
    }

    #[test]
    fn foreign_subnets_and_bad_masks_are_refused() {
        let mut set = CidrSet::new(cidr("10.244.0.0/16"), 24).unwrap();
        assert!(set.occupy(&cidr("10.245.0.0/24")).is_err());
        assert!(set.occupy(&cidr("10.244.0.0/25")).is_err());
        assert!(CidrSet::new(cidr("10.0.0.0/8"), 25).is_err());
        assert!(CidrSet::new(cidr("10.244.0.0/16"), 15).is_err());
    }

    #[test]
    fn ipv6_ranges_work_too() {
        let mut set = CidrSet::new(cidr("fd00::/48"), 64).unwrap();
        assert_eq!(set.allocate_next().unwrap(), cidr("fd00::/64"));
        assert_eq!(set.allocate_next().unwrap(), cidr("fd00:0:0:1::/64"));
    }
}
