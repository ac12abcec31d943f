//! `kubectl create token SA`: asks the service account's `token` subresource for a
//! TokenRequest and prints the token, or with `-o` the TokenRequest the server answered.
//! Upstream's checks run first, in its order and words, so a bad flag never reaches the
//! server.

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::super::print_flags::{DryRun, PrintFlags};
use super::super::{out, Ctx};
use super::wrapped_failure;
use crate::client::Body;
use crate::error::{KubectlError, Result};

/// The kinds a token can be bound to, with their API versions, in the order upstream lists
/// them (1.31 to 1.33 offer Node too).
const BOUND_OBJECT_KINDS: &[(&str, &str)] = &[("Node", "v1"), ("Pod", "v1"), ("Secret", "v1")];

/// `create token`'s name and flags.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The service account name.
    name: String,
    /// Audience of the requested token. If unset, defaults to requesting a token for use
    /// with the Kubernetes API server. May be repeated to request a token valid for multiple
    /// audiences.
    #[arg(long)]
    audience: Vec<String>,
    /// Requested lifetime of the issued token. If not set or if set to 0, the lifetime will
    /// be determined by the server automatically.
    #[arg(long, value_parser = crate::flags::go_duration)]
    duration: Option<String>,
    /// Kind of an object to bind the token to. Supported kinds are Node, Pod, Secret. If set,
    /// --bound-object-name must be provided.
    #[arg(long)]
    bound_object_kind: Option<String>,
    /// Name of an object to bind the token to. The token will expire when the object is
    /// deleted. Requires --bound-object-kind.
    #[arg(long)]
    bound_object_name: Option<String>,
    /// UID of an object to bind the token to. Requires --bound-object-kind and
    /// --bound-object-name. If unset, the UID of the existing object is used.
    #[arg(long)]
    bound_object_uid: Option<String>,
    // With -o, the TokenRequest is printed instead of the token.
    #[command(flatten)]
    print_flags: PrintFlags,
}

impl TokenArgs {
    /// The TokenRequest these flags ask for, or upstream's refusal of them.
    fn request(&self) -> Result<Value> {
        let refuse = |text: &str| Err(KubectlError::usage(text));
        let mut spec = json!({});
        if let Some(d) = self.duration.as_deref() {
            // The flag's parser has already accepted it as a Go duration.
            let secs = crate::flags::go_duration_secs(d).unwrap_or(0.0);
            if secs < 0.0 {
                return refuse("--duration must be greater than or equal to 0");
            }
            if secs.fract() != 0.0 {
                return refuse("--duration cannot be expressed in units less than seconds");
            }
            if secs > 0.0 {
                spec["expirationSeconds"] = json!(secs as i64);
            }
        }
        if self.audience.iter().any(String::is_empty) {
            return refuse("--audience must not be an empty string");
        }
        if !self.audience.is_empty() {
            spec["audiences"] = json!(self.audience);
        }
        match given(&self.bound_object_kind) {
            None => {
                if given(&self.bound_object_name).is_some() {
                    return refuse(
                        "--bound-object-name can only be set if --bound-object-kind is provided",
                    );
                }
                if given(&self.bound_object_uid).is_some() {
                    return refuse(
                        "--bound-object-uid can only be set if --bound-object-kind is provided",
                    );
                }
            }
            Some(kind) => {
                let Some((_, api_version)) = BOUND_OBJECT_KINDS.iter().find(|(k, _)| *k == kind)
                else {
                    let names: Vec<&str> = BOUND_OBJECT_KINDS.iter().map(|(k, _)| *k).collect();
                    return refuse(&format!(
                        "supported --bound-object-kind values are {}",
                        names.join(", ")
                    ));
                };
                let Some(name) = given(&self.bound_object_name) else {
                    return refuse(
                        "--bound-object-name is required if --bound-object-kind is provided",
                    );
                };
                let mut reference = json!({"kind": kind, "apiVersion": api_version, "name": name});
                if let Some(uid) = given(&self.bound_object_uid) {
                    reference["uid"] = json!(uid);
                }
                spec["boundObjectRef"] = reference;
            }
        }
        Ok(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}))
    }
}

/// Runs `create token`.
pub async fn run(ctx: &Ctx, args: &TokenArgs) -> Result<()> {
    let format = args.print_flags.format()?;
    let client = ctx.client().await?;
    let body = args.request()?;
    let path = format!(
        "/api/v1/namespaces/{}/serviceaccounts/{}/token",
        client.namespace, args.name
    );
    let r = client
        .request(
            Method::POST,
            &path,
            "application/json",
            Some(Body::json(&body)),
        )
        .await
        .map_err(|e| wrapped_failure(e, "failed to create token: "))?;
    let token = r["status"]["token"].as_str().unwrap_or("");
    if token.is_empty() {
        return Err(KubectlError::usage(
            "failed to create token: no token in server response",
        ));
    }
    if args.print_flags.output_specified() {
        return args.print_flags.print(&format, &r, "created", DryRun::None);
    }
    // As upstream: a newline only for a person at a terminal, so `$(kubectl create token
    // …)` and pipes get the token alone.
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        out(&format!("{token}\n"));
    } else {
        out(token);
    }
    Ok(())
}

/// A flag's value, when one that is not empty was given (upstream tests `len(…) > 0`).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        args: TokenArgs,
    }

    fn request(line: &[&str]) -> Result<Value> {
        let argv = std::iter::once("token").chain(line.iter().copied());
        Line::try_parse_from(argv).unwrap().args.request()
    }

    fn refusal(line: &[&str]) -> String {
        request(line).unwrap_err().to_string()
    }

    #[test]
    fn a_bound_token_names_its_object() {
        let r = request(&[
            "sa",
            "--bound-object-kind=Secret",
            "--bound-object-name=s",
            "--bound-object-uid=u-1",
            "--audience=a",
            "--duration=1h",
        ])
        .unwrap();
        assert_eq!(
            r["spec"],
            json!({"audiences": ["a"], "expirationSeconds": 3600,
                   "boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "s", "uid": "u-1"}})
        );
        let r = request(&["sa", "--bound-object-kind=Pod", "--bound-object-name=p"]).unwrap();
        assert_eq!(r["spec"]["boundObjectRef"]["uid"], Value::Null);
        assert_eq!(
            request(&["sa", "--duration=0s"]).unwrap()["spec"],
            json!({})
        );
    }

    #[test]
    fn bad_flags_are_refused_in_upstreams_words() {
        assert_eq!(
            refusal(&["sa", "--bound-object-name=x"]),
            "error: --bound-object-name can only be set if --bound-object-kind is provided"
        );
        assert_eq!(
            refusal(&["sa", "--bound-object-uid=x"]),
            "error: --bound-object-uid can only be set if --bound-object-kind is provided"
        );
        assert_eq!(
            refusal(&[
                "sa",
                "--bound-object-kind=Deployment",
                "--bound-object-name=x"
            ]),
            "error: supported --bound-object-kind values are Node, Pod, Secret"
        );
        assert_eq!(
            refusal(&["sa", "--bound-object-kind=Pod"]),
            "error: --bound-object-name is required if --bound-object-kind is provided"
        );
        assert_eq!(
            refusal(&["sa", "--duration=-1h"]),
            "error: --duration must be greater than or equal to 0"
        );
        assert_eq!(
            refusal(&["sa", "--duration=1500ms"]),
            "error: --duration cannot be expressed in units less than seconds"
        );
        assert_eq!(
            refusal(&["sa", "--audience="]),
            "error: --audience must not be an empty string"
        );
    }
}
