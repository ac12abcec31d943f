//! Just enough of apimachinery's `resource.Quantity` for `kubectl top`: parse a quantity and
//! read it as `MilliValue()` / `Value()`, both rounded up as upstream rounds them.

/// A quantity held exactly in nano-units (1e-9), enough for CPU nanocores and memory bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    nanos: i128,
}

impl Quantity {
    /// Parses `123456789n`, `250m`, `2`, `10436Ki`, `1.5Gi`, `1e3`; None when malformed.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (sign, s) = match s.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, s.strip_prefix('+').unwrap_or(s)),
        };
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(num_end);
        if number.is_empty() || number == "." {
            return None;
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let digits: String = format!("{int_part}{frac_part}");
        let mantissa: i128 = digits.parse().ok()?;
        // value = mantissa * 10^-frac * multiplier; track as mantissa * num / den.
        let mut num: i128 = 1_000_000_000; // to nanos
        let mut den: i128 = 10i128.checked_pow(frac_part.len() as u32)?;
        match suffix {
            "" => {}
            "n" => den = den.checked_mul(1_000_000_000)?,
            "u" => den = den.checked_mul(1_000_000)?,
            "m" => den = den.checked_mul(1_000)?,
            "k" => num *= 1_000,
            "M" => num *= 1_000_000,
            "G" => num *= 1_000_000_000,
            "T" => num *= 1_000_000_000_000,
            "P" => num *= 1_000_000_000_000_000,
            "E" => num *= 1_000_000_000_000_000_000,
            "Ki" => num <<= 10,
            "Mi" => num <<= 20,
            "Gi" => num <<= 30,
            "Ti" => num <<= 40,
            "Pi" => num <<= 50,
            "Ei" => num <<= 60,
            exp if exp.starts_with(['e', 'E']) => {
                let e: i32 = exp[1..].parse().ok()?;
                if e >= 0 {
                    num = num.checked_mul(10i128.checked_pow(e as u32)?)?;
                } else {
                    den = den.checked_mul(10i128.checked_pow((-e) as u32)?)?;
                }
            }
            _ => return None,
        }
        let total = mantissa.checked_mul(num)?;
        Some(Quantity {
            nanos: sign * div_ceil(total, den),
        })
    }

    /// The sum of two quantities.
    pub fn add(self, other: Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos + other.nanos,
        }
    }

    /// `MilliValue()`: thousandths, rounded up.
    pub fn milli_value(self) -> i64 {
        div_ceil(self.nanos, 1_000_000) as i64
    }

    /// `Value()`: whole units, rounded up.
    pub fn value(self) -> i64 {
        div_ceil(self.nanos, 1_000_000_000) as i64
    }
}

/// Division rounding toward positive infinity.
fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && (a > 0) == (b > 0) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn cpu_rounds_up_to_millicores() {
        assert_eq!(q("123456789n").milli_value(), 124);
        assert_eq!(q("123000000n").milli_value(), 123);
        assert_eq!(q("250m").milli_value(), 250);
        assert_eq!(q("2").milli_value(), 2000);
        assert_eq!(q("0").milli_value(), 0);
        assert_eq!(q("1.5").milli_value(), 1500);
        assert_eq!(q("1u").milli_value(), 1);
    }

    #[test]
    fn memory_units() {
        assert_eq!(q("10436Ki").value(), 10_686_464);
        assert_eq!(q("2Gi").value(), 2 << 30);
        assert_eq!(q("1k").value(), 1000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1500m").value(), 2);
        assert_eq!(q("5Mi").add(q("1Mi")).value(), 6 << 20);
    }

    #[test]
    fn malformed_quantities_are_rejected() {
        assert!(Quantity::parse("").is_none());
        assert!(Quantity::parse("abc").is_none());
        assert!(Quantity::parse("12Xi").is_none());
    }
}
