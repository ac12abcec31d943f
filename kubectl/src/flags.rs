//! The command line read as upstream's kubectl (cobra and pflag) reads it, on top of clap:
//! boolean flags take Go's optional `=value` (`--all-namespaces=false`, `-A=true`), and a
//! line clap refuses is reported with cobra's words and exit status (`Error: unknown flag:
//! --bogus` / `See 'kubectl get --help' for usage.`, exit 1) instead of clap's. (The
//! `/usr/bin/kubectl` here is Google's version dispatcher, which words some of these as
//! `Error:` when it cannot reach a server; kubectl itself says `error:`.)

use std::fmt;
use std::num::{ParseFloatError, ParseIntError};

use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use crate::cmd::Cli;
use crate::printers::go_template::go_quote;

/// Why a command line was not run.
#[derive(Debug)]
pub enum Refused {
    /// Help or version was asked for: clap prints it.
    Shown(clap::Error),
    /// A usage error, worded as upstream's, for stderr; kubectl then exits 1.
    Usage(String),
}

/// Parses `argv` (the program name first) as kubectl would.
pub fn parse(argv: Vec<String>) -> Result<Cli, Refused> {
    let command = go_style_bools(Cli::command());
    let matches = command
        .clone()
        .try_get_matches_from(&argv)
        .map_err(|e| refusal(e, &command, &argv))?;
    Cli::from_arg_matches(&matches).map_err(|e| refusal(e, &command, &argv))
}

/// Gives every boolean flag of `cmd` and its subcommands pflag's syntax: alone it means
/// true, and `--flag=VALUE` / `-f=VALUE` takes any value Go's `strconv.ParseBool` accepts.
fn go_style_bools(cmd: Command) -> Command {
    let bool_type = ValueParser::bool().type_id();
    let cmd = cmd.mut_args(|arg| {
        let boolean = matches!(arg.get_action(), ArgAction::SetTrue)
            || (matches!(arg.get_action(), ArgAction::Set)
                && arg.get_value_parser().type_id() == bool_type);
        if !boolean {
            return arg;
        }
        // A plain `bool` (SetTrue) reads false when absent; an `Option<bool>` must stay
        // unset, so it gets no default; a declared default is kept.
        let default: Option<clap::builder::OsStr> = arg
            .get_default_values()
            .first()
            .cloned()
            .or_else(|| matches!(arg.get_action(), ArgAction::SetTrue).then(|| "false".into()));
        let arg = arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_parser(go_bool);
        match default {
            Some(default) => arg.default_value(default),
            None => arg,
        }
    });
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    names
        .iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, go_style_bools))
}

/// A value Go's `strconv` refused, worded as Go words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoParseError(String);

impl fmt::Display for GoParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoParseError {}

/// Go's `strconv.ParseBool`.
pub fn go_bool(text: &str) -> Result<bool, GoParseError> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(GoParseError(format!(
            "strconv.ParseBool: parsing {}: invalid syntax",
            go_quote(text)
        ))),
    }
}

/// A duration flag's text, checked as Go's `time.ParseDuration` checks it (negative
/// durations included) and kept as written for the command to interpret.
pub fn go_duration(text: &str) -> Result<String, GoParseError> {
    if go_duration_secs(text).is_some() {
        return Ok(text.to_string());
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let quoted = go_quote(text);
    let numeric = |c: char| c.is_ascii_digit() || c == '.';
    // Go names the first unit it does not know, or a number left without one.
    let mut rest = unsigned;
    while let Some(start) = rest.find(|c: char| !numeric(c)) {
        if start == 0 {
            break;
        }
        let after = &rest[start..];
        let end = after.find(numeric).unwrap_or(after.len());
        let unit = &after[..end];
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
            return Err(GoParseError(format!(
                "time: unknown unit {} in duration {quoted}",
                go_quote(unit)
            )));
        }
        rest = &after[end..];
    }
    if !rest.is_empty() && rest.chars().all(numeric) && rest.chars().any(|c| c.is_ascii_digit()) {
        return Err(GoParseError(format!(
            "time: missing unit in duration {quoted}"
        )));
    }
    Err(GoParseError(format!("time: invalid duration {quoted}")))
}

/// A `key=value,key=value` flag (cliflag's `MapStringString`, as `--aggregation-rule` takes
/// it), its pairs in the order given.
pub fn go_string_map(text: &str) -> Result<Vec<(String, String)>, GoParseError> {
    text.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(GoParseError(
                "malformed pair, expect string=string".to_string(),
            )),
        })
        .collect()
}

/// The seconds a Go duration stands for, negative ones included (None when it is not one).
pub fn go_duration_secs(text: &str) -> Option<f64> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    common::duration::parse(unsigned)
        .ok()
        .map(|d| sign * d.as_secs_f64())
}

/// What to tell the user for a command line clap refused.
fn refusal(err: clap::Error, root: &Command, argv: &[String]) -> Refused {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        return Refused::Shown(err);
    }
    let path = command_path(root, argv);
    let path_text = path
        .iter()
        .map(|c| c.get_name())
        .collect::<Vec<_>>()
        .join(" ");
    let context = |kind: ContextKind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let flag_error = |what: String| {
        Refused::Usage(format!(
            "error: {what}\nSee '{path_text} --help' for usage.\n"
        ))
    };
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            if let Some(long) = arg.strip_prefix("--") {
                let name = long.split('=').next().unwrap_or(long);
                return flag_error(format!("unknown flag: --{name}"));
            }
            if let Some(short) = arg.strip_prefix('-').and_then(|s| s.chars().next()) {
                let rest = short_cluster_from(argv, short).unwrap_or_else(|| short.to_string());
                return flag_error(format!("unknown shorthand flag: '{short}' in -{rest}"));
            }
            if is_generator(&path) {
                return Refused::Usage(one_name_required(&path, &path_text, argv));
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let long = context(ContextKind::InvalidArg)
                .map(|a| flag_name(&a))
                .unwrap_or_default();
            let arg = find_flag(&path, &long);
            let short = arg.and_then(Arg::get_short);
            if err.kind() == ErrorKind::InvalidValue
                && value.is_empty()
                && !typed_with_value(argv, &long)
            {
                return flag_error(match short {
                    Some(c) if !argv.iter().any(|a| a == &format!("--{long}")) => {
                        format!("flag needs an argument: '{c}' in -{c}")
                    }
                    _ => format!("flag needs an argument: --{long}"),
                });
            }
            let names = match short {
                Some(c) => format!("-{c}, --{long}"),
                None => format!("--{long}"),
            };
            let why = go_reason(&err, &value);
            return flag_error(format!(
                "invalid argument {} for \"{names}\" flag: {why}",
                go_quote(&value)
            ));
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = match err.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(all)) => all.clone(),
                _ => Vec::new(),
            };
            if let Some(text) = missing_required(&path, &path_text, argv, &missing) {
                return Refused::Usage(text);
            }
        }
        ErrorKind::InvalidSubcommand => {
            let typed = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            return Refused::Usage(unknown_command(&path, &path_text, &typed, argv));
        }
        _ => {}
    }
    // Anything else in clap's own words, with kubectl's exit status.
    Refused::Usage(err.render().to_string())
}

/// cobra's words for required flags left out (`required flag(s) "image", "schedule" not
/// set`, without a usage line), and a `create` generator's for its missing NAME; `None`
/// leaves other missing arguments to clap's words.
fn missing_required(
    path: &[&Command],
    path_text: &str,
    argv: &[String],
    missing: &[String],
) -> Option<String> {
    // cobra checks required flags before the command runs and counts its arguments.
    let flags: Vec<String> = missing
        .iter()
        .filter_map(|m| m.strip_prefix("--"))
        .map(|f| format!("\"{}\"", f.split(' ').next().unwrap_or(f)))
        .collect();
    if !flags.is_empty() {
        return Some(format!(
            "error: required flag(s) {} not set\n",
            flags.join(", ")
        ));
    }
    if is_generator(path) && missing.iter().any(|m| m == "<NAME>") {
        return Some(one_name_required(path, path_text, argv));
    }
    None
}

/// Whether `path` ends at one of `create`'s generators (`create namespace`, `create secret
/// generic`, …), which take exactly one NAME.
fn is_generator(path: &[&Command]) -> bool {
    path.len() >= 3
        && path[1].get_name() == "create"
        && path[path.len() - 1].get_subcommands().next().is_none()
}

/// A generator's refusal of anything but one NAME, counting what was given.
fn one_name_required(path: &[&Command], path_text: &str, argv: &[String]) -> String {
    let got = positional_args(path, argv).len();
    format!(
        "error: exactly one NAME is required, got {got}\nSee '{path_text} -h' for help and examples\n"
    )
}

/// The reason Go would give for `value`: clap's parse errors of numbers reworded as
/// `strconv`'s, our own parsers' as they are.
fn go_reason(err: &clap::Error, value: &str) -> String {
    let source = std::error::Error::source(err);
    if let Some(e) = source.and_then(|s| s.downcast_ref::<ParseIntError>()) {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        return format!("strconv.ParseInt: parsing {}: {why}", go_quote(value));
    }
    if source.is_some_and(|s| s.downcast_ref::<ParseFloatError>().is_some()) {
        return format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            go_quote(value)
        );
    }
    match source {
        Some(s) if s.downcast_ref::<GoParseError>().is_some() => s.to_string(),
        // clap's ranged integers ("99 is not in 0..=9").
        Some(s) if s.to_string().contains(" is not in ") => {
            format!(
                "strconv.ParseInt: parsing {}: value out of range",
                go_quote(value)
            )
        }
        Some(s) => s.to_string(),
        None => "invalid syntax".to_string(),
    }
}

/// `name` from clap's `--name <NAME>` or `--name[=<NAME>]`.
fn flag_name(shown: &str) -> String {
    shown
        .split([' ', '['])
        .next()
        .unwrap_or("")
        .trim_start_matches('-')
        .to_string()
}

/// Whether `--long=` (an explicit, empty value) was typed.
fn typed_with_value(argv: &[String], long: &str) -> bool {
    let with = format!("--{long}=");
    argv.iter().any(|a| a.starts_with(&with))
}

/// The flag `--long` of the deepest command in `path` that has it.
fn find_flag<'c>(path: &[&'c Command], long: &str) -> Option<&'c Arg> {
    path.iter()
        .rev()
        .find_map(|cmd| cmd.get_arguments().find(|a| a.get_long() == Some(long)))
}

/// The rest of the first `-abc` group that holds `short`, from `short` on — what pflag
/// names after "in" when it meets an unknown shorthand there.
fn short_cluster_from(argv: &[String], short: char) -> Option<String> {
    argv.iter().skip(1).find_map(|a| {
        let group = a.strip_prefix('-').filter(|g| !g.starts_with('-'))?;
        let at = group.find(short)?;
        Some(group[at..].to_string())
    })
}

/// The commands `argv` names, root first, skipping flags and their values as cobra does
/// when it finds the command before parsing flags.
fn command_path<'c>(root: &'c Command, argv: &[String]) -> Vec<&'c Command> {
    let mut path = vec![root];
    // Each step reads the words again: the flags of the commands found so far decide which
    // words are flag values.
    loop {
        let Some(word) = words(&path, argv).nth(path.len() - 1) else {
            break;
        };
        match path[path.len() - 1].find_subcommand(&word) {
            Some(sub) => path.push(sub),
            None => break,
        }
    }
    path
}

/// The arguments `argv` gives the command at the end of `path` (from [`command_path`]): its
/// words that are neither flags, flag values, nor the command names, up to `--`.
fn positional_args(path: &[&Command], argv: &[String]) -> Vec<String> {
    words(path, argv).skip(path.len() - 1).collect()
}

/// The words of `argv` (program name left out) that are not flags or their values, up to
/// `--`; a flag's value is recognised by the flags `path`'s commands declare.
fn words<'a>(path: &'a [&Command], argv: &'a [String]) -> impl Iterator<Item = String> + 'a {
    let mut tokens = argv.iter().skip(1);
    std::iter::from_fn(move || {
        while let Some(token) = tokens.next() {
            if token == "--" {
                return None;
            }
            if let Some(flag) = token.strip_prefix("--") {
                if !flag.contains('=') && takes_value(path, |a| a.get_long() == Some(flag)) {
                    tokens.next();
                }
                continue;
            }
            if let Some(group) = token.strip_prefix('-').filter(|g| !g.is_empty()) {
                // In `-abc`, the first flag that takes a value takes the rest, or the next word.
                for (i, c) in group.char_indices() {
                    if takes_value(path, |a| a.get_short() == Some(c)) {
                        if i + c.len_utf8() == group.len() {
                            tokens.next();
                        }
                        break;
                    }
                }
                continue;
            }
            return Some(token.clone());
        }
        None
    })
}

/// Whether the flag `is_it` picks out, in any command of `path`, needs a value.
fn takes_value(path: &[&Command], is_it: impl Fn(&Arg) -> bool) -> bool {
    path.iter()
        .rev()
        .find_map(|cmd| cmd.get_arguments().find(|a| is_it(a)))
        .is_some_and(|a| {
            a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
}

/// Root commands in the order kubectl registers them (its help groups, then the rest):
/// cobra offers its "Did you mean this?" suggestions in this order.
const ROOT_COMMAND_ORDER: &[&str] = &[
    "create",
    "expose",
    "run",
    "set",
    "explain",
    "get",
    "edit",
    "delete",
    "rollout",
    "scale",
    "autoscale",
    "certificate",
    "cluster-info",
    "top",
    "cordon",
    "uncordon",
    "drain",
    "taint",
    "describe",
    "logs",
    "attach",
    "exec",
    "port-forward",
    "proxy",
    "cp",
    "auth",
    "debug",
    "events",
    "diff",
    "apply",
    "patch",
    "replace",
    "wait",
    "kustomize",
    "label",
    "annotate",
    "completion",
    "config",
    "plugin",
    "version",
    "api-versions",
    "api-resources",
    "options",
];

/// cobra's answer to an unknown command: at the root, with suggestions; under a command
/// group, kubectl's own wording with every word left on the line.
fn unknown_command(path: &[&Command], path_text: &str, typed: &str, argv: &[String]) -> String {
    // kubectl looks for a plugin first, and refuses to when the line starts with a flag.
    if path.len() == 1 {
        if let Some(first) = argv.get(1).filter(|a| a.starts_with('-')) {
            return format!("Error: flags cannot be placed before plugin name: {first}\n");
        }
    }
    if path.len() > 1 {
        let words: Vec<&str> = argv
            .iter()
            .skip_while(|a| a.as_str() != typed)
            .filter(|a| !a.starts_with('-'))
            .map(String::as_str)
            .collect();
        return format!(
            "error: unknown command \"{}\"\nSee '{path_text} -h' for help and examples\n",
            words.join(" ")
        );
    }
    let root = path[0];
    let suggestions: Vec<&str> = ROOT_COMMAND_ORDER
        .iter()
        .filter(|name| root.find_subcommand(name).is_some_and(|c| !c.is_hide_set()))
        .filter(|name| {
            let (typed, name) = (typed.to_lowercase(), name.to_lowercase());
            levenshtein(&typed, &name) <= 2 || name.starts_with(&typed)
        })
        .copied()
        .collect();
    let mut text = format!("error: unknown command \"{typed}\" for \"kubectl\"\n");
    if !suggestions.is_empty() {
        text.push_str("\nDid you mean this?\n");
        for s in suggestions {
            text.push_str(&format!("\t{s}\n"));
        }
    }
    text
}

/// Edit distance (insertions, deletions, substitutions).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect()
    }

    /// The flag `id` of subcommand `sub` after parsing `line`.
    fn flag(line: &str, sub: &str, id: &str) -> bool {
        let matches = go_style_bools(Cli::command())
            .try_get_matches_from(argv(line))
            .unwrap();
        matches.subcommand_matches(sub).unwrap().get_flag(id)
    }

    fn usage(line: &str) -> String {
        match parse(argv(line)) {
            Err(Refused::Usage(text)) => text,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn every_command_is_still_valid_for_clap() {
        go_style_bools(Cli::command()).debug_assert();
    }

    #[test]
    fn generators_count_their_names_as_cobra_does() {
        assert_eq!(
            usage("create namespace"),
            "error: exactly one NAME is required, got 0\nSee 'kubectl create namespace -h' for help and examples\n"
        );
        // Flag values are not names; an alias is reported by the command's name.
        assert_eq!(
            usage("create deploy --image busybox -r 2 a b"),
            "error: exactly one NAME is required, got 2\nSee 'kubectl create deployment -h' for help and examples\n"
        );
        assert_eq!(
            usage("create secret generic a b c"),
            "error: exactly one NAME is required, got 3\nSee 'kubectl create secret generic -h' for help and examples\n"
        );
        // A dry-run value needs `=`: given apart, it is one more name.
        assert_eq!(
            usage("create ns x --dry-run client"),
            "error: exactly one NAME is required, got 2\nSee 'kubectl create namespace -h' for help and examples\n"
        );
    }

    #[test]
    fn required_flags_are_named_before_the_name_is_counted() {
        assert_eq!(
            usage("create deployment"),
            "error: required flag(s) \"image\" not set\n"
        );
        assert_eq!(
            usage("create cronjob x"),
            "error: required flag(s) \"image\", \"schedule\" not set\n"
        );
    }

    #[test]
    fn positional_args_skip_flags_and_their_values() {
        let root = go_style_bools(Cli::command());
        let line = argv("-n ns create deploy --image x --dry-run web -- sh");
        let path = command_path(&root, &line);
        let names: Vec<&str> = path.iter().map(|c| c.get_name()).collect();
        assert_eq!(names, ["kubectl", "create", "deployment"]);
        assert_eq!(positional_args(&path, &line), ["web"]);
    }

    #[test]
    fn booleans_take_go_values_and_still_cluster() {
        assert!(flag("get pods --watch", "get", "watch"));
        assert!(!flag("get pods --watch=false", "get", "watch"));
        assert!(flag("get pods --watch=T", "get", "watch"));
        assert!(!flag("get pods", "get", "watch"));
        assert!(flag("get pods -A=1", "get", "all_namespaces"));
        assert!(!flag("get pods -A=0", "get", "all_namespaces"));
        // A word after a boolean is an argument, never its value.
        assert!(flag("get -A pods", "get", "all_namespaces"));
        assert!(flag("get pods -Aw", "get", "all_namespaces"));
        assert!(flag("get pods -Aw", "get", "watch"));
        assert!(flag("exec -it web -- sh", "exec", "stdin"));
        assert!(flag("exec -it web -- sh", "exec", "tty"));
        // An optional boolean stays unset unless given.
        let matches = go_style_bools(Cli::command())
            .try_get_matches_from(argv("api-resources"))
            .unwrap();
        let sub = matches.subcommand_matches("api-resources").unwrap();
        assert_eq!(sub.get_one::<bool>("namespaced"), None);
        let matches = go_style_bools(Cli::command())
            .try_get_matches_from(argv("run x --image=i --attach=false"))
            .unwrap();
        let sub = matches.subcommand_matches("run").unwrap();
        assert_eq!(sub.get_one::<bool>("attach"), Some(&false));
        // A default of true can be turned off.
        let matches = go_style_bools(Cli::command())
            .try_get_matches_from(argv("describe pod x --show-events=false"))
            .unwrap();
        let describe = matches.subcommand_matches("describe").unwrap();
        assert_eq!(describe.get_one::<bool>("show_events"), Some(&false));
    }

    #[test]
    fn flag_errors_are_worded_as_pflag_and_cobra() {
        let see_get = "See 'kubectl get --help' for usage.\n";
        assert_eq!(
            usage("get pods --bogus=1"),
            format!("error: unknown flag: --bogus\n{see_get}")
        );
        assert_eq!(
            usage("get pods -Az"),
            format!("error: unknown shorthand flag: 'z' in -z\n{see_get}")
        );
        assert_eq!(
            usage("get pods -zA"),
            format!("error: unknown shorthand flag: 'z' in -zA\n{see_get}")
        );
        assert_eq!(
            usage("get pods -o"),
            format!("error: flag needs an argument: 'o' in -o\n{see_get}")
        );
        assert_eq!(
            usage("get pods --output"),
            format!("error: flag needs an argument: --output\n{see_get}")
        );
        assert_eq!(
            usage("get pods --watch=maybe"),
            format!("error: invalid argument \"maybe\" for \"-w, --watch\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n{see_get}")
        );
        assert_eq!(
            usage("-n x scale deploy/x --replicas abc"),
            "error: invalid argument \"abc\" for \"--replicas\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\nSee 'kubectl scale --help' for usage.\n"
        );
        assert_eq!(
            usage("get pods --chunk-size=99999999999999999999"),
            format!("error: invalid argument \"99999999999999999999\" for \"--chunk-size\" flag: strconv.ParseInt: parsing \"99999999999999999999\": value out of range\n{see_get}")
        );
        assert_eq!(
            usage("top pod --bogus"),
            "error: unknown flag: --bogus\nSee 'kubectl top pod --help' for usage.\n"
        );
    }

    #[test]
    fn unknown_commands_are_worded_as_cobra_and_kubectl() {
        assert_eq!(
            usage("ge pods"),
            "error: unknown command \"ge\" for \"kubectl\"\n\nDid you mean this?\n\tset\n\tget\n\tcp\n"
        );
        assert_eq!(
            usage("xyz"),
            "error: unknown command \"xyz\" for \"kubectl\"\n"
        );
        assert_eq!(
            usage("--context=c foo"),
            "Error: flags cannot be placed before plugin name: --context=c\n"
        );
        assert_eq!(
            usage("rollout statsu deploy/x"),
            "error: unknown command \"statsu deploy/x\"\nSee 'kubectl rollout -h' for help and examples\n"
        );
    }

    #[test]
    fn durations_are_checked_with_go_words() {
        assert_eq!(go_duration("1m30s").unwrap(), "1m30s");
        assert_eq!(go_duration("-5s").unwrap(), "-5s");
        assert_eq!(go_duration("0").unwrap(), "0");
        assert_eq!(go_duration_secs("-1m30s"), Some(-90.0));
        assert_eq!(go_duration_secs("250ms"), Some(0.25));
        assert_eq!(
            go_duration("30").unwrap_err().to_string(),
            "time: missing unit in duration \"30\""
        );
        assert_eq!(
            go_duration("5x").unwrap_err().to_string(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            go_duration("abc").unwrap_err().to_string(),
            "time: invalid duration \"abc\""
        );
    }

    #[test]
    fn suggestions_by_distance_or_prefix() {
        assert_eq!(levenshtein("ge", "cp"), 2);
        assert_eq!(levenshtein("foo", "top"), 2);
        assert_eq!(levenshtein("", "ab"), 2);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
