//! Typed objects as upstream's Go encoder writes them. Where kubectl prints or records an
//! object it built or decoded into its Go struct (a generator's object on a client dry run,
//! `set`'s round trip, `--save-config` of `create <generator>`, `run`, `expose` and
//! `autoscale`), Go's encoder writes each struct's fields in their declaration order and
//! maps (labels, data) sorted by key. Objects kubectl keeps unstructured (files, `get`)
//! print with sorted keys instead; see [`super::json`].
//!
//! The tables below are the Go structs of the kinds those commands make or change, as far
//! as manifests commonly go; a struct not described prints its fields sorted (which is also
//! where a described struct puts fields it does not list).

use serde_json::{json, Value};

use crate::merge::LAST_APPLIED;
use crate::printers::json::go_escape;

/// A Go struct: its JSON fields in order, each with the struct it holds (for a list, the
/// struct of its elements), or None for a scalar, a map or a struct not described.
pub struct Shape {
    fields: &'static [(&'static str, Option<&'static Shape>)],
}

macro_rules! shape {
    ($($name:literal $(=> $child:ident)?),* $(,)?) => {
        Shape { fields: &[$(($name, shape!(@child $($child)?))),*] }
    };
    (@child) => { None };
    (@child $child:ident) => { Some(&$child) };
}

static META: Shape = shape!(
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences" => OWNER_REF, "finalizers", "managedFields" => MANAGED,
);
static OWNER_REF: Shape = shape!(
    "apiVersion",
    "kind",
    "name",
    "uid",
    "controller",
    "blockOwnerDeletion"
);
static MANAGED: Shape = shape!(
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource"
);
static CONDITION: Shape = shape!(
    "type",
    "status",
    "observedGeneration",
    "lastProbeTime",
    "lastUpdateTime",
    "lastHeartbeatTime",
    "lastTransitionTime",
    "reason",
    "message",
);
static LABEL_SELECTOR: Shape = shape!("matchLabels", "matchExpressions" => REQUIREMENT);
static REQUIREMENT: Shape = shape!("key", "operator", "values");
static TEMPLATE: Shape = shape!("metadata" => META, "spec" => POD_SPEC);
static POD_SPEC: Shape = shape!(
    "volumes" => VOLUME, "initContainers" => CONTAINER, "containers" => CONTAINER,
    "ephemeralContainers" => CONTAINER, "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName",
    "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID",
    "hostIPC", "shareProcessNamespace", "securityContext" => POD_SECURITY, "imagePullSecrets",
    "hostname", "subdomain", "affinity", "schedulerName", "tolerations" => TOLERATION,
    "hostAliases", "priorityClassName", "priority", "dnsConfig", "readinessGates",
    "runtimeClassName", "enableServiceLinks", "preemptionPolicy", "overhead",
    "topologySpreadConstraints", "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates",
    "resourceClaims", "resources" => RESOURCES,
);
static POD_SECURITY: Shape = shape!(
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "fsGroup",
    "sysctls",
    "fsGroupChangePolicy",
    "seccompProfile",
    "appArmorProfile",
    "seLinuxChangePolicy",
);
static TOLERATION: Shape = shape!("key", "operator", "value", "effect", "tolerationSeconds");
static VOLUME: Shape = shape!(
    "name", "hostPath" => HOST_PATH, "emptyDir" => EMPTY_DIR, "secret" => SECRET_VOLUME,
    "persistentVolumeClaim" => CLAIM_VOLUME, "configMap" => CONFIG_MAP_VOLUME,
);
static HOST_PATH: Shape = shape!("path", "type");
static EMPTY_DIR: Shape = shape!("medium", "sizeLimit");
static SECRET_VOLUME: Shape =
    shape!("secretName", "items" => KEY_TO_PATH, "defaultMode", "optional");
static CONFIG_MAP_VOLUME: Shape = shape!("name", "items" => KEY_TO_PATH, "defaultMode", "optional");
static CLAIM_VOLUME: Shape = shape!("claimName", "readOnly");
static KEY_TO_PATH: Shape = shape!("key", "path", "mode");
static CONTAINER: Shape = shape!(
    "name", "image", "command", "args", "workingDir", "ports" => CONTAINER_PORT,
    "envFrom" => ENV_FROM, "env" => ENV_VAR, "resources" => RESOURCES, "resizePolicy",
    "restartPolicy", "volumeMounts" => VOLUME_MOUNT, "volumeDevices",
    "livenessProbe" => PROBE, "readinessProbe" => PROBE, "startupProbe" => PROBE,
    "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
    "securityContext" => SECURITY, "stdin", "stdinOnce", "tty",
);
static CONTAINER_PORT: Shape = shape!("name", "hostPort", "containerPort", "protocol", "hostIP");
static ENV_FROM: Shape = shape!("prefix", "configMapRef" => REF, "secretRef" => REF);
static REF: Shape = shape!("name", "optional");
static ENV_VAR: Shape = shape!("name", "value", "valueFrom" => ENV_SOURCE);
static ENV_SOURCE: Shape = shape!(
    "fieldRef" => FIELD_REF, "resourceFieldRef" => RESOURCE_FIELD_REF,
    "configMapKeyRef" => KEY_REF, "secretKeyRef" => KEY_REF,
);
static FIELD_REF: Shape = shape!("apiVersion", "fieldPath");
static RESOURCE_FIELD_REF: Shape = shape!("containerName", "resource", "divisor");
static KEY_REF: Shape = shape!("name", "key", "optional");
static RESOURCES: Shape = shape!("limits", "requests", "claims");
static VOLUME_MOUNT: Shape = shape!(
    "name",
    "readOnly",
    "recursiveReadOnly",
    "mountPath",
    "subPath",
    "mountPropagation",
    "subPathExpr",
);
static PROBE: Shape = shape!(
    "exec", "httpGet" => HTTP_GET, "tcpSocket", "grpc", "initialDelaySeconds",
    "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold",
    "terminationGracePeriodSeconds",
);
static HTTP_GET: Shape = shape!("path", "port", "host", "scheme", "httpHeaders");
static SECURITY: Shape = shape!(
    "capabilities",
    "privileged",
    "seLinuxOptions",
    "windowsOptions",
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "procMount",
    "seccompProfile",
    "appArmorProfile",
);

static DEPLOYMENT: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => DEPLOYMENT_SPEC,
    "status" => DEPLOYMENT_STATUS,
);
static DEPLOYMENT_SPEC: Shape = shape!(
    "replicas", "selector" => LABEL_SELECTOR, "template" => TEMPLATE,
    "strategy" => DEPLOYMENT_STRATEGY, "minReadySeconds", "revisionHistoryLimit", "paused",
    "progressDeadlineSeconds",
);
static DEPLOYMENT_STRATEGY: Shape = shape!("type", "rollingUpdate" => ROLLING_UPDATE);
static ROLLING_UPDATE: Shape = shape!("partition", "maxUnavailable", "maxSurge");
static DEPLOYMENT_STATUS: Shape = shape!(
    "observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
    "unavailableReplicas", "terminatingReplicas", "conditions" => CONDITION, "collisionCount",
);
static STATEFUL_SET: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => STATEFUL_SET_SPEC,
    "status" => STATEFUL_SET_STATUS,
);
static STATEFUL_SET_SPEC: Shape = shape!(
    "replicas", "selector" => LABEL_SELECTOR, "template" => TEMPLATE,
    "volumeClaimTemplates" => CLAIM, "serviceName", "podManagementPolicy",
    "updateStrategy" => DEPLOYMENT_STRATEGY, "revisionHistoryLimit", "minReadySeconds",
    "persistentVolumeClaimRetentionPolicy", "ordinals",
);
static STATEFUL_SET_STATUS: Shape = shape!(
    "observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
    "currentRevision", "updateRevision", "collisionCount", "conditions" => CONDITION,
    "availableReplicas",
);
static CLAIM: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => CLAIM_SPEC, "status"
);
static CLAIM_SPEC: Shape = shape!(
    "accessModes", "selector" => LABEL_SELECTOR, "resources" => RESOURCES, "volumeName",
    "storageClassName", "volumeMode", "dataSource", "dataSourceRef",
    "volumeAttributesClassName",
);
static DAEMON_SET: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => DAEMON_SET_SPEC,
    "status" => DAEMON_SET_STATUS,
);
static DAEMON_SET_SPEC: Shape = shape!(
    "selector" => LABEL_SELECTOR, "template" => TEMPLATE,
    "updateStrategy" => DEPLOYMENT_STRATEGY, "minReadySeconds", "revisionHistoryLimit",
);
static DAEMON_SET_STATUS: Shape = shape!(
    "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
    "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
    "collisionCount", "conditions" => CONDITION,
);
static REPLICA_SET: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => REPLICA_SET_SPEC,
    "status" => REPLICA_SET_STATUS,
);
static REPLICA_SET_SPEC: Shape = shape!(
    "replicas", "minReadySeconds", "selector" => LABEL_SELECTOR, "template" => TEMPLATE
);
static REPLICA_SET_STATUS: Shape = shape!(
    "replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
    "terminatingReplicas", "observedGeneration", "conditions" => CONDITION,
);
static JOB: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => JOB_SPEC, "status" => JOB_STATUS
);
static JOB_SPEC: Shape = shape!(
    "parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy",
    "successPolicy", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes",
    "selector" => LABEL_SELECTOR, "manualSelector", "template" => TEMPLATE,
    "ttlSecondsAfterFinished", "completionMode", "suspend", "podReplacementPolicy",
    "managedBy",
);
static JOB_STATUS: Shape = shape!(
    "conditions" => CONDITION, "startTime", "completionTime", "active", "succeeded",
    "failed", "terminating", "completedIndexes", "failedIndexes", "uncountedTerminatedPods",
    "ready",
);
static CRON_JOB: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => CRON_JOB_SPEC, "status"
);
static CRON_JOB_SPEC: Shape = shape!(
    "schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend",
    "jobTemplate" => JOB_TEMPLATE, "successfulJobsHistoryLimit", "failedJobsHistoryLimit",
);
static JOB_TEMPLATE: Shape = shape!("metadata" => META, "spec" => JOB_SPEC);
static POD: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => POD_SPEC, "status" => POD_STATUS
);
static POD_STATUS: Shape = shape!(
    "phase", "conditions" => CONDITION, "message", "reason", "nominatedNodeName", "hostIP",
    "hostIPs", "podIP", "podIPs", "startTime", "initContainerStatuses", "containerStatuses",
    "qosClass", "ephemeralContainerStatuses", "resize", "resourceClaimStatuses",
);
static SERVICE: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => SERVICE_SPEC,
    "status" => SERVICE_STATUS,
);
static SERVICE_SPEC: Shape = shape!(
    "ports" => SERVICE_PORT, "selector", "clusterIP", "clusterIPs", "type", "externalIPs",
    "sessionAffinity", "loadBalancerIP", "loadBalancerSourceRanges", "externalName",
    "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
    "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy", "allocateLoadBalancerNodePorts",
    "loadBalancerClass", "internalTrafficPolicy", "trafficDistribution",
);
static SERVICE_PORT: Shape = shape!(
    "name",
    "protocol",
    "appProtocol",
    "port",
    "targetPort",
    "nodePort"
);
static SERVICE_STATUS: Shape = shape!("loadBalancer", "conditions" => CONDITION);
static BINDING: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "subjects" => SUBJECT, "roleRef" => ROLE_REF
);
static SUBJECT: Shape = shape!("kind", "apiGroup", "name", "namespace");
static ROLE_REF: Shape = shape!("apiGroup", "kind", "name");
static CONFIG_MAP: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "immutable", "data", "binaryData"
);
static SECRET: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "immutable", "data", "stringData", "type"
);
static NAMESPACE: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec", "status" => NAMESPACE_STATUS
);
static NAMESPACE_STATUS: Shape = shape!("phase", "conditions" => CONDITION);
static SERVICE_ACCOUNT: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "secrets", "imagePullSecrets",
    "automountServiceAccountToken",
);
static ROLE: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "rules" => POLICY_RULE, "aggregationRule"
);
static POLICY_RULE: Shape = shape!(
    "verbs",
    "apiGroups",
    "resources",
    "resourceNames",
    "nonResourceURLs"
);
static QUOTA: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => QUOTA_SPEC, "status" => QUOTA_STATUS
);
static QUOTA_SPEC: Shape = shape!("hard", "scopes", "scopeSelector");
static QUOTA_STATUS: Shape = shape!("hard", "used");
static PRIORITY_CLASS: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "value", "globalDefault", "description",
    "preemptionPolicy",
);
static PDB: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => PDB_SPEC, "status" => PDB_STATUS
);
static PDB_SPEC: Shape = shape!(
    "minAvailable", "selector" => LABEL_SELECTOR, "maxUnavailable",
    "unhealthyPodEvictionPolicy",
);
static PDB_STATUS: Shape = shape!(
    "observedGeneration", "disruptedPods", "disruptionsAllowed", "currentHealthy",
    "desiredHealthy", "expectedPods", "conditions" => CONDITION,
);
static INGRESS: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => INGRESS_SPEC,
    "status" => INGRESS_STATUS,
);
static INGRESS_SPEC: Shape = shape!(
    "ingressClassName", "defaultBackend" => INGRESS_BACKEND, "tls" => INGRESS_TLS,
    "rules" => INGRESS_RULE,
);
static INGRESS_BACKEND: Shape = shape!("service" => INGRESS_SERVICE, "resource");
static INGRESS_SERVICE: Shape = shape!("name", "port" => INGRESS_PORT);
static INGRESS_PORT: Shape = shape!("name", "number");
static INGRESS_TLS: Shape = shape!("hosts", "secretName");
static INGRESS_RULE: Shape = shape!("host", "http" => INGRESS_HTTP);
static INGRESS_HTTP: Shape = shape!("paths" => INGRESS_PATH);
static INGRESS_PATH: Shape = shape!("path", "pathType", "backend" => INGRESS_BACKEND);
static INGRESS_STATUS: Shape = shape!("loadBalancer");
static HPA: Shape = shape!(
    "kind", "apiVersion", "metadata" => META, "spec" => HPA_SPEC, "status" => HPA_STATUS
);
static HPA_SPEC: Shape = shape!(
    "scaleTargetRef" => SCALE_TARGET, "minReplicas", "maxReplicas", "metrics" => METRIC,
    "behavior",
);
static SCALE_TARGET: Shape = shape!("kind", "name", "apiVersion");
static METRIC: Shape = shape!(
    "type", "object", "pods", "resource" => RESOURCE_METRIC, "containerResource", "external"
);
static RESOURCE_METRIC: Shape = shape!("name", "target" => METRIC_TARGET);
static METRIC_TARGET: Shape = shape!("type", "value", "averageValue", "averageUtilization");
static HPA_STATUS: Shape = shape!(
    "observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas",
    "currentMetrics", "conditions" => CONDITION,
);
/// Any other kind: the type and object meta first, the rest sorted.
static OTHER: Shape = shape!("kind", "apiVersion", "metadata" => META);

/// The struct of a top-level object of `kind`.
fn root(kind: &str) -> &'static Shape {
    match kind {
        "Deployment" => &DEPLOYMENT,
        "StatefulSet" => &STATEFUL_SET,
        "DaemonSet" => &DAEMON_SET,
        "ReplicaSet" | "ReplicationController" => &REPLICA_SET,
        "Job" => &JOB,
        "CronJob" => &CRON_JOB,
        "Pod" => &POD,
        "Service" => &SERVICE,
        "RoleBinding" | "ClusterRoleBinding" => &BINDING,
        "ConfigMap" => &CONFIG_MAP,
        "Secret" => &SECRET,
        "Namespace" => &NAMESPACE,
        "ServiceAccount" => &SERVICE_ACCOUNT,
        "Role" | "ClusterRole" => &ROLE,
        "ResourceQuota" => &QUOTA,
        "PriorityClass" => &PRIORITY_CLASS,
        "PodDisruptionBudget" => &PDB,
        "Ingress" => &INGRESS,
        "HorizontalPodAutoscaler" => &HPA,
        _ => &OTHER,
    }
}

/// `obj` as Go's `json.MarshalIndent(obj, "", "    ")` writes its typed form, plus the
/// newline kubectl adds.
pub fn to_json(obj: &Value) -> String {
    let mut out = String::new();
    write(
        &mut out,
        obj,
        Some(root(obj["kind"].as_str().unwrap_or_default())),
        0,
    );
    out.push('\n');
    go_escape(&out)
}

/// `obj` as Go's `json.Marshal` writes its typed form: compact, in field order.
pub fn to_compact_json(obj: &Value) -> String {
    let mut out = String::new();
    write_compact(
        &mut out,
        obj,
        Some(root(obj["kind"].as_str().unwrap_or_default())),
    );
    out
}

/// `--save-config` for an object kubectl built as a Go struct: the object with its own
/// last-applied annotation, recorded as upstream records a typed object (compact JSON in
/// field order with a trailing newline; an annotations map left empty is omitted, as Go's
/// `omitempty` drops it).
pub fn with_last_applied(obj: &Value) -> Value {
    let mut clean = obj.clone();
    if let Some(meta) = clean["metadata"].as_object_mut() {
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    let mut text = to_compact_json(&clean);
    text.push('\n');
    let mut out = obj.clone();
    if !out["metadata"]["annotations"].is_object() {
        out["metadata"]["annotations"] = json!({});
    }
    out["metadata"]["annotations"][LAST_APPLIED] = Value::String(go_escape(&text));
    out
}

/// The members of `members` in the order `shape` declares them (the rest by name), each
/// with the shape of its value.
fn ordered<'m>(
    members: &'m serde_json::Map<String, Value>,
    shape: Option<&'static Shape>,
) -> Vec<(&'m String, &'m Value, Option<&'static Shape>)> {
    let field = |key: &str| {
        shape.and_then(|s| {
            s.fields
                .iter()
                .position(|(name, _)| *name == key)
                .map(|at| (at, s.fields[at].1))
        })
    };
    let mut keys: Vec<Member<'m>> = members.iter().map(|(k, v)| (k, v, field(k))).collect();
    let rank = |f: &Option<(usize, Option<&'static Shape>)>| f.map_or(usize::MAX, |(at, _)| at);
    keys.sort_by(|a, b| rank(&a.2).cmp(&rank(&b.2)).then_with(|| a.0.cmp(b.0)));
    keys.into_iter()
        .map(|(k, v, f)| (k, v, f.and_then(|(_, child)| child)))
        .collect()
}

/// A member, with where its shape declares it and the shape of its value.
type Member<'m> = (
    &'m String,
    &'m Value,
    Option<(usize, Option<&'static Shape>)>,
);

fn write_compact(out: &mut String, v: &Value, shape: Option<&'static Shape>) {
    match v {
        Value::Object(members) => {
            out.push('{');
            for (i, (key, value, child)) in ordered(members, shape).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_compact(out, value, child);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, item, shape);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write(out: &mut String, v: &Value, shape: Option<&'static Shape>, depth: usize) {
    let pad = |n: usize| "    ".repeat(n);
    match v {
        Value::Object(members) if !members.is_empty() => {
            out.push_str("{\n");
            let fields = ordered(members, shape);
            let last = fields.len();
            for (i, (key, value, child)) in fields.into_iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write(out, value, child, depth + 1);
                out.push_str(if i + 1 < last { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write(out, item, shape, depth + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_follow_the_go_structs_and_maps_are_sorted() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"labels": {"b": "1", "a": "2"}, "name": "web", "creationTimestamp": null},
            "spec": {"template": {"spec": {"containers": [
                {"resources": {}, "image": "x", "name": "main", "env": [{"value": "1", "name": "A"}]}]}},
                "selector": {"matchLabels": {"app": "web"}}, "strategy": {}},
            "status": {}});
        let text = to_json(&d);
        let order = |needles: &[&str]| {
            let at: Vec<usize> = needles.iter().map(|n| text.find(n).unwrap()).collect();
            at.windows(2).all(|w| w[0] < w[1])
        };
        assert!(text.starts_with("{\n    \"kind\": \"Deployment\",\n    \"apiVersion\""));
        assert!(order(&[
            "\"name\": \"web\"",
            "\"creationTimestamp\"",
            "\"labels\""
        ]));
        assert!(order(&["\"a\": \"2\"", "\"b\": \"1\""]), "maps are sorted");
        assert!(order(&["\"selector\"", "\"template\"", "\"strategy\""]));
        assert!(order(&[
            "\"name\": \"main\"",
            "\"image\"",
            "\"env\"",
            "\"resources\""
        ]));
        assert!(order(&["\"name\": \"A\"", "\"value\": \"1\""]));
        assert!(
            text.ends_with("        \"strategy\": {}\n    },\n    \"status\": {}\n}\n"),
            "empty objects stay on one line"
        );
    }

    #[test]
    fn the_annotation_keeps_gos_field_order() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "x", "labels": {"run": "x"}, "creationTimestamp": null},
            "spec": {"containers": [{"name": "x", "image": "busybox", "resources": {},
                                     "ports": [{"containerPort": 80}]}],
                     "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"},
            "status": {}
        });
        let saved = with_last_applied(&pod);
        assert_eq!(
            saved["metadata"]["annotations"][LAST_APPLIED],
            "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\",\"creationTimestamp\":null,\"labels\":{\"run\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"x\",\"image\":\"busybox\",\"ports\":[{\"containerPort\":80}],\"resources\":{}}],\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\"},\"status\":{}}\n"
        );
        // Saving again records the object without its own annotation.
        assert_eq!(with_last_applied(&saved), saved);
    }

    #[test]
    fn an_autoscalers_record_follows_the_v2_structs() {
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "creationTimestamp": null},
            "spec": {"maxReplicas": 5, "minReplicas": 2, "metrics": [{"type": "Resource",
                "resource": {"target": {"averageUtilization": 80, "type": "Utilization"},
                    "name": "cpu"}}],
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
            "status": {"desiredReplicas": 0, "currentMetrics": null}});
        assert_eq!(
            with_last_applied(&hpa)["metadata"]["annotations"][LAST_APPLIED],
            "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/v2\",\"metadata\":{\"name\":\"web\",\"creationTimestamp\":null},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\",\"apiVersion\":\"apps/v1\"},\"minReplicas\":2,\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\",\"averageUtilization\":80}}}]},\"status\":{\"desiredReplicas\":0,\"currentMetrics\":null}}\n"
        );
    }
}
