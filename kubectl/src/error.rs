//! Errors of the kubectl binary, printed the way upstream kubectl prints them.
//!
//! Upstream prints API errors as `Error from server (<Reason>): <message>` and every other
//! failure as `error: <message>`; both exit with status 1. Scripts grep for these texts, so
//! they are kept verbatim. Two server errors read differently: `Unauthorized` as
//! `error: You must be logged in to the server (…)`, and an `Invalid` that ends the command
//! alone as `The <Kind> "<name>" is invalid: <field>: <why>`, built from the Status's
//! details ([`KubectlError::final_message`]); among several errors it keeps the usual form.

use std::fmt;

/// A failure that ends the command.
#[derive(Debug, thiserror::Error)]
pub enum KubectlError {
    /// A `Status` returned by the apiserver (4xx/5xx).
    #[error("{}", server_text(.reason, .message, .context.as_deref()))]
    Server {
        /// `Status.details`, kept for `Invalid` errors.
        details: Option<Box<StatusDetails>>,
        /// `Status.reason`, e.g. `NotFound`; empty when the server gave none.
        reason: String,
        /// `Status.message`.
        message: String,
        /// HTTP status code.
        code: u16,
        /// Upstream adds `error when creating "file": ` and similar for file-driven commands.
        context: Option<String>,
    },
    /// A client-side failure: bad flags, unreadable files, unknown resource types.
    #[error("error: {0}")]
    Usage(String),
    /// The server could not be reached.
    #[error("{0}")]
    Connection(String),
    /// The kubeconfig and flags do not make a usable client configuration, found where
    /// client-go reports it as a whole (after an explicit namespace was taken).
    #[error("Error in configuration: {0}")]
    Configuration(String),
    /// Already reported to stderr (e.g. a per-object failure in a multi-object command).
    #[error("")]
    Reported,
    /// Already reported (or nothing to report); exit with this status (`kubectl diff`).
    #[error("")]
    Exit(i32),
    /// A remote command (`exec`, `attach`) ended badly; a non-zero exit code becomes
    /// kubectl's own.
    #[error("{0}")]
    Remote(#[from] crate::remote::RemoteError),
}

/// What an `Invalid` Status's details say: which object, and why each field was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusDetails {
    /// `details.kind` (`Deployment`, without its group).
    pub kind: String,
    /// `details.name`.
    pub name: String,
    /// `details.causes` as `(field, message)`.
    pub causes: Vec<(String, String)>,
}

impl StatusDetails {
    /// The details of a Status body, if it has any.
    pub fn from_status(status: &serde_json::Value) -> Option<Self> {
        let d = status.get("details")?.as_object()?;
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let causes = d
            .get("causes")
            .and_then(serde_json::Value::as_array)
            .map(|causes| {
                causes
                    .iter()
                    .map(|c| (text(c.get("field")), text(c.get("message"))))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            kind: text(d.get("kind")),
            name: text(d.get("name")),
            causes,
        })
    }
}

/// Upstream's text for an `Invalid` error that ends the command: the object named from the
/// details, then each distinct cause (one on the same line, several as a list).
fn invalid_text(message: &str, details: Option<&StatusDetails>) -> String {
    let Some(d) = details else {
        return if message.is_empty() {
            "The request is invalid".into()
        } else {
            format!("The request is invalid: {message}")
        };
    };
    let head = if !d.kind.is_empty() || !d.name.is_empty() {
        format!(
            "The {} {} is invalid",
            d.kind,
            crate::printers::go_template::go_quote(&d.name)
        )
    } else if !message.is_empty() && d.causes.is_empty() {
        format!("The request is invalid: {message}")
    } else {
        "The request is invalid".into()
    };
    let mut causes: Vec<String> = Vec::new();
    for (field, why) in &d.causes {
        let cause = format!("{field}: {why}");
        if !causes.contains(&cause) {
            causes.push(cause);
        }
    }
    match causes.as_slice() {
        [] => head,
        [one] => format!("{head}: {one}"),
        many => {
            let list: Vec<String> = many.iter().map(|c| format!("* {c}")).collect();
            format!("{head}: \n{}", list.join("\n"))
        }
    }
}

fn server_text(reason: &str, message: &str, context: Option<&str>) -> String {
    let context = context.unwrap_or("");
    if reason == "Unauthorized" {
        format!("error: You must be logged in to the server ({context}{message})")
    } else if reason.is_empty() {
        format!("Error from server: {context}{message}")
    } else {
        format!("Error from server ({reason}): {context}{message}")
    }
}

impl KubectlError {
    /// What ends the command is printed as this: the error's own text, except that an
    /// `Invalid` from the server reads as upstream's `The <Kind> "<name>" is invalid: …`.
    pub fn final_message(&self) -> String {
        match self {
            KubectlError::Server {
                reason,
                message,
                details,
                ..
            } if reason == "Invalid" => invalid_text(message, details.as_deref()),
            other => other.to_string(),
        }
    }

    /// Shorthand for a client-side error.
    pub fn usage(msg: impl fmt::Display) -> Self {
        KubectlError::Usage(msg.to_string())
    }

    /// The server's `NotFound` for `resource` (`pods`, `deployments.apps`) named `name`, for
    /// an object found missing by other means than a GET (a watch, an empty list).
    pub fn not_found(resource: &str, name: &str) -> Self {
        KubectlError::Server {
            details: None,
            reason: "NotFound".into(),
            message: format!("{resource} \"{name}\" not found"),
            code: 404,
            context: None,
        }
    }

    /// True for a server-side `NotFound`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KubectlError::Server { code: 404, .. })
    }

    /// The same server error with upstream's operation prefix (`error when creating "f": `).
    pub fn with_context(self, ctx: String) -> Self {
        match self {
            KubectlError::Server {
                reason,
                message,
                code,
                details,
                ..
            } => KubectlError::Server {
                reason,
                message,
                code,
                details,
                context: Some(ctx),
            },
            other => other,
        }
    }

    /// Exit status upstream uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            KubectlError::Exit(code) => *code,
            KubectlError::Remote(e) => e.exit_code(),
            _ => 1,
        }
    }
}

/// Result alias for commands.
pub type Result<T> = std::result::Result<T, KubectlError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_text_matches_upstream() {
        let e = KubectlError::Server {
            details: None,
            reason: "NotFound".into(),
            message: "pods \"x\" not found".into(),
            code: 404,
            context: None,
        };
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): pods \"x\" not found"
        );
        let e = e.with_context("error when creating \"f.yaml\": ".into());
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): error when creating \"f.yaml\": pods \"x\" not found"
        );
        assert_eq!(
            KubectlError::usage("boom").to_string(),
            "error: boom".to_string()
        );
    }

    fn invalid(message: &str, details: Option<StatusDetails>) -> KubectlError {
        KubectlError::Server {
            details: details.map(Box::new),
            reason: "Invalid".into(),
            message: message.into(),
            code: 422,
            context: Some("error when creating \"d.yaml\": ".into()),
        }
    }

    #[test]
    fn an_invalid_error_that_ends_the_command_reads_as_upstreams() {
        let status = serde_json::json!({
            "kind": "Status", "reason": "Invalid", "code": 422,
            "message": "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "details": {"group": "apps", "kind": "Deployment", "name": "web", "causes": [
                {"reason": "FieldValueInvalid", "field": "spec.replicas",
                 "message": "Invalid value: -1: must be greater than or equal to 0"}]}
        });
        let one = invalid(
            status["message"].as_str().unwrap_or_default(),
            StatusDetails::from_status(&status),
        );
        assert_eq!(
            one.final_message(),
            "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        // Among several errors it keeps the server's form, with the file named.
        assert_eq!(
            one.to_string(),
            "Error from server (Invalid): error when creating \"d.yaml\": Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let cause = |f: &str, m: &str| (f.to_string(), m.to_string());
        let several = invalid(
            "ignored",
            Some(StatusDetails {
                kind: "Pod".into(),
                name: "p".into(),
                causes: vec![cause("a", "x"), cause("b", "y"), cause("a", "x")],
            }),
        );
        assert_eq!(
            several.final_message(),
            "The Pod \"p\" is invalid: \n* a: x\n* b: y"
        );
        assert_eq!(
            invalid("bad body", None).final_message(),
            "The request is invalid: bad body"
        );
        let unnamed = invalid("bad body", Some(StatusDetails::default()));
        assert_eq!(unnamed.final_message(), "The request is invalid: bad body");
    }

    #[test]
    fn unauthorized_asks_to_log_in() {
        let e = crate::client::status_error(
            401,
            br#"{"kind":"Status","reason":"Unauthorized","message":"Unauthorized","code":401}"#,
        );
        assert_eq!(
            e.final_message(),
            "error: You must be logged in to the server (Unauthorized)"
        );
    }
}
