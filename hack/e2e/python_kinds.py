#!/usr/bin/env python3
"""Every built-in kind through the PyPI `kubernetes` client's typed models.

    hack/e2e/python_kinds.py                        # starts its own local cluster
    RUDDER_E2E_KUBECONFIG=F hack/e2e/python_kinds.py

The client deserializes each answer into its models and checks required fields as it goes,
so an object the server or a controller shapes wrongly (a required field left out, a number
sent as a string) fails here as it would fail a user's program. Three parts:

1. each kind is created from a typed model and read back, with a default or two checked;
2. once the controllers have had time to write status, each is read again (status included);
3. every typed list call the client has is made, across all namespaces: a kind the server
   does not serve answers 404 and is skipped, any other failure is a failure.
"""

import datetime
import inspect
import sys
import time

from pysuite import Steps, check, connect, expect_status

NAMESPACE = "py-kinds"

# Lists this client cannot read from upstream either. events.k8s.io/v1 shows a core/v1 Event
# written without eventTime (as kubelets and controllers write them) with `eventTime: null`,
# which the client's EventsV1Event refuses; a cluster with such events fails the same way.
UPSTREAM_ALIKE_FAILURES = {("EventsV1Api", "list_event_for_all_namespaces")}
IMAGE = "registry.k8s.io/e2e-test-images/busybox:1.36"


def main():
    kubernetes = connect(__file__)
    if kubernetes is None:
        return 1
    c = kubernetes.client
    ApiException = kubernetes.client.rest.ApiException
    core = c.CoreV1Api()
    apps = c.AppsV1Api()
    batch = c.BatchV1Api()
    net = c.NetworkingV1Api()
    rbac = c.RbacAuthorizationV1Api()
    steps = Steps()
    step = steps.step
    ns = NAMESPACE

    def meta(name, **kw):
        return c.V1ObjectMeta(name=name, **kw)

    labels = {"app": "py-kinds"}

    def pod_template(command=None, restart_policy=None):
        return c.V1PodTemplateSpec(
            metadata=c.V1ObjectMeta(labels=labels),
            spec=c.V1PodSpec(
                restart_policy=restart_policy,
                termination_grace_period_seconds=1,
                containers=[c.V1Container(
                    name="main", image=IMAGE,
                    command=command or ["sleep", "3600"],
                    resources=c.V1ResourceRequirements(
                        requests={"cpu": "10m", "memory": "16Mi"},
                        limits={"memory": "32Mi"}))]))

    def selector():
        return c.V1LabelSelector(match_labels=labels)

    # Each entry: name, create(), read(), and a check on what read() returned.
    kinds = []

    def kind(name, create, read, expect=lambda o: None):
        kinds.append((name, create, read, expect))

    # --- core/v1 ------------------------------------------------------------------------
    kind("namespace",
         lambda: core.create_namespace(c.V1Namespace(metadata=meta(ns))),
         lambda: core.read_namespace(ns),
         lambda o: check(o.status.phase == "Active", o.status))
    kind("configmap",
         lambda: core.create_namespaced_config_map(ns, c.V1ConfigMap(
             metadata=meta("settings"), data={"a": "1"}, binary_data={"b": "AAE="})),
         lambda: core.read_namespaced_config_map("settings", ns),
         lambda o: check(o.binary_data == {"b": "AAE="}, o.binary_data))
    kind("secret",
         lambda: core.create_namespaced_secret(ns, c.V1Secret(
             metadata=meta("creds"), string_data={"user": "admin"})),
         lambda: core.read_namespaced_secret("creds", ns),
         lambda o: check(o.type == "Opaque" and o.data == {"user": "YWRtaW4="}, (o.type, o.data)))
    kind("serviceaccount",
         lambda: core.create_namespaced_service_account(ns, c.V1ServiceAccount(metadata=meta("robot"))),
         lambda: core.read_namespaced_service_account("robot", ns))
    kind("service ClusterIP",
         lambda: core.create_namespaced_service(ns, c.V1Service(
             metadata=meta("web"), spec=c.V1ServiceSpec(
                 selector=labels, ports=[c.V1ServicePort(port=80, target_port=8080)]))),
         lambda: core.read_namespaced_service("web", ns),
         lambda o: check(o.spec.cluster_ip and o.spec.ports[0].protocol == "TCP"
                         and o.spec.ports[0].target_port == 8080, o.spec))
    kind("service NodePort",
         lambda: core.create_namespaced_service(ns, c.V1Service(
             metadata=meta("web-np"), spec=c.V1ServiceSpec(
                 type="NodePort", selector=labels, ports=[c.V1ServicePort(port=80)]))),
         lambda: core.read_namespaced_service("web-np", ns),
         lambda o: check(o.spec.ports[0].node_port and o.spec.external_traffic_policy == "Cluster",
                         o.spec))
    kind("service LoadBalancer",
         lambda: core.create_namespaced_service(ns, c.V1Service(
             metadata=meta("web-lb"), spec=c.V1ServiceSpec(
                 type="LoadBalancer", selector=labels, ports=[c.V1ServicePort(port=80)]))),
         lambda: core.read_namespaced_service("web-lb", ns),
         lambda o: check(o.status.load_balancer is not None, o.status))
    kind("service ExternalName",
         lambda: core.create_namespaced_service(ns, c.V1Service(
             metadata=meta("away"), spec=c.V1ServiceSpec(
                 type="ExternalName", external_name="example.invalid"))),
         lambda: core.read_namespaced_service("away", ns),
         lambda o: check(o.spec.cluster_ip is None, o.spec.cluster_ip))
    kind("service headless",
         lambda: core.create_namespaced_service(ns, c.V1Service(
             metadata=meta("web-headless"), spec=c.V1ServiceSpec(
                 cluster_ip="None", selector=labels, ports=[c.V1ServicePort(port=80)]))),
         lambda: core.read_namespaced_service("web-headless", ns),
         lambda o: check(o.spec.cluster_ip == "None", o.spec.cluster_ip))
    kind("pod",
         lambda: core.create_namespaced_pod(ns, c.V1Pod(
             metadata=meta("lone", labels=labels), spec=pod_template().spec)),
         lambda: core.read_namespaced_pod("lone", ns),
         lambda o: check(o.status.qos_class == "Burstable"
                         and o.spec.containers[0].termination_message_path == "/dev/termination-log",
                         (o.status.qos_class, o.spec.containers[0])))
    kind("podtemplate",
         lambda: core.create_namespaced_pod_template(ns, c.V1PodTemplate(
             metadata=meta("tmpl"), template=pod_template())),
         lambda: core.read_namespaced_pod_template("tmpl", ns))
    kind("replicationcontroller",
         lambda: core.create_namespaced_replication_controller(ns, c.V1ReplicationController(
             metadata=meta("rc"), spec=c.V1ReplicationControllerSpec(
                 replicas=0, selector={"rc": "py"},
                 template=c.V1PodTemplateSpec(
                     metadata=c.V1ObjectMeta(labels={"rc": "py"}), spec=pod_template().spec)))),
         lambda: core.read_namespaced_replication_controller("rc", ns))
    kind("resourcequota",
         lambda: core.create_namespaced_resource_quota(ns, c.V1ResourceQuota(
             metadata=meta("quota"), spec=c.V1ResourceQuotaSpec(hard={"pods": "50"}))),
         lambda: core.read_namespaced_resource_quota("quota", ns))
    kind("limitrange",
         lambda: core.create_namespaced_limit_range(ns, c.V1LimitRange(
             metadata=meta("limits"), spec=c.V1LimitRangeSpec(limits=[c.V1LimitRangeItem(
                 type="Container", default_request={"cpu": "10m"})]))),
         lambda: core.read_namespaced_limit_range("limits", ns))
    kind("endpoints",
         lambda: core.create_namespaced_endpoints(ns, c.V1Endpoints(
             metadata=meta("manual"), subsets=[c.V1EndpointSubset(
                 addresses=[c.V1EndpointAddress(ip="10.0.0.7")],
                 ports=[c.CoreV1EndpointPort(port=80)])])),
         lambda: core.read_namespaced_endpoints("manual", ns))
    kind("event (core/v1)",
         lambda: core.create_namespaced_event(ns, c.CoreV1Event(
             metadata=meta("ev1"), involved_object=c.V1ObjectReference(kind="Pod", name="lone",
                                                                      namespace=ns),
             reason="Tested", message="from python", type="Normal")),
         lambda: core.read_namespaced_event("ev1", ns))
    kind("persistentvolume",
         lambda: core.create_persistent_volume(c.V1PersistentVolume(
             metadata=meta("py-kinds-pv"), spec=c.V1PersistentVolumeSpec(
                 capacity={"storage": "1Gi"}, access_modes=["ReadWriteOnce"],
                 storage_class_name="py-kinds-manual",
                 host_path=c.V1HostPathVolumeSource(path="/tmp/py-kinds-pv")))),
         lambda: core.read_persistent_volume("py-kinds-pv"),
         lambda o: check(o.spec.persistent_volume_reclaim_policy == "Retain", o.spec))
    kind("persistentvolumeclaim",
         lambda: core.create_namespaced_persistent_volume_claim(ns, c.V1PersistentVolumeClaim(
             metadata=meta("claim"), spec=c.V1PersistentVolumeClaimSpec(
                 access_modes=["ReadWriteOnce"], storage_class_name="py-kinds-manual",
                 resources=c.V1VolumeResourceRequirements(requests={"storage": "1Gi"})))),
         lambda: core.read_namespaced_persistent_volume_claim("claim", ns),
         lambda o: check(o.spec.volume_mode == "Filesystem", o.spec))

    # --- apps/v1 ------------------------------------------------------------------------
    kind("deployment",
         lambda: apps.create_namespaced_deployment(ns, c.V1Deployment(
             metadata=meta("deploy"), spec=c.V1DeploymentSpec(
                 replicas=0, selector=selector(), template=pod_template()))),
         lambda: apps.read_namespaced_deployment("deploy", ns),
         lambda o: check(o.spec.progress_deadline_seconds == 600, o.spec))
    kind("replicaset",
         lambda: apps.create_namespaced_replica_set(ns, c.V1ReplicaSet(
             metadata=meta("rs"), spec=c.V1ReplicaSetSpec(
                 replicas=0, selector=c.V1LabelSelector(match_labels={"rs": "py"}),
                 template=c.V1PodTemplateSpec(
                     metadata=c.V1ObjectMeta(labels={"rs": "py"}), spec=pod_template().spec)))),
         lambda: apps.read_namespaced_replica_set("rs", ns))
    kind("statefulset",
         lambda: apps.create_namespaced_stateful_set(ns, c.V1StatefulSet(
             metadata=meta("db"), spec=c.V1StatefulSetSpec(
                 replicas=0, service_name="web-headless", selector=selector(),
                 template=pod_template()))),
         lambda: apps.read_namespaced_stateful_set("db", ns),
         lambda o: check(o.spec.pod_management_policy == "OrderedReady"
                         and o.spec.update_strategy.type == "RollingUpdate", o.spec))
    kind("daemonset",
         lambda: apps.create_namespaced_daemon_set(ns, c.V1DaemonSet(
             metadata=meta("agent"), spec=c.V1DaemonSetSpec(
                 selector=c.V1LabelSelector(match_labels={"ds": "py"}),
                 template=c.V1PodTemplateSpec(
                     metadata=c.V1ObjectMeta(labels={"ds": "py"}),
                     spec=c.V1PodSpec(
                         node_selector={"py-kinds": "nowhere"},
                         containers=[c.V1Container(name="main", image=IMAGE)]))))),
         lambda: apps.read_namespaced_daemon_set("agent", ns))
    kind("controllerrevision",
         lambda: apps.create_namespaced_controller_revision(ns, c.V1ControllerRevision(
             metadata=meta("rev"), revision=3, data={"spec": {"x": 1}})),
         lambda: apps.read_namespaced_controller_revision("rev", ns),
         lambda o: check(o.revision == 3, o.revision))

    # --- batch/v1 -----------------------------------------------------------------------
    kind("job",
         lambda: batch.create_namespaced_job(ns, c.V1Job(
             metadata=meta("once"), spec=c.V1JobSpec(
                 backoff_limit=0,
                 template=pod_template(command=["true"], restart_policy="Never")))),
         lambda: batch.read_namespaced_job("once", ns),
         lambda o: check(o.spec.completions == 1 and o.spec.completion_mode == "NonIndexed",
                         o.spec))
    kind("cronjob",
         lambda: batch.create_namespaced_cron_job(ns, c.V1CronJob(
             metadata=meta("nightly"), spec=c.V1CronJobSpec(
                 schedule="0 3 * * *", job_template=c.V1JobTemplateSpec(spec=c.V1JobSpec(
                     template=pod_template(command=["true"], restart_policy="OnFailure")))))),
         lambda: batch.read_namespaced_cron_job("nightly", ns),
         lambda o: check(o.spec.concurrency_policy == "Allow" and o.spec.suspend is False, o.spec))

    # --- autoscaling, policy ------------------------------------------------------------
    kind("horizontalpodautoscaler (v2)",
         lambda: c.AutoscalingV2Api().create_namespaced_horizontal_pod_autoscaler(
             ns, c.V2HorizontalPodAutoscaler(
                 metadata=meta("hpa"), spec=c.V2HorizontalPodAutoscalerSpec(
                     max_replicas=3, scale_target_ref=c.V2CrossVersionObjectReference(
                         api_version="apps/v1", kind="Deployment", name="deploy"),
                     metrics=[c.V2MetricSpec(type="Resource", resource=c.V2ResourceMetricSource(
                         name="cpu", target=c.V2MetricTarget(
                             type="Utilization", average_utilization=80)))]))),
         lambda: c.AutoscalingV2Api().read_namespaced_horizontal_pod_autoscaler("hpa", ns),
         lambda o: check(o.spec.min_replicas == 1, o.spec))
    kind("horizontalpodautoscaler (v1 view)",
         lambda: c.AutoscalingV1Api().read_namespaced_horizontal_pod_autoscaler("hpa", ns),
         lambda: c.AutoscalingV1Api().read_namespaced_horizontal_pod_autoscaler("hpa", ns),
         lambda o: check(o.spec.target_cpu_utilization_percentage == 80, o.spec))
    kind("poddisruptionbudget",
         lambda: c.PolicyV1Api().create_namespaced_pod_disruption_budget(
             ns, c.V1PodDisruptionBudget(
                 metadata=meta("pdb"), spec=c.V1PodDisruptionBudgetSpec(
                     min_available=1, selector=selector()))),
         lambda: c.PolicyV1Api().read_namespaced_pod_disruption_budget("pdb", ns))

    # --- networking ---------------------------------------------------------------------
    kind("ingressclass",
         lambda: net.create_ingress_class(c.V1IngressClass(
             metadata=meta("py-kinds"), spec=c.V1IngressClassSpec(controller="example.com/py"))),
         lambda: net.read_ingress_class("py-kinds"))
    kind("ingress",
         lambda: net.create_namespaced_ingress(ns, c.V1Ingress(
             metadata=meta("front"), spec=c.V1IngressSpec(
                 ingress_class_name="py-kinds", rules=[c.V1IngressRule(
                     host="py.example", http=c.V1HTTPIngressRuleValue(paths=[c.V1HTTPIngressPath(
                         path="/", path_type="Prefix", backend=c.V1IngressBackend(
                             service=c.V1IngressServiceBackend(
                                 name="web", port=c.V1ServiceBackendPort(number=80))))]))]))),
         lambda: net.read_namespaced_ingress("front", ns))
    kind("networkpolicy",
         lambda: net.create_namespaced_network_policy(ns, c.V1NetworkPolicy(
             metadata=meta("deny"), spec=c.V1NetworkPolicySpec(pod_selector=selector()))),
         lambda: net.read_namespaced_network_policy("deny", ns),
         lambda o: check(o.spec.policy_types == ["Ingress"], o.spec.policy_types))
    kind("endpointslice",
         lambda: c.DiscoveryV1Api().create_namespaced_endpoint_slice(ns, c.V1EndpointSlice(
             metadata=meta("manual-1", labels={"kubernetes.io/service-name": "manual"}),
             address_type="IPv4", endpoints=[c.V1Endpoint(addresses=["10.0.0.7"])],
             ports=[c.DiscoveryV1EndpointPort(port=80)])),
         lambda: c.DiscoveryV1Api().read_namespaced_endpoint_slice("manual-1", ns))

    # --- rbac, coordination, scheduling, storage, events, certificates -----------------
    kind("role",
         lambda: rbac.create_namespaced_role(ns, c.V1Role(
             metadata=meta("reader"), rules=[c.V1PolicyRule(
                 api_groups=[""], resources=["pods"], verbs=["get", "list"])])),
         lambda: rbac.read_namespaced_role("reader", ns))
    kind("rolebinding",
         lambda: rbac.create_namespaced_role_binding(ns, c.V1RoleBinding(
             metadata=meta("reader"), role_ref=c.V1RoleRef(
                 api_group="rbac.authorization.k8s.io", kind="Role", name="reader"),
             subjects=[c.RbacV1Subject(kind="ServiceAccount", name="robot", namespace=ns)])),
         lambda: rbac.read_namespaced_role_binding("reader", ns))
    kind("clusterrole",
         lambda: rbac.create_cluster_role(c.V1ClusterRole(
             metadata=meta("py-kinds-reader"), rules=[c.V1PolicyRule(
                 non_resource_urls=["/healthz"], verbs=["get"])])),
         lambda: rbac.read_cluster_role("py-kinds-reader"))
    kind("clusterrolebinding",
         lambda: rbac.create_cluster_role_binding(c.V1ClusterRoleBinding(
             metadata=meta("py-kinds-reader"), role_ref=c.V1RoleRef(
                 api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                 name="py-kinds-reader"),
             subjects=[c.RbacV1Subject(kind="ServiceAccount", name="robot", namespace=ns)])),
         lambda: rbac.read_cluster_role_binding("py-kinds-reader"))
    kind("lease",
         lambda: c.CoordinationV1Api().create_namespaced_lease(ns, c.V1Lease(
             metadata=meta("lock"), spec=c.V1LeaseSpec(
                 holder_identity="py", lease_duration_seconds=15))),
         lambda: c.CoordinationV1Api().read_namespaced_lease("lock", ns))
    kind("priorityclass",
         lambda: c.SchedulingV1Api().create_priority_class(c.V1PriorityClass(
             metadata=meta("py-kinds-high"), value=1000)),
         lambda: c.SchedulingV1Api().read_priority_class("py-kinds-high"),
         lambda o: check(o.preemption_policy == "PreemptLowerPriority", o.preemption_policy))
    kind("storageclass",
         lambda: c.StorageV1Api().create_storage_class(c.V1StorageClass(
             metadata=meta("py-kinds-manual"), provisioner="kubernetes.io/no-provisioner",
             volume_binding_mode="WaitForFirstConsumer")),
         lambda: c.StorageV1Api().read_storage_class("py-kinds-manual"),
         lambda o: check(o.reclaim_policy == "Delete", o.reclaim_policy))
    kind("event (events.k8s.io/v1)",
         lambda: c.EventsV1Api().create_namespaced_event(ns, c.EventsV1Event(
             metadata=meta("ev2"), event_time=datetime.datetime.now(datetime.timezone.utc),
             reporting_controller="example.com/py", reporting_instance="py-1",
             action="Testing", reason="Tested", type="Normal",
             regarding=c.V1ObjectReference(kind="Pod", name="lone", namespace=ns))),
         lambda: c.EventsV1Api().read_namespaced_event("ev2", ns))
    kind("runtimeclass",
         lambda: c.NodeV1Api().create_runtime_class(c.V1RuntimeClass(
             metadata=meta("py-kinds"), handler="runc")),
         lambda: c.NodeV1Api().read_runtime_class("py-kinds"))

    for name, create, read, expect in kinds:
        def created_and_read(create=create, read=read, expect=expect):
            create()
            expect(read())
        step(f"create and read {name}", created_and_read)

    # --- 2. status written by the controllers -------------------------------------------
    def eventually(fn, what, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = fn()
                if last:
                    return last
            except ApiException as err:
                last = err
            time.sleep(1)
        raise AssertionError(f"{what}: still {last!r} after {timeout} s")

    def pod_running():
        eventually(lambda: core.read_namespaced_pod("lone", ns).status.phase == "Running",
                   "pod phase")
        p = core.read_namespaced_pod("lone", ns)
        st = p.status.container_statuses[0]
        check(st.ready and st.state.running and st.image_id, st)
        check(p.status.pod_ip and p.status.host_ip and p.status.start_time, p.status)

    def job_complete():
        eventually(lambda: batch.read_namespaced_job("once", ns).status.succeeded == 1,
                   "job succeeded")
        j = batch.read_namespaced_job("once", ns)
        check(j.status.completion_time and any(
            cond.type == "Complete" for cond in j.status.conditions), j.status)

    def daemonset_status():
        d = eventually(lambda: (lambda d: d if d.status and d.status.observed_generation else None)(
            apps.read_namespaced_daemon_set("agent", ns)), "daemonset status")
        check(d.status.desired_number_scheduled == 0 and d.status.number_misscheduled == 0,
              d.status)

    def deployment_status():
        d = eventually(lambda: (lambda d: d if d.status and d.status.observed_generation else None)(
            apps.read_namespaced_deployment("deploy", ns)), "deployment status")
        check(any(cond.type == "Available" for cond in d.status.conditions or []), d.status)

    def statefulset_status():
        s = eventually(lambda: (lambda s: s if s.status and s.status.observed_generation else None)(
            apps.read_namespaced_stateful_set("db", ns)), "statefulset status")
        check(s.status.replicas == 0, s.status)

    def quota_status():
        q = eventually(lambda: (lambda q: q if q.status and q.status.used else None)(
            core.read_namespaced_resource_quota("quota", ns)), "quota status")
        check("pods" in q.status.used, q.status)

    def pdb_status():
        p = eventually(lambda: (lambda p: p if p.status and p.status.observed_generation else None)(
            c.PolicyV1Api().read_namespaced_pod_disruption_budget("pdb", ns)), "pdb status")
        check(p.status.expected_pods >= 1, p.status)

    def claim_bound():
        eventually(lambda: core.read_namespaced_persistent_volume_claim("claim", ns).status.phase
                   in ("Pending", "Bound"), "claim phase")

    def service_endpoints():
        slices = eventually(lambda: c.DiscoveryV1Api().list_namespaced_endpoint_slice(
            ns, label_selector="kubernetes.io/service-name=web").items, "web's EndpointSlice")
        check(slices[0].address_type == "IPv4", slices[0])
        eventually(lambda: core.read_namespaced_endpoints("web", ns).subsets, "web's Endpoints")

    def token_request():
        t = core.create_namespaced_service_account_token("robot", ns, c.AuthenticationV1TokenRequest(
            spec=c.V1TokenRequestSpec(audiences=["py"], expiration_seconds=3600)))
        check(t.status.token.count(".") == 2 and t.status.expiration_timestamp, t.status)

    def self_subject_review():
        r = c.AuthenticationV1Api().create_self_subject_review(c.V1SelfSubjectReview())
        check(r.status.user_info.username, r.status)

    def access_review():
        r = c.AuthorizationV1Api().create_self_subject_access_review(
            c.V1SelfSubjectAccessReview(spec=c.V1SelfSubjectAccessReviewSpec(
                resource_attributes=c.V1ResourceAttributes(verb="list", resource="pods",
                                                          namespace=ns))))
        check(r.status.allowed is True, r.status)

    def eviction():
        # The PDB (minAvailable 1) covers the only pod: the eviction must be refused.
        expect_status(429, lambda: core.create_namespaced_pod_eviction("lone", ns, c.V1Eviction(
            metadata=meta("lone", namespace=ns))), "eviction allowed despite the PDB")

    def exec_and_logs():
        from kubernetes.stream import stream
        out = stream(core.connect_get_namespaced_pod_exec, "lone", ns,
                     command=["sh", "-c", "echo out; echo err >&2"],
                     stderr=True, stdin=False, stdout=True, tty=False)
        # stdout and stderr are two pipes: which line arrives first is a race, upstream too.
        check(sorted(out.splitlines()) == ["err", "out"], repr(out))
        failing = stream(core.connect_get_namespaced_pod_exec, "lone", ns,
                         command=["sh", "-c", "exit 3"], stderr=True, stdin=False,
                         stdout=True, tty=False, _preload_content=False)
        failing.run_forever(timeout=20)
        check(failing.returncode == 3, failing.returncode)
        # write_stdin sends a text frame: the server must take it as stdin.
        cat = stream(core.connect_get_namespaced_pod_exec, "lone", ns, command=["head", "-n1"],
                     stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
        cat.write_stdin("hello\n")
        echoed = ""
        for _ in range(20):
            cat.update(timeout=1)
            echoed += cat.read_stdout() if cat.peek_stdout() else ""
            if echoed or not cat.is_open():
                break
        cat.close()
        check(echoed == "hello\n", repr(echoed))
        log = core.read_namespaced_pod_log("lone", ns)
        check(isinstance(log, str), repr(log))

    step("pod runs and reports its containers", pod_running)
    step("exec (with stdin) and logs through kubernetes.stream", exec_and_logs)
    step("job completes", job_complete)
    step("daemonset status", daemonset_status)
    step("deployment status", deployment_status)
    step("statefulset status", statefulset_status)
    step("resourcequota status", quota_status)
    step("poddisruptionbudget status", pdb_status)
    step("persistentvolumeclaim phase", claim_bound)
    step("service endpoints and slices", service_endpoints)
    step("serviceaccount token request", token_request)
    step("self subject review", self_subject_review)
    step("self subject access review", access_review)
    step("eviction refused by the PDB", eviction)

    # --- 3. every typed list call -------------------------------------------------------
    def list_everything():
        served, missing, failures = 0, 0, []
        for api_name in sorted(n for n in dir(c) if n.endswith("Api") and n[0].isupper()):
            api = getattr(c, api_name)()
            for method in sorted(dir(api)):
                if not method.startswith("list_") or method.endswith("_with_http_info"):
                    continue
                required = [p for p in inspect.signature(getattr(api, method)).parameters.values()
                            if p.default is inspect.Parameter.empty
                            and p.kind is p.POSITIONAL_OR_KEYWORD]
                if required:  # namespaced lists: their _for_all_namespaces twin covers them
                    continue
                if (api_name, method) in UPSTREAM_ALIKE_FAILURES:
                    continue
                try:
                    getattr(api, method)(_request_timeout=30)
                    served += 1
                except ApiException as err:
                    if err.status == 404:
                        missing += 1
                    else:
                        failures.append(f"{api_name}.{method}: {err.status} {err.reason}")
                except Exception as err:  # a model refused what the server sent
                    failures.append(f"{api_name}.{method}: {err!r}")
        print(f"    typed lists: {served} served, {missing} not served here (404)")
        check(not failures, "\n".join(failures))
        check(served >= 40, f"only {served} lists served")

    step("every typed list deserializes", list_everything)

    def read_everything_again():
        failures = []
        for name, _create, read, _expect in kinds:
            try:
                read()
            except Exception as err:
                failures.append(f"{name}: {err!r}")
        check(not failures, "\n".join(failures))

    step("every kind reads back with its status", read_everything_again)

    def clean_up():
        for delete in (lambda: net.delete_ingress_class("py-kinds"),
                       lambda: rbac.delete_cluster_role("py-kinds-reader"),
                       lambda: rbac.delete_cluster_role_binding("py-kinds-reader"),
                       lambda: c.SchedulingV1Api().delete_priority_class("py-kinds-high"),
                       lambda: c.StorageV1Api().delete_storage_class("py-kinds-manual"),
                       lambda: c.NodeV1Api().delete_runtime_class("py-kinds"),
                       lambda: core.delete_persistent_volume("py-kinds-pv"),
                       lambda: core.delete_namespace(ns)):
            delete()

    step("clean up", clean_up)
    return steps.summary("python kinds e2e")


if __name__ == "__main__":
    sys.exit(main())
