//! Patch metadata of the built-in types: which lists merge by key, which are sets, which maps
//! and structs are atomic.
//!
//! k8s-openapi's schemars output carries none of upstream's `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` or
//! `x-kubernetes-map-type` extensions, so the facts are kept here, keyed by OpenAPI definition
//! name and JSON field name. They were taken from the Go struct tags and `+listType` markers of
//! k8s.io/api (v1.33 and later; fields of newer releases are harmless) and
//! k8s.io/apimachinery's ObjectMeta. Only fields with something other than the defaults are
//! listed: a list with no row is atomic (replaced whole), a map or struct with no row is granular.

/// How server-side apply treats a list field (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// The field is not a list.
    NotAList,
    /// The list is owned and replaced as a whole.
    Atomic,
    /// A list of unique scalars; each value is owned on its own.
    Set,
    /// An associative list: items are identified by the values of these key fields.
    Map(&'static [&'static str]),
}

/// Patch metadata of one field of one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMeta {
    /// Strategic merge patch strategy: `merge`, `retainKeys`, `merge,retainKeys`, `replace` or
    /// empty.
    pub strategy: &'static str,
    /// Strategic merge patch key of a merged list of objects (empty when none).
    pub merge_key: &'static str,
    /// Server-side apply list type.
    pub list_type: ListType,
    /// The field (a map or struct) is atomic for server-side apply.
    pub atomic: bool,
}

impl FieldMeta {
    /// Whether strategic merge patch merges this list instead of replacing it.
    pub fn merges(&self) -> bool {
        self.strategy.split(',').any(|s| s == "merge")
    }
}

const fn row(
    definition: &'static str,
    field: &'static str,
    strategy: &'static str,
    merge_key: &'static str,
    list_type: ListType,
    atomic: bool,
) -> (&'static str, &'static str, FieldMeta) {
    (
        definition,
        field,
        FieldMeta {
            strategy,
            merge_key,
            list_type,
            atomic,
        },
    )
}

/// Fields with non-default patch metadata, sorted by definition then field.
#[rustfmt::skip]
static FIELDS: &[(&str, &str, FieldMeta)] = &[
    row("io.k8s.api.apps.v1.DaemonSetStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", "", ListType::NotAList, false),
    row("io.k8s.api.apps.v1.DeploymentStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.batch.v1.JobSchedulingConfiguration", "resourceClaims", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.batch.v1.JobStatus", "conditions", "merge", "type", ListType::Atomic, false),
    row("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "values", "", "", ListType::Set, false),
    row("io.k8s.api.batch.v1.UncountedTerminatedPods", "failed", "", "", ListType::Set, false),
    row("io.k8s.api.batch.v1.UncountedTerminatedPods", "succeeded", "", "", ListType::Set, false),
    row("io.k8s.api.core.v1.ComponentStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.Container", "env", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.Container", "ports", "merge", "containerPort", ListType::Map(&["containerPort", "protocol"]), false),
    row("io.k8s.api.core.v1.Container", "volumeDevices", "merge", "devicePath", ListType::Map(&["devicePath"]), false),
    row("io.k8s.api.core.v1.Container", "volumeMounts", "merge", "mountPath", ListType::Map(&["mountPath"]), false),
    row("io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes", "values", "", "", ListType::Set, false),
    row("io.k8s.api.core.v1.ContainerStatus", "allocatedResourcesStatus", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.ContainerStatus", "volumeMounts", "merge", "mountPath", ListType::Map(&["mountPath"]), false),
    row("io.k8s.api.core.v1.EphemeralContainer", "env", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.EphemeralContainer", "ports", "merge", "containerPort", ListType::Map(&["containerPort", "protocol"]), false),
    row("io.k8s.api.core.v1.EphemeralContainer", "volumeDevices", "merge", "devicePath", ListType::Map(&["devicePath"]), false),
    row("io.k8s.api.core.v1.EphemeralContainer", "volumeMounts", "merge", "mountPath", ListType::Map(&["mountPath"]), false),
    row("io.k8s.api.core.v1.NamespaceStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus", "containers", "", "", ListType::Set, false),
    row("io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus", "mapping", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus", "overhead", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.NodePodPreemptionPolicy", "disableResizePreemption", "", "", ListType::Set, false),
    row("io.k8s.api.core.v1.NodeSpec", "podCIDRs", "merge", "", ListType::Set, false),
    row("io.k8s.api.core.v1.NodeStatus", "addresses", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.NodeStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.PodSpec", "containers", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "evictionResponders", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "hostAliases", "merge", "ip", ListType::Map(&["ip"]), false),
    row("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "initContainers", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "nodeSelector", "", "", ListType::NotAList, true),
    row("io.k8s.api.core.v1.PodSpec", "resourceClaims", "merge,retainKeys", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "schedulingGates", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodSpec", "topologySpreadConstraints", "merge", "topologyKey", ListType::Map(&["topologyKey", "whenUnsatisfiable"]), false),
    row("io.k8s.api.core.v1.PodSpec", "volumes", "merge,retainKeys", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.PodStatus", "hostIPs", "merge", "ip", ListType::Atomic, false),
    row("io.k8s.api.core.v1.PodStatus", "nodeAllocatableResourceClaimStatuses", "merge", "resourceClaimName", ListType::Map(&["resourceClaimName"]), false),
    row("io.k8s.api.core.v1.PodStatus", "podIPs", "merge", "ip", ListType::Map(&["ip"]), false),
    row("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses", "merge,retainKeys", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodStatus", "volumeHealth", "", "", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.PodVolumeHealth", "healthConditions", "merge", "status", ListType::Map(&["status", "reason"]), false),
    row("io.k8s.api.core.v1.ReplicationControllerSpec", "selector", "", "", ListType::NotAList, true),
    row("io.k8s.api.core.v1.ReplicationControllerStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.ResourceRequirements", "claims", "", "", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.ResourceStatus", "resources", "", "", ListType::Map(&["resourceID"]), false),
    row("io.k8s.api.core.v1.ServiceAccount", "secrets", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.core.v1.ServiceSpec", "ports", "merge", "port", ListType::Map(&["port", "protocol"]), false),
    row("io.k8s.api.core.v1.ServiceSpec", "selector", "", "", ListType::NotAList, true),
    row("io.k8s.api.core.v1.ServiceStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.core.v1.VolumeHealthStatus", "healthConditions", "merge", "status", ListType::Map(&["status", "reason"]), false),
    row("io.k8s.api.core.v1.VolumeMount", "bindMountOptions", "", "", ListType::Set, false),
    row("io.k8s.api.discovery.v1.Endpoint", "addresses", "", "", ListType::Set, false),
    row("io.k8s.api.networking.v1.ServiceCIDRStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.node.v1.Scheduling", "nodeSelector", "", "", ListType::NotAList, true),
    row("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector", "replace", "", ListType::NotAList, false),
    row("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "conditions", "merge", "type", ListType::Map(&["type"]), false),
    row("io.k8s.api.storage.v1.CSIDriverSpec", "volumeLifecycleModes", "", "", ListType::Set, false),
    row("io.k8s.api.storage.v1.CSINodeSpec", "drivers", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.api.storage.v1.CSINodeStatus", "storageHealth", "merge", "name", ListType::Map(&["name"]), false),
    row("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers", "merge", "", ListType::Set, false),
    row("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", "merge", "uid", ListType::Map(&["uid"]), false),
];

/// Definitions whose objects are atomic (`+structType=atomic`): owned and replaced whole.
static ATOMIC_TYPES: &[&str] = &[
    "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.EndpointAddress",
    "io.k8s.api.core.v1.EndpointPort",
    "io.k8s.api.core.v1.EvictionResponder",
    "io.k8s.api.core.v1.FileKeySelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ScopeSelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.discovery.v1.EndpointPort",
    "io.k8s.api.networking.v1.ServiceBackendPort",
    "io.k8s.api.rbac.v1.RoleRef",
    "io.k8s.api.rbac.v1.Subject",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
];

/// The patch metadata of `field` in the definition `definition`, if it has any.
pub fn field_meta(definition: &str, field: &str) -> Option<&'static FieldMeta> {
    FIELDS
        .binary_search_by(|(d, f, _)| (*d, *f).cmp(&(definition, field)))
        .ok()
        .map(|i| &FIELDS[i].2)
}

/// Whether objects of this definition are atomic for server-side apply.
pub fn is_atomic_type(definition: &str) -> bool {
    ATOMIC_TYPES.binary_search(&definition).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(FIELDS
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(ATOMIC_TYPES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn containers_merge_by_name_and_ports_by_port_and_protocol() {
        let c = field_meta("io.k8s.api.core.v1.PodSpec", "containers").expect("containers");
        assert!(c.merges());
        assert_eq!(c.merge_key, "name");
        let p = field_meta("io.k8s.api.core.v1.Container", "ports").expect("ports");
        assert_eq!(p.merge_key, "containerPort");
        assert_eq!(p.list_type, ListType::Map(&["containerPort", "protocol"]));
        assert!(field_meta("io.k8s.api.core.v1.PodSpec", "tolerations").is_none());
        assert!(is_atomic_type(
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
        ));
    }
}
