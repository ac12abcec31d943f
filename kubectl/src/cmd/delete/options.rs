//! `kubectl delete`'s flags turned into what the command does, with upstream's refusals and
//! warnings: the cascading strategy, the effective grace period, the wait timeout, and the
//! combinations `--raw` and `-o` refuse (the dry-run strategy is `print_flags::DryRunFlag`).

use std::time::Duration;

use crate::error::{KubectlError, Result};
use crate::flags::go_bool;

/// `--cascade` as a DeleteOptions propagationPolicy; Go booleans still work, with a warning.
pub fn propagation_policy(cascade: &str) -> Result<&'static str> {
    if let Ok(b) = go_bool(cascade) {
        let (policy, word) = if b {
            ("Background", "background")
        } else {
            ("Orphan", "orphan")
        };
        eprintln!(
            "warning: --cascade={cascade} is deprecated (boolean value) and can be replaced with --cascade={word}."
        );
        return Ok(policy);
    }
    Ok(match cascade {
        "background" => "Background",
        "foreground" => "Foreground",
        "orphan" => "Orphan",
        other => {
            return Err(KubectlError::usage(format!(
                "invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""
            )))
        }
    })
}

/// The grace period sent (None: the server's default), from `--grace-period`, `--now` and
/// `--force` as upstream combines them (`--force` with a positive one is refused later, by
/// [`validate`]).
pub fn grace_period(grace_period: i64, now: bool, force: bool) -> Result<Option<i64>> {
    let mut grace = grace_period;
    if now {
        if grace != -1 {
            return Err(KubectlError::usage(
                "--now and --grace-period cannot be specified together",
            ));
        }
        grace = 1;
    }
    // Zero without --force would skip graceful deletion; upstream turns it into one second.
    if grace == 0 && !force {
        grace = 1;
    }
    if force && grace < 0 {
        grace = 0;
    }
    Ok((grace >= 0).then_some(grace))
}

/// What upstream warns about a deletion that does not wait for the resource to stop.
pub const IMMEDIATE_DELETION_WARNING: &str = "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.";

/// How long to wait for the objects to be gone: `--timeout`, where zero (the default)
/// means a week, as upstream's delete sets it, and a negative one no limit (which client-go
/// logs as an error when the wait starts).
pub fn wait_timeout(timeout_secs: f64) -> Option<Duration> {
    if timeout_secs < 0.0 {
        crate::klog::error(
            "until.go",
            159,
            "Timeout for context shall not be negative!",
        );
        None
    } else if timeout_secs == 0.0 {
        Some(Duration::from_secs(168 * 3600))
    } else {
        Some(Duration::from_secs_f64(timeout_secs))
    }
}

/// The flags `--raw` and `-o` limit, as upstream checks them.
pub struct Checked<'a> {
    /// `-o`
    pub output: &'a str,
    /// `--all`
    pub all: bool,
    /// `-l` is set.
    pub label_selector: bool,
    /// `--field-selector` is set.
    pub field_selector: bool,
    /// `--raw`, when non-empty.
    pub raw: Option<&'a str>,
    /// `-i`
    pub interactive: bool,
    /// `-f` values.
    pub filenames: &'a [String],
    /// `-R`
    pub recursive: bool,
    /// The grace period [`grace_period`] settled on.
    pub grace: Option<i64>,
    /// `--force`
    pub force: bool,
}

/// Upstream's Validate step.
pub fn validate(c: &Checked<'_>) -> Result<()> {
    if !c.output.is_empty() && c.output != "name" {
        return Err(KubectlError::usage(format!(
            "unexpected -o output mode: {}. We only support '-o name'",
            c.output
        )));
    }
    if c.all && c.label_selector {
        return Err(KubectlError::usage(
            "cannot set --all and --selector at the same time",
        ));
    }
    if c.all && c.field_selector {
        return Err(KubectlError::usage(
            "cannot set --all and --field-selector at the same time",
        ));
    }
    match c.grace {
        Some(0) if c.force => eprintln!("{IMMEDIATE_DELETION_WARNING}"),
        Some(g) if g > 0 && c.force => {
            return Err(KubectlError::usage(
                "--force and --grace-period greater than 0 cannot be specified together",
            ))
        }
        _ => {}
    }
    let Some(raw) = c.raw else {
        return Ok(());
    };
    if c.interactive {
        return Err(KubectlError::usage(
            "--interactive can not be used with --raw",
        ));
    }
    match c.filenames {
        [] => {}
        [one] if one.starts_with("http://") || one.starts_with("https://") => {
            return Err(KubectlError::usage("--raw cannot read from a url"));
        }
        [_] => {}
        _ => {
            return Err(KubectlError::usage(
                "--raw can only use a single local file or stdin",
            ))
        }
    }
    if c.recursive {
        return Err(KubectlError::usage(
            "--raw and --recursive are mutually exclusive",
        ));
    }
    if !c.output.is_empty() {
        return Err(KubectlError::usage(
            "--raw and --output are mutually exclusive",
        ));
    }
    crate::cmd::get::raw::check_uri(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cascade_words_and_old_booleans() {
        assert_eq!(propagation_policy("background").unwrap(), "Background");
        assert_eq!(propagation_policy("foreground").unwrap(), "Foreground");
        assert_eq!(propagation_policy("orphan").unwrap(), "Orphan");
        assert_eq!(propagation_policy("false").unwrap(), "Orphan");
        assert_eq!(propagation_policy("1").unwrap(), "Background");
        assert_eq!(
            propagation_policy("bad").unwrap_err().to_string(),
            "error: invalid cascade value (bad). Must be \"background\", \"foreground\", or \"orphan\""
        );
    }

    #[test]
    fn grace_periods_as_upstream_combines_them() {
        assert_eq!(grace_period(-1, false, false).unwrap(), None);
        assert_eq!(grace_period(-1, true, false).unwrap(), Some(1));
        assert_eq!(grace_period(0, false, false).unwrap(), Some(1));
        assert_eq!(grace_period(-1, false, true).unwrap(), Some(0));
        assert_eq!(grace_period(0, false, true).unwrap(), Some(0));
        assert_eq!(grace_period(30, false, false).unwrap(), Some(30));
        assert!(grace_period(3, true, false)
            .unwrap_err()
            .to_string()
            .contains("--now and --grace-period cannot be specified together"));
        assert_eq!(grace_period(3, false, true).unwrap(), Some(3));
    }

    #[test]
    fn zero_timeout_waits_a_week() {
        assert_eq!(wait_timeout(0.0), Some(Duration::from_secs(604_800)));
        assert_eq!(wait_timeout(1.5), Some(Duration::from_millis(1500)));
        assert_eq!(wait_timeout(-1.0), None);
    }

    fn checked<'a>(output: &'a str, raw: Option<&'a str>, files: &'a [String]) -> Checked<'a> {
        Checked {
            output,
            all: false,
            label_selector: false,
            field_selector: false,
            raw,
            interactive: false,
            filenames: files,
            recursive: false,
            grace: None,
            force: false,
        }
    }

    #[test]
    fn raw_refusals_in_upstream_order() {
        let err = |c: &Checked<'_>| validate(c).unwrap_err().to_string();
        assert!(validate(&checked("", Some("/api"), &[])).is_ok());
        assert!(validate(&checked("name", None, &[])).is_ok());
        assert_eq!(
            err(&checked("json", Some("/api"), &[])),
            "error: unexpected -o output mode: json. We only support '-o name'"
        );
        assert_eq!(
            err(&checked("name", Some("/api"), &[])),
            "error: --raw and --output are mutually exclusive"
        );
        let two = ["a".to_string(), "b".to_string()];
        assert_eq!(
            err(&checked("", Some("/api"), &two)),
            "error: --raw can only use a single local file or stdin"
        );
        let url = ["https://x/y".to_string()];
        assert_eq!(
            err(&checked("", Some("/api"), &url)),
            "error: --raw cannot read from a url"
        );
        let mut c = checked("", Some("/api"), &[]);
        c.interactive = true;
        assert_eq!(err(&c), "error: --interactive can not be used with --raw");
        let mut c = checked("", Some("/api"), &[]);
        c.recursive = true;
        assert_eq!(
            err(&c),
            "error: --raw and --recursive are mutually exclusive"
        );
        let mut c = checked("", None, &[]);
        c.all = true;
        c.label_selector = true;
        assert_eq!(
            err(&c),
            "error: cannot set --all and --selector at the same time"
        );
        let mut c = checked("", Some("api"), &[]);
        c.force = true;
        c.grace = Some(3);
        assert_eq!(
            err(&c),
            "error: --force and --grace-period greater than 0 cannot be specified together"
        );
        assert_eq!(
            err(&checked("", Some("api"), &[])),
            "error: --raw must be a valid URL path: parse \"api\": invalid URI for request"
        );
    }
}
