//! Hard eviction thresholds (`--eviction-hard`): `memory.available<100Mi,nodefs.available<10%`,
//! as upstream writes them — a signal, `<`, and a quantity or a percentage of capacity.

use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::pods::qos::parse_quantity;

/// Upstream's Linux defaults for `--eviction-hard`.
pub const DEFAULT_HARD: &str =
    "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%";

/// An eviction signal: what is running out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    MemoryAvailable,
    NodeFsAvailable,
    NodeFsInodesFree,
    ImageFsAvailable,
    ImageFsInodesFree,
    PidAvailable,
}

impl Signal {
    fn parse(s: &str) -> Option<Signal> {
        Some(match s {
            "memory.available" => Signal::MemoryAvailable,
            "nodefs.available" => Signal::NodeFsAvailable,
            "nodefs.inodesFree" => Signal::NodeFsInodesFree,
            "imagefs.available" => Signal::ImageFsAvailable,
            "imagefs.inodesFree" => Signal::ImageFsInodesFree,
            "pid.available" => Signal::PidAvailable,
            _ => return None,
        })
    }

    /// The signal's name in flags and messages.
    pub fn name(self) -> &'static str {
        match self {
            Signal::MemoryAvailable => "memory.available",
            Signal::NodeFsAvailable => "nodefs.available",
            Signal::NodeFsInodesFree => "nodefs.inodesFree",
            Signal::ImageFsAvailable => "imagefs.available",
            Signal::ImageFsInodesFree => "imagefs.inodesFree",
            Signal::PidAvailable => "pid.available",
        }
    }

    /// The resource starved, as eviction messages name it.
    pub fn resource(self) -> &'static str {
        match self {
            Signal::MemoryAvailable => "memory",
            Signal::NodeFsAvailable | Signal::ImageFsAvailable => "ephemeral-storage",
            Signal::NodeFsInodesFree | Signal::ImageFsInodesFree => "inodes",
            Signal::PidAvailable => "pids",
        }
    }

    /// The node condition the signal drives.
    pub fn condition(self) -> Pressure {
        match self {
            Signal::MemoryAvailable => Pressure::Memory,
            Signal::PidAvailable => Pressure::Pid,
            _ => Pressure::Disk,
        }
    }
}

/// A node pressure condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pressure {
    Memory,
    Disk,
    Pid,
}

impl Pressure {
    /// `MemoryPressure`, `DiskPressure`, `PIDPressure`.
    pub fn condition_type(self) -> &'static str {
        match self {
            Pressure::Memory => "MemoryPressure",
            Pressure::Disk => "DiskPressure",
            Pressure::Pid => "PIDPressure",
        }
    }
}

/// How low a signal may go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// An absolute amount (bytes, inodes or pids).
    Amount(u64),
    /// A fraction (0–1] of capacity.
    Fraction(f64),
}

/// One hard threshold: `signal < limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub signal: Signal,
    pub limit: Limit,
    /// The limit as written (`100Mi`, `10%`), for messages.
    pub text: String,
}

impl Threshold {
    /// The limit in units for a signal whose capacity is `capacity`.
    pub fn amount(&self, capacity: u64) -> u64 {
        match self.limit {
            Limit::Amount(a) => a,
            Limit::Fraction(f) => (capacity as f64 * f).round() as u64,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{}", self.signal.name(), self.text)
    }
}

/// A malformed `--eviction-hard`.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid eviction threshold {entry:?}: {why}")]
pub struct ThresholdError {
    entry: String,
    why: &'static str,
}

/// Parse a comma list of thresholds; an empty string means none. A `0` or `0%` limit
/// disables its signal, as upstream treats it.
pub fn parse_hard(list: &str) -> Result<Vec<Threshold>, ThresholdError> {
    let mut out: Vec<Threshold> = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let err = |why| ThresholdError {
            entry: entry.to_string(),
            why,
        };
        let (name, value) = entry
            .split_once('<')
            .ok_or_else(|| err("only the operator < is supported"))?;
        let signal = Signal::parse(name.trim()).ok_or_else(|| err("unknown signal"))?;
        let value = value.trim();
        let limit = if let Some(pct) = value.strip_suffix('%') {
            let p: f64 = pct.parse().map_err(|_| err("bad percentage"))?;
            if !(0.0..=100.0).contains(&p) {
                return Err(err("percentage must be within 0% and 100%"));
            }
            Limit::Fraction(p / 100.0)
        } else {
            let n = parse_quantity(&Quantity(value.to_string()), false)
                .ok_or_else(|| err("bad quantity"))?;
            Limit::Amount(u64::try_from(n).map_err(|_| err("negative quantity"))?)
        };
        if out.iter().any(|t| t.signal == signal) {
            return Err(err("signal given twice"));
        }
        if matches!(limit, Limit::Amount(0)) || matches!(limit, Limit::Fraction(f) if f == 0.0) {
            continue;
        }
        out.push(Threshold {
            signal,
            limit,
            text: value.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_defaults_parse_into_four_thresholds() {
        let t = parse_hard(DEFAULT_HARD).expect("defaults");
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].signal, Signal::MemoryAvailable);
        assert_eq!(t[0].amount(8 << 30), 100 << 20);
        assert_eq!(t[1].signal, Signal::NodeFsAvailable);
        assert_eq!(t[1].amount(1000), 100);
        assert_eq!(t[0].to_string(), "memory.available<100Mi");
        assert_eq!(t[2].signal.condition(), Pressure::Disk);
    }

    #[test]
    fn bad_entries_are_rejected_and_zero_disables() {
        assert!(parse_hard("memory.available>1Gi").is_err());
        assert!(parse_hard("cpu.available<1").is_err());
        assert!(parse_hard("nodefs.available<120%").is_err());
        assert!(parse_hard("memory.available<lots").is_err());
        assert!(parse_hard("memory.available<1Gi,memory.available<2Gi").is_err());
        assert_eq!(
            parse_hard("memory.available<0%,nodefs.available<0"),
            Ok(vec![])
        );
        assert_eq!(parse_hard(""), Ok(vec![]));
    }
}
