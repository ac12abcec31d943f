//! `kubectl auth can-i VERB TYPE[/NAME] | VERB /URL`: one SelfSubjectAccessReview, "yes"
//! or "no" (exit status 1), with upstream's warnings about unknown types and verbs and
//! cluster-scoped types; `--list`: every rule a SelfSubjectRulesReview reports for the
//! namespace, tabulated.

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::rules;
use crate::client::{ApiClient, Body};
use crate::cmd::{out, Ctx};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};

/// `kubectl auth can-i`
#[derive(Debug, Args)]
pub struct CanIArgs {
    /// VERB [TYPE | TYPE/NAME | NONRESOURCEURL]
    args: Vec<String>,
    /// If true, check the specified action in all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// If true, suppress output and just return the exit code.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// SubResource such as pod/log or deployment/scale.
    #[arg(long)]
    subresource: Option<String>,
    /// If true, prints all allowed actions.
    #[arg(long)]
    list: bool,
    /// If true, prints allowed actions without headers.
    #[arg(long)]
    no_headers: bool,
}

impl CanIArgs {
    fn subresource(&self) -> &str {
        self.subresource.as_deref().unwrap_or("")
    }
}

/// Verbs upstream knows for resources and for non-resource URLs; others get a warning.
const RESOURCE_VERBS: [&str; 16] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "*",
    "approve",
    "sign",
    "escalate",
    "attest",
];
const NON_RESOURCE_VERBS: [&str; 8] = [
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

/// Type words upstream asks about without knowing them as resources.
const NON_STANDARD_RESOURCES: [&str; 2] = ["users", "groups"];

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Question {
    /// `--list`
    List,
    /// VERB /URL
    NonResource { verb: String, path: String },
    /// VERB TYPE[/NAME], the type as the user wrote it.
    Resource {
        verb: String,
        resource: String,
        name: String,
    },
}

/// Reads the arguments as upstream's Complete step does.
fn question(args: &CanIArgs) -> Result<Question> {
    if args.list {
        if !args.args.is_empty() {
            return Err(KubectlError::usage(
                "list option must be specified with no arguments",
            ));
        }
        return Ok(Question::List);
    }
    let [verb, target] = args.args.as_slice() else {
        return Err(KubectlError::usage(
            "you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples.",
        ));
    };
    if target.starts_with('/') {
        return Ok(Question::NonResource {
            verb: verb.clone(),
            path: target.clone(),
        });
    }
    let (resource, name) = target.split_once('/').unwrap_or((target, ""));
    Ok(Question::Resource {
        verb: verb.clone(),
        resource: resource.to_string(),
        name: name.to_string(),
    })
}

/// Upstream's Validate step for `--list`.
fn validate_list(args: &CanIArgs) -> Result<()> {
    if args.quiet || args.all_namespaces || !args.subresource().is_empty() {
        return Err(KubectlError::usage(
            "list option can't be specified with neither quiet, all-namespaces nor subresource options",
        ));
    }
    Ok(())
}

/// `--no-headers` belongs to `--list` (checked after the warnings, as upstream).
fn validate_no_headers(args: &CanIArgs) -> Result<()> {
    if args.no_headers {
        return Err(KubectlError::usage(
            "--no-headers cannot be set without --list specified",
        ));
    }
    Ok(())
}

/// Prints a warning as upstream's warning printer does.
fn warn(text: &str) {
    eprintln!("Warning: {text}");
}

/// A type word resolved to the group and resource the review names.
struct Resolved {
    group: String,
    resource: String,
    /// Whether discovery says it is namespaced (None when unknown or `*`).
    namespaced: Option<bool>,
}

/// Upstream's `resourceFor`: `*` as it is, a known type by its group and plural, anything
/// else as written (with a warning unless it is `users` or `groups`).
async fn resolve(client: &ApiClient, word: &str) -> Result<Resolved> {
    if word == "*" {
        return Ok(Resolved {
            group: String::new(),
            resource: "*".into(),
            namespaced: None,
        });
    }
    let lower = word.to_lowercase();
    let mut disc = Discovery::load(client).await?;
    if let Ok(r) = disc.resolve(client, &lower).await {
        return Ok(Resolved {
            group: r.group.clone(),
            resource: r.plural.clone(),
            namespaced: Some(r.namespaced),
        });
    }
    if let Some(w) = unknown_type_warning(&lower) {
        warn(&w);
    }
    Ok(Resolved {
        group: String::new(),
        resource: word.to_string(),
        namespaced: None,
    })
}

/// The warning for a type discovery does not know (the word already lower-cased).
fn unknown_type_warning(word: &str) -> Option<String> {
    if NON_STANDARD_RESOURCES.contains(&word) {
        return None;
    }
    Some(match word.split_once('.') {
        Some((resource, group)) => {
            format!("the server doesn't have a resource type '{resource}' in group '{group}'\n")
        }
        None => format!("the server doesn't have a resource type '{word}'\n"),
    })
}

/// The `no` line: the authorizer's reason and evaluation error when it gave them.
fn denial(status: &Value) -> String {
    let mut line = "no".to_string();
    for key in ["reason", "evaluationError"] {
        if let Some(text) = status[key].as_str().filter(|t| !t.is_empty()) {
            line.push_str(" - ");
            line.push_str(text);
        }
    }
    line
}

/// Runs `kubectl auth can-i`.
pub async fn run(ctx: &Ctx, args: CanIArgs) -> Result<()> {
    let q = question(&args)?;
    if q == Question::List {
        validate_list(&args)?;
        let client = ctx.client().await?;
        return list(&client, args.no_headers).await;
    }
    let client = ctx.client().await?;
    let namespace = if args.all_namespaces {
        String::new()
    } else {
        client.namespace.clone()
    };
    let spec = match &q {
        Question::NonResource { verb, path } => {
            if !args.subresource().is_empty() {
                return Err(KubectlError::usage(
                    "--subresource can not be used with NonResourceURL",
                ));
            }
            if !NON_RESOURCE_VERBS.contains(&verb.as_str()) {
                warn(&format!("verb '{verb}' is not a known verb\n"));
            }
            json!({"nonResourceAttributes": {"verb": verb, "path": path}})
        }
        Question::Resource {
            verb,
            resource,
            name,
        } => {
            let r = resolve(&client, resource).await?;
            if !args.all_namespaces {
                if r.namespaced == Some(false) {
                    warn(&if r.group.is_empty() {
                        format!("resource '{}' is not namespace scoped\n", r.resource)
                    } else {
                        format!(
                            "resource '{}' is not namespace scoped in group '{}'\n",
                            r.resource, r.group
                        )
                    });
                }
                if !RESOURCE_VERBS.contains(&verb.as_str()) {
                    warn(&format!("verb '{verb}' is not a known verb\n"));
                }
            }
            json!({"resourceAttributes": {
                "namespace": namespace, "verb": verb, "group": r.group, "resource": r.resource,
                "subresource": args.subresource(), "name": name}})
        }
        Question::List => Value::Null,
    };
    validate_no_headers(&args)?;
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec});
    let res = client
        .request(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/json",
            Some(Body::json(&review)),
        )
        .await?;
    let status = &res["status"];
    let allowed = status["allowed"].as_bool().unwrap_or(false);
    if !args.quiet {
        let line = if allowed {
            "yes".to_string()
        } else {
            denial(status)
        };
        out(&format!("{line}\n"));
    }
    if allowed {
        Ok(())
    } else {
        Err(KubectlError::Reported)
    }
}

/// `--list`: the rules of the current namespace.
async fn list(client: &ApiClient, no_headers: bool) -> Result<()> {
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": client.namespace}});
    let res = client
        .request(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            "application/json",
            Some(Body::json(&review)),
        )
        .await?;
    let status = &res["status"];
    if status["incomplete"].as_bool() == Some(true) {
        warn(&format!(
            "the list may be incomplete: {}",
            status["evaluationError"].as_str().unwrap_or("")
        ));
    }
    let listed = rules::listed(&rules::from_status(status));
    out(&rules::table(&listed, no_headers));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        can_i: CanIArgs,
    }

    fn parse(line: &[&str]) -> CanIArgs {
        Line::parse_from(std::iter::once("can-i").chain(line.iter().copied())).can_i
    }

    fn asked(line: &[&str]) -> std::result::Result<Question, String> {
        question(&parse(line)).map_err(|e| e.to_string())
    }

    #[test]
    fn exactly_two_arguments_unless_listing() {
        assert_eq!(
            asked(&["get", "pods/web"]),
            Ok(Question::Resource {
                verb: "get".into(),
                resource: "pods".into(),
                name: "web".into()
            })
        );
        assert_eq!(
            asked(&["get", "/logs/"]),
            Ok(Question::NonResource {
                verb: "get".into(),
                path: "/logs/".into()
            })
        );
        let two = "error: you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples.";
        assert_eq!(asked(&["get"]), Err(two.to_string()));
        assert_eq!(asked(&["get", "pods", "web"]), Err(two.to_string()));
        assert_eq!(asked(&["--list"]), Ok(Question::List));
        assert_eq!(
            asked(&["--list", "pods"]),
            Err("error: list option must be specified with no arguments".to_string())
        );
    }

    #[test]
    fn list_refuses_the_check_only_flags() {
        assert!(validate_list(&parse(&["--list", "--no-headers"])).is_ok());
        for flag in ["-q", "-A", "--subresource=log"] {
            assert_eq!(
                validate_list(&parse(&["--list", flag])).unwrap_err().to_string(),
                "error: list option can't be specified with neither quiet, all-namespaces nor subresource options"
            );
        }
        assert!(validate_no_headers(&parse(&["get", "pods", "--no-headers"])).is_err());
    }

    #[test]
    fn unknown_types_are_named_with_their_group() {
        assert_eq!(
            unknown_type_warning("foos").as_deref(),
            Some("the server doesn't have a resource type 'foos'\n")
        );
        assert_eq!(
            unknown_type_warning("foos.example.com").as_deref(),
            Some("the server doesn't have a resource type 'foos' in group 'example.com'\n")
        );
        assert_eq!(unknown_type_warning("users"), None);
    }

    #[test]
    fn denials_carry_reason_and_evaluation_error() {
        assert_eq!(denial(&json!({"allowed": false})), "no");
        assert_eq!(
            denial(&json!({"reason": "r", "evaluationError": "e"})),
            "no - r - e"
        );
    }
}
