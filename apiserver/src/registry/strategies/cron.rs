//! Cron schedule syntax as CronJobs accept it (the standard five fields, or a descriptor such
//! as `@hourly` / `@every 1h`). Error texts follow the parser upstream uses, since they end up
//! in `spec.schedule` errors.

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// `Ok` when `spec` is a schedule the CronJob controller can run.
pub(crate) fn parse(spec: &str) -> Result<(), String> {
    let spec = spec.trim();
    if let Some(d) = spec.strip_prefix('@') {
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ if d.starts_with("every ") => duration(d["every ".len()..].trim())
                .then_some(())
                .ok_or_else(|| format!("failed to parse duration {spec}")),
            _ => Err(format!("unrecognized descriptor: {spec}")),
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {spec}",
            fields.len()
        ));
    }
    let bounds: [(u32, u32, &[&str], bool); 5] = [
        (0, 59, &[], false),
        (0, 23, &[], false),
        (1, 31, &[], true),
        (1, 12, MONTHS, false),
        (0, 6, DAYS, true),
    ];
    for (f, (min, max, names, question)) in fields.iter().zip(bounds) {
        for part in f.split(',') {
            range(part, min, max, names, question)?;
        }
    }
    Ok(())
}

fn duration(s: &str) -> bool {
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .find(|u| rest.starts_with(*u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
        any = true;
    }
    any
}

fn number(s: &str, names: &[&str], offset: u32) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + offset);
    }
    s.parse::<u32>().map_err(|_| {
        format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax")
    })
}

fn range(expr: &str, min: u32, max: u32, names: &[&str], question: bool) -> Result<(), String> {
    let (span, step) = match expr.split_once('/') {
        Some((_, s)) if s.contains('/') => return Err(format!("too many slashes: {expr}")),
        Some((span, step)) => (span, Some(step)),
        None => (expr, None),
    };
    let offset = if names.len() == 12 { 1 } else { 0 };
    let (start, end) = if span == "*" || (question && span == "?") {
        (min, max)
    } else {
        match span.split_once('-') {
            Some((_, e)) if e.contains('-') => return Err(format!("too many hyphens: {expr}")),
            Some((s, e)) => (number(s, names, offset)?, number(e, names, offset)?),
            None => {
                let n = number(span, names, offset)?;
                (n, if step.is_some() { max } else { n })
            }
        }
    };
    if let Some(step) = step {
        if number(step, &[], 0)? == 0 {
            return Err(format!("step of range should be a positive number: {expr}"));
        }
    }
    if start < min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({min}): {expr}"
        ));
    }
    if end > max {
        return Err(format!(
            "end of range ({end}) above maximum ({max}): {expr}"
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_schedules() {
        for s in [
            "*/5 * * * *",
            "0 0 * * 0",
            "0 9-17 * JAN-MAR mon,fri",
            "@hourly",
            "@every 1h30m",
            "0 0 ? * *",
        ] {
            assert!(parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_schedules_with_parser_messages() {
        assert_eq!(
            parse("hello").unwrap_err(),
            "expected exactly 5 fields, found 1: hello"
        );
        assert_eq!(
            parse("70 * * * *").unwrap_err(),
            "end of range (70) above maximum (59): 70"
        );
        assert!(parse("@sometimes").is_err());
    }
}
