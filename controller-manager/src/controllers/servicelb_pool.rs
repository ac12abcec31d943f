//! The address pool of the bare-metal LoadBalancer controller: a CIDR or an inclusive
//! `first-last` range of IPv4 addresses, and first-free allocation.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An inclusive range of IPv4 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    first: u32,
    last: u32,
}

/// A pool flag that does not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid service LoadBalancer pool {0:?}: want a CIDR (127.240.0.0/24) or a range (127.240.0.1-127.240.0.99)")]
pub struct PoolError(String);

impl FromStr for Pool {
    type Err = PoolError;

    /// `a.b.c.d/n` (network and broadcast addresses excluded when the prefix is shorter
    /// than /31) or `first-last`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PoolError(s.to_string());
        let s = s.trim();
        if let Some((first, last)) = s.split_once('-') {
            let first: Ipv4Addr = first.trim().parse().map_err(|_| err())?;
            let last: Ipv4Addr = last.trim().parse().map_err(|_| err())?;
            let (first, last) = (u32::from(first), u32::from(last));
            if first > last {
                return Err(err());
            }
            return Ok(Pool { first, last });
        }
        let (addr, prefix) = s.split_once('/').ok_or_else(err)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| err())?;
        let prefix: u32 = prefix.parse().map_err(|_| err())?;
        if prefix > 32 {
            return Err(err());
        }
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        let network = u32::from(addr) & mask;
        let broadcast = network | !mask;
        if prefix >= 31 {
            return Ok(Pool {
                first: network,
                last: broadcast,
            });
        }
        Ok(Pool {
            first: network + 1,
            last: broadcast - 1,
        })
    }
}

impl Pool {
    /// Whether `ip` is in the pool.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }

    /// The lowest address not in `used`.
    pub fn first_free(&self, used: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        (self.first..=self.last)
            .map(Ipv4Addr::from)
            .find(|ip| !used.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_range_parse() {
        let p: Pool = "127.240.0.0/24".parse().expect("cidr");
        assert!(!p.contains(Ipv4Addr::new(127, 240, 0, 0)));
        assert!(p.contains(Ipv4Addr::new(127, 240, 0, 1)));
        assert!(p.contains(Ipv4Addr::new(127, 240, 0, 254)));
        assert!(!p.contains(Ipv4Addr::new(127, 240, 0, 255)));
        let r: Pool = "127.0.0.10-127.0.0.11".parse().expect("range");
        assert!(r.contains(Ipv4Addr::new(127, 0, 0, 11)));
        assert!(!r.contains(Ipv4Addr::new(127, 0, 0, 12)));
        assert!("127.0.0.5-127.0.0.1".parse::<Pool>().is_err());
        assert!("nonsense".parse::<Pool>().is_err());
    }

    #[test]
    fn allocation_skips_used_and_ends_when_full() {
        let r: Pool = "127.0.0.10-127.0.0.11".parse().expect("range");
        let mut used = HashSet::new();
        assert_eq!(r.first_free(&used), Some(Ipv4Addr::new(127, 0, 0, 10)));
        used.insert(Ipv4Addr::new(127, 0, 0, 10));
        assert_eq!(r.first_free(&used), Some(Ipv4Addr::new(127, 0, 0, 11)));
        used.insert(Ipv4Addr::new(127, 0, 0, 11));
        assert_eq!(r.first_free(&used), None);
    }
}
