//! Authorization: who may do what, decided after authentication and before any handler runs.
//!
//! As upstream, `--authorization-mode` names a chain of authorizers (AlwaysAllow, AlwaysDeny,
//! Node, RBAC) asked in order; the first that allows or denies decides, and a request nobody
//! has an opinion on is forbidden. Members of `system:masters` are always allowed (upstream's
//! privileged-group authorizer, which sits in front of the chain).
//!
//! The RBAC and Node authorizers decide from in-memory state ([`rbac::RbacIndex`],
//! [`node::NodeGraph`]) that [`feed`] keeps current from the apiserver's own watch cache, so
//! a decision never reads etcd.

pub mod aggregation;
pub mod attributes;
pub mod bootstrap_policy;
pub mod escalation;
pub mod feed;
pub mod node;
pub mod rbac;
pub mod reconcile;
pub mod review;
pub mod rule;

use std::sync::Arc;

pub use attributes::Attributes;

use crate::authn::UserInfo;
use crate::errors::ApiError;
use crate::request::{Query, RequestInfo};

/// The group whose members may do anything (upstream's `SystemPrivilegedGroup`).
pub const PRIVILEGED_GROUP: &str = "system:masters";

/// What one authorizer thinks of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; later authorizers are not asked.
    Allow,
    /// Denied; later authorizers are not asked.
    Deny,
    /// No opinion; ask the next authorizer.
    NoOpinion,
}

/// A decision with the reason given for it (shown in Forbidden messages and access reviews).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// Why, possibly empty.
    pub reason: String,
}

impl Verdict {
    fn new(decision: Decision, reason: impl Into<String>) -> Self {
        Self {
            decision,
            reason: reason.into(),
        }
    }

    /// Whether the request may proceed.
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// One authorizer of the `--authorization-mode` chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything is allowed (upstream's flag default).
    AlwaysAllow,
    /// Everything is denied.
    AlwaysDeny,
    /// Kubelets, limited to what their node's pods need.
    Node,
    /// Roles and bindings.
    Rbac,
}

impl Mode {
    /// Parse one mode name as upstream spells it.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "AlwaysAllow" => Ok(Self::AlwaysAllow),
            "AlwaysDeny" => Ok(Self::AlwaysDeny),
            "Node" => Ok(Self::Node),
            "RBAC" => Ok(Self::Rbac),
            other => Err(format!(
                "authorization-mode {other:?} is not supported (AlwaysAllow, AlwaysDeny, Node, RBAC)"
            )),
        }
    }
}

/// The authorizer chain and the state its members decide from.
pub struct Authorizer {
    modes: Vec<Mode>,
    /// Roles and bindings, indexed by subject.
    pub rbac: Arc<rbac::RbacIndex>,
    /// Which objects each node may read.
    pub graph: Arc<node::NodeGraph>,
}

impl Authorizer {
    /// A chain of `modes` over empty state (fill it with [`feed::start`]).
    pub fn new(modes: Vec<Mode>) -> Self {
        Self {
            modes,
            rbac: Arc::new(rbac::RbacIndex::default()),
            graph: Arc::new(node::NodeGraph::default()),
        }
    }

    /// The configured modes.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }

    /// Whether the RBAC authorizer is in the chain (escalation checks only apply then).
    pub fn rbac_enabled(&self) -> bool {
        self.modes.contains(&Mode::Rbac)
    }

    /// Ask the chain. Reasons of the authorizers that had no opinion are joined, as upstream's
    /// union authorizer does.
    pub fn authorize(&self, a: &Attributes) -> Verdict {
        if a.groups.iter().any(|g| g == PRIVILEGED_GROUP) {
            return Verdict::new(Decision::Allow, "");
        }
        let mut reasons: Vec<String> = Vec::new();
        for mode in &self.modes {
            let v = match mode {
                Mode::AlwaysAllow => Verdict::new(Decision::Allow, ""),
                Mode::AlwaysDeny => Verdict::new(Decision::Deny, "Everything is forbidden."),
                Mode::Node => node::authorize(&self.graph, a),
                Mode::Rbac => self.rbac.authorize(a),
            };
            match v.decision {
                Decision::NoOpinion => {
                    if !v.reason.is_empty() {
                        reasons.push(v.reason);
                    }
                }
                _ => return v,
            }
        }
        Verdict::new(Decision::NoOpinion, reasons.join(", "))
    }

    /// Authorize a request as dispatch sees it; the error is the 403 to send back.
    pub fn check_request(
        &self,
        user: &UserInfo,
        method: &http::Method,
        info: &RequestInfo,
        query: &Query,
    ) -> Result<(), ApiError> {
        let attrs = Attributes::from_request(user, info, query).with_method(method);
        let v = self.authorize(&attrs);
        if v.allowed() {
            return Ok(());
        }
        Err(forbidden(&attrs, &v.reason))
    }
}

/// Upstream's Forbidden error for a request that was not authorized:
/// `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the
/// namespace "default"`, with the authorizers' reason appended after `: ` when there is one.
pub fn forbidden(a: &Attributes, reason: &str) -> ApiError {
    let mut msg = if !a.resource_request {
        format!("User {:?} cannot {} path {:?}", a.user, a.verb, a.path)
    } else {
        let resource = match a.subresource.as_str() {
            "" => a.resource.clone(),
            sub => format!("{}/{sub}", a.resource),
        };
        if a.namespace.is_empty() {
            format!(
                "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
                a.user, a.verb, resource, a.group
            )
        } else {
            format!(
                "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
                a.user, a.verb, resource, a.group, a.namespace
            )
        }
    };
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }
    forbidden_for(&a.group, &a.resource, &a.name, &msg)
}

/// A Forbidden error about one object (or collection, when `name` is empty), with upstream's
/// message shape `<resource>[.<group>] ["<name>"] is forbidden: <why>`.
pub fn forbidden_for(group: &str, resource: &str, name: &str, why: &str) -> ApiError {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let message = if resource.is_empty() {
        format!("forbidden: {why}")
    } else if name.is_empty() {
        format!("{qualified} is forbidden: {why}")
    } else {
        format!("{qualified} {name:?} is forbidden: {why}")
    };
    let mut details = serde_json::Map::new();
    if !name.is_empty() {
        details.insert("name".into(), name.into());
    }
    if !group.is_empty() {
        details.insert("group".into(), group.into());
    }
    details.insert("kind".into(), resource.into());
    ApiError::forbidden(message).with_details(serde_json::Value::Object(details))
}

/// Parse the `--authorization-mode` flag value (comma separated).
pub fn parse_modes(s: &str) -> Result<Vec<Mode>, String> {
    let modes: Vec<Mode> = s
        .split(',')
        .filter(|m| !m.trim().is_empty())
        .map(Mode::parse)
        .collect::<Result<_, _>>()?;
    if modes.is_empty() {
        return Err("at least one authorization-mode must be passed".into());
    }
    Ok(modes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(user: &str, verb: &str, resource: &str, ns: &str) -> Attributes {
        Attributes {
            user: user.into(),
            groups: vec!["system:authenticated".into()],
            verb: verb.into(),
            resource_request: true,
            resource: resource.into(),
            namespace: ns.into(),
            ..Default::default()
        }
    }

    #[test]
    fn forbidden_messages_follow_upstream_wording() {
        let a = attrs("alice", "list", "pods", "default");
        let e = forbidden(&a, "");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default""#
        );
        let mut a = attrs("alice", "get", "nodes", "");
        a.name = "n1".into();
        a.subresource = "status".into();
        assert_eq!(
            forbidden(&a, "").message,
            r#"nodes "n1" is forbidden: User "alice" cannot get resource "nodes/status" in API group "" at the cluster scope"#
        );
        let mut a = attrs("bob", "create", "deployments", "ns1");
        a.group = "apps".into();
        assert_eq!(
            forbidden(&a, "RBAC: x").message,
            r#"deployments.apps is forbidden: User "bob" cannot create resource "deployments" in API group "apps" in the namespace "ns1": RBAC: x"#
        );
        let a = Attributes {
            user: "system:anonymous".into(),
            verb: "get".into(),
            path: "/metrics".into(),
            ..Default::default()
        };
        assert_eq!(
            forbidden(&a, "").message,
            r#"forbidden: User "system:anonymous" cannot get path "/metrics""#
        );
    }

    #[test]
    fn chain_order_and_privileged_group() {
        let deny = Authorizer::new(vec![Mode::AlwaysDeny, Mode::AlwaysAllow]);
        assert_eq!(
            deny.authorize(&attrs("a", "get", "pods", "x")).decision,
            Decision::Deny
        );
        let mut admin = attrs("admin", "get", "pods", "x");
        admin.groups.push(PRIVILEGED_GROUP.into());
        assert!(deny.authorize(&admin).allowed());
        let rbac_only = Authorizer::new(vec![Mode::Rbac]);
        assert_eq!(
            rbac_only
                .authorize(&attrs("a", "get", "pods", "x"))
                .decision,
            Decision::NoOpinion
        );
    }

    #[test]
    fn modes_parse() {
        assert_eq!(
            parse_modes("Node,RBAC").unwrap(),
            vec![Mode::Node, Mode::Rbac]
        );
        assert!(parse_modes("ABAC").is_err());
        assert!(parse_modes("").is_err());
    }
}
