//! Errors of the kubectl binary, printed the way upstream kubectl prints them.
//!
//! Upstream prints API errors as `Error from server (<Reason>): <message>` and every other
//! failure as `error: <message>`; both exit with status 1. Scripts grep for these texts, so
//! they are kept verbatim.

use std::fmt;

/// A failure that ends the command.
#[derive(Debug, thiserror::Error)]
pub enum KubectlError {
    /// A `Status` returned by the apiserver (4xx/5xx).
    #[error("{}", server_text(.reason, .message, .context.as_deref()))]
    Server {
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

fn server_text(reason: &str, message: &str, context: Option<&str>) -> String {
    let context = context.unwrap_or("");
    if reason.is_empty() {
        format!("Error from server: {context}{message}")
    } else {
        format!("Error from server ({reason}): {context}{message}")
    }
}

impl KubectlError {
    /// Shorthand for a client-side error.
    pub fn usage(msg: impl fmt::Display) -> Self {
        KubectlError::Usage(msg.to_string())
    }

    /// The server's `NotFound` for `resource` (`pods`, `deployments.apps`) named `name`, for
    /// an object found missing by other means than a GET (a watch, an empty list).
    pub fn not_found(resource: &str, name: &str) -> Self {
        KubectlError::Server {
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
                ..
            } => KubectlError::Server {
                reason,
                message,
                code,
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
}
