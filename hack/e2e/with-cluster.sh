#!/usr/bin/env bash
# Run COMMAND... against a fresh local cluster: starts one in the background, exports
# RUDDER_E2E_KUBECONFIG, runs the command, stops the cluster, returns the command's status.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/cluster.sh"

dir=$(mktemp -d /tmp/rudder-e2e.XXXXXX)
finish() {
  local status=$?
  rudder::cluster::stop
  if [[ $status -ne 0 ]]; then
    echo "with-cluster: failed; last lines of the apiserver log:" >&2
    tail -n 40 "$dir/logs/kube-apiserver.log" >&2 2>/dev/null || true
  fi
  rm -rf "$dir"
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "with-cluster: starting a local cluster in $dir" >&2
rudder::cluster::start "$dir"
export RUDDER_E2E_KUBECONFIG=$RUDDER_CLUSTER_KUBECONFIG
status=0
"$@" || status=$?
exit "$status"
