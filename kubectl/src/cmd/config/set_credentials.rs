//! `kubectl config set-credentials NAME [--client-certificate=] [--client-key=] [--token=]
//! [--username=] [--password=] [--embed-certs] [--auth-provider=] [--auth-provider-arg=]
//! [--exec-command=] [--exec-api-version=] [--exec-arg=] [--exec-env=] …`.
//!
//! Field names match the global flags they shadow (`token`, `client_certificate`, `username`,
//! …): clap lets a subcommand's flag replace a global one only when the ids are the same.

use clap::Args;
use serde_json::{json, Map, Value};

use crate::cmd::out;
use crate::error::{KubectlError, Result};
use crate::flags::{go_bool, GoParseError};

use super::access::ConfigAccess;
use super::help::Page;
use super::model::{Entry, Section};
use super::modify::modify_config;
use super::{canonical, file_refs, go_fmt};

/// `kubectl config set-credentials`
#[derive(Debug, Args)]
pub struct SetCredentialsArgs {
    args: Vec<String>,
    /// Path to client-certificate file for the user entry in kubeconfig
    #[arg(long)]
    client_certificate: Option<String>,
    /// Path to client-key file for the user entry in kubeconfig
    #[arg(long)]
    client_key: Option<String>,
    /// token for the user entry in kubeconfig
    #[arg(long)]
    token: Option<String>,
    /// username for the user entry in kubeconfig
    #[arg(long)]
    username: Option<String>,
    /// password for the user entry in kubeconfig
    #[arg(long)]
    password: Option<String>,
    /// Embed client cert/key for the user entry in kubeconfig
    #[arg(long)]
    embed_certs: bool,
    /// Auth provider for the user entry in kubeconfig
    #[arg(long)]
    auth_provider: Option<String>,
    /// 'key=value' arguments for the auth provider
    #[arg(long)]
    auth_provider_arg: Vec<String>,
    /// Command for the exec credential plugin for the user entry in kubeconfig
    #[arg(long)]
    exec_command: Option<String>,
    /// API version of the exec credential plugin for the user entry in kubeconfig
    #[arg(long)]
    exec_api_version: Option<String>,
    /// New arguments for the exec credential plugin command for the user entry in kubeconfig
    #[arg(long)]
    exec_arg: Vec<String>,
    /// 'key=value' environment values for the exec credential plugin
    #[arg(long)]
    exec_env: Vec<String>,
    /// InteractiveMode of the exec credentials plugin for the user entry in kubeconfig
    #[arg(long)]
    exec_interactive_mode: Option<String>,
    /// ProvideClusterInfo of the exec credentials plugin for the user entry in kubeconfig
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_parser = provided_bool)]
    exec_provide_cluster_info: Option<ProvidedBool>,
}

/// A boolean flag whose absence matters (pflag's `Tristate`). Its own type keeps
/// `flags::go_style_bools` from giving it a default, which would hide the absence.
#[derive(Debug, Clone, Copy)]
pub struct ProvidedBool(bool);

fn provided_bool(text: &str) -> std::result::Result<ProvidedBool, GoParseError> {
    go_bool(text).map(ProvidedBool)
}

/// `key=value` pairs to set (in command-line order, the last of a key winning) and keys to
/// remove (`key-`).
#[derive(Debug, Default, PartialEq)]
struct Pairs {
    set: Vec<(String, String)>,
    remove: Vec<String>,
}

/// What `complete` makes of the list flags.
struct Lists {
    provider_args: Option<Pairs>,
    exec_args: Option<Vec<String>>,
    exec_env: Option<Pairs>,
}

/// Runs `config set-credentials`.
pub fn run(access: &ConfigAccess, args: SetCredentialsArgs) -> Result<()> {
    let lists = complete(&args).map_err(|e| Page::SetCredentials.with_error(e))?;
    let name = &args.args[0];
    validate(name, &args)?;
    let start = access.starting_config()?;
    let mut edited = start.clone();
    let entry = edited
        .entries_mut(Section::Users)
        .entry(name.clone())
        .or_insert_with(|| Entry::empty(Section::Users));
    let raw = Value::Object(std::mem::take(&mut entry.payload));
    entry.payload = modify_user(raw, &args, &lists);
    modify_config(access, &start, &edited, true)?;
    out(&format!("User {} set.\n", go_fmt::quote(name)));
    Ok(())
}

/// Upstream's `complete`: its errors come after the help page.
fn complete(args: &SetCredentialsArgs) -> std::result::Result<Lists, String> {
    if args.args.len() != 1 {
        return Err(format!("unexpected args: {}", go_fmt::list(&args.args)));
    }
    let provider_args = string_slice(&args.auth_provider_arg);
    let exec_args = string_slice(&args.exec_arg);
    Ok(Lists {
        provider_args: if provider_args.is_empty() {
            None
        } else {
            Some(parse_pairs(&provider_args, "auth-provider-arg")?)
        },
        exec_args: (!exec_args.is_empty()).then_some(exec_args),
        exec_env: if args.exec_env.is_empty() {
            None
        } else {
            Some(parse_pairs(&args.exec_env, "exec-env")?)
        },
    })
}

fn validate(name: &str, args: &SetCredentialsArgs) -> Result<()> {
    if name.is_empty() {
        return Err(KubectlError::usage(
            "you must specify a non-empty user name",
        ));
    }
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let mut methods = Vec::new();
    if given(&args.token) {
        methods.push("--token");
    }
    if given(&args.username) || given(&args.password) {
        methods.push("--username/--password");
    }
    if methods.len() > 1 {
        return Err(KubectlError::usage(format!(
            "you cannot specify more than one authentication method at the same time: {}",
            methods.join(", ")
        )));
    }
    if args.embed_certs {
        let cert = args.client_certificate.as_deref().unwrap_or("");
        let key = args.client_key.as_deref().unwrap_or("");
        if cert.is_empty() && key.is_empty() {
            return Err(KubectlError::usage(
                "you must specify a --client-certificate or --client-key to embed",
            ));
        }
        for (flag, path) in [("client-certificate", cert), ("client-key", key)] {
            if path.is_empty() {
                continue;
            }
            if let Err(e) = std::fs::metadata(path) {
                return Err(KubectlError::usage(format!(
                    "could not stat {flag} file {path}: {}",
                    go_fmt::os_error("stat", path, &e)
                )));
            }
        }
    }
    if let Some(mode) = &args.exec_interactive_mode {
        if !["IfAvailable", "Never", "Always"].contains(&mode.as_str()) {
            return Err(KubectlError::usage(
                "invalid interactive mode type, can be only IfAvailable, Never, Always",
            ));
        }
    }
    Ok(())
}

/// The user with the flags applied, as upstream's `modifyAuthInfo` does. Setting a token
/// clears basic auth and the other way round; exec settings other than the command apply only
/// when the user has (or is given) an exec plugin.
fn modify_user(mut user: Value, args: &SetCredentialsArgs, lists: &Lists) -> Map<String, Value> {
    let Some(u) = user.as_object_mut() else {
        return canonical::payload(Section::Users, &Value::Null);
    };
    for (flag, key) in [
        (&args.client_certificate, "client-certificate"),
        (&args.client_key, "client-key"),
    ] {
        let Some(path) = flag else { continue };
        let data_key = format!("{key}-data");
        if args.embed_certs {
            use base64::Engine;
            // Upstream ignores a read error: the data is then simply empty.
            let data = std::fs::read(path).unwrap_or_default();
            let text = base64::engine::general_purpose::STANDARD.encode(data);
            u.insert(data_key, Value::String(text));
            u.remove(key);
        } else {
            u.insert(key.into(), Value::String(file_refs::abs(path)));
            u.remove(&data_key);
        }
    }
    let mut set_token = false;
    let mut set_basic = false;
    for (flag, key) in [
        (&args.token, "token"),
        (&args.username, "username"),
        (&args.password, "password"),
    ] {
        if let Some(v) = flag {
            u.insert(key.into(), Value::String(v.clone()));
            if key == "token" {
                set_token = !v.is_empty();
            } else {
                set_basic = set_basic || !v.is_empty();
            }
        }
    }
    if let Some(name) = &args.auth_provider {
        let current = u.get("auth-provider").and_then(|p| p.get("name"));
        if current.and_then(Value::as_str) != Some(name.as_str()) {
            u.insert("auth-provider".into(), json!({ "name": name }));
        }
    }
    if let Some(provider) = u.get_mut("auth-provider").and_then(Value::as_object_mut) {
        let config = provider.entry("config").or_insert(Value::Null);
        if !config.is_object() {
            *config = json!({});
        }
        if let (Some(pairs), Some(config)) = (&lists.provider_args, config.as_object_mut()) {
            for key in &pairs.remove {
                config.remove(key);
            }
            for (key, value) in &pairs.set {
                config.insert(key.clone(), Value::String(value.clone()));
            }
        }
    }
    modify_exec(u, args, lists);
    if set_token || set_basic {
        if !set_token {
            u.remove("token");
        }
        if !set_basic {
            u.remove("username");
            u.remove("password");
        }
    }
    canonical::payload(Section::Users, &user)
}

fn modify_exec(user: &mut Map<String, Value>, args: &SetCredentialsArgs, lists: &Lists) {
    if let Some(command) = &args.exec_command {
        match user.get_mut("exec").and_then(Value::as_object_mut) {
            Some(exec) => {
                exec.insert("command".into(), Value::String(command.clone()));
                exec.insert("args".into(), Value::Null);
            }
            None => {
                let exec =
                    canonical::payload(Section::Users, &json!({"exec": {"command": command}}));
                user.insert("exec".into(), exec["exec"].clone());
            }
        }
    }
    let Some(exec) = user.get_mut("exec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(version) = &args.exec_api_version {
        exec.insert("apiVersion".into(), Value::String(version.clone()));
    }
    if let Some(list) = &lists.exec_args {
        exec.insert("args".into(), json!(list));
    }
    if let Some(pairs) = &lists.exec_env {
        // Giving --exec-env at all turns a missing env list into an empty one.
        let mut env: Vec<Value> = exec
            .get("env")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        env.retain(|e| !pairs.remove.iter().any(|r| e["name"] == r.as_str()));
        for (name, value) in &pairs.set {
            match env.iter_mut().find(|e| e["name"] == name.as_str()) {
                Some(existing) => existing["value"] = Value::String(value.clone()),
                None => env.push(json!({"name": name, "value": value})),
            }
        }
        exec.insert("env".into(), Value::Array(env));
    }
    if let Some(mode) = &args.exec_interactive_mode {
        exec.insert("interactiveMode".into(), Value::String(mode.clone()));
    }
    if let Some(ProvidedBool(provide)) = args.exec_provide_cluster_info {
        exec.insert("provideClusterInfo".into(), Value::Bool(provide));
    }
}

/// pflag's string-slice flags: every occurrence is a line of CSV.
fn string_slice(values: &[String]) -> Vec<String> {
    values.iter().flat_map(|v| csv_fields(v)).collect()
}

/// One CSV record as Go's `encoding/csv` reads it (`a,"b,c"` is two fields); nothing for an
/// empty string, as pflag special-cases it.
fn csv_fields(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => quoted = true,
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            ',' if !quoted => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            c => field.push(c),
        }
        at_start = false;
    }
    fields.push(field);
    fields
}

/// Upstream's `ParsePairs` with removal: `key=value` sets, `key-` removes, anything else
/// (a leading `=`, no `=` at all) is refused, all of them named in one error.
fn parse_pairs(items: &[String], flag: &str) -> std::result::Result<Pairs, String> {
    let mut pairs = Pairs::default();
    let mut invalid = Vec::new();
    for item in items {
        if let Some((key, value)) = item.split_once('=').filter(|(k, _)| !k.is_empty()) {
            pairs.set.retain(|(k, _)| k != key);
            pairs.set.push((key.to_string(), value.to_string()));
        } else if let Some(key) = item.strip_suffix('-').filter(|_| item != "-") {
            pairs.remove.push(key.to_string());
        } else {
            invalid.push(item.as_str());
        }
    }
    if invalid.is_empty() {
        Ok(pairs)
    } else {
        Err(format!("invalid {flag} format: {}", invalid.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> SetCredentialsArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            a: SetCredentialsArgs,
        }
        Cli::parse_from(std::iter::once("x").chain(line.iter().copied())).a
    }

    fn modify(before: Value, line: &[&str]) -> Value {
        let a = args(line);
        let lists = complete(&a).unwrap();
        Value::Object(modify_user(before, &a, &lists))
    }

    #[test]
    fn one_authentication_method_replaces_the_other() {
        let before = json!({"token": "t", "client-key": "/k"});
        assert_eq!(
            modify(before.clone(), &["u", "--username=bob"]),
            json!({"username": "bob", "client-key": "/k"})
        );
        assert_eq!(
            modify(before.clone(), &["u", "--token="]),
            json!({"client-key": "/k"})
        );
        let err = validate("u", &args(&["u", "--token=a", "--password=b"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: you cannot specify more than one authentication method at the same time: --token, --username/--password"
        );
    }

    #[test]
    fn certificates_are_embedded_or_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("u.crt");
        std::fs::write(&cert, "CERT\n").unwrap();
        let cert = cert.to_string_lossy().into_owned();
        let flag = format!("--client-certificate={cert}");
        assert_eq!(
            modify(
                json!({"client-certificate": "old"}),
                &["u", &flag, "--embed-certs"]
            ),
            json!({"client-certificate-data": "Q0VSVAo="})
        );
        assert_eq!(
            modify(json!({"client-certificate-data": "QQ=="}), &["u", &flag]),
            json!({"client-certificate": cert})
        );
        let err = validate("u", &args(&["u", "--embed-certs"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: you must specify a --client-certificate or --client-key to embed"
        );
    }

    #[test]
    fn exec_settings_follow_upstream() {
        let created = modify(
            json!({}),
            &[
                "u",
                "--exec-command=p",
                "--exec-arg=a,\"b,c\"",
                "--exec-env=X=1",
                "--exec-api-version=v1",
            ],
        );
        assert_eq!(
            created["exec"],
            json!({"command": "p", "args": ["a", "b,c"], "env": [{"name": "X", "value": "1"}],
                   "apiVersion": "v1", "provideClusterInfo": false})
        );
        // A new command resets the arguments; env entries are updated, added or removed.
        let changed = modify(
            created,
            &[
                "u",
                "--exec-command=q",
                "--exec-env=X=2",
                "--exec-env=Y=3",
                "--exec-provide-cluster-info",
            ],
        );
        assert_eq!(changed["exec"]["args"], Value::Null);
        assert_eq!(
            changed["exec"]["env"],
            json!([{"name": "X", "value": "2"}, {"name": "Y", "value": "3"}])
        );
        assert_eq!(changed["exec"]["provideClusterInfo"], true);
        let removed = modify(changed, &["u", "--exec-env=X-", "--exec-env=Y-"]);
        assert_eq!(removed["exec"]["env"], json!([]));
        // Without an exec plugin, exec settings other than the command do nothing.
        assert_eq!(modify(json!({}), &["u", "--exec-env=A=1"]), json!({}));
    }

    #[test]
    fn auth_provider_config_is_created_and_edited() {
        let user = modify(
            json!({}),
            &["u", "--auth-provider=oidc", "--auth-provider-arg=a=1,b=2"],
        );
        assert_eq!(
            user["auth-provider"],
            json!({"name": "oidc", "config": {"a": "1", "b": "2"}})
        );
        let user = modify(user, &["u", "--auth-provider-arg=a-"]);
        assert_eq!(user["auth-provider"]["config"], json!({"b": "2"}));
        let user = modify(user, &["u", "--auth-provider=gcp"]);
        assert_eq!(user["auth-provider"], json!({"name": "gcp", "config": {}}));
    }

    #[test]
    fn pairs_and_lists_are_read_as_upstream_reads_them() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_pairs(&v(&["a=1", "b-", "a=2"]), "exec-env"),
            Ok(Pairs {
                set: vec![("a".into(), "2".into())],
                remove: vec!["b".into()],
            })
        );
        assert_eq!(
            parse_pairs(&v(&["=x", "y", "-"]), "exec-env"),
            Err("invalid exec-env format: =x, y, -".into())
        );
        assert_eq!(
            csv_fields("a b,\"c,d\",\"e\"\"f\""),
            v(&["a b", "c,d", "e\"f"])
        );
        assert!(csv_fields("").is_empty());
        assert_eq!(
            complete(&args(&["a", "b"])).err(),
            Some("unexpected args: [a b]".into())
        );
    }
}
