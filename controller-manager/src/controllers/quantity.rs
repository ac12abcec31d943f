//! Resource quantities (`1Gi`, `500m`, `1e3`) as numbers, for comparing sizes.
//!
//! Values are kept in thousandths (milli-units) so CPU's `m` suffix stays exact.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The quantity in milli-units, or `None` when it is not a valid quantity.
pub fn milli(q: &str) -> Option<i128> {
    let s = q.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse().ok()?),
        _ => return None,
    };
    Some((number * factor * 1000.0).round() as i128)
}

/// [`milli`] of a k8s-openapi `Quantity`.
pub fn milli_of(q: &Quantity) -> Option<i128> {
    milli(&q.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_and_milli_suffixes() {
        assert_eq!(milli("1Gi"), Some(1024 * 1024 * 1024 * 1000));
        assert_eq!(milli("500m"), Some(500));
        assert_eq!(milli("2"), Some(2000));
        assert_eq!(milli("1.5k"), Some(1_500_000));
        assert_eq!(milli("1e3"), Some(1_000_000));
        assert!(milli("1Gi") > milli("1G"));
        assert_eq!(milli("ten"), None);
        assert_eq!(milli("1Qi"), None);
    }
}
