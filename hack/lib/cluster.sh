#!/usr/bin/env bash
# Start a throw-away local cluster (hack/local-up-cluster.sh) in the background for tests,
# and stop it again. Source after util.sh.
#
#   rudder::cluster::start DIR   # sets RUDDER_CLUSTER_PID and RUDDER_CLUSTER_KUBECONFIG
#   rudder::cluster::stop

RUDDER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$RUDDER_LIB_DIR/containerd.sh"

rudder::cluster::start() {
  local dir=$1 port kubelet_port healthz_port
  mkdir -p "$dir"
  rudder::util::free_port port
  rudder::util::free_port kubelet_port
  rudder::util::free_port healthz_port
  # Binaries were built by the caller (hack/test.sh) or are built here once. Own ports, pod
  # CIDR and bridge, so a test cluster never mistakes another cluster's kubelet for its own.
  RUDDER_DIR=$dir API_PORT=$port RUDDER_SKIP_DEPS=1 \
    KUBELET_PORT=$kubelet_port KUBELET_HEALTHZ_PORT=$healthz_port \
    POD_CIDR=${POD_CIDR:-10.244.250.0/24} CNI_BRIDGE=${CNI_BRIDGE:-rdr250} \
    RUDDER_SKIP_BUILD=${RUDDER_SKIP_BUILD:-0} \
    setsid "$RUDDER_LIB_DIR/../local-up-cluster.sh" >"$dir/local-up-cluster.out" 2>&1 &
  # setsid: the script leads its own process group (pgid = its pid) with everything it
  # starts, so stop can sweep the group even if the script itself had to be killed.
  RUDDER_CLUSTER_PID=$!
  RUDDER_CLUSTER_DIR=$dir
  RUDDER_CLUSTER_KUBECONFIG=$dir/admin.kubeconfig
  # A first build can take long; readiness itself takes seconds.
  if ! rudder::util::wait_for "local cluster" "${RUDDER_CLUSTER_TIMEOUT:-1800}" \
    "$RUDDER_CLUSTER_PID" test -e "$dir/ready"; then
    tail -n 30 "$dir/local-up-cluster.out" >&2
    tail -n 30 "$dir/logs/kube-apiserver.log" >&2 2>/dev/null || true
    rudder::cluster::stop
    return 1
  fi
}

# The script stops what it started on TERM (hack/local-up-cluster.sh's cleanup, which also
# removes DIR/pids). Should it not finish within 90 s, or have been killed, every process it
# listed in DIR/pids and every member of its process group gets SIGKILL, and what they
# left (containers, mounts, kube-proxy's table) is removed.
rudder::cluster::stop() {
  local pid=${RUDDER_CLUSTER_PID:-} dir=${RUDDER_CLUSTER_DIR:-}
  [[ -n $pid ]] || return 0
  RUDDER_CLUSTER_PID=
  rudder::util::stop_pid "$pid" 90
  [[ -n $dir ]] || return 0
  local name p
  if [[ -f $dir/pids ]]; then
    while read -r name p; do
      if kill -0 "$p" 2>/dev/null; then
        echo "cluster: $name (pid $p) outlived local-up-cluster.sh; killing it" >&2
        kill -KILL "$p" 2>/dev/null || true
      fi
    done <"$dir/pids"
  fi
  kill -KILL -- "-$pid" 2>/dev/null || true
  # What the killed node left: containers, shims and mounts (containerd's and the kubelet's
  # pod volumes), and kube-proxy's nftables table (this cluster's: one cluster at a time).
  if [[ -f $dir/pids ]]; then
    rudder::containerd::reap "$dir/containerd"
    rudder::containerd::unmount_under "$dir"
    if grep -q '^kube-proxy ' "$dir/pids"; then
      nft delete table ip kube-proxy 2>/dev/null || true
    fi
    rm -f "$dir/pids"
  fi
}
