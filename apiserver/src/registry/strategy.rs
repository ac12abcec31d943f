//! The per-resource strategy: the small part of serving a resource that differs by kind.

use serde_json::Value;

use crate::authn::UserInfo;
use crate::errors::FieldError;

/// How one resource is defaulted and validated. All methods work on the JSON object after it
/// has been round-tripped through its typed form (so field types are already right).
pub trait Strategy: Send + Sync {
    /// Fill in defaults as upstream's defaulting functions do (e.g. a Deployment's strategy,
    /// a Pod's `restartPolicy`, a Service's `sessionAffinity`). Runs on create and update.
    fn default(&self, _obj: &mut Value) {}

    /// Validate a new object (`old` is `None`) or an update. Paths omit the leading dot
    /// (`spec.replicas`). Object metadata (name, labels, annotations) is validated generically.
    fn validate(&self, _obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        Vec::new()
    }

    /// Set the fields the server fills in from who creates the object (upstream's
    /// `PrepareForCreate` reading the request's user: a CSR records its requestor). Runs
    /// before defaulting.
    fn prepare_for_create(&self, _obj: &mut Value, _user: &UserInfo) {}

    /// What an update may change, after the generic metadata and status split: upstream's
    /// `PrepareForUpdate` of the resource's strategy (`subresource = None`) or of its
    /// subresource strategy (`status`, `approval`, a Pod's `ephemeralcontainers`).
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value, _subresource: Option<&str>) {}

    /// Validate an update through a subresource (`status`, `approval`,
    /// `ephemeralcontainers`); updates of the resource itself go through
    /// [`Strategy::validate`].
    fn validate_subresource_update(
        &self,
        _new: &Value,
        _old: &Value,
        _subresource: &str,
    ) -> Vec<FieldError> {
        Vec::new()
    }

    /// Field selector labels supported beyond `metadata.name` and `metadata.namespace`, each a
    /// dotted JSON path into the object (`spec.nodeName`, `status.phase`).
    fn field_labels(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the name must be a DNS-1123 label (Namespaces, Services) rather than a
    /// subdomain; `None` means only path-segment rules apply (RBAC objects).
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }
}

/// What an object's name must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// DNS-1123 subdomain (most kinds).
    Subdomain,
    /// DNS-1123 label (Namespace, Service …).
    Label,
    /// Only not `.`/`..` and no `/` or `%` (RBAC kinds, …).
    PathSegment,
}
