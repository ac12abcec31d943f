//! The catalog of resources the API serves: everything discovery, OpenAPI, routing and storage
//! need to know about a resource besides its strategy.
//!
//! Facts (short names, verbs, categories, subresources, storage layout) follow upstream v1.33.

use std::borrow::Cow;

use k8s_openapi::api as k8s;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::typed;

/// The eight verbs most stored resources support.
pub const VERBS_ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces cannot be deleted as a collection.
pub const VERBS_NO_COLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Verbs of a `status` or `scale` subresource.
pub const VERBS_SUB_RW: &[&str] = &["get", "patch", "update"];

/// One subresource of a resource (`pods/status`, `deployments/scale` …).
#[derive(Debug, Clone, Copy)]
pub struct SubresourceInfo {
    /// Path segment after the object name.
    pub name: &'static str,
    /// Group of the object the subresource answers with (empty for core).
    pub group: &'static str,
    /// Version of that object.
    pub version: &'static str,
    /// Kind of that object.
    pub kind: &'static str,
    /// Verbs the subresource supports.
    pub verbs: &'static [&'static str],
}

/// The typed side of a resource: how to round-trip it through k8s-openapi and how to describe it.
#[derive(Clone, Copy)]
pub struct TypedHooks {
    /// Decode into the typed struct and encode again; fields the type does not know are dropped.
    pub normalize: fn(&Value) -> Result<Value, serde_json::Error>,
    /// The JSON schema of the kind (a `$ref` into the generator's definitions).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The upstream OpenAPI definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub schema_name: fn() -> Cow<'static, str>,
}

impl std::fmt::Debug for TypedHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.schema_name)())
    }
}

fn normalize_as<K: Serialize + DeserializeOwned>(v: &Value) -> Result<Value, serde_json::Error> {
    typed::normalize::<K>(v)
}

fn schema_of<K: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<K>()
}

fn schema_name_of<K: JsonSchema>() -> Cow<'static, str> {
    K::schema_name()
}

/// Typed hooks for a k8s-openapi type.
pub const fn hooks<K: Serialize + DeserializeOwned + JsonSchema>() -> TypedHooks {
    TypedHooks {
        normalize: normalize_as::<K>,
        schema: schema_of::<K>,
        schema_name: schema_name_of::<K>,
    }
}

/// Everything the server needs to know about one served resource (one group-version-resource).
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// API group, empty for the core (legacy) group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Plural lower-case name used in URLs.
    pub plural: &'static str,
    /// Singular lower-case name.
    pub singular: &'static str,
    /// Kind of a single object.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names `kubectl` accepts.
    pub short_names: &'static [&'static str],
    /// Categories (`all`) the resource belongs to.
    pub categories: &'static [&'static str],
    /// Verbs the resource itself supports.
    pub verbs: &'static [&'static str],
    /// Subresources.
    pub subresources: &'static [SubresourceInfo],
    /// Storage prefix under `/registry/` (upstream layout, e.g. `minions` for nodes).
    pub storage: &'static str,
    /// Typed round-trip and schema of the kind.
    pub typed: TypedHooks,
}

impl ResourceInfo {
    /// `apiVersion` as written in objects: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Kind of the list object, e.g. `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Whether the resource has a subresource with this name.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceInfo> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the resource supports a verb.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
}

const fn status(group: &'static str, version: &'static str, kind: &'static str) -> SubresourceInfo {
    SubresourceInfo {
        name: "status",
        group,
        version,
        kind,
        verbs: VERBS_SUB_RW,
    }
}

const SCALE: SubresourceInfo = SubresourceInfo {
    name: "scale",
    group: "autoscaling",
    version: "v1",
    kind: "Scale",
    verbs: VERBS_SUB_RW,
};

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];

macro_rules! resource {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $ty:ty,
     namespaced: $ns:expr, short: $short:expr, categories: $cat:expr, verbs: $verbs:expr,
     sub: $sub:expr, storage: $storage:expr) => {
        ResourceInfo {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            verbs: $verbs,
            subresources: $sub,
            storage: $storage,
            typed: hooks::<$ty>(),
        }
    };
}

/// Every resource the API serves, in discovery order.
pub static RESOURCES: &[ResourceInfo] = &[
    // ---- core/v1
    resource!("", "v1", "bindings", "binding", "Binding", k8s::core::v1::Binding,
        namespaced: true, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "bindings"),
    resource!("", "v1", "configmaps", "configmap", "ConfigMap", k8s::core::v1::ConfigMap,
        namespaced: true, short: &["cm"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "configmaps"),
    resource!("", "v1", "endpoints", "endpoints", "Endpoints", k8s::core::v1::Endpoints,
        namespaced: true, short: &["ep"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "services/endpoints"),
    resource!("", "v1", "events", "event", "Event", k8s::core::v1::Event,
        namespaced: true, short: &["ev"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "events"),
    resource!("", "v1", "limitranges", "limitrange", "LimitRange", k8s::core::v1::LimitRange,
        namespaced: true, short: &["limits"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "limitranges"),
    resource!("", "v1", "namespaces", "namespace", "Namespace", k8s::core::v1::Namespace,
        namespaced: false, short: &["ns"], categories: NONE, verbs: VERBS_NO_COLLECTION,
        sub: &[
            SubresourceInfo { name: "finalize", group: "", version: "v1", kind: "Namespace", verbs: &["update"] },
            status("", "v1", "Namespace"),
        ], storage: "namespaces"),
    resource!("", "v1", "nodes", "node", "Node", k8s::core::v1::Node,
        namespaced: false, short: &["no"], categories: NONE, verbs: VERBS_ALL,
        sub: &[
            SubresourceInfo { name: "proxy", group: "", version: "v1", kind: "NodeProxyOptions", verbs: &["create", "delete", "get", "patch", "update"] },
            status("", "v1", "Node"),
        ], storage: "minions"),
    resource!("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", k8s::core::v1::PersistentVolumeClaim,
        namespaced: true, short: &["pvc"], categories: NONE, verbs: VERBS_ALL,
        sub: &[status("", "v1", "PersistentVolumeClaim")], storage: "persistentvolumeclaims"),
    resource!("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", k8s::core::v1::PersistentVolume,
        namespaced: false, short: &["pv"], categories: NONE, verbs: VERBS_ALL,
        sub: &[status("", "v1", "PersistentVolume")], storage: "persistentvolumes"),
    resource!("", "v1", "pods", "pod", "Pod", k8s::core::v1::Pod,
        namespaced: true, short: &["po"], categories: ALL, verbs: VERBS_ALL,
        sub: &[
            SubresourceInfo { name: "attach", group: "", version: "v1", kind: "PodAttachOptions", verbs: &["create", "get"] },
            SubresourceInfo { name: "binding", group: "", version: "v1", kind: "Binding", verbs: &["create"] },
            SubresourceInfo { name: "ephemeralcontainers", group: "", version: "v1", kind: "Pod", verbs: VERBS_SUB_RW },
            SubresourceInfo { name: "eviction", group: "policy", version: "v1", kind: "Eviction", verbs: &["create"] },
            SubresourceInfo { name: "exec", group: "", version: "v1", kind: "PodExecOptions", verbs: &["create", "get"] },
            SubresourceInfo { name: "log", group: "", version: "v1", kind: "Pod", verbs: &["get"] },
            SubresourceInfo { name: "portforward", group: "", version: "v1", kind: "PodPortForwardOptions", verbs: &["create", "get"] },
            SubresourceInfo { name: "proxy", group: "", version: "v1", kind: "PodProxyOptions", verbs: &["create", "delete", "get", "patch", "update"] },
            SubresourceInfo { name: "resize", group: "", version: "v1", kind: "Pod", verbs: VERBS_SUB_RW },
            status("", "v1", "Pod"),
        ], storage: "pods"),
    resource!("", "v1", "podtemplates", "podtemplate", "PodTemplate", k8s::core::v1::PodTemplate,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "podtemplates"),
    resource!("", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", k8s::core::v1::ReplicationController,
        namespaced: true, short: &["rc"], categories: ALL, verbs: VERBS_ALL,
        sub: &[SCALE, status("", "v1", "ReplicationController")], storage: "controllers"),
    resource!("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", k8s::core::v1::ResourceQuota,
        namespaced: true, short: &["quota"], categories: NONE, verbs: VERBS_ALL,
        sub: &[status("", "v1", "ResourceQuota")], storage: "resourcequotas"),
    resource!("", "v1", "secrets", "secret", "Secret", k8s::core::v1::Secret,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "secrets"),
    resource!("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", k8s::core::v1::ServiceAccount,
        namespaced: true, short: &["sa"], categories: NONE, verbs: VERBS_ALL,
        sub: &[SubresourceInfo { name: "token", group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: &["create"] }],
        storage: "serviceaccounts"),
    resource!("", "v1", "services", "service", "Service", k8s::core::v1::Service,
        namespaced: true, short: &["svc"], categories: ALL, verbs: VERBS_ALL,
        sub: &[
            SubresourceInfo { name: "proxy", group: "", version: "v1", kind: "ServiceProxyOptions", verbs: &["create", "delete", "get", "patch", "update"] },
            status("", "v1", "Service"),
        ], storage: "services/specs"),
    // ---- apiregistration.k8s.io/v1 (the aggregation layer's APIServices; upstream keeps them
    // under /registry/apiregistration.k8s.io/apiservices)
    resource!("apiregistration.k8s.io", "v1", "apiservices", "apiservice", "APIService", k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
        namespaced: false, short: NONE, categories: &["api-extensions"], verbs: VERBS_ALL,
        sub: &[status("apiregistration.k8s.io", "v1", "APIService")], storage: "apiregistration.k8s.io/apiservices"),
    // ---- apps/v1
    resource!("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", k8s::apps::v1::ControllerRevision,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "controllerrevisions"),
    resource!("apps", "v1", "daemonsets", "daemonset", "DaemonSet", k8s::apps::v1::DaemonSet,
        namespaced: true, short: &["ds"], categories: ALL, verbs: VERBS_ALL,
        sub: &[status("apps", "v1", "DaemonSet")], storage: "daemonsets"),
    resource!("apps", "v1", "deployments", "deployment", "Deployment", k8s::apps::v1::Deployment,
        namespaced: true, short: &["deploy"], categories: ALL, verbs: VERBS_ALL,
        sub: &[SCALE, status("apps", "v1", "Deployment")], storage: "deployments"),
    resource!("apps", "v1", "replicasets", "replicaset", "ReplicaSet", k8s::apps::v1::ReplicaSet,
        namespaced: true, short: &["rs"], categories: ALL, verbs: VERBS_ALL,
        sub: &[SCALE, status("apps", "v1", "ReplicaSet")], storage: "replicasets"),
    resource!("apps", "v1", "statefulsets", "statefulset", "StatefulSet", k8s::apps::v1::StatefulSet,
        namespaced: true, short: &["sts"], categories: ALL, verbs: VERBS_ALL,
        sub: &[SCALE, status("apps", "v1", "StatefulSet")], storage: "statefulsets"),
    // ---- authorization.k8s.io/v1 (create-only reviews, answered by the authorizer)
    resource!("authorization.k8s.io", "v1", "localsubjectaccessreviews", "localsubjectaccessreview", "LocalSubjectAccessReview", k8s::authorization::v1::LocalSubjectAccessReview,
        namespaced: true, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "localsubjectaccessreviews"),
    resource!("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", k8s::authorization::v1::SelfSubjectAccessReview,
        namespaced: false, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "selfsubjectaccessreviews"),
    resource!("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", k8s::authorization::v1::SelfSubjectRulesReview,
        namespaced: false, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "selfsubjectrulesreviews"),
    resource!("authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", k8s::authorization::v1::SubjectAccessReview,
        namespaced: false, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "subjectaccessreviews"),
    // ---- autoscaling
    resource!("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", k8s::autoscaling::v2::HorizontalPodAutoscaler,
        namespaced: true, short: &["hpa"], categories: ALL, verbs: VERBS_ALL,
        sub: &[status("autoscaling", "v2", "HorizontalPodAutoscaler")], storage: "horizontalpodautoscalers"),
    resource!("autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", k8s::autoscaling::v1::HorizontalPodAutoscaler,
        namespaced: true, short: &["hpa"], categories: ALL, verbs: VERBS_ALL,
        sub: &[status("autoscaling", "v1", "HorizontalPodAutoscaler")], storage: "horizontalpodautoscalers"),
    // ---- batch/v1
    resource!("batch", "v1", "cronjobs", "cronjob", "CronJob", k8s::batch::v1::CronJob,
        namespaced: true, short: &["cj"], categories: ALL, verbs: VERBS_ALL,
        sub: &[status("batch", "v1", "CronJob")], storage: "cronjobs"),
    resource!("batch", "v1", "jobs", "job", "Job", k8s::batch::v1::Job,
        namespaced: true, short: NONE, categories: ALL, verbs: VERBS_ALL,
        sub: &[status("batch", "v1", "Job")], storage: "jobs"),
    // ---- certificates.k8s.io/v1 (CSRs: `approval` carries the Approved/Denied conditions,
    // `status` the signer's certificate)
    resource!("certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest", "CertificateSigningRequest", k8s::certificates::v1::CertificateSigningRequest,
        namespaced: false, short: &["csr"], categories: NONE, verbs: VERBS_ALL,
        sub: &[
            SubresourceInfo { name: "approval", group: "certificates.k8s.io", version: "v1", kind: "CertificateSigningRequest", verbs: VERBS_SUB_RW },
            status("certificates.k8s.io", "v1", "CertificateSigningRequest"),
        ], storage: "certificatesigningrequests"),
    // ---- coordination.k8s.io/v1
    resource!("coordination.k8s.io", "v1", "leases", "lease", "Lease", k8s::coordination::v1::Lease,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "leases"),
    // ---- discovery.k8s.io/v1
    resource!("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", k8s::discovery::v1::EndpointSlice,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "endpointslices"),
    // ---- events.k8s.io/v1 (shares storage with core/v1 events)
    resource!("events.k8s.io", "v1", "events", "event", "Event", k8s::events::v1::Event,
        namespaced: true, short: &["ev"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "events"),
    // ---- networking.k8s.io/v1
    resource!("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", k8s::networking::v1::IngressClass,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "ingressclasses"),
    resource!("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", k8s::networking::v1::Ingress,
        namespaced: true, short: &["ing"], categories: NONE, verbs: VERBS_ALL,
        sub: &[status("networking.k8s.io", "v1", "Ingress")], storage: "ingress"),
    resource!("networking.k8s.io", "v1", "ipaddresses", "ipaddress", "IPAddress", k8s::networking::v1::IPAddress,
        namespaced: false, short: &["ip"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "ipaddresses"),
    resource!("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", k8s::networking::v1::NetworkPolicy,
        namespaced: true, short: &["netpol"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "networkpolicies"),
    resource!("networking.k8s.io", "v1", "servicecidrs", "servicecidr", "ServiceCIDR", k8s::networking::v1::ServiceCIDR,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL,
        sub: &[status("networking.k8s.io", "v1", "ServiceCIDR")], storage: "servicecidrs"),
    // ---- node.k8s.io/v1
    resource!("node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", k8s::node::v1::RuntimeClass,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "runtimeclasses"),
    // ---- policy/v1
    resource!("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", k8s::policy::v1::PodDisruptionBudget,
        namespaced: true, short: &["pdb"], categories: NONE, verbs: VERBS_ALL,
        sub: &[status("policy", "v1", "PodDisruptionBudget")], storage: "poddisruptionbudgets"),
    // ---- authentication.k8s.io/v1 (create-only, nothing stored)
    resource!("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", k8s::authentication::v1::SelfSubjectReview,
        namespaced: false, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "selfsubjectreviews"),
    resource!("authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", k8s::authentication::v1::TokenReview,
        namespaced: false, short: NONE, categories: NONE, verbs: &["create"], sub: &[], storage: "tokenreviews"),
    // ---- rbac.authorization.k8s.io/v1
    resource!("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", k8s::rbac::v1::ClusterRoleBinding,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "clusterrolebindings"),
    resource!("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", k8s::rbac::v1::ClusterRole,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "clusterroles"),
    resource!("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", k8s::rbac::v1::RoleBinding,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "rolebindings"),
    resource!("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", k8s::rbac::v1::Role,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "roles"),
    // ---- scheduling.k8s.io/v1
    resource!("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", k8s::scheduling::v1::PriorityClass,
        namespaced: false, short: &["pc"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "priorityclasses"),
    // ---- storage.k8s.io/v1
    resource!("storage.k8s.io", "v1", "csidrivers", "csidriver", "CSIDriver", k8s::storage::v1::CSIDriver,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "csidrivers"),
    resource!("storage.k8s.io", "v1", "csinodes", "csinode", "CSINode", k8s::storage::v1::CSINode,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "csinodes"),
    resource!("storage.k8s.io", "v1", "csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity", k8s::storage::v1::CSIStorageCapacity,
        namespaced: true, short: NONE, categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "csistoragecapacities"),
    resource!("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", k8s::storage::v1::StorageClass,
        namespaced: false, short: &["sc"], categories: NONE, verbs: VERBS_ALL, sub: &[], storage: "storageclasses"),
    resource!("storage.k8s.io", "v1", "volumeattachments", "volumeattachment", "VolumeAttachment", k8s::storage::v1::VolumeAttachment,
        namespaced: false, short: NONE, categories: NONE, verbs: VERBS_ALL,
        sub: &[status("storage.k8s.io", "v1", "VolumeAttachment")], storage: "volumeattachments"),
];

/// The API groups in discovery order, each with its versions (preferred first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version);
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

/// Resources of one group-version, in catalog order.
pub fn resources_in<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// Look up a resource by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The version objects of a storage prefix are stored in: the first (preferred) version that
/// uses the prefix. Other versions of the same resource are converted on the way in and out.
pub fn storage_version(storage: &str) -> Option<&'static ResourceInfo> {
    RESOURCES.iter().find(|r| r.storage == storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_round_trips_an_empty_object() {
        for r in RESOURCES {
            let obj = serde_json::json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": {"name": "x"}});
            let back = (r.typed.normalize)(&obj);
            // Some kinds have required fields (Binding.target); those fail, which is fine,
            // but the error must never be about apiVersion or kind.
            if let Err(e) = back {
                assert!(!e.to_string().contains("apiVersion"), "{}: {e}", r.plural);
            }
        }
    }

    #[test]
    fn wrong_kind_is_rejected() {
        let r = find("", "v1", "configmaps").expect("configmaps");
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Secret"});
        assert!((r.typed.normalize)(&obj).is_err());
    }

    #[test]
    fn groups_list_core_first_and_autoscaling_prefers_v2() {
        let g = groups();
        assert_eq!(g[0].0, "");
        let autoscaling = g
            .iter()
            .find(|(n, _)| *n == "autoscaling")
            .expect("autoscaling");
        assert_eq!(autoscaling.1, vec!["v2", "v1"]);
    }
}
