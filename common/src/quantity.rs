//! Resource quantities (`100m`, `1.5Gi`, `2e3`) as exact milli-units: what admission
//! (LimitRanger, ResourceQuota) and the quota and volume controllers compare.

/// The value of `q` in thousandths of a unit, rounded up (as upstream's `MilliValue`);
/// `None` when `q` is not a quantity.
pub fn parse_milli(q: &str) -> Option<i128> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let (mantissa, scale): (&str, (i128, i32)) = match suffix {
        "" => (number, (1, 0)),
        "n" => (number, (1, -9)),
        "u" => (number, (1, -6)),
        "m" => (number, (1, -3)),
        "k" => (number, (1, 3)),
        "M" => (number, (1, 6)),
        "G" => (number, (1, 9)),
        "T" => (number, (1, 12)),
        "P" => (number, (1, 15)),
        "E" => (number, (1, 18)),
        "Ki" => (number, (1 << 10, 0)),
        "Mi" => (number, (1 << 20, 0)),
        "Gi" => (number, (1 << 30, 0)),
        "Ti" => (number, (1 << 40, 0)),
        "Pi" => (number, (1 << 50, 0)),
        "Ei" => (number, (1 << 60, 0)),
        s if s.starts_with(['e', 'E']) => (number, (1, s[1..].parse().ok()?)),
        _ => return None,
    };
    let negative = mantissa.starts_with('-');
    let digits = mantissa.trim_start_matches(['+', '-']);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole
        .chars()
        .chain(frac.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    // value = int(whole frac) * 10^(scale.1 - len(frac)) * scale.0, in milli → +3.
    let int: i128 = format!("{whole}{frac}").parse().ok()?;
    let exp = scale.1 - frac.len() as i32 + 3;
    let scaled = int.checked_mul(scale.0)?;
    let value = if exp >= 0 {
        scaled.checked_mul(10i128.checked_pow(exp as u32)?)?
    } else {
        let div = 10i128.checked_pow((-exp) as u32)?;
        scaled / div + i128::from(scaled % div != 0)
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_and_fractions() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("1"), Some(1000));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_milli("1Gi"), Some(1000 * (1 << 30)));
        assert_eq!(parse_milli("128Mi"), Some(1000 * 128 * (1 << 20)));
        assert_eq!(parse_milli("2k"), Some(2_000_000));
        assert_eq!(parse_milli("1e3"), Some(1_000_000));
        assert_eq!(parse_milli("1n"), Some(1));
        assert_eq!(parse_milli("0.5Gi"), Some(500 * (1 << 30)));
        assert_eq!(parse_milli("abc"), None);
        assert_eq!(parse_milli("1Xi"), None);
        assert_eq!(parse_milli(""), None);
    }
}
