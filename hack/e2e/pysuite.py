"""What the Python e2e suites share: the cluster to drive, PASS/FAIL steps and the summary.

A suite calls `connect(__file__)` first (it re-executes the suite under with-cluster.sh when
RUDDER_E2E_KUBECONFIG is not set, and configures the `kubernetes` package), then runs
`Steps.step(name, fn)`
for each check and returns `Steps.summary(title)` as its exit status.
"""

import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def kubeconfig_or_cluster(suite_file):
    """The kubeconfig to use; without one, runs the suite again on a fresh local cluster."""
    kubeconfig = os.environ.get("RUDDER_E2E_KUBECONFIG")
    if not kubeconfig:
        # Never fall back to ~/.kube/config or $KUBECONFIG: that may be someone's cluster.
        wrapper = os.path.join(HERE, "with-cluster.sh")
        os.execv(wrapper, [wrapper, sys.executable, os.path.abspath(suite_file)] + sys.argv[1:])
    return kubeconfig


def connect(suite_file):
    """The `kubernetes` package, configured for the cluster to drive (see
    kubeconfig_or_cluster); None, after saying so, when the package is missing."""
    kubeconfig = kubeconfig_or_cluster(suite_file)
    try:
        import kubernetes
        import kubernetes.client.rest  # noqa: F401 (ApiException)
        import kubernetes.watch  # noqa: F401
    except ImportError:
        print("FAIL import kubernetes (run hack/install-deps.sh --python)")
        return None
    kubernetes.config.load_kube_config(config_file=kubeconfig)
    return kubernetes


def expect_status(code, call, refused_what):
    """Runs `call`, which the server must refuse with HTTP `code`."""
    from kubernetes.client.rest import ApiException
    try:
        call()
    except ApiException as err:
        check(err.status == code, f"status {err.status}: {err.body}")
        return
    raise AssertionError(refused_what)


def check(cond, message):
    """Fails the current step with `message` unless `cond` holds."""
    if not cond:
        raise AssertionError(message)


class Steps:
    """Runs named steps, prints PASS/FAIL for each and goes on after a failure."""

    def __init__(self):
        self.results = []

    def step(self, name, fn):
        try:
            fn()
        except Exception as err:  # every failure is reported, the suite goes on
            self.results.append(False)
            print(f"FAIL {name}: {err!r}", flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
        else:
            self.results.append(True)
            print(f"PASS {name}", flush=True)

    def summary(self, title):
        """Prints the totals; the exit status (0 only when every step passed)."""
        passed = sum(self.results)
        failed = len(self.results) - passed
        print(f"=== {title}: {passed} passed, {failed} failed")
        return 1 if failed else 0
