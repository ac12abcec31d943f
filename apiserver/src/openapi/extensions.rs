//! Patch and list metadata of the built-in types: the `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
//! `x-kubernetes-map-type` extensions upstream publishes on fields (from the Go struct tags and
//! `+listType` markers). k8s-openapi's schemas do not carry them, yet kubectl's client-side
//! apply computes its strategic merge patch from them (OpenAPI v3 first, then v2), so they are
//! added to the generated definitions here. Facts follow the upstream API (v1.33 and later).

use serde_json::{json, Map, Value};

/// Extensions of one field: (definition, property, patch strategy, patch merge key,
/// list type, list map keys separated by commas, map type); empty strings mean absent.
type FieldExtensions = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Field-level extensions.
#[rustfmt::skip]
static FIELDS: &[FieldExtensions] = &[
    ("io.k8s.api.apps.v1.DaemonSetStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", "", "", "", ""),
    ("io.k8s.api.apps.v1.DeploymentStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates", "", "", "atomic", "", ""),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.authentication.v1.TokenRequestSpec", "audiences", "", "", "atomic", "", ""),
    ("io.k8s.api.authentication.v1.TokenReviewSpec", "audiences", "", "", "atomic", "", ""),
    ("io.k8s.api.authentication.v1.TokenReviewStatus", "audiences", "", "", "atomic", "", ""),
    ("io.k8s.api.authentication.v1.UserInfo", "groups", "", "", "atomic", "", ""),
    ("io.k8s.api.autoscaling.v2.HPAScalingRules", "policies", "", "", "atomic", "", ""),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics", "", "", "atomic", "", ""),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "currentMetrics", "", "", "atomic", "", ""),
    ("io.k8s.api.batch.v1.CronJobStatus", "active", "", "", "atomic", "", ""),
    ("io.k8s.api.batch.v1.JobStatus", "conditions", "merge", "type", "atomic", "", ""),
    ("io.k8s.api.batch.v1.PodFailurePolicy", "rules", "", "", "atomic", "", ""),
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "values", "", "", "set", "", ""),
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", "onPodConditions", "", "", "atomic", "", ""),
    ("io.k8s.api.batch.v1.SuccessPolicy", "rules", "", "", "atomic", "", ""),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", "failed", "", "", "set", "", ""),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", "succeeded", "", "", "set", "", ""),
    ("io.k8s.api.core.v1.Capabilities", "add", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Capabilities", "drop", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.CephFSPersistentVolumeSource", "monitors", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.CephFSVolumeSource", "monitors", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ComponentStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.ConfigMapProjection", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "args", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "command", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "env", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.Container", "envFrom", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "ports", "merge", "containerPort", "map", "containerPort,protocol", ""),
    ("io.k8s.api.core.v1.Container", "resizePolicy", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "restartPolicyRules", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Container", "volumeDevices", "merge", "devicePath", "map", "devicePath", ""),
    ("io.k8s.api.core.v1.Container", "volumeMounts", "merge", "mountPath", "map", "mountPath", ""),
    ("io.k8s.api.core.v1.ContainerImage", "names", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes", "values", "", "", "set", "", ""),
    ("io.k8s.api.core.v1.ContainerStatus", "allocatedResourcesStatus", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts", "merge", "mountPath", "map", "mountPath", ""),
    ("io.k8s.api.core.v1.DownwardAPIProjection", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.DownwardAPIVolumeSource", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EndpointSubset", "addresses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EndpointSubset", "notReadyAddresses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EndpointSubset", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.Endpoints", "subsets", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "args", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "command", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "env", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "envFrom", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "ports", "merge", "containerPort", "map", "containerPort,protocol", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "resizePolicy", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "restartPolicyRules", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeDevices", "merge", "devicePath", "map", "devicePath", ""),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeMounts", "merge", "mountPath", "map", "mountPath", ""),
    ("io.k8s.api.core.v1.ExecAction", "command", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.FCVolumeSource", "targetWWNs", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.FCVolumeSource", "wwids", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.HTTPGetAction", "httpHeaders", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.HostAlias", "hostnames", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", "portals", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", "portals", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.LimitRangeSpec", "limits", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.LinuxContainerUser", "supplementalGroups", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.LoadBalancerIngress", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.LoadBalancerStatus", "ingress", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NamespaceSpec", "finalizers", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NamespaceStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.NodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus", "containers", "", "", "set", "", ""),
    ("io.k8s.api.core.v1.NodeSelector", "nodeSelectorTerms", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeSelectorRequirement", "values", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "matchExpressions", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "matchFields", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeSpec", "podCIDRs", "merge", "", "set", "", ""),
    ("io.k8s.api.core.v1.NodeSpec", "taints", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeStatus", "addresses", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.NodeStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.NodeStatus", "declaredFeatures", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeStatus", "images", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeStatus", "runtimeHandlers", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeStatus", "volumesAttached", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.NodeStatus", "volumesInUse", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "accessModes", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "accessModes", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "allocatedResourceStatuses", "", "", "", "", "granular"),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "accessModes", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "claimRef", "", "", "", "", "granular"),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "mountOptions", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAffinity", "preferredDuringSchedulingIgnoredDuringExecution", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAffinityTerm", "matchLabelKeys", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAffinityTerm", "mismatchLabelKeys", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAffinityTerm", "namespaces", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodDNSConfig", "nameservers", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodDNSConfig", "options", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodDNSConfig", "searches", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodExtendedResourceClaimStatus", "requestMappings", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodSecurityContext", "supplementalGroups", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodSecurityContext", "sysctls", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodSpec", "containers", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "hostAliases", "merge", "ip", "map", "ip", ""),
    ("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "initContainers", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "nodeSelector", "", "", "", "", "atomic"),
    ("io.k8s.api.core.v1.PodSpec", "readinessGates", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodSpec", "resourceClaims", "merge,retainKeys", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "schedulingGates", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodSpec", "tolerations", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodSpec", "topologySpreadConstraints", "merge", "topologyKey", "map", "topologyKey,whenUnsatisfiable", ""),
    ("io.k8s.api.core.v1.PodSpec", "volumes", "merge,retainKeys", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.PodStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.PodStatus", "containerStatuses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodStatus", "hostIPs", "merge", "ip", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodStatus", "initContainerStatuses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodStatus", "nodeAllocatableResourceClaimStatuses", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.PodStatus", "podIPs", "merge", "ip", "map", "ip", ""),
    ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses", "merge,retainKeys", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.ProjectedVolumeSource", "sources", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.RBDPersistentVolumeSource", "monitors", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.RBDVolumeSource", "monitors", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ReplicationControllerSpec", "selector", "", "", "", "", "atomic"),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.ResourceQuotaSpec", "scopes", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ResourceRequirements", "claims", "", "", "map", "name", ""),
    ("io.k8s.api.core.v1.ResourceStatus", "resources", "", "", "map", "resourceID", ""),
    ("io.k8s.api.core.v1.ScopeSelector", "matchExpressions", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "values", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.SecretProjection", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.SecretVolumeSource", "items", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceAccount", "imagePullSecrets", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceAccount", "secrets", "merge", "name", "map", "name", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "clusterIPs", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "externalIPs", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "ipFamilies", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "loadBalancerSourceRanges", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "ports", "merge", "port", "map", "port,protocol", ""),
    ("io.k8s.api.core.v1.ServiceSpec", "selector", "", "", "", "", "atomic"),
    ("io.k8s.api.core.v1.ServiceStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.core.v1.TopologySelectorLabelRequirement", "values", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.TopologySelectorTerm", "matchLabelExpressions", "", "", "atomic", "", ""),
    ("io.k8s.api.core.v1.TopologySpreadConstraint", "matchLabelKeys", "", "", "atomic", "", ""),
    ("io.k8s.api.discovery.v1.Endpoint", "addresses", "", "", "set", "", ""),
    ("io.k8s.api.discovery.v1.EndpointHints", "forNodes", "", "", "atomic", "", ""),
    ("io.k8s.api.discovery.v1.EndpointHints", "forZones", "", "", "atomic", "", ""),
    ("io.k8s.api.discovery.v1.EndpointSlice", "endpoints", "", "", "atomic", "", ""),
    ("io.k8s.api.discovery.v1.EndpointSlice", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.HTTPIngressRuleValue", "paths", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IPBlock", "except", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IngressLoadBalancerIngress", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IngressLoadBalancerStatus", "ingress", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IngressSpec", "rules", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IngressSpec", "tls", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.IngressTLS", "hosts", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "to", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "from", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "ports", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "egress", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "ingress", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.ServiceCIDRSpec", "cidrs", "", "", "atomic", "", ""),
    ("io.k8s.api.networking.v1.ServiceCIDRStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.node.v1.Scheduling", "nodeSelector", "", "", "", "", "atomic"),
    ("io.k8s.api.node.v1.Scheduling", "tolerations", "", "", "atomic", "", ""),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector", "replace", "", "", "", ""),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "conditions", "merge", "type", "map", "type", ""),
    ("io.k8s.api.rbac.v1.AggregationRule", "clusterRoleSelectors", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.ClusterRole", "rules", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.ClusterRoleBinding", "subjects", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.PolicyRule", "apiGroups", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.PolicyRule", "nonResourceURLs", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.PolicyRule", "resourceNames", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.PolicyRule", "resources", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.PolicyRule", "verbs", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.Role", "rules", "", "", "atomic", "", ""),
    ("io.k8s.api.rbac.v1.RoleBinding", "subjects", "", "", "atomic", "", ""),
    ("io.k8s.api.storage.v1.CSIDriverSpec", "tokenRequests", "", "", "atomic", "", ""),
    ("io.k8s.api.storage.v1.CSIDriverSpec", "volumeLifecycleModes", "", "", "set", "", ""),
    ("io.k8s.api.storage.v1.CSINodeDriver", "topologyKeys", "", "", "atomic", "", ""),
    ("io.k8s.api.storage.v1.CSINodeSpec", "drivers", "merge", "name", "map", "name", ""),
    ("io.k8s.api.storage.v1.StorageClass", "allowedTopologies", "", "", "atomic", "", ""),
    ("io.k8s.api.storage.v1.StorageClass", "mountOptions", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "serverAddressByClientCIDRs", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "versions", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", "groups", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "categories", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "shortNames", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "resources", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "serverAddressByClientCIDRs", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "versions", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "dryRun", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", "values", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "matchExpressions", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "values", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers", "merge", "", "set", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "managedFields", "", "", "atomic", "", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", "merge", "uid", "map", "uid", ""),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", "causes", "", "", "atomic", "", ""),
];

/// Definition-level `x-kubernetes-map-type` (structs that are replaced as a whole).
#[rustfmt::skip]
static STRUCT_MAP_TYPES: &[(&str, &str)] = &[
    ("io.k8s.api.autoscaling.v1.CrossVersionObjectReference", "atomic"),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "atomic"),
    ("io.k8s.api.core.v1.EndpointAddress", "atomic"),
    ("io.k8s.api.core.v1.EndpointPort", "atomic"),
    ("io.k8s.api.core.v1.FileKeySelector", "atomic"),
    ("io.k8s.api.core.v1.LocalObjectReference", "atomic"),
    ("io.k8s.api.core.v1.NodeSelector", "atomic"),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "atomic"),
    ("io.k8s.api.core.v1.ObjectFieldSelector", "atomic"),
    ("io.k8s.api.core.v1.ObjectReference", "atomic"),
    ("io.k8s.api.core.v1.ResourceFieldSelector", "atomic"),
    ("io.k8s.api.core.v1.ScopeSelector", "atomic"),
    ("io.k8s.api.core.v1.SecretKeySelector", "atomic"),
    ("io.k8s.api.core.v1.SecretReference", "atomic"),
    ("io.k8s.api.core.v1.TopologySelectorTerm", "atomic"),
    ("io.k8s.api.core.v1.TypedLocalObjectReference", "atomic"),
    ("io.k8s.api.discovery.v1.EndpointPort", "atomic"),
    ("io.k8s.api.networking.v1.ServiceBackendPort", "atomic"),
    ("io.k8s.api.rbac.v1.RoleRef", "atomic"),
    ("io.k8s.api.rbac.v1.Subject", "atomic"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "atomic"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", "atomic"),
];

/// Adds the upstream patch and list extensions to the definitions that exist in `defs`.
pub(crate) fn annotate(defs: &mut Map<String, Value>) {
    for (def, prop, strategy, merge_key, list_type, map_keys, map_type) in FIELDS {
        let Some(field) = defs
            .get_mut(*def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let mut put = |key: &str, value: Value| {
            field.insert(key.to_string(), value);
        };
        if !strategy.is_empty() {
            put("x-kubernetes-patch-strategy", json!(strategy));
        }
        if !merge_key.is_empty() {
            put("x-kubernetes-patch-merge-key", json!(merge_key));
        }
        if !list_type.is_empty() {
            put("x-kubernetes-list-type", json!(list_type));
        }
        if !map_keys.is_empty() {
            put(
                "x-kubernetes-list-map-keys",
                json!(map_keys.split(',').collect::<Vec<_>>()),
            );
        }
        if !map_type.is_empty() {
            put("x-kubernetes-map-type", json!(map_type));
        }
    }
    for (def, map_type) in STRUCT_MAP_TYPES {
        if let Some(d) = defs.get_mut(*def).and_then(Value::as_object_mut) {
            d.insert("x-kubernetes-map-type".into(), json!(map_type));
        }
    }
}

/// The patch strategy and merge key of a field, as published in the OpenAPI documents:
/// `("merge", Some("name"))` for `PodSpec.containers`. `None` if the field has neither.
pub fn patch_strategy(
    definition: &str,
    property: &str,
) -> Option<(&'static str, Option<&'static str>)> {
    FIELDS
        .iter()
        .find(|f| f.0 == definition && f.1 == property && !f.2.is_empty())
        .map(|f| (f.2, (!f.3.is_empty()).then_some(f.3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name() {
        assert_eq!(
            patch_strategy("io.k8s.api.core.v1.PodSpec", "containers"),
            Some(("merge", Some("name")))
        );
        assert_eq!(
            patch_strategy("io.k8s.api.core.v1.PodSpec", "hostname"),
            None
        );
    }

    #[test]
    fn annotate_adds_list_map_keys() {
        let mut defs = Map::new();
        defs.insert(
            "io.k8s.api.core.v1.PodSpec".into(),
            json!({"properties": {"containers": {"type": "array"}}}),
        );
        annotate(&mut defs);
        let c = &defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(c["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(c["x-kubernetes-list-type"], "map");
        assert_eq!(c["x-kubernetes-list-map-keys"], json!(["name"]));
    }
}
