//! Lines in klog's format, for the few messages upstream's kubectl logs through klog rather
//! than prints (`--dry-run=true` deprecation, prune's default allowlist, a negative
//! `delete --timeout`), so stderr has the same shape:
//! `Wmmdd hh:mm:ss.uuuuuu PID file:line] text`.

/// Writes a warning as klog does, naming upstream's source `file` and `line` as klog would.
pub fn warning(file: &str, line: u32, text: &str) {
    eprintln!("{}", format_line('W', file, line, text));
}

/// Writes an error as klog does.
pub fn error(file: &str, line: u32, text: &str) {
    eprintln!("{}", format_line('E', file, line, text));
}

/// One klog line with severity letter `severity`, stamped now.
fn format_line(severity: char, file: &str, line: u32, text: &str) -> String {
    format!(
        "{severity}{} {:>7} {file}:{line}] {text}",
        chrono::Local::now().format("%m%d %H:%M:%S%.6f"),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_severity_date_pid_and_source() {
        let line = format_line('W', "helpers.go", 702, "careful");
        assert!(line.starts_with('W'), "{line}");
        assert!(line.ends_with(" helpers.go:702] careful"), "{line}");
        let pid = std::process::id().to_string();
        assert!(line.contains(&format!(" {pid} ")), "{line}");
        // `mmdd hh:mm:ss.uuuuuu` right after the letter.
        let stamp = &line[1..21];
        assert_eq!(stamp.as_bytes()[4], b' ', "{line}");
        assert_eq!(stamp.as_bytes()[13], b'.', "{line}");
    }
}
