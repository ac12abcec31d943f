//! What the store needs to know about the request beyond the object: who asks, dry run,
//! field manager and field validation; and the warnings it collects for the response.

use std::sync::Mutex;

use crate::authn::UserInfo;
use crate::errors::ApiError;

/// `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop unknown fields silently.
    Ignore,
    /// Drop unknown fields and warn (server default).
    Warn,
    /// Reject unknown fields.
    Strict,
}

impl FieldValidation {
    /// Parse the query parameter.
    pub fn parse(v: Option<&str>) -> Result<Self, ApiError> {
        match v {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of Ignore, Warn or Strict, got {other:?}"
            ))),
        }
    }
}

/// Per-request context.
#[derive(Debug)]
pub struct RequestContext {
    /// The authenticated user.
    pub user: UserInfo,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldManager`, or one derived from the user agent.
    pub field_manager: String,
    /// Whether the caller named a field manager explicitly.
    pub field_manager_given: bool,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `Warning` headers to send back.
    pub warnings: Mutex<Vec<String>>,
}

impl RequestContext {
    /// A context for the server's own writes (bootstrap).
    pub fn internal(manager: &str) -> Self {
        Self {
            user: UserInfo::system("system:apiserver", &["system:masters"]),
            dry_run: false,
            field_manager: manager.to_string(),
            field_manager_given: true,
            field_validation: FieldValidation::Strict,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Add a warning.
    pub fn warn(&self, w: String) {
        if let Ok(mut ws) = self.warnings.lock() {
            ws.push(w);
        }
    }

    /// Warnings collected so far.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }
}

/// The field manager kubectl and client-go use when none is given: the user agent up to the
/// first `/`.
pub fn manager_from_user_agent(ua: Option<&str>) -> String {
    let ua = ua.unwrap_or("unknown");
    let name = ua.split('/').next().unwrap_or(ua);
    name.chars().take(128).collect()
}
