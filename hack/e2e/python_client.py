#!/usr/bin/env python3
"""Drives a Rudder cluster with the PyPI `kubernetes` client through its typed APIs.

    hack/e2e/python_client.py                       # starts its own local cluster
    RUDDER_E2E_KUBECONFIG=F hack/e2e/python_client.py

Every response is deserialized into the client's models, so a field the server gets wrong
(a missing required field, a wrong type) shows up as an exception. Prints PASS/FAIL per step
and exits non-zero when any step failed.
"""

import sys
import threading
import time

from pysuite import Steps, check, connect, expect_status

NAMESPACE = "py-e2e"


def main():
    kubernetes = connect(__file__)
    if kubernetes is None:
        return 1
    client, watch = kubernetes.client, kubernetes.watch
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    steps = Steps()
    step = steps.step

    # --- namespaces -------------------------------------------------------------------
    def list_namespaces():
        names = {ns.metadata.name for ns in core.list_namespace().items}
        for wanted in ("default", "kube-system", "kube-public", "kube-node-lease"):
            check(wanted in names, f"{wanted} missing from {sorted(names)}")

    def create_namespace():
        ns = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        check(ns.metadata.name == NAMESPACE, ns.metadata.name)
        check(ns.status.phase == "Active", ns.status.phase)

    step("list namespaces", list_namespaces)
    step("create namespace", create_namespace)

    # --- ConfigMap: create, read, patch, list, watch, delete --------------------------
    state = {}

    def create_configmap():
        body = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="py-cm", labels={"app": "py"}),
            data={"greeting": "hello"},
        )
        cm = core.create_namespaced_config_map(NAMESPACE, body)
        check(cm.metadata.uid, "no uid")
        check(cm.metadata.resource_version, "no resourceVersion")
        check(cm.metadata.creation_timestamp is not None, "no creationTimestamp")
        state["cm_rv"] = cm.metadata.resource_version

    def read_configmap():
        cm = core.read_namespaced_config_map("py-cm", NAMESPACE)
        check(cm.data == {"greeting": "hello"}, cm.data)

    def patch_configmap():
        cm = core.patch_namespaced_config_map("py-cm", NAMESPACE, {"data": {"extra": "1"}})
        check(cm.data == {"greeting": "hello", "extra": "1"}, cm.data)
        check(cm.metadata.resource_version != state["cm_rv"], "resourceVersion unchanged")

    def list_configmaps_by_label():
        items = core.list_namespaced_config_map(NAMESPACE, label_selector="app=py").items
        check([i.metadata.name for i in items] == ["py-cm"], [i.metadata.name for i in items])

    def stale_replace_conflicts():
        cm = core.read_namespaced_config_map("py-cm", NAMESPACE)
        cm.metadata.resource_version = state["cm_rv"]
        expect_status(409, lambda: core.replace_namespaced_config_map("py-cm", NAMESPACE, cm),
                      "stale replace was accepted")

    def watch_configmap():
        start_rv = core.read_namespaced_config_map("py-cm", NAMESPACE).metadata.resource_version
        seen = []

        def mutate():
            time.sleep(1)
            core.patch_namespaced_config_map("py-cm", NAMESPACE, {"data": {"watched": "yes"}})
            core.delete_namespaced_config_map("py-cm", NAMESPACE)

        writer = threading.Thread(target=mutate)
        writer.start()
        w = watch.Watch()
        # Only py-cm: the namespace's kube-root-ca.crt can be published while the watch runs.
        for event in w.stream(core.list_namespaced_config_map, NAMESPACE,
                              field_selector="metadata.name=py-cm",
                              resource_version=start_rv, timeout_seconds=20):
            obj = event["object"]
            check(isinstance(obj, client.V1ConfigMap), type(obj))
            seen.append((event["type"], obj.metadata.name))
            if event["type"] == "DELETED":
                w.stop()
        writer.join()
        check(seen == [("MODIFIED", "py-cm"), ("DELETED", "py-cm")], seen)

    def read_deleted_is_404():
        expect_status(404, lambda: core.read_namespaced_config_map("py-cm", NAMESPACE),
                      "deleted ConfigMap still readable")

    step("create configmap", create_configmap)
    step("read configmap", read_configmap)
    step("patch configmap", patch_configmap)
    step("list configmaps by label", list_configmaps_by_label)
    step("stale replace is 409", stale_replace_conflicts)
    step("watch configmap MODIFIED/DELETED", watch_configmap)
    step("read deleted configmap is 404", read_deleted_is_404)

    # --- Deployment through apps/v1 ---------------------------------------------------
    def deployment(replicas):
        labels = {"app": "py-web"}
        return client.V1Deployment(
            metadata=client.V1ObjectMeta(name="py-web", labels=labels),
            spec=client.V1DeploymentSpec(
                replicas=replicas,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(containers=[client.V1Container(
                        name="web", image="registry.k8s.io/e2e-test-images/busybox:1.36",
                        command=["httpd", "-f", "-p", "8080"])]),
                ),
            ),
        )

    def create_deployment():
        d = apps.create_namespaced_deployment(NAMESPACE, deployment(1))
        check(d.spec.replicas == 1, d.spec.replicas)
        # Upstream defaulting, visible through the typed model.
        check(d.spec.strategy.type == "RollingUpdate", d.spec.strategy)
        check(d.spec.revision_history_limit == 10, d.spec.revision_history_limit)
        check(d.spec.template.spec.restart_policy == "Always", d.spec.template.spec.restart_policy)
        check(d.metadata.generation == 1, d.metadata.generation)

    def patch_deployment():
        d = apps.patch_namespaced_deployment("py-web", NAMESPACE, {"spec": {"replicas": 2}})
        check(d.spec.replicas == 2, d.spec.replicas)
        check(d.metadata.generation == 2, d.metadata.generation)

    def scale_subresource():
        scale = apps.read_namespaced_deployment_scale("py-web", NAMESPACE)
        check(scale.spec.replicas == 2, scale.spec.replicas)
        scale = apps.patch_namespaced_deployment_scale("py-web", NAMESPACE, {"spec": {"replicas": 3}})
        check(scale.spec.replicas == 3, scale.spec.replicas)
        check(apps.read_namespaced_deployment("py-web", NAMESPACE).spec.replicas == 3, "scale not stored")

    def watch_deployment():
        rv = apps.list_namespaced_deployment(NAMESPACE).metadata.resource_version
        threading.Timer(1.0, lambda: apps.patch_namespaced_deployment(
            "py-web", NAMESPACE, {"metadata": {"labels": {"watched": "yes"}}})).start()
        w = watch.Watch()
        for event in w.stream(apps.list_namespaced_deployment, NAMESPACE,
                              resource_version=rv, timeout_seconds=20):
            check(isinstance(event["object"], client.V1Deployment), type(event["object"]))
            if event["type"] == "MODIFIED" and (event["object"].metadata.labels or {}).get("watched") == "yes":
                w.stop()
                return
        raise AssertionError("no MODIFIED event for the deployment")

    def list_all_deployments():
        names = [(d.metadata.namespace, d.metadata.name)
                 for d in apps.list_deployment_for_all_namespaces().items]
        check((NAMESPACE, "py-web") in names, names)

    def delete_deployment():
        status = apps.delete_namespaced_deployment("py-web", NAMESPACE)
        check(status is not None, "no answer")
        expect_status(404, lambda: apps.read_namespaced_deployment("py-web", NAMESPACE),
                      "deleted deployment still readable")

    step("create deployment", create_deployment)
    step("patch deployment", patch_deployment)
    step("scale subresource", scale_subresource)
    step("watch deployment", watch_deployment)
    step("list deployments in all namespaces", list_all_deployments)
    step("delete deployment", delete_deployment)

    def delete_namespace():
        core.delete_namespace(NAMESPACE)

    step("delete namespace", delete_namespace)

    return steps.summary("python client e2e")


if __name__ == "__main__":
    sys.exit(main())
