//! The default RBAC policy the apiserver reconciles at start (upstream's bootstrappolicy,
//! v1.33): the user-facing roles (cluster-admin, admin, edit, view and their aggregation), the
//! system roles of the components, the `system:controller:*` roles of the controllers Rudder
//! runs, and the bindings between them.

use serde_json::{json, Value};

use super::rule::PolicyRule;

/// Label on every bootstrap object.
pub const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");
/// Annotation that lets an administrator stop reconciliation of one object (`"false"`).
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn r(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule::resource(verbs, groups, resources)
}

fn events() -> PolicyRule {
    r(
        &["create", "update", "patch"],
        &["", "events.k8s.io"],
        &["events"],
    )
}

/// A bootstrap ClusterRole.
pub struct RoleDef {
    /// Name.
    pub name: &'static str,
    /// Extra labels (aggregation targets).
    pub labels: Vec<(&'static str, &'static str)>,
    /// Rules.
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule`: one matchLabels selector per entry.
    pub aggregate_from: Vec<(&'static str, &'static str)>,
}

impl RoleDef {
    fn new(name: &'static str, rules: Vec<PolicyRule>) -> Self {
        Self {
            name,
            labels: Vec::new(),
            rules,
            aggregate_from: Vec::new(),
        }
    }

    fn label(mut self, k: &'static str) -> Self {
        self.labels.push((k, "true"));
        self
    }

    fn aggregate(mut self, k: &'static str) -> Self {
        self.aggregate_from.push((k, "true"));
        self
    }

    /// The ClusterRole object.
    pub fn to_object(&self) -> Value {
        let mut labels = serde_json::Map::new();
        labels.insert(BOOTSTRAP_LABEL.0.into(), BOOTSTRAP_LABEL.1.into());
        for (k, v) in &self.labels {
            labels.insert((*k).into(), (*v).into());
        }
        let mut obj = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": self.name,
                "labels": labels,
                "annotations": {AUTOUPDATE_ANNOTATION: "true"},
            },
            "rules": self.rules.iter().map(PolicyRule::to_json).collect::<Vec<_>>(),
        });
        if !self.aggregate_from.is_empty() {
            obj["aggregationRule"] = json!({
                "clusterRoleSelectors": self.aggregate_from.iter()
                    .map(|(k, v)| json!({"matchLabels": {*k: *v}}))
                    .collect::<Vec<_>>()
            });
        }
        obj
    }
}

impl RoleDef {
    /// The same rules as a Role in `namespace` (upstream's namespace roles).
    pub fn to_namespaced_object(&self, namespace: &str) -> Value {
        let mut obj = self.to_object();
        obj["kind"] = json!("Role");
        obj["metadata"]["namespace"] = json!(namespace);
        if let Some(o) = obj.as_object_mut() {
            o.remove("aggregationRule");
        }
        obj
    }
}

/// A subject of a bootstrap binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A user.
    User(String),
    /// A group.
    Group(String),
    /// A ServiceAccount (namespace, name).
    ServiceAccount(String, String),
}

impl Subject {
    /// The subject's JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Subject::User(n) => {
                json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": n})
            }
            Subject::Group(n) => {
                json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": n})
            }
            Subject::ServiceAccount(ns, n) => {
                json!({"kind": "ServiceAccount", "name": n, "namespace": ns})
            }
        }
    }
}

/// A bootstrap ClusterRoleBinding (named like its role).
pub struct BindingDef {
    /// Binding name.
    pub name: String,
    /// ClusterRole it binds.
    pub role: String,
    /// Subjects.
    pub subjects: Vec<Subject>,
}

impl BindingDef {
    fn new(role: &str, subjects: Vec<Subject>) -> Self {
        Self {
            name: role.to_string(),
            role: role.to_string(),
            subjects,
        }
    }

    /// The RoleBinding of the Role of the same name in `namespace`.
    pub fn to_namespaced_object(&self, namespace: &str) -> Value {
        let mut obj = self.to_object();
        obj["kind"] = json!("RoleBinding");
        obj["metadata"]["namespace"] = json!(namespace);
        obj["roleRef"]["kind"] = json!("Role");
        obj
    }

    /// The ClusterRoleBinding object.
    pub fn to_object(&self) -> Value {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
                "name": self.name,
                "labels": {BOOTSTRAP_LABEL.0: BOOTSTRAP_LABEL.1},
                "annotations": {AUTOUPDATE_ANNOTATION: "true"},
            },
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": self.role},
            "subjects": self.subjects.iter().map(Subject::to_json).collect::<Vec<_>>(),
        })
    }
}

const AGG_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGG_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGG_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// The bootstrap ClusterRoles.
pub fn cluster_roles() -> Vec<RoleDef> {
    let mut roles = vec![
        RoleDef::new(
            "cluster-admin",
            vec![r(&["*"], &["*"], &["*"]), PolicyRule::urls(&["*"], &["*"])],
        ),
        RoleDef::new(
            "system:discovery",
            vec![PolicyRule::urls(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        RoleDef::new(
            "system:monitoring",
            vec![PolicyRule::urls(
                &["get"],
                &[
                    "/healthz",
                    "/healthz/*",
                    "/livez",
                    "/livez/*",
                    "/metrics",
                    "/metrics/slis",
                    "/readyz",
                    "/readyz/*",
                ],
            )],
        ),
        RoleDef::new(
            "system:basic-user",
            vec![
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                r(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        RoleDef::new(
            "system:public-info-viewer",
            vec![PolicyRule::urls(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
        RoleDef::new("admin", vec![]).aggregate(AGG_ADMIN),
        RoleDef::new("edit", vec![])
            .aggregate(AGG_EDIT)
            .label(AGG_ADMIN),
        RoleDef::new("view", vec![])
            .aggregate(AGG_VIEW)
            .label(AGG_EDIT),
        RoleDef::new(
            "system:aggregate-to-admin",
            vec![
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                ),
                r(
                    READ_WRITE,
                    &["rbac.authorization.k8s.io"],
                    &["rolebindings", "roles"],
                ),
            ],
        )
        .label(AGG_ADMIN),
        RoleDef::new(
            "system:aggregate-to-edit",
            vec![
                // Reads of the escalating resources view leaves out.
                r(
                    READ,
                    &[""],
                    &[
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                        "secrets",
                        "services/proxy",
                    ],
                ),
                r(&["impersonate"], &[""], &["serviceaccounts"]),
                r(
                    WRITE,
                    &[""],
                    &[
                        "pods",
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                    ],
                ),
                r(&["create"], &[""], &["pods/eviction"]),
                r(
                    WRITE,
                    &[""],
                    &[
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/proxy",
                        "persistentvolumeclaims",
                        "configmaps",
                        "secrets",
                        "events",
                    ],
                ),
                r(&["create"], &[""], &["serviceaccounts/token"]),
                r(
                    WRITE,
                    &["apps"],
                    &[
                        "statefulsets",
                        "statefulsets/scale",
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "replicasets",
                        "replicasets/scale",
                    ],
                ),
                r(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
                r(WRITE, &["batch"], &["jobs", "cronjobs"]),
                r(WRITE, &["policy"], &["poddisruptionbudgets"]),
                r(
                    WRITE,
                    &["networking.k8s.io"],
                    &["ingresses", "networkpolicies"],
                ),
                r(WRITE, &["coordination.k8s.io"], &["leases"]),
            ],
        )
        .label(AGG_EDIT),
        RoleDef::new(
            "system:aggregate-to-view",
            vec![
                r(
                    READ,
                    &[""],
                    &[
                        "pods",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/status",
                        "endpoints",
                        "persistentvolumeclaims",
                        "persistentvolumeclaims/status",
                        "configmaps",
                    ],
                ),
                r(
                    READ,
                    &[""],
                    &[
                        "limitranges",
                        "resourcequotas",
                        "bindings",
                        "events",
                        "pods/status",
                        "resourcequotas/status",
                        "namespaces/status",
                        "replicationcontrollers/status",
                        "pods/log",
                    ],
                ),
                r(READ, &[""], &["namespaces"]),
                r(READ, &["discovery.k8s.io"], &["endpointslices"]),
                r(
                    READ,
                    &["apps"],
                    &[
                        "controllerrevisions",
                        "statefulsets",
                        "statefulsets/status",
                        "statefulsets/scale",
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/status",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/status",
                        "replicasets/scale",
                    ],
                ),
                r(
                    READ,
                    &["autoscaling"],
                    &[
                        "horizontalpodautoscalers",
                        "horizontalpodautoscalers/status",
                    ],
                ),
                r(
                    READ,
                    &["batch"],
                    &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
                ),
                r(
                    READ,
                    &["policy"],
                    &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                ),
                r(
                    READ,
                    &["networking.k8s.io"],
                    &["ingresses", "ingresses/status", "networkpolicies"],
                ),
                r(READ, &["coordination.k8s.io"], &["leases"]),
            ],
        )
        .label(AGG_VIEW),
        // Upstream binds no subjects to system:node; the Node authorizer grants the same
        // rules, narrowed to each node's own objects.
        RoleDef::new("system:node", super::node::node_rules().to_vec()),
        RoleDef::new(
            "system:node-proxier",
            vec![
                r(&["list", "watch"], &[""], &["services", "endpoints"]),
                r(READ, &[""], &["nodes"]),
                r(
                    &["list", "watch"],
                    &["discovery.k8s.io"],
                    &["endpointslices"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:node-bootstrapper",
            vec![r(
                &["create", "get", "list", "watch"],
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
            )],
        ),
        RoleDef::new(
            "system:kubelet-api-admin",
            vec![
                r(&["get", "list", "watch"], &[""], &["nodes"]),
                r(&["proxy"], &[""], &["nodes"]),
                r(
                    &["*"],
                    &[""],
                    &[
                        "nodes/proxy",
                        "nodes/metrics",
                        "nodes/stats",
                        "nodes/log",
                        "nodes/spec",
                    ],
                ),
            ],
        ),
        RoleDef::new(
            "system:auth-delegator",
            vec![
                r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
            ],
        ),
        RoleDef::new(
            "system:kube-controller-manager",
            vec![
                events(),
                r(&["create"], &["coordination.k8s.io"], &["leases"]),
                r(&["get", "update"], &["coordination.k8s.io"], &["leases"])
                    .names(&["kube-controller-manager"]),
                r(
                    &["create"],
                    &[""],
                    &["endpoints", "secrets", "serviceaccounts"],
                ),
                r(&["delete"], &[""], &["secrets"]),
                r(
                    &["get"],
                    &[""],
                    &["endpoints", "namespaces", "secrets", "serviceaccounts"],
                ),
                r(&["update"], &[""], &["secrets", "serviceaccounts"]),
                r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
                r(&["list", "watch"], &["*"], &["*"]),
                r(&["create"], &[""], &["serviceaccounts/token"]),
            ],
        ),
        RoleDef::new(
            "system:kube-scheduler",
            vec![
                events(),
                r(&["create"], &["coordination.k8s.io"], &["leases"]),
                r(&["get", "update"], &["coordination.k8s.io"], &["leases"])
                    .names(&["kube-scheduler"]),
                r(READ, &[""], &["nodes"]),
                r(&["get", "list", "watch", "delete"], &[""], &["pods"]),
                r(&["create"], &[""], &["pods/binding", "bindings"]),
                r(&["patch", "update"], &[""], &["pods/status"]),
                r(READ, &[""], &["services", "replicationcontrollers"]),
                r(READ, &["apps", "extensions"], &["replicasets"]),
                r(READ, &["apps"], &["statefulsets"]),
                r(READ, &["policy"], &["poddisruptionbudgets"]),
                r(
                    READ,
                    &[""],
                    &["persistentvolumeclaims", "persistentvolumes"],
                ),
                r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
                r(READ, &["storage.k8s.io"], &["csinodes"]),
                r(READ, &[""], &["namespaces"]),
                r(
                    READ,
                    &["storage.k8s.io"],
                    &["csidrivers", "csistoragecapacities"],
                ),
            ],
        ),
        RoleDef::new(
            "system:volume-scheduler",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &[""],
                    &["persistentvolumes"],
                ),
                r(READ, &["storage.k8s.io"], &["storageclasses"]),
                r(
                    &["get", "list", "watch", "update", "patch"],
                    &[""],
                    &["persistentvolumeclaims"],
                ),
            ],
        ),
        RoleDef::new(
            "system:kube-dns",
            vec![r(&["list", "watch"], &[""], &["endpoints", "services"])],
        ),
        RoleDef::new(
            "system:service-account-issuer-discovery",
            vec![PolicyRule::urls(
                &["get"],
                &[
                    "/.well-known/openid-configuration",
                    "/.well-known/openid-configuration/",
                    "/openid/v1/jwks",
                    "/openid/v1/jwks/",
                ],
            )],
        ),
    ];
    roles.extend(certificate_roles());
    roles.extend(controller_roles());
    roles
}

/// The controllers Rudder's controller-manager runs, with upstream's role for each
/// (`system:controller:<name>`, bound to the ServiceAccount `kube-system/<name>`).
pub fn controller_roles() -> Vec<RoleDef> {
    vec![
        RoleDef::new(
            "system:controller:cronjob-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &["batch"],
                    &["cronjobs"],
                ),
                r(
                    &[
                        "get", "list", "watch", "create", "update", "delete", "patch",
                    ],
                    &["batch"],
                    &["jobs"],
                ),
                r(&["update"], &["batch"], &["cronjobs/status"]),
                r(&["update"], &["batch"], &["cronjobs/finalizers"]),
                r(&["list", "delete"], &[""], &["pods"]),
                events(),
            ],
        ),
        // Upstream runs csrapproving, csrsigning and csrcleaner under this one account.
        RoleDef::new(
            "system:controller:certificate-controller",
            vec![
                r(
                    &["get", "list", "watch", "delete"],
                    &["certificates.k8s.io"],
                    &["certificatesigningrequests"],
                ),
                r(
                    &["update"],
                    &["certificates.k8s.io"],
                    &[
                        "certificatesigningrequests/status",
                        "certificatesigningrequests/approval",
                    ],
                ),
                r(&["approve"], &["certificates.k8s.io"], &["signers"])
                    .names(&[signers::KUBE_APISERVER_CLIENT_KUBELET]),
                r(&["sign"], &["certificates.k8s.io"], &["signers"]).names(&[
                    signers::LEGACY_UNKNOWN,
                    signers::KUBE_APISERVER_CLIENT,
                    signers::KUBE_APISERVER_CLIENT_KUBELET,
                    signers::KUBELET_SERVING,
                ]),
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:deployment-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &["apps", "extensions"],
                    &["deployments"],
                ),
                r(
                    &["update"],
                    &["apps", "extensions"],
                    &["deployments/status"],
                ),
                r(
                    &["update"],
                    &["apps", "extensions"],
                    &["deployments/finalizers"],
                ),
                r(
                    &[
                        "create", "delete", "get", "list", "patch", "update", "watch",
                    ],
                    &["apps", "extensions"],
                    &["replicasets"],
                ),
                r(&["get", "list", "watch", "update"], &[""], &["pods"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:replication-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &[""],
                    &["replicationcontrollers"],
                ),
                r(&["update"], &[""], &["replicationcontrollers/status"]),
                r(&["update"], &[""], &["replicationcontrollers/finalizers"]),
                r(
                    &["list", "watch", "patch", "create", "delete"],
                    &[""],
                    &["pods"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:replicaset-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &["apps", "extensions"],
                    &["replicasets"],
                ),
                r(
                    &["update"],
                    &["apps", "extensions"],
                    &["replicasets/status"],
                ),
                r(
                    &["update"],
                    &["apps", "extensions"],
                    &["replicasets/finalizers"],
                ),
                r(
                    &["list", "watch", "patch", "create", "delete"],
                    &[""],
                    &["pods"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:horizontal-pod-autoscaler",
            vec![
                r(
                    &["get", "list", "watch"],
                    &["autoscaling"],
                    &["horizontalpodautoscalers"],
                ),
                r(
                    &["update"],
                    &["autoscaling"],
                    &["horizontalpodautoscalers/status"],
                ),
                r(&["get", "update"], &["*"], &["*/scale"]),
                r(&["list"], &[""], &["pods"]),
                // Resource, custom and external metrics.
                r(&["list"], &["metrics.k8s.io"], &["pods"]),
                r(&["get", "list"], &["custom.metrics.k8s.io"], &["*"]),
                r(&["get", "list"], &["external.metrics.k8s.io"], &["*"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:job-controller",
            vec![
                r(
                    &["get", "list", "watch", "update", "patch"],
                    &["batch"],
                    &["jobs"],
                ),
                r(&["update", "patch"], &["batch"], &["jobs/status"]),
                r(&["update"], &["batch"], &["jobs/finalizers"]),
                r(
                    &["list", "watch", "create", "delete", "patch"],
                    &[""],
                    &["pods"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:endpoint-controller",
            vec![
                r(READ, &[""], &["services", "pods"]),
                r(
                    &["get", "list", "create", "update", "delete"],
                    &[""],
                    &["endpoints"],
                ),
                r(&["create"], &[""], &["endpoints/restricted"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:endpointslice-controller",
            vec![
                r(READ, &[""], &["services", "pods", "nodes"]),
                r(
                    &["get", "list", "create", "update", "delete"],
                    &["discovery.k8s.io"],
                    &["endpointslices"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:endpointslicemirroring-controller",
            vec![
                r(READ, &[""], &["services", "endpoints"]),
                r(&["update"], &[""], &["endpoints/finalizers"]),
                r(
                    &["get", "list", "create", "update", "delete"],
                    &["discovery.k8s.io"],
                    &["endpointslices"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:generic-garbage-collector",
            vec![r(
                &["get", "list", "watch", "patch", "update", "delete"],
                &["*"],
                &["*"],
            )],
        ),
        RoleDef::new(
            "system:controller:namespace-controller",
            vec![
                r(&["get", "list", "watch", "delete"], &[""], &["namespaces"]),
                r(
                    &["update"],
                    &[""],
                    &["namespaces/finalize", "namespaces/status"],
                ),
                r(
                    &["get", "list", "delete", "deletecollection"],
                    &["*"],
                    &["*"],
                ),
            ],
        ),
        RoleDef::new(
            "system:controller:service-account-controller",
            vec![r(&["create"], &[""], &["serviceaccounts"]), events()],
        ),
        RoleDef::new(
            "system:controller:daemon-set-controller",
            vec![
                r(READ, &["apps", "extensions"], &["daemonsets"]),
                r(&["update"], &["apps", "extensions"], &["daemonsets/status"]),
                r(
                    &["update"],
                    &["apps", "extensions"],
                    &["daemonsets/finalizers"],
                ),
                r(&["list", "watch"], &[""], &["nodes"]),
                r(
                    &["list", "watch", "create", "delete", "patch"],
                    &[""],
                    &["pods"],
                ),
                r(&["create"], &[""], &["pods/binding"]),
                r(READ_WRITE, &["apps"], &["controllerrevisions"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:statefulset-controller",
            vec![
                r(&["list", "watch"], &[""], &["pods"]),
                r(READ, &["apps"], &["statefulsets"]),
                r(&["update"], &["apps"], &["statefulsets/status"]),
                r(&["update"], &["apps"], &["statefulsets/finalizers"]),
                r(
                    &["get", "create", "delete", "update", "patch"],
                    &[""],
                    &["pods"],
                ),
                r(READ_WRITE, &["apps"], &["controllerrevisions"]),
                r(
                    &["get", "create", "update", "patch", "delete"],
                    &[""],
                    &["persistentvolumeclaims"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:node-controller",
            vec![
                r(
                    &["get", "list", "update", "delete", "patch"],
                    &[""],
                    &["nodes"],
                ),
                r(&["patch", "update"], &[""], &["nodes/status"]),
                r(&["patch", "update"], &[""], &["pods/status"]),
                r(&["list", "delete"], &[""], &["pods"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:pod-garbage-collector",
            vec![
                r(&["list", "watch", "delete"], &[""], &["pods"]),
                r(&["get", "list"], &[""], &["nodes"]),
                r(&["patch"], &[""], &["pods/status"]),
            ],
        ),
        RoleDef::new(
            "system:controller:ttl-after-finished-controller",
            vec![
                r(&["get", "list", "watch", "delete"], &["batch"], &["jobs"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:root-ca-cert-publisher",
            vec![r(&["create", "update"], &[""], &["configmaps"]), events()],
        ),
        RoleDef::new(
            "system:controller:disruption-controller",
            vec![
                r(
                    &["get", "list", "watch"],
                    &["apps", "extensions"],
                    &["deployments", "replicasets", "statefulsets"],
                ),
                r(
                    &["get", "list", "watch"],
                    &[""],
                    &["replicationcontrollers"],
                ),
                r(
                    &["get", "list", "watch"],
                    &["policy"],
                    &["poddisruptionbudgets"],
                ),
                r(&["update"], &["policy"], &["poddisruptionbudgets/status"]),
                r(&["get"], &["*"], &["*/scale"]),
                r(&["patch", "update"], &[""], &["pods/status"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:persistent-volume-binder",
            vec![
                r(
                    &["create", "delete", "get", "list", "update", "watch"],
                    &[""],
                    &["persistentvolumes"],
                ),
                r(&["update"], &[""], &["persistentvolumes/status"]),
                r(
                    &["get", "list", "update", "watch"],
                    &[""],
                    &["persistentvolumeclaims"],
                ),
                r(&["update"], &[""], &["persistentvolumeclaims/status"]),
                r(&["get", "list", "watch", "delete"], &[""], &["pods"]),
                r(READ, &["storage.k8s.io"], &["storageclasses"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:ephemeral-volume-controller",
            vec![
                r(&["get", "list", "watch"], &[""], &["pods"]),
                r(&["update"], &[""], &["pods/finalizers"]),
                r(
                    &["get", "list", "watch", "create"],
                    &[""],
                    &["persistentvolumeclaims"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:pvc-protection-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &[""],
                    &["persistentvolumeclaims"],
                ),
                r(&["list", "watch", "get"], &[""], &["pods"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:pv-protection-controller",
            vec![
                r(
                    &["get", "list", "watch", "update"],
                    &[""],
                    &["persistentvolumes"],
                ),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:resourcequota-controller",
            vec![
                r(&["list", "watch"], &["*"], &["*"]),
                r(&["update"], &[""], &["resourcequotas/status"]),
                events(),
            ],
        ),
        RoleDef::new(
            "system:controller:service-controller",
            vec![
                r(READ, &[""], &["services"]),
                r(&["patch", "update"], &[""], &["services/status"]),
                r(&["list", "watch"], &[""], &["nodes"]),
                events(),
            ],
        ),
    ]
}

/// The signers built into Kubernetes (upstream's well-known signer names).
pub mod signers {
    /// Client certificates for the apiserver.
    pub const KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";
    /// Client certificates of kubelets.
    pub const KUBE_APISERVER_CLIENT_KUBELET: &str = "kubernetes.io/kube-apiserver-client-kubelet";
    /// Serving certificates of kubelets.
    pub const KUBELET_SERVING: &str = "kubernetes.io/kubelet-serving";
    /// v1beta1's default signer.
    pub const LEGACY_UNKNOWN: &str = "kubernetes.io/legacy-unknown";
}

/// The CSR roles upstream ships for tools such as kubeadm to bind: node client requests,
/// and one approver role per built-in signer.
fn certificate_roles() -> Vec<RoleDef> {
    const CERTS: &[&str] = &["certificates.k8s.io"];
    let approver = |name: &'static str, signer: &'static str| {
        RoleDef::new(
            name,
            vec![r(&["approve"], CERTS, &["signers"]).names(&[signer])],
        )
    };
    vec![
        RoleDef::new(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![r(
                &["create"],
                CERTS,
                &["certificatesigningrequests/nodeclient"],
            )],
        ),
        RoleDef::new(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![r(
                &["create"],
                CERTS,
                &["certificatesigningrequests/selfnodeclient"],
            )],
        ),
        approver(
            "system:certificates.k8s.io:legacy-unknown-approver",
            signers::LEGACY_UNKNOWN,
        ),
        approver(
            "system:certificates.k8s.io:kubelet-serving-approver",
            signers::KUBELET_SERVING,
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            signers::KUBE_APISERVER_CLIENT,
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            signers::KUBE_APISERVER_CLIENT_KUBELET,
        ),
    ]
}

/// The namespaced bootstrap Roles (upstream's `namespace_policy.go` for the controllers
/// Rudder runs): the bootstrap signer reads token Secrets in kube-system and signs the
/// `cluster-info` ConfigMap in kube-public; the token cleaner deletes expired token Secrets.
pub fn namespace_roles() -> Vec<(&'static str, RoleDef)> {
    vec![
        (
            "kube-system",
            RoleDef::new(
                "system:controller:bootstrap-signer",
                vec![r(READ, &[""], &["secrets"])],
            ),
        ),
        (
            "kube-system",
            RoleDef::new(
                "system:controller:token-cleaner",
                vec![
                    r(&["delete", "get", "list", "watch"], &[""], &["secrets"]),
                    events(),
                ],
            ),
        ),
        (
            "kube-system",
            RoleDef::new(
                EXTENSION_APISERVER_AUTHENTICATION_READER,
                vec![r(READ, &[""], &["configmaps"]).names(&["extension-apiserver-authentication"])],
            ),
        ),
        (
            "kube-public",
            RoleDef::new(
                "system:controller:bootstrap-signer",
                vec![
                    r(READ, &[""], &["configmaps"]),
                    r(&["update"], &[""], &["configmaps"]).names(&["cluster-info"]),
                    events(),
                ],
            ),
        ),
    ]
}

/// The namespaced bootstrap RoleBindings: each controller Role to the controller's
/// ServiceAccount in kube-system (and, as for the cluster roles, to Rudder's
/// kube-controller-manager user).
pub fn namespace_role_bindings() -> Vec<(&'static str, BindingDef)> {
    namespace_roles()
        .into_iter()
        .filter(|(_, role)| role.name != EXTENSION_APISERVER_AUTHENTICATION_READER)
        .map(|(ns, role)| {
            let account = role.name.trim_start_matches("system:controller:");
            (
                ns,
                BindingDef::new(
                    role.name,
                    vec![
                        Subject::ServiceAccount("kube-system".into(), account.into()),
                        Subject::User(CONTROLLER_MANAGER_USER.into()),
                    ],
                ),
            )
        })
        .chain(std::iter::once((
            "kube-system",
            // Upstream's binding name has the double colon.
            BindingDef {
                name: format!("system::{EXTENSION_APISERVER_AUTHENTICATION_READER}"),
                role: EXTENSION_APISERVER_AUTHENTICATION_READER.into(),
                subjects: vec![
                    Subject::User(CONTROLLER_MANAGER_USER.into()),
                    Subject::User(SCHEDULER_USER.into()),
                ],
            },
        )))
        .collect()
}

/// The Role in kube-system that reads the client-CA and front-proxy settings of delegated
/// authentication (the `extension-apiserver-authentication` ConfigMap).
pub const EXTENSION_APISERVER_AUTHENTICATION_READER: &str =
    "extension-apiserver-authentication-reader";

/// The user Rudder's kube-scheduler authenticates as.
pub const SCHEDULER_USER: &str = "system:kube-scheduler";

/// The user Rudder's kube-controller-manager authenticates as.
pub const CONTROLLER_MANAGER_USER: &str = "system:kube-controller-manager";

/// The bootstrap ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<BindingDef> {
    let user = |n: &str| Subject::User(n.to_string());
    let group = |n: &str| Subject::Group(n.to_string());
    let sa = |ns: &str, n: &str| Subject::ServiceAccount(ns.to_string(), n.to_string());
    let mut out = vec![
        BindingDef::new("cluster-admin", vec![group("system:masters")]),
        BindingDef::new("system:monitoring", vec![group("system:monitoring")]),
        BindingDef::new("system:discovery", vec![group("system:authenticated")]),
        BindingDef::new("system:basic-user", vec![group("system:authenticated")]),
        BindingDef::new(
            "system:public-info-viewer",
            vec![
                group("system:authenticated"),
                group("system:unauthenticated"),
            ],
        ),
        BindingDef::new("system:node-proxier", vec![user("system:kube-proxy")]),
        BindingDef::new(
            "system:kube-controller-manager",
            vec![user(CONTROLLER_MANAGER_USER)],
        ),
        BindingDef::new("system:kube-dns", vec![sa("kube-system", "kube-dns")]),
        BindingDef::new("system:kube-scheduler", vec![user("system:kube-scheduler")]),
        BindingDef::new(
            "system:volume-scheduler",
            vec![user("system:kube-scheduler")],
        ),
        // Upstream binds nobody here: the Node authorizer covers kubelets.
        BindingDef::new("system:node", vec![]),
        BindingDef::new(
            "system:service-account-issuer-discovery",
            vec![group("system:serviceaccounts")],
        ),
    ];
    for role in controller_roles() {
        let account = role.name.trim_start_matches("system:controller:");
        // Upstream's kube-controller-manager runs each controller with its own ServiceAccount
        // (--use-service-account-credentials). Rudder's runs every controller under its own
        // client certificate (user system:kube-controller-manager), and upstream's
        // system:kube-controller-manager role only lists, watches and manages tokens — it
        // cannot, e.g., create pods for a ReplicaSet. So that user is bound to every
        // controller role too, next to the ServiceAccount upstream binds.
        out.push(BindingDef::new(
            role.name,
            vec![sa("kube-system", account), user(CONTROLLER_MANAGER_USER)],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binding_names_a_bootstrap_role() {
        let roles: Vec<&str> = cluster_roles().iter().map(|r| r.name).collect();
        for b in cluster_role_bindings() {
            assert!(roles.contains(&b.role.as_str()), "{}", b.role);
        }
        let view = cluster_roles()
            .into_iter()
            .find(|r| r.name == "view")
            .map(|r| r.to_object())
            .unwrap_or_default();
        assert_eq!(
            view["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"][AGG_VIEW],
            "true"
        );
        assert_eq!(view["metadata"]["labels"][AGG_EDIT], "true");
        assert_eq!(
            view["metadata"]["annotations"][AUTOUPDATE_ANNOTATION],
            "true"
        );
    }

    #[test]
    fn certificate_roles_and_namespace_roles_follow_upstream() {
        let roles = cluster_roles();
        let find = |n: &str| roles.iter().find(|r| r.name == n).map(RoleDef::to_object);
        let approver = find("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver")
            .expect("approver role");
        assert_eq!(approver["rules"][0]["verbs"][0], "approve");
        assert_eq!(
            approver["rules"][0]["resourceNames"][0],
            signers::KUBE_APISERVER_CLIENT_KUBELET
        );
        let nodeclient = find("system:certificates.k8s.io:certificatesigningrequests:nodeclient")
            .expect("nodeclient role");
        assert_eq!(
            nodeclient["rules"][0]["resources"][0],
            "certificatesigningrequests/nodeclient"
        );
        let controller = find("system:controller:certificate-controller").expect("controller");
        let rules = PolicyRule::list_from(&controller);
        assert!(rules.iter().any(|r| r.verbs == ["sign"]
            && r.resource_names
                .contains(&signers::KUBE_APISERVER_CLIENT_KUBELET.to_string())));
        // No upstream binding for the CSR roles: kubeadm creates them.
        assert!(!cluster_role_bindings()
            .iter()
            .any(|b| b.role.starts_with("system:certificates.k8s.io:")));
        let ns_roles = namespace_roles();
        let public = ns_roles
            .iter()
            .find(|(ns, r)| *ns == "kube-public" && r.name == "system:controller:bootstrap-signer")
            .map(|(ns, r)| r.to_namespaced_object(ns))
            .expect("kube-public bootstrap-signer role");
        assert_eq!(public["kind"], "Role");
        assert_eq!(public["metadata"]["namespace"], "kube-public");
        let cleaner = namespace_role_bindings()
            .into_iter()
            .find(|(_, b)| b.name == "system:controller:token-cleaner")
            .map(|(ns, b)| b.to_namespaced_object(ns))
            .expect("token-cleaner binding");
        assert_eq!(cleaner["roleRef"]["kind"], "Role");
        assert_eq!(cleaner["metadata"]["namespace"], "kube-system");
        assert_eq!(cleaner["subjects"][0]["name"], "token-cleaner");
    }

    #[test]
    fn controller_bindings_include_the_manager_user() {
        let b = cluster_role_bindings()
            .into_iter()
            .find(|b| b.name == "system:controller:replicaset-controller")
            .map(|b| b.to_object())
            .unwrap_or_default();
        assert_eq!(b["subjects"][0]["name"], "replicaset-controller");
        assert_eq!(b["subjects"][0]["namespace"], "kube-system");
        assert_eq!(b["subjects"][1]["name"], CONTROLLER_MANAGER_USER);
    }
}
