#!/usr/bin/env bash
# Brings up a highly available Rudder control plane on loopback, in the foreground: a
# 3-member etcd cluster, 3 kube-apiservers sharing one PKI and the etcd cluster, HAProxy
# load-balancing TCP to them (health-checking /readyz over HTTPS), 3 kube-controller-managers
# and 3 kube-schedulers with leader election, every kubeconfig pointing at the load balancer,
# and worker nodes (default one; containerd, kubelet and optionally kube-proxy each:
# hack/local-up-cluster.sh with RUDDER_NODE_ONLY=1). Ctrl-C (or SIGTERM) stops everything, also components that
# `hack/ha-up.sh start NAME` restarted. Components that die are reported, not restarted:
# the failure drill (hack/e2e/ha-failures.sh) kills them on purpose.
#
#   hack/ha-up.sh                 # bring the cluster up and wait for Ctrl-C
#   hack/ha-up.sh start NAME      # start one stopped component of a running cluster again
#   hack/ha-up.sh kill NAME       # SIGKILL one component
#   hack/ha-up.sh stop NAME       # stop one component gracefully
#   hack/ha-up.sh status          # which components run
# NAME: etcd-N, kube-apiserver-N, haproxy, kube-controller-manager-N, kube-scheduler-N,
# worker-N (`kill` is SIGKILL; `stop NAME` stops gracefully — a worker with its containers).
#
# Environment:
#   RUDDER_DIR            state, PKI and logs                (default /tmp/rudder-ha)
#   LB_PORT               the load balancer's port           (default: a free port)
#   SERVICE_CIDR          --service-cluster-ip-range         (default 10.96.0.0/12)
#   LOG_LEVEL             -v for the daemons                 (default 2)
#   RUDDER_HA_WORKERS     worker nodes ha-worker-1.. (default 1; 0: control plane only),
#                         pod CIDR 10.244.(69+N).0/24 and bridge rdr(69+N) each
#   RUDDER_HA_PROXY=1     also run kube-proxy on the workers. Off by default: its nftables
#                         table (`ip kube-proxy`) is one per machine, so it would fight over
#                         it with any other cluster's kube-proxy here (and with a second
#                         worker's: the workers share the host's network namespace).
#   NODE_MONITOR_GRACE_PERIOD  kube-controller-manager's (default 50s, upstream's)
#   RUDDER_ETCD_PEER_TLS=0  etcd members talk plain HTTP to each other (default: mutual TLS
#                         with pki/etcd-peer.crt from the cluster CA; clients use HTTP either way)
#   RUDDER_SKIP_BUILD=1, RUDDER_SKIP_DEPS=1, RUDDER_BIN_DIR   as for local-up-cluster.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/etcd.sh"
source "$ROOT/hack/lib/guard.sh"
source "$ROOT/hack/lib/control-plane.sh"
source "$ROOT/hack/lib/ha.sh"
source "$ROOT/hack/lib/lock.sh"

HA_DIR=${RUDDER_DIR:-/tmp/rudder-ha}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/12}
NODE_PORT_RANGE=${NODE_PORT_RANGE:-30000-32767}
LOG_LEVEL=${LOG_LEVEL:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN_DIR=${RUDDER_BIN_DIR:-$TARGET_DIR/debug}
LOG_DIR=$HA_DIR/logs
PKI_DIR=$HA_DIR/pki
NODE_MONITOR_GRACE_PERIOD=${NODE_MONITOR_GRACE_PERIOD:-50s}

log() { echo "ha-up: $*" >&2; }

build() {
  [[ ${RUDDER_SKIP_BUILD:-0} == 1 ]] && return
  log "building (cargo build --workspace --bins, target $TARGET_DIR)"
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --workspace --bins)
}

# Every component, also those restarted by `ha-up.sh start`, is found by its pid file.
cleanup() {
  local status=$?
  # A second Ctrl-C or TERM must not cut the cleanup short and leave processes behind.
  trap '' INT TERM
  trap - EXIT
  rm -f "$HA_DIR/ready"
  local name
  for name in $(rudder::ha::components | tac); do
    if rudder::ha::running "$name"; then
      log "stopping $name"
      rudder::ha::stop "$name" || true
    fi
  done
  log "stopped; logs are in $LOG_DIR"
  exit "$status"
}

start_and_wait() {
  local name=$1
  log "starting $name"
  rudder::ha::start "$name"
  if ! rudder::ha::wait_ready "$name" 60; then
    tail -n 20 "$LOG_DIR/$name.log" >&2
    return 1
  fi
}

start_etcd_cluster() {
  local i
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    rm -rf "$HA_DIR/etcd-$i"
    log "starting etcd-$i on 127.0.0.1:$(rudder::ha::var ETCD_CLIENT_PORT_$i)"
    rudder::ha::start "etcd-$i"
  done
  # A member of a new cluster is healthy only once a quorum has elected a leader.
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    if ! rudder::ha::wait_ready "etcd-$i" 30; then
      tail -n 20 "$LOG_DIR/etcd-$i.log" >&2
      return 1
    fi
  done
}

write_kubeconfigs() {
  local lb=https://127.0.0.1:$LB_PORT
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user admin --context rudder \
    --server "$lb" --out "$HA_DIR/admin.kubeconfig" >/dev/null
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-controller-manager "$lb" "$HA_DIR/controller-manager.kubeconfig"
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-scheduler "$lb" "$HA_DIR/scheduler.kubeconfig"
}

write_env_file() {
  cat >"$HA_DIR/env" <<ENV
export KUBECONFIG=$HA_DIR/admin.kubeconfig
export RUDDER_APISERVER=https://127.0.0.1:$LB_PORT
export RUDDER_ETCD=$(rudder::ha::etcd_servers)
export RUDDER_PKI_DIR=$PKI_DIR
export RUDDER_HA_DIR=$HA_DIR
export RUDDER_NODE_NAMES=$(for ((i = 1; i <= RUDDER_HA_WORKERS; i++)); do echo -n "ha-worker-$i "; done)
ENV
}

# Report components that die (the drill kills them on purpose) and come back; stop only on
# a signal.
supervise() {
  local -A was_up=()
  local name
  while true; do
    for name in $(rudder::ha::components); do
      if rudder::ha::running "$name"; then
        [[ ${was_up[$name]:-1} == 0 ]] && log "$name runs again"
        was_up[$name]=1
      else
        [[ ${was_up[$name]:-1} == 1 ]] && log "$name is down (see $LOG_DIR/$name.log)"
        was_up[$name]=0
      fi
    done
    sleep 1 &
    wait $! || true
  done
}

up() {
  # One cluster at a time on this machine (hack/lib/lock.sh); the workers' local-up-cluster.sh
  # inherit the lock.
  rudder::lock::acquire ha-up || exit 1
  mkdir -p "$HA_DIR" "$LOG_DIR" "$HA_DIR/run"
  rm -f "$HA_DIR/ready"
  local name
  for name in $(rudder::ha::components); do
    if rudder::ha::running "$name"; then
      log "$name of an earlier cluster in $HA_DIR still runs; stop that one first"
      exit 1
    fi
  done
  if [[ ${RUDDER_SKIP_DEPS:-0} != 1 ]]; then
    "$ROOT/hack/install-deps.sh" --ha
  fi
  command -v haproxy >/dev/null || { log "haproxy missing: hack/install-deps.sh --ha"; exit 1; }
  if ((RUDDER_HA_PROXY == 1 && RUDDER_HA_WORKERS > 1)); then
    log "RUDDER_HA_PROXY=1 needs RUDDER_HA_WORKERS=1: the workers share one nftables table"
    exit 1
  fi
  # Before anything starts (shared/RUNTIME-NOTES.md).
  rudder::guard::install
  build
  for bin in kube-apiserver kube-controller-manager kube-scheduler rudder-pki; do
    [[ -x $BIN_DIR/$bin ]] || { log "missing $BIN_DIR/$bin"; exit 1; }
  done
  rm -f "$LOG_DIR"/*.log "$HA_DIR"/run/*.pid
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  rudder::ha::pick_ports
  rudder::ha::save_env
  log "generating PKI in $PKI_DIR"
  rudder::control_plane::generate_pki "$BIN_DIR" "$PKI_DIR" "$SERVICE_CIDR" "$(rudder::ha::api_hosts)"
  rm -f "$PKI_DIR/etcd-peer.crt" "$PKI_DIR/etcd-peer.key"
  if [[ ${RUDDER_ETCD_PEER_TLS:-1} == 1 ]]; then
    log "etcd peers talk mutual TLS (etcd-peer.crt from the cluster CA)"
    rudder::etcd::issue_peer_cert "$PKI_DIR"
  fi
  start_etcd_cluster
  local i
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    start_and_wait "kube-apiserver-$i"
  done
  start_and_wait haproxy
  write_kubeconfigs
  for name in $(rudder::ha::components | grep -E '^(kube-(controller-manager|scheduler)|worker)-'); do
    start_and_wait "$name"
  done
  write_env_file
  touch "$HA_DIR/ready"
  cat <<MSG

HA Rudder cluster is running (logs in $LOG_DIR).
  load balancer   https://127.0.0.1:$LB_PORT  (HAProxy -> kube-apiserver-1..$RUDDER_HA_MEMBERS on $(rudder::ha::api_hosts), port $API_PORT_1)
  etcd            $(rudder::ha::etcd_servers)

  export KUBECONFIG=$HA_DIR/admin.kubeconfig
  kubectl get nodes
  kubectl -n kube-system get leases

Or: source $HA_DIR/env.  Drill: hack/e2e/ha-failures.sh (with RUDDER_DIR=$HA_DIR).
Press Ctrl-C to stop it.
MSG
  supervise
}

main() {
  case ${1:-up} in
    up) up ;;
    start)
      rudder::ha::load_env
      rudder::ha::start "${2:?component name}"
      rudder::ha::wait_ready "$2" 60
      ;;
    kill)
      rudder::ha::load_env
      rudder::ha::kill "${2:?component name}"
      ;;
    stop)
      rudder::ha::load_env
      rudder::ha::stop "${2:?component name}"
      ;;
    status)
      rudder::ha::load_env
      local name pid
      for name in $(rudder::ha::components); do
        if pid=$(rudder::ha::pid "$name"); then echo "$name running $pid"; else echo "$name down"; fi
      done
      ;;
    -h | --help) sed -n '2,33p' "$0" ;;
    *) log "unknown command $1 (up, start NAME, kill NAME, stop NAME, status)"; exit 2 ;;
  esac
}

main "$@"
