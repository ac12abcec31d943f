//! Resource quantities (`100m`, `1.5Gi`, `2e3`) as exact milli-units: what admission
//! (LimitRanger, ResourceQuota) and the quota and volume controllers compare.

/// The value of `q` in thousandths of a unit, rounded up (as upstream's `MilliValue`);
/// `None` when `q` is not a quantity.
pub fn parse_milli(q: &str) -> Option<i128> {
    parse_scaled(q.trim(), 3)
}

/// The value of `q` times 10^`exp10`, its magnitude rounded up.
fn parse_scaled(q: &str, exp10: i32) -> Option<i128> {
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
    // value = int(whole frac) * 10^(scale.1 - len(frac)) * scale.0, scaled by 10^exp10.
    let int: i128 = format!("{whole}{frac}").parse().ok()?;
    let exp = scale.1 - frac.len() as i32 + exp10;
    let scaled = int.checked_mul(scale.0)?;
    let value = if exp >= 0 {
        scaled.checked_mul(10i128.checked_pow(exp as u32)?)?
    } else {
        let div = 10i128.checked_pow((-exp) as u32)?;
        scaled / div + i128::from(scaled % div != 0)
    };
    Some(if negative { -value } else { value })
}

/// How a quantity was written, which its canonical form keeps (upstream's `Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `1500m`, `2k`, `3`.
    DecimalSi,
    /// `128Mi`, `1Gi`.
    BinarySi,
    /// `1e3`.
    DecimalExponent,
}

fn format_of(q: &str) -> Option<Format> {
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    Some(match &q[split..] {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => Format::DecimalSi,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => Format::BinarySi,
        s if s.starts_with(['e', 'E']) => Format::DecimalExponent,
        _ => return None,
    })
}

const NANO: u128 = 1_000_000_000;

/// The form upstream stores and serves a quantity in (`Quantity.String()`): precision down
/// to 1n (rounded up), the way it was written kept — `0.5` is `500m`, `1.5Gi` is `1536Mi`,
/// `2000m` is `2`, `1e3` stays `1e3` — and binary suffixes only for whole numbers of at
/// least 1024. `None` when `q` is not a quantity.
pub fn canonical(q: &str) -> Option<String> {
    if q.is_empty() || q.contains(char::is_whitespace) {
        return None;
    }
    let mut format = format_of(q)?;
    let nano = parse_scaled(q, 9)?;
    if nano == 0 {
        return Some("0".to_string());
    }
    let sign = if nano < 0 { "-" } else { "" };
    let magnitude = nano.unsigned_abs();
    if format == Format::BinarySi && (magnitude < 1024 * NANO || magnitude % NANO != 0) {
        format = Format::DecimalSi;
    }
    if format == Format::BinarySi {
        let (mut amount, mut exponent) = (magnitude / NANO, 0);
        while amount % 1024 == 0 && exponent < 6 {
            amount /= 1024;
            exponent += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exponent];
        return Some(format!("{sign}{amount}{suffix}"));
    }
    let (mut amount, mut exponent) = (magnitude, -9i32);
    while amount % 10 == 0 {
        amount /= 10;
        exponent += 1;
    }
    // Down to a multiple of three, so an SI suffix can name it.
    let extra = exponent.rem_euclid(3);
    amount *= 10u128.pow(extra as u32);
    exponent -= extra;
    let suffix = match (format, exponent) {
        (_, 0) => String::new(),
        (Format::DecimalExponent, e) => format!("e{e}"),
        (_, -9) => "n".into(),
        (_, -6) => "u".into(),
        (_, -3) => "m".into(),
        (_, 3) => "k".into(),
        (_, 6) => "M".into(),
        (_, 9) => "G".into(),
        (_, 12) => "T".into(),
        (_, 15) => "P".into(),
        (_, 18) => "E".into(),
        (_, e) => format!("e{e}"),
    };
    Some(format!("{sign}{amount}{suffix}"))
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

    #[test]
    fn canonical_forms_are_upstreams() {
        for (written, canonical_form) in [
            ("0.5", "500m"),
            ("0.1", "100m"),
            ("1.5", "1500m"),
            ("2000m", "2"),
            ("1000", "1k"),
            ("1024", "1024"),
            ("128974848", "128974848"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1000Mi", "1000Mi"),
            ("1024Mi", "1Gi"),
            ("1.5Ki", "1536"),
            ("512Ki", "512Ki"),
            ("100Mi", "100Mi"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("1E6", "1e6"),
            ("0", "0"),
            ("0Mi", "0"),
            ("+1", "1"),
            ("01", "1"),
            ("-100m", "-100m"),
            ("10u", "10u"),
            ("1n", "1n"),
            ("0.0000000001", "1n"),
            ("100G", "100G"),
        ] {
            assert_eq!(
                canonical(written).as_deref(),
                Some(canonical_form),
                "{written}"
            );
        }
        assert_eq!(canonical("lots"), None);
        assert_eq!(canonical("1 Gi"), None);
    }
}
