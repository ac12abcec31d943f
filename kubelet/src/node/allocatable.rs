//! Node allocatable: what the scheduler may hand out, as upstream computes it —
//! capacity − kube-reserved − system-reserved − the hard eviction threshold (memory and
//! ephemeral-storage), never below zero.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::eviction::thresholds::{Signal, Threshold};
use crate::pods::qos::parse_quantity;

/// A malformed `--kube-reserved` / `--system-reserved` entry.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid reserved resource {0:?} (want name=quantity, e.g. memory=100Mi)")]
pub struct ReservedError(String);

/// Amounts per resource: cpu in millicores, everything else in units (bytes, counts).
pub type Amounts = BTreeMap<String, i64>;

fn amount(name: &str, q: &Quantity) -> Option<i64> {
    parse_quantity(q, name == "cpu")
}

/// Sum `name=quantity` lists (both reserved flags) into amounts.
pub fn parse_reserved<'a>(
    entries: impl IntoIterator<Item = &'a String>,
) -> Result<Amounts, ReservedError> {
    let mut out = Amounts::new();
    for entry in entries
        .into_iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
    {
        let (name, value) = entry
            .split_once('=')
            .ok_or_else(|| ReservedError(entry.to_string()))?;
        let n = amount(name, &Quantity(value.to_string()))
            .filter(|n| *n >= 0)
            .ok_or_else(|| ReservedError(entry.to_string()))?;
        *out.entry(name.to_string()).or_default() += n;
    }
    Ok(out)
}

/// Allocatable from capacity, reservations and hard eviction thresholds.
pub fn compute(
    capacity: &BTreeMap<String, Quantity>,
    reserved: &Amounts,
    thresholds: &[Threshold],
) -> BTreeMap<String, Quantity> {
    capacity
        .iter()
        .map(|(name, q)| {
            let Some(cap) = amount(name, q) else {
                return (name.clone(), q.clone());
            };
            let eviction = thresholds
                .iter()
                .find(|t| match name.as_str() {
                    "memory" => t.signal == Signal::MemoryAvailable,
                    "ephemeral-storage" => t.signal == Signal::NodeFsAvailable,
                    _ => false,
                })
                .map(|t| t.amount(cap.max(0) as u64) as i64)
                .unwrap_or(0);
            let left = (cap - reserved.get(name).copied().unwrap_or(0) - eviction).max(0);
            (name.clone(), format_amount(name, left))
        })
        .collect()
}

/// As the Node shows them: cpu in millicores unless whole, memory in Ki, the rest plain.
fn format_amount(name: &str, n: i64) -> Quantity {
    Quantity(match name {
        "cpu" if n % 1000 == 0 => (n / 1000).to_string(),
        "cpu" => format!("{n}m"),
        "memory" if n % 1024 == 0 => format!("{}Ki", n / 1024),
        _ => n.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eviction::thresholds::parse_hard;

    #[test]
    fn reservations_and_hard_thresholds_come_off_capacity() {
        let capacity = BTreeMap::from([
            ("cpu".to_string(), Quantity("2".into())),
            ("memory".to_string(), Quantity("4Gi".into())),
            ("ephemeral-storage".to_string(), Quantity("1000Ki".into())),
            ("pods".to_string(), Quantity("110".into())),
        ]);
        let reserved = parse_reserved(&[
            "cpu=100m".to_string(),
            "memory=256Mi".to_string(),
            "memory=256Mi".to_string(),
        ])
        .unwrap();
        let thresholds = parse_hard("memory.available<100Mi,nodefs.available<10%").unwrap();
        let a = compute(&capacity, &reserved, &thresholds);
        assert_eq!(a["cpu"].0, "1900m");
        // 4096Mi - 512Mi - 100Mi = 3484Mi
        assert_eq!(a["memory"].0, format!("{}Ki", 3484 * 1024));
        assert_eq!(a["ephemeral-storage"].0, (1000 * 1024 - 102400).to_string());
        assert_eq!(a["pods"].0, "110");
    }

    #[test]
    fn bad_reservations_are_errors_and_nothing_goes_negative() {
        assert!(parse_reserved(&["memory".to_string()]).is_err());
        assert!(parse_reserved(&["memory=lots".to_string()]).is_err());
        let capacity = BTreeMap::from([("memory".to_string(), Quantity("1Mi".into()))]);
        let reserved = parse_reserved(&["memory=2Mi".to_string()]).unwrap();
        assert_eq!(compute(&capacity, &reserved, &[])["memory"].0, "0Ki");
    }
}
