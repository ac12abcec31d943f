//! Generated data: the protobuf schema of every API object the apiserver accepts in
//! `application/vnd.kubernetes.protobuf` request bodies. Facts (message names, field numbers,
//! JSON names, types, Go pointer/omitempty/inline) were extracted from upstream's
//! `generated.proto` and Go types of k8s.io/api v0.33.0 and k8s.io/apimachinery v0.33.0
//! by a throwaway script. Sorted by message name for binary search. Do not edit by hand.

use super::schema::{Field, Kind, MessageSchema, INLINE, OMITEMPTY, POINTER, REPEATED};

#[rustfmt::skip]
pub(super) static MESSAGES: &[MessageSchema] = &[
    MessageSchema { name: "k8s.io.api.apps.v1.ControllerRevision", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "data", Kind::Message("k8s.io.apimachinery.pkg.runtime.RawExtension"), OMITEMPTY),
        f(3, "revision", Kind::Int64, 0),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DaemonSet", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.apps.v1.DaemonSetSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.apps.v1.DaemonSetStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DaemonSetCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DaemonSetSpec", list: false, fields: &[
        f(1, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), POINTER),
        f(2, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), 0),
        f(3, "updateStrategy", Kind::Message("k8s.io.api.apps.v1.DaemonSetUpdateStrategy"), OMITEMPTY),
        f(4, "minReadySeconds", Kind::Int32, OMITEMPTY), f(6, "revisionHistoryLimit", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DaemonSetStatus", list: false, fields: &[
        f(1, "currentNumberScheduled", Kind::Int32, 0), f(2, "numberMisscheduled", Kind::Int32, 0),
        f(3, "desiredNumberScheduled", Kind::Int32, 0), f(4, "numberReady", Kind::Int32, 0),
        f(5, "observedGeneration", Kind::Int64, OMITEMPTY), f(6, "updatedNumberScheduled", Kind::Int32, OMITEMPTY),
        f(7, "numberAvailable", Kind::Int32, OMITEMPTY), f(8, "numberUnavailable", Kind::Int32, OMITEMPTY),
        f(9, "collisionCount", Kind::Int32, OMITEMPTY|POINTER),
        f(10, "conditions", Kind::Message("k8s.io.api.apps.v1.DaemonSetCondition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DaemonSetUpdateStrategy", list: false, fields: &[
        f(1, "type", Kind::String, OMITEMPTY),
        f(2, "rollingUpdate", Kind::Message("k8s.io.api.apps.v1.RollingUpdateDaemonSet"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.Deployment", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.apps.v1.DeploymentSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.apps.v1.DeploymentStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DeploymentCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0), f(4, "reason", Kind::String, OMITEMPTY),
        f(5, "message", Kind::String, OMITEMPTY),
        f(6, "lastUpdateTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(7, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DeploymentSpec", list: false, fields: &[
        f(1, "replicas", Kind::Int32, OMITEMPTY|POINTER),
        f(2, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), POINTER),
        f(3, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), 0),
        f(4, "strategy", Kind::Message("k8s.io.api.apps.v1.DeploymentStrategy"), OMITEMPTY),
        f(5, "minReadySeconds", Kind::Int32, OMITEMPTY), f(6, "revisionHistoryLimit", Kind::Int32, OMITEMPTY|POINTER),
        f(7, "paused", Kind::Bool, OMITEMPTY), f(9, "progressDeadlineSeconds", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DeploymentStatus", list: false, fields: &[
        f(1, "observedGeneration", Kind::Int64, OMITEMPTY), f(2, "replicas", Kind::Int32, OMITEMPTY),
        f(3, "updatedReplicas", Kind::Int32, OMITEMPTY), f(4, "availableReplicas", Kind::Int32, OMITEMPTY),
        f(5, "unavailableReplicas", Kind::Int32, OMITEMPTY),
        f(6, "conditions", Kind::Message("k8s.io.api.apps.v1.DeploymentCondition"), REPEATED|OMITEMPTY),
        f(7, "readyReplicas", Kind::Int32, OMITEMPTY), f(8, "collisionCount", Kind::Int32, OMITEMPTY|POINTER),
        f(9, "terminatingReplicas", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.DeploymentStrategy", list: false, fields: &[
        f(1, "type", Kind::String, OMITEMPTY),
        f(2, "rollingUpdate", Kind::Message("k8s.io.api.apps.v1.RollingUpdateDeployment"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.ReplicaSet", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.apps.v1.ReplicaSetSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.apps.v1.ReplicaSetStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.ReplicaSetCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.ReplicaSetSpec", list: false, fields: &[
        f(1, "replicas", Kind::Int32, OMITEMPTY|POINTER),
        f(2, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), POINTER),
        f(3, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), OMITEMPTY),
        f(4, "minReadySeconds", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.ReplicaSetStatus", list: false, fields: &[
        f(1, "replicas", Kind::Int32, 0), f(2, "fullyLabeledReplicas", Kind::Int32, OMITEMPTY),
        f(3, "observedGeneration", Kind::Int64, OMITEMPTY), f(4, "readyReplicas", Kind::Int32, OMITEMPTY),
        f(5, "availableReplicas", Kind::Int32, OMITEMPTY),
        f(6, "conditions", Kind::Message("k8s.io.api.apps.v1.ReplicaSetCondition"), REPEATED|OMITEMPTY),
        f(7, "terminatingReplicas", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.RollingUpdateDaemonSet", list: false, fields: &[
        f(1, "maxUnavailable", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
        f(2, "maxSurge", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.RollingUpdateDeployment", list: false, fields: &[
        f(1, "maxUnavailable", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
        f(2, "maxSurge", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy", list: false, fields: &[
        f(1, "partition", Kind::Int32, OMITEMPTY|POINTER),
        f(2, "maxUnavailable", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSet", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.apps.v1.StatefulSetSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.apps.v1.StatefulSetStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetOrdinals", list: false, fields: &[
        f(1, "start", Kind::Int32, 0),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", list: false, fields: &[
        f(1, "whenDeleted", Kind::String, OMITEMPTY), f(2, "whenScaled", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetSpec", list: false, fields: &[
        f(1, "replicas", Kind::Int32, OMITEMPTY|POINTER),
        f(2, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), POINTER),
        f(3, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), 0),
        f(4, "volumeClaimTemplates", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaim"), REPEATED|OMITEMPTY),
        f(5, "serviceName", Kind::String, 0), f(6, "podManagementPolicy", Kind::String, OMITEMPTY),
        f(7, "updateStrategy", Kind::Message("k8s.io.api.apps.v1.StatefulSetUpdateStrategy"), OMITEMPTY),
        f(8, "revisionHistoryLimit", Kind::Int32, OMITEMPTY|POINTER), f(9, "minReadySeconds", Kind::Int32, OMITEMPTY),
        f(10, "persistentVolumeClaimRetentionPolicy", Kind::Message("k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy"), OMITEMPTY|POINTER),
        f(11, "ordinals", Kind::Message("k8s.io.api.apps.v1.StatefulSetOrdinals"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetStatus", list: false, fields: &[
        f(1, "observedGeneration", Kind::Int64, OMITEMPTY), f(2, "replicas", Kind::Int32, 0),
        f(3, "readyReplicas", Kind::Int32, OMITEMPTY), f(4, "currentReplicas", Kind::Int32, OMITEMPTY),
        f(5, "updatedReplicas", Kind::Int32, OMITEMPTY), f(6, "currentRevision", Kind::String, OMITEMPTY),
        f(7, "updateRevision", Kind::String, OMITEMPTY), f(9, "collisionCount", Kind::Int32, OMITEMPTY|POINTER),
        f(10, "conditions", Kind::Message("k8s.io.api.apps.v1.StatefulSetCondition"), REPEATED|OMITEMPTY),
        f(11, "availableReplicas", Kind::Int32, 0),
    ] },
    MessageSchema { name: "k8s.io.api.apps.v1.StatefulSetUpdateStrategy", list: false, fields: &[
        f(1, "type", Kind::String, OMITEMPTY),
        f(2, "rollingUpdate", Kind::Message("k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.BoundObjectReference", list: false, fields: &[
        f(1, "kind", Kind::String, OMITEMPTY), f(2, "apiVersion", Kind::String, OMITEMPTY),
        f(3, "name", Kind::String, OMITEMPTY), f(4, "uid", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.ExtraValue", list: true, fields: &[
        f(1, "items", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.SelfSubjectReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "status", Kind::Message("k8s.io.api.authentication.v1.SelfSubjectReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.SelfSubjectReviewStatus", list: false, fields: &[
        f(1, "userInfo", Kind::Message("k8s.io.api.authentication.v1.UserInfo"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenRequest", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authentication.v1.TokenRequestSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authentication.v1.TokenRequestStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenRequestSpec", list: false, fields: &[
        f(1, "audiences", Kind::String, REPEATED),
        f(3, "boundObjectRef", Kind::Message("k8s.io.api.authentication.v1.BoundObjectReference"), POINTER),
        f(4, "expirationSeconds", Kind::Int64, POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenRequestStatus", list: false, fields: &[
        f(1, "token", Kind::String, 0),
        f(2, "expirationTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authentication.v1.TokenReviewSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authentication.v1.TokenReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenReviewSpec", list: false, fields: &[
        f(1, "token", Kind::String, OMITEMPTY), f(2, "audiences", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.TokenReviewStatus", list: false, fields: &[
        f(1, "authenticated", Kind::Bool, OMITEMPTY),
        f(2, "user", Kind::Message("k8s.io.api.authentication.v1.UserInfo"), OMITEMPTY),
        f(3, "error", Kind::String, OMITEMPTY), f(4, "audiences", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authentication.v1.UserInfo", list: false, fields: &[
        f(1, "username", Kind::String, OMITEMPTY), f(2, "uid", Kind::String, OMITEMPTY),
        f(3, "groups", Kind::String, REPEATED|OMITEMPTY),
        f(4, "extra", Kind::Map(&Kind::Message("k8s.io.api.authentication.v1.ExtraValue")), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.ExtraValue", list: true, fields: &[
        f(1, "items", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.FieldSelectorAttributes", list: false, fields: &[
        f(1, "rawSelector", Kind::String, OMITEMPTY),
        f(2, "requirements", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.LabelSelectorAttributes", list: false, fields: &[
        f(1, "rawSelector", Kind::String, OMITEMPTY),
        f(2, "requirements", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.LocalSubjectAccessReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authorization.v1.SubjectAccessReviewSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authorization.v1.SubjectAccessReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.NonResourceAttributes", list: false, fields: &[
        f(1, "path", Kind::String, OMITEMPTY), f(2, "verb", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.NonResourceRule", list: false, fields: &[
        f(1, "verbs", Kind::String, REPEATED), f(2, "nonResourceURLs", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.ResourceAttributes", list: false, fields: &[
        f(1, "namespace", Kind::String, OMITEMPTY), f(2, "verb", Kind::String, OMITEMPTY),
        f(3, "group", Kind::String, OMITEMPTY), f(4, "version", Kind::String, OMITEMPTY),
        f(5, "resource", Kind::String, OMITEMPTY), f(6, "subresource", Kind::String, OMITEMPTY),
        f(7, "name", Kind::String, OMITEMPTY),
        f(8, "fieldSelector", Kind::Message("k8s.io.api.authorization.v1.FieldSelectorAttributes"), OMITEMPTY|POINTER),
        f(9, "labelSelector", Kind::Message("k8s.io.api.authorization.v1.LabelSelectorAttributes"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.ResourceRule", list: false, fields: &[
        f(1, "verbs", Kind::String, REPEATED), f(2, "apiGroups", Kind::String, REPEATED|OMITEMPTY),
        f(3, "resources", Kind::String, REPEATED|OMITEMPTY), f(4, "resourceNames", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SelfSubjectAccessReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authorization.v1.SubjectAccessReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec", list: false, fields: &[
        f(1, "resourceAttributes", Kind::Message("k8s.io.api.authorization.v1.ResourceAttributes"), OMITEMPTY|POINTER),
        f(2, "nonResourceAttributes", Kind::Message("k8s.io.api.authorization.v1.NonResourceAttributes"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SelfSubjectRulesReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authorization.v1.SelfSubjectRulesReviewSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authorization.v1.SubjectRulesReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SelfSubjectRulesReviewSpec", list: false, fields: &[
        f(1, "namespace", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SubjectAccessReview", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.authorization.v1.SubjectAccessReviewSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.authorization.v1.SubjectAccessReviewStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SubjectAccessReviewSpec", list: false, fields: &[
        f(1, "resourceAttributes", Kind::Message("k8s.io.api.authorization.v1.ResourceAttributes"), OMITEMPTY|POINTER),
        f(2, "nonResourceAttributes", Kind::Message("k8s.io.api.authorization.v1.NonResourceAttributes"), OMITEMPTY|POINTER),
        f(3, "user", Kind::String, OMITEMPTY), f(4, "groups", Kind::String, REPEATED|OMITEMPTY),
        f(5, "extra", Kind::Map(&Kind::Message("k8s.io.api.authorization.v1.ExtraValue")), OMITEMPTY),
        f(6, "uid", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SubjectAccessReviewStatus", list: false, fields: &[
        f(1, "allowed", Kind::Bool, 0), f(2, "reason", Kind::String, OMITEMPTY),
        f(3, "evaluationError", Kind::String, OMITEMPTY), f(4, "denied", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.authorization.v1.SubjectRulesReviewStatus", list: false, fields: &[
        f(1, "resourceRules", Kind::Message("k8s.io.api.authorization.v1.ResourceRule"), REPEATED),
        f(2, "nonResourceRules", Kind::Message("k8s.io.api.authorization.v1.NonResourceRule"), REPEATED),
        f(3, "incomplete", Kind::Bool, 0), f(4, "evaluationError", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.CrossVersionObjectReference", list: false, fields: &[
        f(1, "kind", Kind::String, 0), f(2, "name", Kind::String, 0), f(3, "apiVersion", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec", list: false, fields: &[
        f(1, "scaleTargetRef", Kind::Message("k8s.io.api.autoscaling.v1.CrossVersionObjectReference"), 0),
        f(2, "minReplicas", Kind::Int32, OMITEMPTY|POINTER), f(3, "maxReplicas", Kind::Int32, 0),
        f(4, "targetCPUUtilizationPercentage", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus", list: false, fields: &[
        f(1, "observedGeneration", Kind::Int64, OMITEMPTY|POINTER),
        f(2, "lastScaleTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(3, "currentReplicas", Kind::Int32, 0), f(4, "desiredReplicas", Kind::Int32, 0),
        f(5, "currentCPUUtilizationPercentage", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.Scale", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.autoscaling.v1.ScaleSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.autoscaling.v1.ScaleStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.ScaleSpec", list: false, fields: &[
        f(1, "replicas", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v1.ScaleStatus", list: false, fields: &[
        f(1, "replicas", Kind::Int32, 0), f(2, "selector", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ContainerResourceMetricSource", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "target", Kind::Message("k8s.io.api.autoscaling.v2.MetricTarget"), 0),
        f(3, "container", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "current", Kind::Message("k8s.io.api.autoscaling.v2.MetricValueStatus"), 0),
        f(3, "container", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.CrossVersionObjectReference", list: false, fields: &[
        f(1, "kind", Kind::String, 0), f(2, "name", Kind::String, 0), f(3, "apiVersion", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ExternalMetricSource", list: false, fields: &[
        f(1, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
        f(2, "target", Kind::Message("k8s.io.api.autoscaling.v2.MetricTarget"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ExternalMetricStatus", list: false, fields: &[
        f(1, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
        f(2, "current", Kind::Message("k8s.io.api.autoscaling.v2.MetricValueStatus"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HPAScalingPolicy", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "value", Kind::Int32, 0), f(3, "periodSeconds", Kind::Int32, 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HPAScalingRules", list: false, fields: &[
        f(1, "selectPolicy", Kind::String, OMITEMPTY|POINTER),
        f(2, "policies", Kind::Message("k8s.io.api.autoscaling.v2.HPAScalingPolicy"), REPEATED|OMITEMPTY),
        f(3, "stabilizationWindowSeconds", Kind::Int32, OMITEMPTY|POINTER),
        f(4, "tolerance", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior", list: false, fields: &[
        f(1, "scaleUp", Kind::Message("k8s.io.api.autoscaling.v2.HPAScalingRules"), OMITEMPTY|POINTER),
        f(2, "scaleDown", Kind::Message("k8s.io.api.autoscaling.v2.HPAScalingRules"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec", list: false, fields: &[
        f(1, "scaleTargetRef", Kind::Message("k8s.io.api.autoscaling.v2.CrossVersionObjectReference"), 0),
        f(2, "minReplicas", Kind::Int32, OMITEMPTY|POINTER), f(3, "maxReplicas", Kind::Int32, 0),
        f(4, "metrics", Kind::Message("k8s.io.api.autoscaling.v2.MetricSpec"), REPEATED|OMITEMPTY),
        f(5, "behavior", Kind::Message("k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus", list: false, fields: &[
        f(1, "observedGeneration", Kind::Int64, OMITEMPTY|POINTER),
        f(2, "lastScaleTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(3, "currentReplicas", Kind::Int32, OMITEMPTY), f(4, "desiredReplicas", Kind::Int32, 0),
        f(5, "currentMetrics", Kind::Message("k8s.io.api.autoscaling.v2.MetricStatus"), REPEATED),
        f(6, "conditions", Kind::Message("k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.MetricIdentifier", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.MetricSpec", list: false, fields: &[
        f(1, "type", Kind::String, 0),
        f(2, "object", Kind::Message("k8s.io.api.autoscaling.v2.ObjectMetricSource"), OMITEMPTY|POINTER),
        f(3, "pods", Kind::Message("k8s.io.api.autoscaling.v2.PodsMetricSource"), OMITEMPTY|POINTER),
        f(4, "resource", Kind::Message("k8s.io.api.autoscaling.v2.ResourceMetricSource"), OMITEMPTY|POINTER),
        f(5, "external", Kind::Message("k8s.io.api.autoscaling.v2.ExternalMetricSource"), OMITEMPTY|POINTER),
        f(7, "containerResource", Kind::Message("k8s.io.api.autoscaling.v2.ContainerResourceMetricSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.MetricStatus", list: false, fields: &[
        f(1, "type", Kind::String, 0),
        f(2, "object", Kind::Message("k8s.io.api.autoscaling.v2.ObjectMetricStatus"), OMITEMPTY|POINTER),
        f(3, "pods", Kind::Message("k8s.io.api.autoscaling.v2.PodsMetricStatus"), OMITEMPTY|POINTER),
        f(4, "resource", Kind::Message("k8s.io.api.autoscaling.v2.ResourceMetricStatus"), OMITEMPTY|POINTER),
        f(5, "external", Kind::Message("k8s.io.api.autoscaling.v2.ExternalMetricStatus"), OMITEMPTY|POINTER),
        f(7, "containerResource", Kind::Message("k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.MetricTarget", list: false, fields: &[
        f(1, "type", Kind::String, 0),
        f(2, "value", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
        f(3, "averageValue", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
        f(4, "averageUtilization", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.MetricValueStatus", list: false, fields: &[
        f(1, "value", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
        f(2, "averageValue", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
        f(3, "averageUtilization", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ObjectMetricSource", list: false, fields: &[
        f(1, "describedObject", Kind::Message("k8s.io.api.autoscaling.v2.CrossVersionObjectReference"), 0),
        f(2, "target", Kind::Message("k8s.io.api.autoscaling.v2.MetricTarget"), 0),
        f(3, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ObjectMetricStatus", list: false, fields: &[
        f(1, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
        f(2, "current", Kind::Message("k8s.io.api.autoscaling.v2.MetricValueStatus"), 0),
        f(3, "describedObject", Kind::Message("k8s.io.api.autoscaling.v2.CrossVersionObjectReference"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.PodsMetricSource", list: false, fields: &[
        f(1, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
        f(2, "target", Kind::Message("k8s.io.api.autoscaling.v2.MetricTarget"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.PodsMetricStatus", list: false, fields: &[
        f(1, "metric", Kind::Message("k8s.io.api.autoscaling.v2.MetricIdentifier"), 0),
        f(2, "current", Kind::Message("k8s.io.api.autoscaling.v2.MetricValueStatus"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ResourceMetricSource", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "target", Kind::Message("k8s.io.api.autoscaling.v2.MetricTarget"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.autoscaling.v2.ResourceMetricStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "current", Kind::Message("k8s.io.api.autoscaling.v2.MetricValueStatus"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.CronJob", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.batch.v1.CronJobSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.batch.v1.CronJobStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.CronJobSpec", list: false, fields: &[
        f(1, "schedule", Kind::String, 0), f(2, "startingDeadlineSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(3, "concurrencyPolicy", Kind::String, OMITEMPTY), f(4, "suspend", Kind::Bool, OMITEMPTY|POINTER),
        f(5, "jobTemplate", Kind::Message("k8s.io.api.batch.v1.JobTemplateSpec"), 0),
        f(6, "successfulJobsHistoryLimit", Kind::Int32, OMITEMPTY|POINTER),
        f(7, "failedJobsHistoryLimit", Kind::Int32, OMITEMPTY|POINTER),
        f(8, "timeZone", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.CronJobStatus", list: false, fields: &[
        f(1, "active", Kind::Message("k8s.io.api.core.v1.ObjectReference"), REPEATED|OMITEMPTY),
        f(4, "lastScheduleTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(5, "lastSuccessfulTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.Job", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.batch.v1.JobSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.batch.v1.JobStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.JobCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastProbeTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "reason", Kind::String, OMITEMPTY), f(6, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.JobSpec", list: false, fields: &[
        f(1, "parallelism", Kind::Int32, OMITEMPTY|POINTER), f(2, "completions", Kind::Int32, OMITEMPTY|POINTER),
        f(3, "activeDeadlineSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(4, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(5, "manualSelector", Kind::Bool, OMITEMPTY|POINTER),
        f(6, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), 0),
        f(7, "backoffLimit", Kind::Int32, OMITEMPTY|POINTER),
        f(8, "ttlSecondsAfterFinished", Kind::Int32, OMITEMPTY|POINTER),
        f(9, "completionMode", Kind::String, OMITEMPTY|POINTER), f(10, "suspend", Kind::Bool, OMITEMPTY|POINTER),
        f(11, "podFailurePolicy", Kind::Message("k8s.io.api.batch.v1.PodFailurePolicy"), OMITEMPTY|POINTER),
        f(12, "backoffLimitPerIndex", Kind::Int32, OMITEMPTY|POINTER),
        f(13, "maxFailedIndexes", Kind::Int32, OMITEMPTY|POINTER),
        f(14, "podReplacementPolicy", Kind::String, OMITEMPTY|POINTER),
        f(15, "managedBy", Kind::String, OMITEMPTY|POINTER),
        f(16, "successPolicy", Kind::Message("k8s.io.api.batch.v1.SuccessPolicy"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.JobStatus", list: false, fields: &[
        f(1, "conditions", Kind::Message("k8s.io.api.batch.v1.JobCondition"), REPEATED|OMITEMPTY),
        f(2, "startTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(3, "completionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(4, "active", Kind::Int32, OMITEMPTY), f(5, "succeeded", Kind::Int32, OMITEMPTY),
        f(6, "failed", Kind::Int32, OMITEMPTY), f(7, "completedIndexes", Kind::String, OMITEMPTY),
        f(8, "uncountedTerminatedPods", Kind::Message("k8s.io.api.batch.v1.UncountedTerminatedPods"), OMITEMPTY|POINTER),
        f(9, "ready", Kind::Int32, OMITEMPTY|POINTER), f(10, "failedIndexes", Kind::String, OMITEMPTY|POINTER),
        f(11, "terminating", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.JobTemplateSpec", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.batch.v1.JobSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.PodFailurePolicy", list: false, fields: &[
        f(1, "rules", Kind::Message("k8s.io.api.batch.v1.PodFailurePolicyRule"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", list: false, fields: &[
        f(1, "containerName", Kind::String, OMITEMPTY|POINTER), f(2, "operator", Kind::String, 0),
        f(3, "values", Kind::Int32, REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.PodFailurePolicyRule", list: false, fields: &[
        f(1, "action", Kind::String, 0),
        f(2, "onExitCodes", Kind::Message("k8s.io.api.batch.v1.PodFailurePolicyOnExitCodesRequirement"), OMITEMPTY|POINTER),
        f(3, "onPodConditions", Kind::Message("k8s.io.api.batch.v1.PodFailurePolicyOnPodConditionsPattern"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.SuccessPolicy", list: false, fields: &[
        f(1, "rules", Kind::Message("k8s.io.api.batch.v1.SuccessPolicyRule"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.SuccessPolicyRule", list: false, fields: &[
        f(1, "succeededIndexes", Kind::String, OMITEMPTY|POINTER),
        f(2, "succeededCount", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.batch.v1.UncountedTerminatedPods", list: false, fields: &[
        f(1, "succeeded", Kind::String, REPEATED|OMITEMPTY), f(2, "failed", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.certificates.v1.CertificateSigningRequest", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.certificates.v1.CertificateSigningRequestSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.certificates.v1.CertificateSigningRequestStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.certificates.v1.CertificateSigningRequestCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "reason", Kind::String, OMITEMPTY),
        f(3, "message", Kind::String, OMITEMPTY),
        f(4, "lastUpdateTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(6, "status", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.certificates.v1.CertificateSigningRequestSpec", list: false, fields: &[
        f(1, "request", Kind::Bytes, 0), f(2, "username", Kind::String, OMITEMPTY),
        f(3, "uid", Kind::String, OMITEMPTY), f(4, "groups", Kind::String, REPEATED|OMITEMPTY),
        f(5, "usages", Kind::String, REPEATED|OMITEMPTY),
        f(6, "extra", Kind::Map(&Kind::Message("k8s.io.api.certificates.v1.ExtraValue")), OMITEMPTY),
        f(7, "signerName", Kind::String, 0), f(8, "expirationSeconds", Kind::Int32, POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.certificates.v1.CertificateSigningRequestStatus", list: false, fields: &[
        f(1, "conditions", Kind::Message("k8s.io.api.certificates.v1.CertificateSigningRequestCondition"), REPEATED|OMITEMPTY),
        f(2, "certificate", Kind::Bytes, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.certificates.v1.ExtraValue", list: true, fields: &[
        f(1, "items", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.coordination.v1.Lease", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.coordination.v1.LeaseSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.coordination.v1.LeaseSpec", list: false, fields: &[
        f(1, "holderIdentity", Kind::String, OMITEMPTY|POINTER),
        f(2, "leaseDurationSeconds", Kind::Int32, OMITEMPTY|POINTER),
        f(3, "acquireTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), OMITEMPTY|POINTER),
        f(4, "renewTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), OMITEMPTY|POINTER),
        f(5, "leaseTransitions", Kind::Int32, OMITEMPTY|POINTER), f(6, "strategy", Kind::String, OMITEMPTY|POINTER),
        f(7, "preferredHolder", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource", list: false, fields: &[
        f(1, "volumeID", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "partition", Kind::Int32, OMITEMPTY), f(4, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Affinity", list: false, fields: &[
        f(1, "nodeAffinity", Kind::Message("k8s.io.api.core.v1.NodeAffinity"), OMITEMPTY|POINTER),
        f(2, "podAffinity", Kind::Message("k8s.io.api.core.v1.PodAffinity"), OMITEMPTY|POINTER),
        f(3, "podAntiAffinity", Kind::Message("k8s.io.api.core.v1.PodAntiAffinity"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AppArmorProfile", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "localhostProfile", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AttachedVolume", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "devicePath", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AzureDiskVolumeSource", list: false, fields: &[
        f(1, "diskName", Kind::String, 0), f(2, "diskURI", Kind::String, 0),
        f(3, "cachingMode", Kind::String, OMITEMPTY|POINTER), f(4, "fsType", Kind::String, OMITEMPTY|POINTER),
        f(5, "readOnly", Kind::Bool, OMITEMPTY|POINTER), f(6, "kind", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AzureFilePersistentVolumeSource", list: false, fields: &[
        f(1, "secretName", Kind::String, 0), f(2, "shareName", Kind::String, 0),
        f(3, "readOnly", Kind::Bool, OMITEMPTY), f(4, "secretNamespace", Kind::String, POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.AzureFileVolumeSource", list: false, fields: &[
        f(1, "secretName", Kind::String, 0), f(2, "shareName", Kind::String, 0),
        f(3, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Binding", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "target", Kind::Message("k8s.io.api.core.v1.ObjectReference"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CSIPersistentVolumeSource", list: false, fields: &[
        f(1, "driver", Kind::String, 0), f(2, "volumeHandle", Kind::String, 0),
        f(3, "readOnly", Kind::Bool, OMITEMPTY), f(4, "fsType", Kind::String, OMITEMPTY),
        f(5, "volumeAttributes", Kind::Map(&Kind::String), OMITEMPTY),
        f(6, "controllerPublishSecretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(7, "nodeStageSecretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(8, "nodePublishSecretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(9, "controllerExpandSecretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(10, "nodeExpandSecretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CSIVolumeSource", list: false, fields: &[
        f(1, "driver", Kind::String, 0), f(2, "readOnly", Kind::Bool, OMITEMPTY|POINTER),
        f(3, "fsType", Kind::String, OMITEMPTY|POINTER),
        f(4, "volumeAttributes", Kind::Map(&Kind::String), OMITEMPTY),
        f(5, "nodePublishSecretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Capabilities", list: false, fields: &[
        f(1, "add", Kind::String, REPEATED|OMITEMPTY), f(2, "drop", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CephFSPersistentVolumeSource", list: false, fields: &[
        f(1, "monitors", Kind::String, REPEATED), f(2, "path", Kind::String, OMITEMPTY),
        f(3, "user", Kind::String, OMITEMPTY), f(4, "secretFile", Kind::String, OMITEMPTY),
        f(5, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(6, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CephFSVolumeSource", list: false, fields: &[
        f(1, "monitors", Kind::String, REPEATED), f(2, "path", Kind::String, OMITEMPTY),
        f(3, "user", Kind::String, OMITEMPTY), f(4, "secretFile", Kind::String, OMITEMPTY),
        f(5, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
        f(6, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CinderPersistentVolumeSource", list: false, fields: &[
        f(1, "volumeID", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "readOnly", Kind::Bool, OMITEMPTY),
        f(4, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.CinderVolumeSource", list: false, fields: &[
        f(1, "volumeID", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "readOnly", Kind::Bool, OMITEMPTY),
        f(4, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ClientIPConfig", list: false, fields: &[
        f(1, "timeoutSeconds", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ClusterTrustBundleProjection", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY|POINTER), f(2, "signerName", Kind::String, OMITEMPTY|POINTER),
        f(3, "labelSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(4, "path", Kind::String, 0), f(5, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMap", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "data", Kind::Map(&Kind::String), OMITEMPTY), f(3, "binaryData", Kind::Map(&Kind::Bytes), OMITEMPTY),
        f(4, "immutable", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMapEnvSource", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE),
        f(2, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMapKeySelector", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE), f(2, "key", Kind::String, 0),
        f(3, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMapNodeConfigSource", list: false, fields: &[
        f(1, "namespace", Kind::String, 0), f(2, "name", Kind::String, 0), f(3, "uid", Kind::String, OMITEMPTY),
        f(4, "resourceVersion", Kind::String, OMITEMPTY), f(5, "kubeletConfigKey", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMapProjection", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE),
        f(2, "items", Kind::Message("k8s.io.api.core.v1.KeyToPath"), REPEATED|OMITEMPTY),
        f(4, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ConfigMapVolumeSource", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE),
        f(2, "items", Kind::Message("k8s.io.api.core.v1.KeyToPath"), REPEATED|OMITEMPTY),
        f(3, "defaultMode", Kind::Int32, OMITEMPTY|POINTER), f(4, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Container", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "image", Kind::String, OMITEMPTY),
        f(3, "command", Kind::String, REPEATED|OMITEMPTY), f(4, "args", Kind::String, REPEATED|OMITEMPTY),
        f(5, "workingDir", Kind::String, OMITEMPTY),
        f(6, "ports", Kind::Message("k8s.io.api.core.v1.ContainerPort"), REPEATED|OMITEMPTY),
        f(7, "env", Kind::Message("k8s.io.api.core.v1.EnvVar"), REPEATED|OMITEMPTY),
        f(8, "resources", Kind::Message("k8s.io.api.core.v1.ResourceRequirements"), OMITEMPTY),
        f(9, "volumeMounts", Kind::Message("k8s.io.api.core.v1.VolumeMount"), REPEATED|OMITEMPTY),
        f(10, "livenessProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(11, "readinessProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(12, "lifecycle", Kind::Message("k8s.io.api.core.v1.Lifecycle"), OMITEMPTY|POINTER),
        f(13, "terminationMessagePath", Kind::String, OMITEMPTY), f(14, "imagePullPolicy", Kind::String, OMITEMPTY),
        f(15, "securityContext", Kind::Message("k8s.io.api.core.v1.SecurityContext"), OMITEMPTY|POINTER),
        f(16, "stdin", Kind::Bool, OMITEMPTY), f(17, "stdinOnce", Kind::Bool, OMITEMPTY),
        f(18, "tty", Kind::Bool, OMITEMPTY),
        f(19, "envFrom", Kind::Message("k8s.io.api.core.v1.EnvFromSource"), REPEATED|OMITEMPTY),
        f(20, "terminationMessagePolicy", Kind::String, OMITEMPTY),
        f(21, "volumeDevices", Kind::Message("k8s.io.api.core.v1.VolumeDevice"), REPEATED|OMITEMPTY),
        f(22, "startupProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(23, "resizePolicy", Kind::Message("k8s.io.api.core.v1.ContainerResizePolicy"), REPEATED|OMITEMPTY),
        f(24, "restartPolicy", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerImage", list: false, fields: &[
        f(1, "names", Kind::String, REPEATED), f(2, "sizeBytes", Kind::Int64, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerPort", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "hostPort", Kind::Int32, OMITEMPTY),
        f(3, "containerPort", Kind::Int32, 0), f(4, "protocol", Kind::String, OMITEMPTY),
        f(5, "hostIP", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerResizePolicy", list: false, fields: &[
        f(1, "resourceName", Kind::String, 0), f(2, "restartPolicy", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerState", list: false, fields: &[
        f(1, "waiting", Kind::Message("k8s.io.api.core.v1.ContainerStateWaiting"), OMITEMPTY|POINTER),
        f(2, "running", Kind::Message("k8s.io.api.core.v1.ContainerStateRunning"), OMITEMPTY|POINTER),
        f(3, "terminated", Kind::Message("k8s.io.api.core.v1.ContainerStateTerminated"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerStateRunning", list: false, fields: &[
        f(1, "startedAt", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerStateTerminated", list: false, fields: &[
        f(1, "exitCode", Kind::Int32, 0), f(2, "signal", Kind::Int32, OMITEMPTY),
        f(3, "reason", Kind::String, OMITEMPTY), f(4, "message", Kind::String, OMITEMPTY),
        f(5, "startedAt", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(6, "finishedAt", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(7, "containerID", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerStateWaiting", list: false, fields: &[
        f(1, "reason", Kind::String, OMITEMPTY), f(2, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "state", Kind::Message("k8s.io.api.core.v1.ContainerState"), OMITEMPTY),
        f(3, "lastState", Kind::Message("k8s.io.api.core.v1.ContainerState"), OMITEMPTY),
        f(4, "ready", Kind::Bool, 0), f(5, "restartCount", Kind::Int32, 0), f(6, "image", Kind::String, 0),
        f(7, "imageID", Kind::String, 0), f(8, "containerID", Kind::String, OMITEMPTY),
        f(9, "started", Kind::Bool, OMITEMPTY|POINTER),
        f(10, "allocatedResources", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(11, "resources", Kind::Message("k8s.io.api.core.v1.ResourceRequirements"), OMITEMPTY|POINTER),
        f(12, "volumeMounts", Kind::Message("k8s.io.api.core.v1.VolumeMountStatus"), REPEATED|OMITEMPTY),
        f(13, "user", Kind::Message("k8s.io.api.core.v1.ContainerUser"), OMITEMPTY|POINTER),
        f(14, "allocatedResourcesStatus", Kind::Message("k8s.io.api.core.v1.ResourceStatus"), REPEATED|OMITEMPTY),
        f(15, "stopSignal", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ContainerUser", list: false, fields: &[
        f(1, "linux", Kind::Message("k8s.io.api.core.v1.LinuxContainerUser"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.DaemonEndpoint", list: false, fields: &[
        f(1, "Port", Kind::Int32, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.DownwardAPIProjection", list: false, fields: &[
        f(1, "items", Kind::Message("k8s.io.api.core.v1.DownwardAPIVolumeFile"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.DownwardAPIVolumeFile", list: false, fields: &[
        f(1, "path", Kind::String, 0),
        f(2, "fieldRef", Kind::Message("k8s.io.api.core.v1.ObjectFieldSelector"), OMITEMPTY|POINTER),
        f(3, "resourceFieldRef", Kind::Message("k8s.io.api.core.v1.ResourceFieldSelector"), OMITEMPTY|POINTER),
        f(4, "mode", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.DownwardAPIVolumeSource", list: false, fields: &[
        f(1, "items", Kind::Message("k8s.io.api.core.v1.DownwardAPIVolumeFile"), REPEATED|OMITEMPTY),
        f(2, "defaultMode", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EmptyDirVolumeSource", list: false, fields: &[
        f(1, "medium", Kind::String, OMITEMPTY),
        f(2, "sizeLimit", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EndpointAddress", list: false, fields: &[
        f(1, "ip", Kind::String, 0),
        f(2, "targetRef", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
        f(3, "hostname", Kind::String, OMITEMPTY), f(4, "nodeName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EndpointPort", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "port", Kind::Int32, 0),
        f(3, "protocol", Kind::String, OMITEMPTY), f(4, "appProtocol", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EndpointSubset", list: false, fields: &[
        f(1, "addresses", Kind::Message("k8s.io.api.core.v1.EndpointAddress"), REPEATED|OMITEMPTY),
        f(2, "notReadyAddresses", Kind::Message("k8s.io.api.core.v1.EndpointAddress"), REPEATED|OMITEMPTY),
        f(3, "ports", Kind::Message("k8s.io.api.core.v1.EndpointPort"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Endpoints", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "subsets", Kind::Message("k8s.io.api.core.v1.EndpointSubset"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EnvFromSource", list: false, fields: &[
        f(1, "prefix", Kind::String, OMITEMPTY),
        f(2, "configMapRef", Kind::Message("k8s.io.api.core.v1.ConfigMapEnvSource"), OMITEMPTY|POINTER),
        f(3, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretEnvSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EnvVar", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "value", Kind::String, OMITEMPTY),
        f(3, "valueFrom", Kind::Message("k8s.io.api.core.v1.EnvVarSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EnvVarSource", list: false, fields: &[
        f(1, "fieldRef", Kind::Message("k8s.io.api.core.v1.ObjectFieldSelector"), OMITEMPTY|POINTER),
        f(2, "resourceFieldRef", Kind::Message("k8s.io.api.core.v1.ResourceFieldSelector"), OMITEMPTY|POINTER),
        f(3, "configMapKeyRef", Kind::Message("k8s.io.api.core.v1.ConfigMapKeySelector"), OMITEMPTY|POINTER),
        f(4, "secretKeyRef", Kind::Message("k8s.io.api.core.v1.SecretKeySelector"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EphemeralContainer", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.EphemeralContainerCommon"), INLINE),
        f(2, "targetContainerName", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EphemeralContainerCommon", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "image", Kind::String, OMITEMPTY),
        f(3, "command", Kind::String, REPEATED|OMITEMPTY), f(4, "args", Kind::String, REPEATED|OMITEMPTY),
        f(5, "workingDir", Kind::String, OMITEMPTY),
        f(6, "ports", Kind::Message("k8s.io.api.core.v1.ContainerPort"), REPEATED|OMITEMPTY),
        f(7, "env", Kind::Message("k8s.io.api.core.v1.EnvVar"), REPEATED|OMITEMPTY),
        f(8, "resources", Kind::Message("k8s.io.api.core.v1.ResourceRequirements"), OMITEMPTY),
        f(9, "volumeMounts", Kind::Message("k8s.io.api.core.v1.VolumeMount"), REPEATED|OMITEMPTY),
        f(10, "livenessProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(11, "readinessProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(12, "lifecycle", Kind::Message("k8s.io.api.core.v1.Lifecycle"), OMITEMPTY|POINTER),
        f(13, "terminationMessagePath", Kind::String, OMITEMPTY), f(14, "imagePullPolicy", Kind::String, OMITEMPTY),
        f(15, "securityContext", Kind::Message("k8s.io.api.core.v1.SecurityContext"), OMITEMPTY|POINTER),
        f(16, "stdin", Kind::Bool, OMITEMPTY), f(17, "stdinOnce", Kind::Bool, OMITEMPTY),
        f(18, "tty", Kind::Bool, OMITEMPTY),
        f(19, "envFrom", Kind::Message("k8s.io.api.core.v1.EnvFromSource"), REPEATED|OMITEMPTY),
        f(20, "terminationMessagePolicy", Kind::String, OMITEMPTY),
        f(21, "volumeDevices", Kind::Message("k8s.io.api.core.v1.VolumeDevice"), REPEATED|OMITEMPTY),
        f(22, "startupProbe", Kind::Message("k8s.io.api.core.v1.Probe"), OMITEMPTY|POINTER),
        f(23, "resizePolicy", Kind::Message("k8s.io.api.core.v1.ContainerResizePolicy"), REPEATED|OMITEMPTY),
        f(24, "restartPolicy", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EphemeralVolumeSource", list: false, fields: &[
        f(1, "volumeClaimTemplate", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimTemplate"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Event", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), 0),
        f(2, "involvedObject", Kind::Message("k8s.io.api.core.v1.ObjectReference"), 0),
        f(3, "reason", Kind::String, OMITEMPTY), f(4, "message", Kind::String, OMITEMPTY),
        f(5, "source", Kind::Message("k8s.io.api.core.v1.EventSource"), OMITEMPTY),
        f(6, "firstTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(7, "lastTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(8, "count", Kind::Int32, OMITEMPTY), f(9, "type", Kind::String, OMITEMPTY),
        f(10, "eventTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), OMITEMPTY),
        f(11, "series", Kind::Message("k8s.io.api.core.v1.EventSeries"), OMITEMPTY|POINTER),
        f(12, "action", Kind::String, OMITEMPTY),
        f(13, "related", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
        f(14, "reportingComponent", Kind::String, 0), f(15, "reportingInstance", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EventSeries", list: false, fields: &[
        f(1, "count", Kind::Int32, OMITEMPTY),
        f(2, "lastObservedTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.EventSource", list: false, fields: &[
        f(1, "component", Kind::String, OMITEMPTY), f(2, "host", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ExecAction", list: false, fields: &[
        f(1, "command", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.FCVolumeSource", list: false, fields: &[
        f(1, "targetWWNs", Kind::String, REPEATED|OMITEMPTY), f(2, "lun", Kind::Int32, OMITEMPTY|POINTER),
        f(3, "fsType", Kind::String, OMITEMPTY), f(4, "readOnly", Kind::Bool, OMITEMPTY),
        f(5, "wwids", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.FlexPersistentVolumeSource", list: false, fields: &[
        f(1, "driver", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(4, "readOnly", Kind::Bool, OMITEMPTY), f(5, "options", Kind::Map(&Kind::String), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.FlexVolumeSource", list: false, fields: &[
        f(1, "driver", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
        f(4, "readOnly", Kind::Bool, OMITEMPTY), f(5, "options", Kind::Map(&Kind::String), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.FlockerVolumeSource", list: false, fields: &[
        f(1, "datasetName", Kind::String, OMITEMPTY), f(2, "datasetUUID", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.GCEPersistentDiskVolumeSource", list: false, fields: &[
        f(1, "pdName", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "partition", Kind::Int32, OMITEMPTY), f(4, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.GRPCAction", list: false, fields: &[
        f(1, "port", Kind::Int32, 0), f(2, "service", Kind::String, POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.GitRepoVolumeSource", list: false, fields: &[
        f(1, "repository", Kind::String, 0), f(2, "revision", Kind::String, OMITEMPTY),
        f(3, "directory", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.GlusterfsPersistentVolumeSource", list: false, fields: &[
        f(1, "endpoints", Kind::String, 0), f(2, "path", Kind::String, 0), f(3, "readOnly", Kind::Bool, OMITEMPTY),
        f(4, "endpointsNamespace", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.GlusterfsVolumeSource", list: false, fields: &[
        f(1, "endpoints", Kind::String, 0), f(2, "path", Kind::String, 0), f(3, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.HTTPGetAction", list: false, fields: &[
        f(1, "path", Kind::String, OMITEMPTY),
        f(2, "port", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), 0),
        f(3, "host", Kind::String, OMITEMPTY), f(4, "scheme", Kind::String, OMITEMPTY),
        f(5, "httpHeaders", Kind::Message("k8s.io.api.core.v1.HTTPHeader"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.HTTPHeader", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "value", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.HostAlias", list: false, fields: &[
        f(1, "ip", Kind::String, 0), f(2, "hostnames", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.HostIP", list: false, fields: &[
        f(1, "ip", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.HostPathVolumeSource", list: false, fields: &[
        f(1, "path", Kind::String, 0), f(2, "type", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ISCSIPersistentVolumeSource", list: false, fields: &[
        f(1, "targetPortal", Kind::String, 0), f(2, "iqn", Kind::String, 0), f(3, "lun", Kind::Int32, 0),
        f(4, "iscsiInterface", Kind::String, OMITEMPTY), f(5, "fsType", Kind::String, OMITEMPTY),
        f(6, "readOnly", Kind::Bool, OMITEMPTY), f(7, "portals", Kind::String, REPEATED|OMITEMPTY),
        f(8, "chapAuthDiscovery", Kind::Bool, OMITEMPTY),
        f(10, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(11, "chapAuthSession", Kind::Bool, OMITEMPTY), f(12, "initiatorName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ISCSIVolumeSource", list: false, fields: &[
        f(1, "targetPortal", Kind::String, 0), f(2, "iqn", Kind::String, 0), f(3, "lun", Kind::Int32, 0),
        f(4, "iscsiInterface", Kind::String, OMITEMPTY), f(5, "fsType", Kind::String, OMITEMPTY),
        f(6, "readOnly", Kind::Bool, OMITEMPTY), f(7, "portals", Kind::String, REPEATED|OMITEMPTY),
        f(8, "chapAuthDiscovery", Kind::Bool, OMITEMPTY),
        f(10, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
        f(11, "chapAuthSession", Kind::Bool, OMITEMPTY), f(12, "initiatorName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ImageVolumeSource", list: false, fields: &[
        f(1, "reference", Kind::String, OMITEMPTY), f(2, "pullPolicy", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.KeyToPath", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "path", Kind::String, 0), f(3, "mode", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Lifecycle", list: false, fields: &[
        f(1, "postStart", Kind::Message("k8s.io.api.core.v1.LifecycleHandler"), OMITEMPTY|POINTER),
        f(2, "preStop", Kind::Message("k8s.io.api.core.v1.LifecycleHandler"), OMITEMPTY|POINTER),
        f(3, "stopSignal", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LifecycleHandler", list: false, fields: &[
        f(1, "exec", Kind::Message("k8s.io.api.core.v1.ExecAction"), OMITEMPTY|POINTER),
        f(2, "httpGet", Kind::Message("k8s.io.api.core.v1.HTTPGetAction"), OMITEMPTY|POINTER),
        f(3, "tcpSocket", Kind::Message("k8s.io.api.core.v1.TCPSocketAction"), OMITEMPTY|POINTER),
        f(4, "sleep", Kind::Message("k8s.io.api.core.v1.SleepAction"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LimitRange", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.LimitRangeSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LimitRangeItem", list: false, fields: &[
        f(1, "type", Kind::String, 0),
        f(2, "max", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(3, "min", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(4, "default", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(5, "defaultRequest", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(6, "maxLimitRequestRatio", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LimitRangeSpec", list: false, fields: &[
        f(1, "limits", Kind::Message("k8s.io.api.core.v1.LimitRangeItem"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LinuxContainerUser", list: false, fields: &[
        f(1, "uid", Kind::Int64, 0), f(2, "gid", Kind::Int64, 0),
        f(3, "supplementalGroups", Kind::Int64, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LoadBalancerIngress", list: false, fields: &[
        f(1, "ip", Kind::String, OMITEMPTY), f(2, "hostname", Kind::String, OMITEMPTY),
        f(3, "ipMode", Kind::String, OMITEMPTY|POINTER),
        f(4, "ports", Kind::Message("k8s.io.api.core.v1.PortStatus"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LoadBalancerStatus", list: false, fields: &[
        f(1, "ingress", Kind::Message("k8s.io.api.core.v1.LoadBalancerIngress"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LocalObjectReference", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.LocalVolumeSource", list: false, fields: &[
        f(1, "path", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ModifyVolumeStatus", list: false, fields: &[
        f(1, "targetVolumeAttributesClassName", Kind::String, OMITEMPTY), f(2, "status", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NFSVolumeSource", list: false, fields: &[
        f(1, "server", Kind::String, 0), f(2, "path", Kind::String, 0), f(3, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Namespace", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.NamespaceSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.NamespaceStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NamespaceCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "reason", Kind::String, OMITEMPTY), f(6, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NamespaceSpec", list: false, fields: &[
        f(1, "finalizers", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NamespaceStatus", list: false, fields: &[
        f(1, "phase", Kind::String, OMITEMPTY),
        f(2, "conditions", Kind::Message("k8s.io.api.core.v1.NamespaceCondition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Node", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.NodeSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.NodeStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeAddress", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "address", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeAffinity", list: false, fields: &[
        f(1, "requiredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.NodeSelector"), OMITEMPTY|POINTER),
        f(2, "preferredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.PreferredSchedulingTerm"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastHeartbeatTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "reason", Kind::String, OMITEMPTY), f(6, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeConfigSource", list: false, fields: &[
        f(2, "configMap", Kind::Message("k8s.io.api.core.v1.ConfigMapNodeConfigSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeConfigStatus", list: false, fields: &[
        f(1, "assigned", Kind::Message("k8s.io.api.core.v1.NodeConfigSource"), OMITEMPTY|POINTER),
        f(2, "active", Kind::Message("k8s.io.api.core.v1.NodeConfigSource"), OMITEMPTY|POINTER),
        f(3, "lastKnownGood", Kind::Message("k8s.io.api.core.v1.NodeConfigSource"), OMITEMPTY|POINTER),
        f(4, "error", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeDaemonEndpoints", list: false, fields: &[
        f(1, "kubeletEndpoint", Kind::Message("k8s.io.api.core.v1.DaemonEndpoint"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeFeatures", list: false, fields: &[
        f(1, "supplementalGroupsPolicy", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeRuntimeHandler", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "features", Kind::Message("k8s.io.api.core.v1.NodeRuntimeHandlerFeatures"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeRuntimeHandlerFeatures", list: false, fields: &[
        f(1, "recursiveReadOnlyMounts", Kind::Bool, OMITEMPTY|POINTER),
        f(2, "userNamespaces", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSelector", list: false, fields: &[
        f(1, "nodeSelectorTerms", Kind::Message("k8s.io.api.core.v1.NodeSelectorTerm"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSelectorRequirement", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "operator", Kind::String, 0),
        f(3, "values", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSelectorTerm", list: false, fields: &[
        f(1, "matchExpressions", Kind::Message("k8s.io.api.core.v1.NodeSelectorRequirement"), REPEATED|OMITEMPTY),
        f(2, "matchFields", Kind::Message("k8s.io.api.core.v1.NodeSelectorRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSpec", list: false, fields: &[
        f(1, "podCIDR", Kind::String, OMITEMPTY), f(2, "externalID", Kind::String, OMITEMPTY),
        f(3, "providerID", Kind::String, OMITEMPTY), f(4, "unschedulable", Kind::Bool, OMITEMPTY),
        f(5, "taints", Kind::Message("k8s.io.api.core.v1.Taint"), REPEATED|OMITEMPTY),
        f(6, "configSource", Kind::Message("k8s.io.api.core.v1.NodeConfigSource"), OMITEMPTY|POINTER),
        f(7, "podCIDRs", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeStatus", list: false, fields: &[
        f(1, "capacity", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "allocatable", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(3, "phase", Kind::String, OMITEMPTY),
        f(4, "conditions", Kind::Message("k8s.io.api.core.v1.NodeCondition"), REPEATED|OMITEMPTY),
        f(5, "addresses", Kind::Message("k8s.io.api.core.v1.NodeAddress"), REPEATED|OMITEMPTY),
        f(6, "daemonEndpoints", Kind::Message("k8s.io.api.core.v1.NodeDaemonEndpoints"), OMITEMPTY),
        f(7, "nodeInfo", Kind::Message("k8s.io.api.core.v1.NodeSystemInfo"), OMITEMPTY),
        f(8, "images", Kind::Message("k8s.io.api.core.v1.ContainerImage"), REPEATED|OMITEMPTY),
        f(9, "volumesInUse", Kind::String, REPEATED|OMITEMPTY),
        f(10, "volumesAttached", Kind::Message("k8s.io.api.core.v1.AttachedVolume"), REPEATED|OMITEMPTY),
        f(11, "config", Kind::Message("k8s.io.api.core.v1.NodeConfigStatus"), OMITEMPTY|POINTER),
        f(12, "runtimeHandlers", Kind::Message("k8s.io.api.core.v1.NodeRuntimeHandler"), REPEATED|OMITEMPTY),
        f(13, "features", Kind::Message("k8s.io.api.core.v1.NodeFeatures"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSwapStatus", list: false, fields: &[
        f(1, "capacity", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.NodeSystemInfo", list: false, fields: &[
        f(1, "machineID", Kind::String, 0), f(2, "systemUUID", Kind::String, 0), f(3, "bootID", Kind::String, 0),
        f(4, "kernelVersion", Kind::String, 0), f(5, "osImage", Kind::String, 0),
        f(6, "containerRuntimeVersion", Kind::String, 0), f(7, "kubeletVersion", Kind::String, 0),
        f(8, "kubeProxyVersion", Kind::String, 0), f(9, "operatingSystem", Kind::String, 0),
        f(10, "architecture", Kind::String, 0),
        f(11, "swap", Kind::Message("k8s.io.api.core.v1.NodeSwapStatus"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ObjectFieldSelector", list: false, fields: &[
        f(1, "apiVersion", Kind::String, OMITEMPTY), f(2, "fieldPath", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ObjectReference", list: false, fields: &[
        f(1, "kind", Kind::String, OMITEMPTY), f(2, "namespace", Kind::String, OMITEMPTY),
        f(3, "name", Kind::String, OMITEMPTY), f(4, "uid", Kind::String, OMITEMPTY),
        f(5, "apiVersion", Kind::String, OMITEMPTY), f(6, "resourceVersion", Kind::String, OMITEMPTY),
        f(7, "fieldPath", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolume", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.PersistentVolumeSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.PersistentVolumeStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaim", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaimCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastProbeTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "reason", Kind::String, OMITEMPTY), f(6, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaimSpec", list: false, fields: &[
        f(1, "accessModes", Kind::String, REPEATED|OMITEMPTY),
        f(2, "resources", Kind::Message("k8s.io.api.core.v1.VolumeResourceRequirements"), OMITEMPTY),
        f(3, "volumeName", Kind::String, OMITEMPTY),
        f(4, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(5, "storageClassName", Kind::String, OMITEMPTY|POINTER),
        f(6, "volumeMode", Kind::String, OMITEMPTY|POINTER),
        f(7, "dataSource", Kind::Message("k8s.io.api.core.v1.TypedLocalObjectReference"), OMITEMPTY|POINTER),
        f(8, "dataSourceRef", Kind::Message("k8s.io.api.core.v1.TypedObjectReference"), OMITEMPTY|POINTER),
        f(9, "volumeAttributesClassName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaimStatus", list: false, fields: &[
        f(1, "phase", Kind::String, OMITEMPTY), f(2, "accessModes", Kind::String, REPEATED|OMITEMPTY),
        f(3, "capacity", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(4, "conditions", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimCondition"), REPEATED|OMITEMPTY),
        f(5, "allocatedResources", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(7, "allocatedResourceStatuses", Kind::Map(&Kind::String), OMITEMPTY),
        f(8, "currentVolumeAttributesClassName", Kind::String, OMITEMPTY|POINTER),
        f(9, "modifyVolumeStatus", Kind::Message("k8s.io.api.core.v1.ModifyVolumeStatus"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaimTemplate", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimSpec"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource", list: false, fields: &[
        f(1, "claimName", Kind::String, 0), f(2, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeSource", list: false, fields: &[
        f(1, "gcePersistentDisk", Kind::Message("k8s.io.api.core.v1.GCEPersistentDiskVolumeSource"), OMITEMPTY|POINTER),
        f(2, "awsElasticBlockStore", Kind::Message("k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource"), OMITEMPTY|POINTER),
        f(3, "hostPath", Kind::Message("k8s.io.api.core.v1.HostPathVolumeSource"), OMITEMPTY|POINTER),
        f(4, "glusterfs", Kind::Message("k8s.io.api.core.v1.GlusterfsPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(5, "nfs", Kind::Message("k8s.io.api.core.v1.NFSVolumeSource"), OMITEMPTY|POINTER),
        f(6, "rbd", Kind::Message("k8s.io.api.core.v1.RBDPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(7, "iscsi", Kind::Message("k8s.io.api.core.v1.ISCSIPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(8, "cinder", Kind::Message("k8s.io.api.core.v1.CinderPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(9, "cephfs", Kind::Message("k8s.io.api.core.v1.CephFSPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(10, "fc", Kind::Message("k8s.io.api.core.v1.FCVolumeSource"), OMITEMPTY|POINTER),
        f(11, "flocker", Kind::Message("k8s.io.api.core.v1.FlockerVolumeSource"), OMITEMPTY|POINTER),
        f(12, "flexVolume", Kind::Message("k8s.io.api.core.v1.FlexPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(13, "azureFile", Kind::Message("k8s.io.api.core.v1.AzureFilePersistentVolumeSource"), OMITEMPTY|POINTER),
        f(14, "vsphereVolume", Kind::Message("k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource"), OMITEMPTY|POINTER),
        f(15, "quobyte", Kind::Message("k8s.io.api.core.v1.QuobyteVolumeSource"), OMITEMPTY|POINTER),
        f(16, "azureDisk", Kind::Message("k8s.io.api.core.v1.AzureDiskVolumeSource"), OMITEMPTY|POINTER),
        f(17, "photonPersistentDisk", Kind::Message("k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource"), OMITEMPTY|POINTER),
        f(18, "portworxVolume", Kind::Message("k8s.io.api.core.v1.PortworxVolumeSource"), OMITEMPTY|POINTER),
        f(19, "scaleIO", Kind::Message("k8s.io.api.core.v1.ScaleIOPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(20, "local", Kind::Message("k8s.io.api.core.v1.LocalVolumeSource"), OMITEMPTY|POINTER),
        f(21, "storageos", Kind::Message("k8s.io.api.core.v1.StorageOSPersistentVolumeSource"), OMITEMPTY|POINTER),
        f(22, "csi", Kind::Message("k8s.io.api.core.v1.CSIPersistentVolumeSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeSpec", list: false, fields: &[
        f(1, "capacity", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "", Kind::Message("k8s.io.api.core.v1.PersistentVolumeSource"), INLINE),
        f(3, "accessModes", Kind::String, REPEATED|OMITEMPTY),
        f(4, "claimRef", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
        f(5, "persistentVolumeReclaimPolicy", Kind::String, OMITEMPTY),
        f(6, "storageClassName", Kind::String, OMITEMPTY), f(7, "mountOptions", Kind::String, REPEATED|OMITEMPTY),
        f(8, "volumeMode", Kind::String, OMITEMPTY|POINTER),
        f(9, "nodeAffinity", Kind::Message("k8s.io.api.core.v1.VolumeNodeAffinity"), OMITEMPTY|POINTER),
        f(10, "volumeAttributesClassName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PersistentVolumeStatus", list: false, fields: &[
        f(1, "phase", Kind::String, OMITEMPTY), f(2, "message", Kind::String, OMITEMPTY),
        f(3, "reason", Kind::String, OMITEMPTY),
        f(4, "lastPhaseTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource", list: false, fields: &[
        f(1, "pdID", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Pod", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.PodSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.PodStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodAffinity", list: false, fields: &[
        f(1, "requiredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.PodAffinityTerm"), REPEATED|OMITEMPTY),
        f(2, "preferredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.WeightedPodAffinityTerm"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodAffinityTerm", list: false, fields: &[
        f(1, "labelSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(2, "namespaces", Kind::String, REPEATED|OMITEMPTY), f(3, "topologyKey", Kind::String, 0),
        f(4, "namespaceSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(5, "matchLabelKeys", Kind::String, REPEATED|OMITEMPTY),
        f(6, "mismatchLabelKeys", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodAntiAffinity", list: false, fields: &[
        f(1, "requiredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.PodAffinityTerm"), REPEATED|OMITEMPTY),
        f(2, "preferredDuringSchedulingIgnoredDuringExecution", Kind::Message("k8s.io.api.core.v1.WeightedPodAffinityTerm"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastProbeTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(5, "reason", Kind::String, OMITEMPTY), f(6, "message", Kind::String, OMITEMPTY),
        f(7, "observedGeneration", Kind::Int64, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodDNSConfig", list: false, fields: &[
        f(1, "nameservers", Kind::String, REPEATED|OMITEMPTY), f(2, "searches", Kind::String, REPEATED|OMITEMPTY),
        f(3, "options", Kind::Message("k8s.io.api.core.v1.PodDNSConfigOption"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodDNSConfigOption", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "value", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodIP", list: false, fields: &[
        f(1, "ip", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodOS", list: false, fields: &[
        f(1, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodReadinessGate", list: false, fields: &[
        f(1, "conditionType", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodResourceClaim", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(3, "resourceClaimName", Kind::String, OMITEMPTY|POINTER),
        f(4, "resourceClaimTemplateName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodResourceClaimStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "resourceClaimName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodSchedulingGate", list: false, fields: &[
        f(1, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodSecurityContext", list: false, fields: &[
        f(1, "seLinuxOptions", Kind::Message("k8s.io.api.core.v1.SELinuxOptions"), OMITEMPTY|POINTER),
        f(2, "runAsUser", Kind::Int64, OMITEMPTY|POINTER), f(3, "runAsNonRoot", Kind::Bool, OMITEMPTY|POINTER),
        f(4, "supplementalGroups", Kind::Int64, REPEATED|OMITEMPTY), f(5, "fsGroup", Kind::Int64, OMITEMPTY|POINTER),
        f(6, "runAsGroup", Kind::Int64, OMITEMPTY|POINTER),
        f(7, "sysctls", Kind::Message("k8s.io.api.core.v1.Sysctl"), REPEATED|OMITEMPTY),
        f(8, "windowsOptions", Kind::Message("k8s.io.api.core.v1.WindowsSecurityContextOptions"), OMITEMPTY|POINTER),
        f(9, "fsGroupChangePolicy", Kind::String, OMITEMPTY|POINTER),
        f(10, "seccompProfile", Kind::Message("k8s.io.api.core.v1.SeccompProfile"), OMITEMPTY|POINTER),
        f(11, "appArmorProfile", Kind::Message("k8s.io.api.core.v1.AppArmorProfile"), OMITEMPTY|POINTER),
        f(12, "supplementalGroupsPolicy", Kind::String, OMITEMPTY|POINTER),
        f(13, "seLinuxChangePolicy", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodSpec", list: false, fields: &[
        f(1, "volumes", Kind::Message("k8s.io.api.core.v1.Volume"), REPEATED|OMITEMPTY),
        f(2, "containers", Kind::Message("k8s.io.api.core.v1.Container"), REPEATED),
        f(3, "restartPolicy", Kind::String, OMITEMPTY),
        f(4, "terminationGracePeriodSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(5, "activeDeadlineSeconds", Kind::Int64, OMITEMPTY|POINTER), f(6, "dnsPolicy", Kind::String, OMITEMPTY),
        f(7, "nodeSelector", Kind::Map(&Kind::String), OMITEMPTY),
        f(8, "serviceAccountName", Kind::String, OMITEMPTY), f(9, "serviceAccount", Kind::String, OMITEMPTY),
        f(10, "nodeName", Kind::String, OMITEMPTY), f(11, "hostNetwork", Kind::Bool, OMITEMPTY),
        f(12, "hostPID", Kind::Bool, OMITEMPTY), f(13, "hostIPC", Kind::Bool, OMITEMPTY),
        f(14, "securityContext", Kind::Message("k8s.io.api.core.v1.PodSecurityContext"), OMITEMPTY|POINTER),
        f(15, "imagePullSecrets", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), REPEATED|OMITEMPTY),
        f(16, "hostname", Kind::String, OMITEMPTY), f(17, "subdomain", Kind::String, OMITEMPTY),
        f(18, "affinity", Kind::Message("k8s.io.api.core.v1.Affinity"), OMITEMPTY|POINTER),
        f(19, "schedulerName", Kind::String, OMITEMPTY),
        f(20, "initContainers", Kind::Message("k8s.io.api.core.v1.Container"), REPEATED|OMITEMPTY),
        f(21, "automountServiceAccountToken", Kind::Bool, OMITEMPTY|POINTER),
        f(22, "tolerations", Kind::Message("k8s.io.api.core.v1.Toleration"), REPEATED|OMITEMPTY),
        f(23, "hostAliases", Kind::Message("k8s.io.api.core.v1.HostAlias"), REPEATED|OMITEMPTY),
        f(24, "priorityClassName", Kind::String, OMITEMPTY), f(25, "priority", Kind::Int32, OMITEMPTY|POINTER),
        f(26, "dnsConfig", Kind::Message("k8s.io.api.core.v1.PodDNSConfig"), OMITEMPTY|POINTER),
        f(27, "shareProcessNamespace", Kind::Bool, OMITEMPTY|POINTER),
        f(28, "readinessGates", Kind::Message("k8s.io.api.core.v1.PodReadinessGate"), REPEATED|OMITEMPTY),
        f(29, "runtimeClassName", Kind::String, OMITEMPTY|POINTER),
        f(30, "enableServiceLinks", Kind::Bool, OMITEMPTY|POINTER),
        f(31, "preemptionPolicy", Kind::String, OMITEMPTY|POINTER),
        f(32, "overhead", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(33, "topologySpreadConstraints", Kind::Message("k8s.io.api.core.v1.TopologySpreadConstraint"), REPEATED|OMITEMPTY),
        f(34, "ephemeralContainers", Kind::Message("k8s.io.api.core.v1.EphemeralContainer"), REPEATED|OMITEMPTY),
        f(35, "setHostnameAsFQDN", Kind::Bool, OMITEMPTY|POINTER),
        f(36, "os", Kind::Message("k8s.io.api.core.v1.PodOS"), OMITEMPTY|POINTER),
        f(37, "hostUsers", Kind::Bool, OMITEMPTY|POINTER),
        f(38, "schedulingGates", Kind::Message("k8s.io.api.core.v1.PodSchedulingGate"), REPEATED|OMITEMPTY),
        f(39, "resourceClaims", Kind::Message("k8s.io.api.core.v1.PodResourceClaim"), REPEATED|OMITEMPTY),
        f(40, "resources", Kind::Message("k8s.io.api.core.v1.ResourceRequirements"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodStatus", list: false, fields: &[
        f(1, "phase", Kind::String, OMITEMPTY),
        f(2, "conditions", Kind::Message("k8s.io.api.core.v1.PodCondition"), REPEATED|OMITEMPTY),
        f(3, "message", Kind::String, OMITEMPTY), f(4, "reason", Kind::String, OMITEMPTY),
        f(5, "hostIP", Kind::String, OMITEMPTY), f(6, "podIP", Kind::String, OMITEMPTY),
        f(7, "startTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(8, "containerStatuses", Kind::Message("k8s.io.api.core.v1.ContainerStatus"), REPEATED|OMITEMPTY),
        f(9, "qosClass", Kind::String, OMITEMPTY),
        f(10, "initContainerStatuses", Kind::Message("k8s.io.api.core.v1.ContainerStatus"), REPEATED|OMITEMPTY),
        f(11, "nominatedNodeName", Kind::String, OMITEMPTY),
        f(12, "podIPs", Kind::Message("k8s.io.api.core.v1.PodIP"), REPEATED|OMITEMPTY),
        f(13, "ephemeralContainerStatuses", Kind::Message("k8s.io.api.core.v1.ContainerStatus"), REPEATED|OMITEMPTY),
        f(14, "resize", Kind::String, OMITEMPTY),
        f(15, "resourceClaimStatuses", Kind::Message("k8s.io.api.core.v1.PodResourceClaimStatus"), REPEATED|OMITEMPTY),
        f(16, "hostIPs", Kind::Message("k8s.io.api.core.v1.HostIP"), REPEATED|OMITEMPTY),
        f(17, "observedGeneration", Kind::Int64, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodTemplate", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PodTemplateSpec", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.PodSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PortStatus", list: false, fields: &[
        f(1, "port", Kind::Int32, 0), f(2, "protocol", Kind::String, 0),
        f(3, "error", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PortworxVolumeSource", list: false, fields: &[
        f(1, "volumeID", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.PreferredSchedulingTerm", list: false, fields: &[
        f(1, "weight", Kind::Int32, 0), f(2, "preference", Kind::Message("k8s.io.api.core.v1.NodeSelectorTerm"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Probe", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.ProbeHandler"), INLINE),
        f(2, "initialDelaySeconds", Kind::Int32, OMITEMPTY), f(3, "timeoutSeconds", Kind::Int32, OMITEMPTY),
        f(4, "periodSeconds", Kind::Int32, OMITEMPTY), f(5, "successThreshold", Kind::Int32, OMITEMPTY),
        f(6, "failureThreshold", Kind::Int32, OMITEMPTY),
        f(7, "terminationGracePeriodSeconds", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ProbeHandler", list: false, fields: &[
        f(1, "exec", Kind::Message("k8s.io.api.core.v1.ExecAction"), OMITEMPTY|POINTER),
        f(2, "httpGet", Kind::Message("k8s.io.api.core.v1.HTTPGetAction"), OMITEMPTY|POINTER),
        f(3, "tcpSocket", Kind::Message("k8s.io.api.core.v1.TCPSocketAction"), OMITEMPTY|POINTER),
        f(4, "grpc", Kind::Message("k8s.io.api.core.v1.GRPCAction"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ProjectedVolumeSource", list: false, fields: &[
        f(1, "sources", Kind::Message("k8s.io.api.core.v1.VolumeProjection"), REPEATED),
        f(2, "defaultMode", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.QuobyteVolumeSource", list: false, fields: &[
        f(1, "registry", Kind::String, 0), f(2, "volume", Kind::String, 0), f(3, "readOnly", Kind::Bool, OMITEMPTY),
        f(4, "user", Kind::String, OMITEMPTY), f(5, "group", Kind::String, OMITEMPTY),
        f(6, "tenant", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.RBDPersistentVolumeSource", list: false, fields: &[
        f(1, "monitors", Kind::String, REPEATED), f(2, "image", Kind::String, 0),
        f(3, "fsType", Kind::String, OMITEMPTY), f(4, "pool", Kind::String, OMITEMPTY),
        f(5, "user", Kind::String, OMITEMPTY), f(6, "keyring", Kind::String, OMITEMPTY),
        f(7, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), OMITEMPTY|POINTER),
        f(8, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.RBDVolumeSource", list: false, fields: &[
        f(1, "monitors", Kind::String, REPEATED), f(2, "image", Kind::String, 0),
        f(3, "fsType", Kind::String, OMITEMPTY), f(4, "pool", Kind::String, OMITEMPTY),
        f(5, "user", Kind::String, OMITEMPTY), f(6, "keyring", Kind::String, OMITEMPTY),
        f(7, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
        f(8, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ReplicationController", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.ReplicationControllerSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.ReplicationControllerStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ReplicationControllerCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ReplicationControllerSpec", list: false, fields: &[
        f(1, "replicas", Kind::Int32, OMITEMPTY|POINTER), f(2, "selector", Kind::Map(&Kind::String), OMITEMPTY),
        f(3, "template", Kind::Message("k8s.io.api.core.v1.PodTemplateSpec"), OMITEMPTY|POINTER),
        f(4, "minReadySeconds", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ReplicationControllerStatus", list: false, fields: &[
        f(1, "replicas", Kind::Int32, 0), f(2, "fullyLabeledReplicas", Kind::Int32, OMITEMPTY),
        f(3, "observedGeneration", Kind::Int64, OMITEMPTY), f(4, "readyReplicas", Kind::Int32, OMITEMPTY),
        f(5, "availableReplicas", Kind::Int32, OMITEMPTY),
        f(6, "conditions", Kind::Message("k8s.io.api.core.v1.ReplicationControllerCondition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceClaim", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "request", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceFieldSelector", list: false, fields: &[
        f(1, "containerName", Kind::String, OMITEMPTY), f(2, "resource", Kind::String, 0),
        f(3, "divisor", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceHealth", list: false, fields: &[
        f(1, "resourceID", Kind::String, 0), f(2, "health", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceQuota", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.ResourceQuotaSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.ResourceQuotaStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceQuotaSpec", list: false, fields: &[
        f(1, "hard", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "scopes", Kind::String, REPEATED|OMITEMPTY),
        f(3, "scopeSelector", Kind::Message("k8s.io.api.core.v1.ScopeSelector"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceQuotaStatus", list: false, fields: &[
        f(1, "hard", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "used", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceRequirements", list: false, fields: &[
        f(1, "limits", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "requests", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(3, "claims", Kind::Message("k8s.io.api.core.v1.ResourceClaim"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ResourceStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "resources", Kind::Message("k8s.io.api.core.v1.ResourceHealth"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SELinuxOptions", list: false, fields: &[
        f(1, "user", Kind::String, OMITEMPTY), f(2, "role", Kind::String, OMITEMPTY),
        f(3, "type", Kind::String, OMITEMPTY), f(4, "level", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ScaleIOPersistentVolumeSource", list: false, fields: &[
        f(1, "gateway", Kind::String, 0), f(2, "system", Kind::String, 0),
        f(3, "secretRef", Kind::Message("k8s.io.api.core.v1.SecretReference"), POINTER),
        f(4, "sslEnabled", Kind::Bool, OMITEMPTY), f(5, "protectionDomain", Kind::String, OMITEMPTY),
        f(6, "storagePool", Kind::String, OMITEMPTY), f(7, "storageMode", Kind::String, OMITEMPTY),
        f(8, "volumeName", Kind::String, OMITEMPTY), f(9, "fsType", Kind::String, OMITEMPTY),
        f(10, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ScaleIOVolumeSource", list: false, fields: &[
        f(1, "gateway", Kind::String, 0), f(2, "system", Kind::String, 0),
        f(3, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), POINTER),
        f(4, "sslEnabled", Kind::Bool, OMITEMPTY), f(5, "protectionDomain", Kind::String, OMITEMPTY),
        f(6, "storagePool", Kind::String, OMITEMPTY), f(7, "storageMode", Kind::String, OMITEMPTY),
        f(8, "volumeName", Kind::String, OMITEMPTY), f(9, "fsType", Kind::String, OMITEMPTY),
        f(10, "readOnly", Kind::Bool, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ScopeSelector", list: false, fields: &[
        f(1, "matchExpressions", Kind::Message("k8s.io.api.core.v1.ScopedResourceSelectorRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ScopedResourceSelectorRequirement", list: false, fields: &[
        f(1, "scopeName", Kind::String, 0), f(2, "operator", Kind::String, 0),
        f(3, "values", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SeccompProfile", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "localhostProfile", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Secret", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "data", Kind::Map(&Kind::Bytes), OMITEMPTY), f(3, "type", Kind::String, OMITEMPTY),
        f(4, "stringData", Kind::Map(&Kind::String), OMITEMPTY), f(5, "immutable", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecretEnvSource", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE),
        f(2, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecretKeySelector", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE), f(2, "key", Kind::String, 0),
        f(3, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecretProjection", list: false, fields: &[
        f(1, "", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), INLINE),
        f(2, "items", Kind::Message("k8s.io.api.core.v1.KeyToPath"), REPEATED|OMITEMPTY),
        f(4, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecretReference", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "namespace", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecretVolumeSource", list: false, fields: &[
        f(1, "secretName", Kind::String, OMITEMPTY),
        f(2, "items", Kind::Message("k8s.io.api.core.v1.KeyToPath"), REPEATED|OMITEMPTY),
        f(3, "defaultMode", Kind::Int32, OMITEMPTY|POINTER), f(4, "optional", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SecurityContext", list: false, fields: &[
        f(1, "capabilities", Kind::Message("k8s.io.api.core.v1.Capabilities"), OMITEMPTY|POINTER),
        f(2, "privileged", Kind::Bool, OMITEMPTY|POINTER),
        f(3, "seLinuxOptions", Kind::Message("k8s.io.api.core.v1.SELinuxOptions"), OMITEMPTY|POINTER),
        f(4, "runAsUser", Kind::Int64, OMITEMPTY|POINTER), f(5, "runAsNonRoot", Kind::Bool, OMITEMPTY|POINTER),
        f(6, "readOnlyRootFilesystem", Kind::Bool, OMITEMPTY|POINTER),
        f(7, "allowPrivilegeEscalation", Kind::Bool, OMITEMPTY|POINTER),
        f(8, "runAsGroup", Kind::Int64, OMITEMPTY|POINTER), f(9, "procMount", Kind::String, OMITEMPTY|POINTER),
        f(10, "windowsOptions", Kind::Message("k8s.io.api.core.v1.WindowsSecurityContextOptions"), OMITEMPTY|POINTER),
        f(11, "seccompProfile", Kind::Message("k8s.io.api.core.v1.SeccompProfile"), OMITEMPTY|POINTER),
        f(12, "appArmorProfile", Kind::Message("k8s.io.api.core.v1.AppArmorProfile"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Service", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.core.v1.ServiceSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.core.v1.ServiceStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ServiceAccount", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "secrets", Kind::Message("k8s.io.api.core.v1.ObjectReference"), REPEATED|OMITEMPTY),
        f(3, "imagePullSecrets", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), REPEATED|OMITEMPTY),
        f(4, "automountServiceAccountToken", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ServiceAccountTokenProjection", list: false, fields: &[
        f(1, "audience", Kind::String, OMITEMPTY), f(2, "expirationSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(3, "path", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ServicePort", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "protocol", Kind::String, OMITEMPTY),
        f(3, "port", Kind::Int32, 0),
        f(4, "targetPort", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY),
        f(5, "nodePort", Kind::Int32, OMITEMPTY), f(6, "appProtocol", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ServiceSpec", list: false, fields: &[
        f(1, "ports", Kind::Message("k8s.io.api.core.v1.ServicePort"), REPEATED|OMITEMPTY),
        f(2, "selector", Kind::Map(&Kind::String), OMITEMPTY), f(3, "clusterIP", Kind::String, OMITEMPTY),
        f(4, "type", Kind::String, OMITEMPTY), f(5, "externalIPs", Kind::String, REPEATED|OMITEMPTY),
        f(7, "sessionAffinity", Kind::String, OMITEMPTY), f(8, "loadBalancerIP", Kind::String, OMITEMPTY),
        f(9, "loadBalancerSourceRanges", Kind::String, REPEATED|OMITEMPTY),
        f(10, "externalName", Kind::String, OMITEMPTY), f(11, "externalTrafficPolicy", Kind::String, OMITEMPTY),
        f(12, "healthCheckNodePort", Kind::Int32, OMITEMPTY),
        f(13, "publishNotReadyAddresses", Kind::Bool, OMITEMPTY),
        f(14, "sessionAffinityConfig", Kind::Message("k8s.io.api.core.v1.SessionAffinityConfig"), OMITEMPTY|POINTER),
        f(17, "ipFamilyPolicy", Kind::String, OMITEMPTY|POINTER),
        f(18, "clusterIPs", Kind::String, REPEATED|OMITEMPTY), f(19, "ipFamilies", Kind::String, REPEATED|OMITEMPTY),
        f(20, "allocateLoadBalancerNodePorts", Kind::Bool, OMITEMPTY|POINTER),
        f(21, "loadBalancerClass", Kind::String, OMITEMPTY|POINTER),
        f(22, "internalTrafficPolicy", Kind::String, OMITEMPTY|POINTER),
        f(23, "trafficDistribution", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.ServiceStatus", list: false, fields: &[
        f(1, "loadBalancer", Kind::Message("k8s.io.api.core.v1.LoadBalancerStatus"), OMITEMPTY),
        f(2, "conditions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Condition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SessionAffinityConfig", list: false, fields: &[
        f(1, "clientIP", Kind::Message("k8s.io.api.core.v1.ClientIPConfig"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.SleepAction", list: false, fields: &[
        f(1, "seconds", Kind::Int64, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.StorageOSPersistentVolumeSource", list: false, fields: &[
        f(1, "volumeName", Kind::String, OMITEMPTY), f(2, "volumeNamespace", Kind::String, OMITEMPTY),
        f(3, "fsType", Kind::String, OMITEMPTY), f(4, "readOnly", Kind::Bool, OMITEMPTY),
        f(5, "secretRef", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.StorageOSVolumeSource", list: false, fields: &[
        f(1, "volumeName", Kind::String, OMITEMPTY), f(2, "volumeNamespace", Kind::String, OMITEMPTY),
        f(3, "fsType", Kind::String, OMITEMPTY), f(4, "readOnly", Kind::Bool, OMITEMPTY),
        f(5, "secretRef", Kind::Message("k8s.io.api.core.v1.LocalObjectReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Sysctl", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "value", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TCPSocketAction", list: false, fields: &[
        f(1, "port", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), 0),
        f(2, "host", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Taint", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "value", Kind::String, OMITEMPTY), f(3, "effect", Kind::String, 0),
        f(4, "timeAdded", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Toleration", list: false, fields: &[
        f(1, "key", Kind::String, OMITEMPTY), f(2, "operator", Kind::String, OMITEMPTY),
        f(3, "value", Kind::String, OMITEMPTY), f(4, "effect", Kind::String, OMITEMPTY),
        f(5, "tolerationSeconds", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TopologySelectorLabelRequirement", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "values", Kind::String, REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TopologySelectorTerm", list: false, fields: &[
        f(1, "matchLabelExpressions", Kind::Message("k8s.io.api.core.v1.TopologySelectorLabelRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TopologySpreadConstraint", list: false, fields: &[
        f(1, "maxSkew", Kind::Int32, 0), f(2, "topologyKey", Kind::String, 0),
        f(3, "whenUnsatisfiable", Kind::String, 0),
        f(4, "labelSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(5, "minDomains", Kind::Int32, OMITEMPTY|POINTER),
        f(6, "nodeAffinityPolicy", Kind::String, OMITEMPTY|POINTER),
        f(7, "nodeTaintsPolicy", Kind::String, OMITEMPTY|POINTER),
        f(8, "matchLabelKeys", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TypedLocalObjectReference", list: false, fields: &[
        f(1, "apiGroup", Kind::String, POINTER), f(2, "kind", Kind::String, 0), f(3, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.TypedObjectReference", list: false, fields: &[
        f(1, "apiGroup", Kind::String, POINTER), f(2, "kind", Kind::String, 0), f(3, "name", Kind::String, 0),
        f(4, "namespace", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.Volume", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "", Kind::Message("k8s.io.api.core.v1.VolumeSource"), INLINE),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeDevice", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "devicePath", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeMount", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "readOnly", Kind::Bool, OMITEMPTY), f(3, "mountPath", Kind::String, 0),
        f(4, "subPath", Kind::String, OMITEMPTY), f(5, "mountPropagation", Kind::String, OMITEMPTY|POINTER),
        f(6, "subPathExpr", Kind::String, OMITEMPTY), f(7, "recursiveReadOnly", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeMountStatus", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "mountPath", Kind::String, 0), f(3, "readOnly", Kind::Bool, OMITEMPTY),
        f(4, "recursiveReadOnly", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeNodeAffinity", list: false, fields: &[
        f(1, "required", Kind::Message("k8s.io.api.core.v1.NodeSelector"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeProjection", list: false, fields: &[
        f(1, "secret", Kind::Message("k8s.io.api.core.v1.SecretProjection"), OMITEMPTY|POINTER),
        f(2, "downwardAPI", Kind::Message("k8s.io.api.core.v1.DownwardAPIProjection"), OMITEMPTY|POINTER),
        f(3, "configMap", Kind::Message("k8s.io.api.core.v1.ConfigMapProjection"), OMITEMPTY|POINTER),
        f(4, "serviceAccountToken", Kind::Message("k8s.io.api.core.v1.ServiceAccountTokenProjection"), OMITEMPTY|POINTER),
        f(5, "clusterTrustBundle", Kind::Message("k8s.io.api.core.v1.ClusterTrustBundleProjection"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeResourceRequirements", list: false, fields: &[
        f(1, "limits", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
        f(2, "requests", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VolumeSource", list: false, fields: &[
        f(1, "hostPath", Kind::Message("k8s.io.api.core.v1.HostPathVolumeSource"), OMITEMPTY|POINTER),
        f(2, "emptyDir", Kind::Message("k8s.io.api.core.v1.EmptyDirVolumeSource"), OMITEMPTY|POINTER),
        f(3, "gcePersistentDisk", Kind::Message("k8s.io.api.core.v1.GCEPersistentDiskVolumeSource"), OMITEMPTY|POINTER),
        f(4, "awsElasticBlockStore", Kind::Message("k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource"), OMITEMPTY|POINTER),
        f(5, "gitRepo", Kind::Message("k8s.io.api.core.v1.GitRepoVolumeSource"), OMITEMPTY|POINTER),
        f(6, "secret", Kind::Message("k8s.io.api.core.v1.SecretVolumeSource"), OMITEMPTY|POINTER),
        f(7, "nfs", Kind::Message("k8s.io.api.core.v1.NFSVolumeSource"), OMITEMPTY|POINTER),
        f(8, "iscsi", Kind::Message("k8s.io.api.core.v1.ISCSIVolumeSource"), OMITEMPTY|POINTER),
        f(9, "glusterfs", Kind::Message("k8s.io.api.core.v1.GlusterfsVolumeSource"), OMITEMPTY|POINTER),
        f(10, "persistentVolumeClaim", Kind::Message("k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource"), OMITEMPTY|POINTER),
        f(11, "rbd", Kind::Message("k8s.io.api.core.v1.RBDVolumeSource"), OMITEMPTY|POINTER),
        f(12, "flexVolume", Kind::Message("k8s.io.api.core.v1.FlexVolumeSource"), OMITEMPTY|POINTER),
        f(13, "cinder", Kind::Message("k8s.io.api.core.v1.CinderVolumeSource"), OMITEMPTY|POINTER),
        f(14, "cephfs", Kind::Message("k8s.io.api.core.v1.CephFSVolumeSource"), OMITEMPTY|POINTER),
        f(15, "flocker", Kind::Message("k8s.io.api.core.v1.FlockerVolumeSource"), OMITEMPTY|POINTER),
        f(16, "downwardAPI", Kind::Message("k8s.io.api.core.v1.DownwardAPIVolumeSource"), OMITEMPTY|POINTER),
        f(17, "fc", Kind::Message("k8s.io.api.core.v1.FCVolumeSource"), OMITEMPTY|POINTER),
        f(18, "azureFile", Kind::Message("k8s.io.api.core.v1.AzureFileVolumeSource"), OMITEMPTY|POINTER),
        f(19, "configMap", Kind::Message("k8s.io.api.core.v1.ConfigMapVolumeSource"), OMITEMPTY|POINTER),
        f(20, "vsphereVolume", Kind::Message("k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource"), OMITEMPTY|POINTER),
        f(21, "quobyte", Kind::Message("k8s.io.api.core.v1.QuobyteVolumeSource"), OMITEMPTY|POINTER),
        f(22, "azureDisk", Kind::Message("k8s.io.api.core.v1.AzureDiskVolumeSource"), OMITEMPTY|POINTER),
        f(23, "photonPersistentDisk", Kind::Message("k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource"), OMITEMPTY|POINTER),
        f(24, "portworxVolume", Kind::Message("k8s.io.api.core.v1.PortworxVolumeSource"), OMITEMPTY|POINTER),
        f(25, "scaleIO", Kind::Message("k8s.io.api.core.v1.ScaleIOVolumeSource"), OMITEMPTY|POINTER),
        f(26, "projected", Kind::Message("k8s.io.api.core.v1.ProjectedVolumeSource"), OMITEMPTY|POINTER),
        f(27, "storageos", Kind::Message("k8s.io.api.core.v1.StorageOSVolumeSource"), OMITEMPTY|POINTER),
        f(28, "csi", Kind::Message("k8s.io.api.core.v1.CSIVolumeSource"), OMITEMPTY|POINTER),
        f(29, "ephemeral", Kind::Message("k8s.io.api.core.v1.EphemeralVolumeSource"), OMITEMPTY|POINTER),
        f(30, "image", Kind::Message("k8s.io.api.core.v1.ImageVolumeSource"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource", list: false, fields: &[
        f(1, "volumePath", Kind::String, 0), f(2, "fsType", Kind::String, OMITEMPTY),
        f(3, "storagePolicyName", Kind::String, OMITEMPTY), f(4, "storagePolicyID", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.WeightedPodAffinityTerm", list: false, fields: &[
        f(1, "weight", Kind::Int32, 0),
        f(2, "podAffinityTerm", Kind::Message("k8s.io.api.core.v1.PodAffinityTerm"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.core.v1.WindowsSecurityContextOptions", list: false, fields: &[
        f(1, "gmsaCredentialSpecName", Kind::String, OMITEMPTY|POINTER),
        f(2, "gmsaCredentialSpec", Kind::String, OMITEMPTY|POINTER),
        f(3, "runAsUserName", Kind::String, OMITEMPTY|POINTER), f(4, "hostProcess", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.Endpoint", list: false, fields: &[
        f(1, "addresses", Kind::String, REPEATED),
        f(2, "conditions", Kind::Message("k8s.io.api.discovery.v1.EndpointConditions"), OMITEMPTY),
        f(3, "hostname", Kind::String, OMITEMPTY|POINTER),
        f(4, "targetRef", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
        f(5, "deprecatedTopology", Kind::Map(&Kind::String), OMITEMPTY),
        f(6, "nodeName", Kind::String, OMITEMPTY|POINTER), f(7, "zone", Kind::String, OMITEMPTY|POINTER),
        f(8, "hints", Kind::Message("k8s.io.api.discovery.v1.EndpointHints"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.EndpointConditions", list: false, fields: &[
        f(1, "ready", Kind::Bool, OMITEMPTY|POINTER), f(2, "serving", Kind::Bool, OMITEMPTY|POINTER),
        f(3, "terminating", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.EndpointHints", list: false, fields: &[
        f(1, "forZones", Kind::Message("k8s.io.api.discovery.v1.ForZone"), REPEATED|OMITEMPTY),
        f(2, "forNodes", Kind::Message("k8s.io.api.discovery.v1.ForNode"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.EndpointPort", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY|POINTER), f(2, "protocol", Kind::String, OMITEMPTY|POINTER),
        f(3, "port", Kind::Int32, OMITEMPTY|POINTER), f(4, "appProtocol", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.EndpointSlice", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "endpoints", Kind::Message("k8s.io.api.discovery.v1.Endpoint"), REPEATED),
        f(3, "ports", Kind::Message("k8s.io.api.discovery.v1.EndpointPort"), REPEATED),
        f(4, "addressType", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.ForNode", list: false, fields: &[
        f(1, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.discovery.v1.ForZone", list: false, fields: &[
        f(1, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.events.v1.Event", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), 0),
        f(2, "eventTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), 0),
        f(3, "series", Kind::Message("k8s.io.api.events.v1.EventSeries"), OMITEMPTY|POINTER),
        f(4, "reportingController", Kind::String, OMITEMPTY), f(5, "reportingInstance", Kind::String, OMITEMPTY),
        f(6, "action", Kind::String, OMITEMPTY), f(7, "reason", Kind::String, OMITEMPTY),
        f(8, "regarding", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY),
        f(9, "related", Kind::Message("k8s.io.api.core.v1.ObjectReference"), OMITEMPTY|POINTER),
        f(10, "note", Kind::String, OMITEMPTY), f(11, "type", Kind::String, OMITEMPTY),
        f(12, "deprecatedSource", Kind::Message("k8s.io.api.core.v1.EventSource"), OMITEMPTY),
        f(13, "deprecatedFirstTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(14, "deprecatedLastTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(15, "deprecatedCount", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.events.v1.EventSeries", list: false, fields: &[
        f(1, "count", Kind::Int32, 0),
        f(2, "lastObservedTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.HTTPIngressPath", list: false, fields: &[
        f(1, "path", Kind::String, OMITEMPTY),
        f(2, "backend", Kind::Message("k8s.io.api.networking.v1.IngressBackend"), 0),
        f(3, "pathType", Kind::String, POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.HTTPIngressRuleValue", list: false, fields: &[
        f(1, "paths", Kind::Message("k8s.io.api.networking.v1.HTTPIngressPath"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IPAddress", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.networking.v1.IPAddressSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IPAddressSpec", list: false, fields: &[
        f(1, "parentRef", Kind::Message("k8s.io.api.networking.v1.ParentReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IPBlock", list: false, fields: &[
        f(1, "cidr", Kind::String, 0), f(2, "except", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.Ingress", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.networking.v1.IngressSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.networking.v1.IngressStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressBackend", list: false, fields: &[
        f(3, "resource", Kind::Message("k8s.io.api.core.v1.TypedLocalObjectReference"), OMITEMPTY|POINTER),
        f(4, "service", Kind::Message("k8s.io.api.networking.v1.IngressServiceBackend"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressClass", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.networking.v1.IngressClassSpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressClassParametersReference", list: false, fields: &[
        f(1, "apiGroup", Kind::String, OMITEMPTY|POINTER), f(2, "kind", Kind::String, 0),
        f(3, "name", Kind::String, 0), f(4, "scope", Kind::String, POINTER),
        f(5, "namespace", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressClassSpec", list: false, fields: &[
        f(1, "controller", Kind::String, OMITEMPTY),
        f(2, "parameters", Kind::Message("k8s.io.api.networking.v1.IngressClassParametersReference"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressLoadBalancerIngress", list: false, fields: &[
        f(1, "ip", Kind::String, OMITEMPTY), f(2, "hostname", Kind::String, OMITEMPTY),
        f(4, "ports", Kind::Message("k8s.io.api.networking.v1.IngressPortStatus"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressLoadBalancerStatus", list: false, fields: &[
        f(1, "ingress", Kind::Message("k8s.io.api.networking.v1.IngressLoadBalancerIngress"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressPortStatus", list: false, fields: &[
        f(1, "port", Kind::Int32, 0), f(2, "protocol", Kind::String, 0),
        f(3, "error", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressRule", list: false, fields: &[
        f(1, "host", Kind::String, OMITEMPTY),
        f(2, "", Kind::Message("k8s.io.api.networking.v1.IngressRuleValue"), INLINE),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressRuleValue", list: false, fields: &[
        f(1, "http", Kind::Message("k8s.io.api.networking.v1.HTTPIngressRuleValue"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressServiceBackend", list: false, fields: &[
        f(1, "name", Kind::String, 0),
        f(2, "port", Kind::Message("k8s.io.api.networking.v1.ServiceBackendPort"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressSpec", list: false, fields: &[
        f(1, "defaultBackend", Kind::Message("k8s.io.api.networking.v1.IngressBackend"), OMITEMPTY|POINTER),
        f(2, "tls", Kind::Message("k8s.io.api.networking.v1.IngressTLS"), REPEATED|OMITEMPTY),
        f(3, "rules", Kind::Message("k8s.io.api.networking.v1.IngressRule"), REPEATED|OMITEMPTY),
        f(4, "ingressClassName", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressStatus", list: false, fields: &[
        f(1, "loadBalancer", Kind::Message("k8s.io.api.networking.v1.IngressLoadBalancerStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.IngressTLS", list: false, fields: &[
        f(1, "hosts", Kind::String, REPEATED|OMITEMPTY), f(2, "secretName", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicy", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.networking.v1.NetworkPolicySpec"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicyEgressRule", list: false, fields: &[
        f(1, "ports", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyPort"), REPEATED|OMITEMPTY),
        f(2, "to", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyPeer"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicyIngressRule", list: false, fields: &[
        f(1, "ports", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyPort"), REPEATED|OMITEMPTY),
        f(2, "from", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyPeer"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicyPeer", list: false, fields: &[
        f(1, "podSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(2, "namespaceSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(3, "ipBlock", Kind::Message("k8s.io.api.networking.v1.IPBlock"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicyPort", list: false, fields: &[
        f(1, "protocol", Kind::String, OMITEMPTY|POINTER),
        f(2, "port", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
        f(3, "endPort", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.NetworkPolicySpec", list: false, fields: &[
        f(1, "podSelector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), 0),
        f(2, "ingress", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyIngressRule"), REPEATED|OMITEMPTY),
        f(3, "egress", Kind::Message("k8s.io.api.networking.v1.NetworkPolicyEgressRule"), REPEATED|OMITEMPTY),
        f(4, "policyTypes", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.ParentReference", list: false, fields: &[
        f(1, "group", Kind::String, OMITEMPTY), f(2, "resource", Kind::String, OMITEMPTY),
        f(3, "namespace", Kind::String, OMITEMPTY), f(4, "name", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.ServiceBackendPort", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "number", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.ServiceCIDR", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.networking.v1.ServiceCIDRSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.networking.v1.ServiceCIDRStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.ServiceCIDRSpec", list: false, fields: &[
        f(1, "cidrs", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.networking.v1.ServiceCIDRStatus", list: false, fields: &[
        f(1, "conditions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Condition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.node.v1.Overhead", list: false, fields: &[
        f(1, "podFixed", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity")), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.node.v1.RuntimeClass", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "handler", Kind::String, 0),
        f(3, "overhead", Kind::Message("k8s.io.api.node.v1.Overhead"), OMITEMPTY|POINTER),
        f(4, "scheduling", Kind::Message("k8s.io.api.node.v1.Scheduling"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.node.v1.Scheduling", list: false, fields: &[
        f(1, "nodeSelector", Kind::Map(&Kind::String), OMITEMPTY),
        f(2, "tolerations", Kind::Message("k8s.io.api.core.v1.Toleration"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.policy.v1.Eviction", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "deleteOptions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.policy.v1.PodDisruptionBudget", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.policy.v1.PodDisruptionBudgetSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.api.policy.v1.PodDisruptionBudgetStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.policy.v1.PodDisruptionBudgetSpec", list: false, fields: &[
        f(1, "minAvailable", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
        f(2, "selector", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(3, "maxUnavailable", Kind::Message("k8s.io.apimachinery.pkg.util.intstr.IntOrString"), OMITEMPTY|POINTER),
        f(4, "unhealthyPodEvictionPolicy", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.policy.v1.PodDisruptionBudgetStatus", list: false, fields: &[
        f(1, "observedGeneration", Kind::Int64, OMITEMPTY),
        f(2, "disruptedPods", Kind::Map(&Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time")), OMITEMPTY),
        f(3, "disruptionsAllowed", Kind::Int32, 0), f(4, "currentHealthy", Kind::Int32, 0),
        f(5, "desiredHealthy", Kind::Int32, 0), f(6, "expectedPods", Kind::Int32, 0),
        f(7, "conditions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Condition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.AggregationRule", list: false, fields: &[
        f(1, "clusterRoleSelectors", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.ClusterRole", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "rules", Kind::Message("k8s.io.api.rbac.v1.PolicyRule"), REPEATED),
        f(3, "aggregationRule", Kind::Message("k8s.io.api.rbac.v1.AggregationRule"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.ClusterRoleBinding", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "subjects", Kind::Message("k8s.io.api.rbac.v1.Subject"), REPEATED|OMITEMPTY),
        f(3, "roleRef", Kind::Message("k8s.io.api.rbac.v1.RoleRef"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.PolicyRule", list: false, fields: &[
        f(1, "verbs", Kind::String, REPEATED), f(2, "apiGroups", Kind::String, REPEATED|OMITEMPTY),
        f(3, "resources", Kind::String, REPEATED|OMITEMPTY), f(4, "resourceNames", Kind::String, REPEATED|OMITEMPTY),
        f(5, "nonResourceURLs", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.Role", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "rules", Kind::Message("k8s.io.api.rbac.v1.PolicyRule"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.RoleBinding", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "subjects", Kind::Message("k8s.io.api.rbac.v1.Subject"), REPEATED|OMITEMPTY),
        f(3, "roleRef", Kind::Message("k8s.io.api.rbac.v1.RoleRef"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.RoleRef", list: false, fields: &[
        f(1, "apiGroup", Kind::String, 0), f(2, "kind", Kind::String, 0), f(3, "name", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.rbac.v1.Subject", list: false, fields: &[
        f(1, "kind", Kind::String, 0), f(2, "apiGroup", Kind::String, OMITEMPTY), f(3, "name", Kind::String, 0),
        f(4, "namespace", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.scheduling.v1.PriorityClass", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "value", Kind::Int32, 0), f(3, "globalDefault", Kind::Bool, OMITEMPTY),
        f(4, "description", Kind::String, OMITEMPTY), f(5, "preemptionPolicy", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSIDriver", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.storage.v1.CSIDriverSpec"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSIDriverSpec", list: false, fields: &[
        f(1, "attachRequired", Kind::Bool, OMITEMPTY|POINTER), f(2, "podInfoOnMount", Kind::Bool, OMITEMPTY|POINTER),
        f(3, "volumeLifecycleModes", Kind::String, REPEATED|OMITEMPTY),
        f(4, "storageCapacity", Kind::Bool, OMITEMPTY|POINTER),
        f(5, "fsGroupPolicy", Kind::String, OMITEMPTY|POINTER),
        f(6, "tokenRequests", Kind::Message("k8s.io.api.storage.v1.TokenRequest"), REPEATED|OMITEMPTY),
        f(7, "requiresRepublish", Kind::Bool, OMITEMPTY|POINTER), f(8, "seLinuxMount", Kind::Bool, OMITEMPTY|POINTER),
        f(9, "nodeAllocatableUpdatePeriodSeconds", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSINode", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.storage.v1.CSINodeSpec"), 0),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSINodeDriver", list: false, fields: &[
        f(1, "name", Kind::String, 0), f(2, "nodeID", Kind::String, 0), f(3, "topologyKeys", Kind::String, REPEATED),
        f(4, "allocatable", Kind::Message("k8s.io.api.storage.v1.VolumeNodeResources"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSINodeSpec", list: false, fields: &[
        f(1, "drivers", Kind::Message("k8s.io.api.storage.v1.CSINodeDriver"), REPEATED),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.CSIStorageCapacity", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "nodeTopology", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector"), OMITEMPTY|POINTER),
        f(3, "storageClassName", Kind::String, 0),
        f(4, "capacity", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
        f(5, "maximumVolumeSize", Kind::Message("k8s.io.apimachinery.pkg.api.resource.Quantity"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.StorageClass", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "provisioner", Kind::String, 0), f(3, "parameters", Kind::Map(&Kind::String), OMITEMPTY),
        f(4, "reclaimPolicy", Kind::String, OMITEMPTY|POINTER),
        f(5, "mountOptions", Kind::String, REPEATED|OMITEMPTY),
        f(6, "allowVolumeExpansion", Kind::Bool, OMITEMPTY|POINTER),
        f(7, "volumeBindingMode", Kind::String, OMITEMPTY|POINTER),
        f(8, "allowedTopologies", Kind::Message("k8s.io.api.core.v1.TopologySelectorTerm"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.TokenRequest", list: false, fields: &[
        f(1, "audience", Kind::String, 0), f(2, "expirationSeconds", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeAttachment", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.api.storage.v1.VolumeAttachmentSpec"), 0),
        f(3, "status", Kind::Message("k8s.io.api.storage.v1.VolumeAttachmentStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeAttachmentSource", list: false, fields: &[
        f(1, "persistentVolumeName", Kind::String, OMITEMPTY|POINTER),
        f(2, "inlineVolumeSpec", Kind::Message("k8s.io.api.core.v1.PersistentVolumeSpec"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeAttachmentSpec", list: false, fields: &[
        f(1, "attacher", Kind::String, 0),
        f(2, "source", Kind::Message("k8s.io.api.storage.v1.VolumeAttachmentSource"), 0),
        f(3, "nodeName", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeAttachmentStatus", list: false, fields: &[
        f(1, "attached", Kind::Bool, 0), f(2, "attachmentMetadata", Kind::Map(&Kind::String), OMITEMPTY),
        f(3, "attachError", Kind::Message("k8s.io.api.storage.v1.VolumeError"), OMITEMPTY|POINTER),
        f(4, "detachError", Kind::Message("k8s.io.api.storage.v1.VolumeError"), OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeError", list: false, fields: &[
        f(1, "time", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(2, "message", Kind::String, OMITEMPTY), f(3, "errorCode", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.api.storage.v1.VolumeNodeResources", list: false, fields: &[
        f(1, "count", Kind::Int32, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.api.resource.Quantity", list: false, fields: &[
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.Condition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "observedGeneration", Kind::Int64, OMITEMPTY),
        f(4, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), 0),
        f(5, "reason", Kind::String, 0), f(6, "message", Kind::String, 0),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions", list: false, fields: &[
        f(1, "gracePeriodSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(2, "preconditions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions"), OMITEMPTY|POINTER),
        f(3, "orphanDependents", Kind::Bool, OMITEMPTY|POINTER),
        f(4, "propagationPolicy", Kind::String, OMITEMPTY|POINTER), f(5, "dryRun", Kind::String, REPEATED|OMITEMPTY),
        f(6, "ignoreStoreReadErrorWithClusterBreakingPotential", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "operator", Kind::String, 0),
        f(3, "values", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", list: false, fields: &[
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector", list: false, fields: &[
        f(1, "matchLabels", Kind::Map(&Kind::String), OMITEMPTY),
        f(2, "matchExpressions", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", list: false, fields: &[
        f(1, "key", Kind::String, 0), f(2, "operator", Kind::String, 0),
        f(3, "values", Kind::String, REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta", list: false, fields: &[
        f(1, "selfLink", Kind::String, OMITEMPTY), f(2, "resourceVersion", Kind::String, OMITEMPTY),
        f(3, "continue", Kind::String, OMITEMPTY), f(4, "remainingItemCount", Kind::Int64, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", list: false, fields: &[
        f(1, "manager", Kind::String, OMITEMPTY), f(2, "operation", Kind::String, OMITEMPTY),
        f(3, "apiVersion", Kind::String, OMITEMPTY),
        f(4, "time", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(6, "fieldsType", Kind::String, OMITEMPTY),
        f(7, "fieldsV1", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"), OMITEMPTY|POINTER),
        f(8, "subresource", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", list: false, fields: &[
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "generateName", Kind::String, OMITEMPTY),
        f(3, "namespace", Kind::String, OMITEMPTY), f(4, "selfLink", Kind::String, OMITEMPTY),
        f(5, "uid", Kind::String, OMITEMPTY), f(6, "resourceVersion", Kind::String, OMITEMPTY),
        f(7, "generation", Kind::Int64, OMITEMPTY),
        f(8, "creationTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(9, "deletionTimestamp", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY|POINTER),
        f(10, "deletionGracePeriodSeconds", Kind::Int64, OMITEMPTY|POINTER),
        f(11, "labels", Kind::Map(&Kind::String), OMITEMPTY),
        f(12, "annotations", Kind::Map(&Kind::String), OMITEMPTY),
        f(13, "ownerReferences", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference"), REPEATED|OMITEMPTY),
        f(14, "finalizers", Kind::String, REPEATED|OMITEMPTY),
        f(17, "managedFields", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference", list: false, fields: &[
        f(1, "kind", Kind::String, 0), f(3, "name", Kind::String, 0), f(4, "uid", Kind::String, 0),
        f(5, "apiVersion", Kind::String, 0), f(6, "controller", Kind::Bool, OMITEMPTY|POINTER),
        f(7, "blockOwnerDeletion", Kind::Bool, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.Preconditions", list: false, fields: &[
        f(1, "uid", Kind::String, OMITEMPTY|POINTER), f(2, "resourceVersion", Kind::String, OMITEMPTY|POINTER),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.Status", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta"), OMITEMPTY),
        f(2, "status", Kind::String, OMITEMPTY), f(3, "message", Kind::String, OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY),
        f(5, "details", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.StatusDetails"), OMITEMPTY|POINTER),
        f(6, "code", Kind::Int32, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.StatusCause", list: false, fields: &[
        f(1, "reason", Kind::String, OMITEMPTY), f(2, "message", Kind::String, OMITEMPTY),
        f(3, "field", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.StatusDetails", list: false, fields: &[
        f(1, "name", Kind::String, OMITEMPTY), f(2, "group", Kind::String, OMITEMPTY),
        f(3, "kind", Kind::String, OMITEMPTY),
        f(4, "causes", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.StatusCause"), REPEATED|OMITEMPTY),
        f(5, "retryAfterSeconds", Kind::Int32, OMITEMPTY), f(6, "uid", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.apis.meta.v1.Time", list: false, fields: &[
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.runtime.RawExtension", list: false, fields: &[
    ] },
    MessageSchema { name: "k8s.io.apimachinery.pkg.util.intstr.IntOrString", list: false, fields: &[
    ] },
    // kube-aggregator's apiregistration.k8s.io/v1 (its own proto package), from its
    // generated.proto and Go types of v0.33.0.
    MessageSchema { name: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIService", list: false, fields: &[
        f(1, "metadata", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"), OMITEMPTY),
        f(2, "spec", Kind::Message("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceSpec"), OMITEMPTY),
        f(3, "status", Kind::Message("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceStatus"), OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceCondition", list: false, fields: &[
        f(1, "type", Kind::String, 0), f(2, "status", Kind::String, 0),
        f(3, "lastTransitionTime", Kind::Message("k8s.io.apimachinery.pkg.apis.meta.v1.Time"), OMITEMPTY),
        f(4, "reason", Kind::String, OMITEMPTY), f(5, "message", Kind::String, OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceSpec", list: false, fields: &[
        f(1, "service", Kind::Message("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.ServiceReference"), OMITEMPTY|POINTER),
        f(2, "group", Kind::String, OMITEMPTY), f(3, "version", Kind::String, OMITEMPTY),
        f(4, "insecureSkipTLSVerify", Kind::Bool, OMITEMPTY), f(5, "caBundle", Kind::Bytes, OMITEMPTY),
        f(7, "groupPriorityMinimum", Kind::Int32, 0), f(8, "versionPriority", Kind::Int32, 0),
    ] },
    MessageSchema { name: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceStatus", list: false, fields: &[
        f(1, "conditions", Kind::Message("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIServiceCondition"), REPEATED|OMITEMPTY),
    ] },
    MessageSchema { name: "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.ServiceReference", list: false, fields: &[
        f(1, "namespace", Kind::String, OMITEMPTY), f(2, "name", Kind::String, OMITEMPTY),
        f(3, "port", Kind::Int32, OMITEMPTY|POINTER),
    ] },
];

const fn f(number: u32, json: &'static str, kind: Kind, flags: u8) -> Field {
    Field {
        number,
        json,
        kind,
        flags,
    }
}
