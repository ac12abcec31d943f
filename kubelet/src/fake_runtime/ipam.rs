//! Pod addresses for the fake runtime: what a CNI host-local IPAM plugin would hand out from
//! the node's pod CIDR (the network address and the gateway `.1` are never given to a pod).
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpamError {
    #[error("pod CIDR {0:?} is not an IPv4 CIDR (a.b.c.d/n, n in 8..=30)")]
    BadCidr(String),
    #[error("pod CIDR {0} has no free address")]
    Exhausted(String),
}

/// Hands out IPv4 addresses of one CIDR, lowest free first, and takes them back.
#[derive(Debug, Clone)]
pub struct Ipam {
    cidr: String,
    network: u32,
    size: u32,
    in_use: BTreeSet<u32>,
}

impl Ipam {
    /// Parses `a.b.c.d/n`. The host bits of the address are ignored, as CNI does.
    pub fn new(cidr: &str) -> Result<Ipam, IpamError> {
        let bad = || IpamError::BadCidr(cidr.to_string());
        let (addr, prefix) = cidr.trim().split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u32 = prefix.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(bad());
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Ipam {
            cidr: cidr.trim().to_string(),
            network: u32::from(addr) & mask,
            size: 1 << (32 - prefix),
            in_use: BTreeSet::new(),
        })
    }

    /// The CIDR as given.
    pub fn cidr(&self) -> &str {
        &self.cidr
    }

    /// The lowest free address: offsets 0 (network), 1 (gateway) and the broadcast address
    /// are skipped.
    pub fn allocate(&mut self) -> Result<Ipv4Addr, IpamError> {
        let offset = (2..self.size - 1)
            .find(|o| !self.in_use.contains(o))
            .ok_or_else(|| IpamError::Exhausted(self.cidr.clone()))?;
        self.in_use.insert(offset);
        Ok(Ipv4Addr::from(self.network + offset))
    }

    /// Gives an address back (addresses outside the CIDR are ignored: they came from an
    /// older CIDR that UpdateRuntimeConfig replaced).
    pub fn release(&mut self, ip: Ipv4Addr) {
        let ip = u32::from(ip);
        if ip >= self.network && ip - self.network < self.size {
            self.in_use.remove(&(ip - self.network));
        }
    }

    /// Marks an address taken (when a new CIDR replaces the old one, addresses pods already
    /// hold must not be handed out again).
    pub fn reserve(&mut self, ip: Ipv4Addr) {
        let ip = u32::from(ip);
        if ip >= self.network && ip - self.network < self.size {
            self.in_use.insert(ip - self.network);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_lowest_free_and_reuses_released() {
        let mut ipam = Ipam::new("10.244.3.7/24").unwrap();
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 2));
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 3));
        ipam.release(Ipv4Addr::new(10, 244, 3, 2));
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 2));
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 4));
    }

    #[test]
    fn exhausts_a_small_cidr() {
        // /30: network, gateway, one pod address, broadcast.
        let mut ipam = Ipam::new("192.168.0.0/30").unwrap();
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(192, 168, 0, 2));
        assert!(matches!(ipam.allocate(), Err(IpamError::Exhausted(_))));
    }

    #[test]
    fn rejects_bad_cidrs() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/31",
            "fd00::/64",
            "x/24",
        ] {
            assert!(Ipam::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn reserve_skips_held_addresses() {
        let mut ipam = Ipam::new("10.1.0.0/24").unwrap();
        ipam.reserve(Ipv4Addr::new(10, 1, 0, 2));
        ipam.reserve(Ipv4Addr::new(10, 9, 0, 3)); // outside: ignored
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 1, 0, 3));
    }
}
