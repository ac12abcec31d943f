#!/usr/bin/env bash
# Brings up a local Rudder cluster in the foreground: a private etcd on loopback, the cluster
# PKI, kube-apiserver over HTTPS, an admin kubeconfig. Ctrl-C (or SIGTERM) stops everything it
# started.
#
# Environment:
#   RUDDER_DIR           state, certificates and logs       (default /tmp/rudder-local)
#   API_PORT             kube-apiserver --secure-port        (default 6443; a free port if busy)
#   ETCD_PORT, ETCD_PEER_PORT                                (default: free ports)
#   SERVICE_CIDR         --service-cluster-ip-range          (default 10.96.0.0/12)
#   LOG_LEVEL            -v for the daemons                  (default 2)
#   RUDDER_SKIP_BUILD=1  use existing binaries
#   RUDDER_SKIP_DEPS=1   do not run hack/install-deps.sh
#   RUDDER_BIN_DIR       where the binaries are  (default $CARGO_TARGET_DIR/debug or target/debug)
#   RUDDER_KEEP_DATA=1   keep the etcd data of a previous run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/etcd.sh"
source "$ROOT/hack/lib/guard.sh"

RUDDER_DIR=${RUDDER_DIR:-/tmp/rudder-local}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/12}
NODE_PORT_RANGE=${NODE_PORT_RANGE:-30000-32767}
LOG_LEVEL=${LOG_LEVEL:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN_DIR=${RUDDER_BIN_DIR:-$TARGET_DIR/debug}
PKI_DIR=$RUDDER_DIR/pki
LOG_DIR=$RUDDER_DIR/logs
KUBECONFIG_PATH=$RUDDER_DIR/admin.kubeconfig

log() { echo "local-up-cluster: $*" >&2; }

# Every process started here, in start order; stopped in reverse order on exit.
PIDS=()
NAMES=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  rm -f "$RUDDER_DIR/ready"
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    log "stopping ${NAMES[i]} (pid ${PIDS[i]})"
    rudder::util::stop_pid "${PIDS[i]}" 10
  done
  log "stopped; logs are in $LOG_DIR"
  exit "$status"
}

remember() {
  NAMES+=("$1")
  PIDS+=("$2")
}

# The service IP range's first address is the `kubernetes` Service's ClusterIP (upstream
# rule); it must be in the apiserver's serving certificate.
first_service_ip() {
  local cidr=$1 a b c d prefix
  IFS=./ read -r a b c d prefix <<<"$cidr"
  local mask=$(((0xffffffff << (32 - ${prefix:-32})) & 0xffffffff))
  local n=$((((a << 24 | b << 16 | c << 8 | d) & mask) + 1))
  echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"
}

build() {
  if [[ ${RUDDER_SKIP_BUILD:-0} == 1 ]]; then
    return
  fi
  log "building (cargo build --workspace --bins, target $TARGET_DIR)"
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --workspace --bins)
}

pick_ports() {
  API_PORT=${API_PORT:-6443}
  if rudder::util::port_in_use "$API_PORT"; then
    local busy=$API_PORT
    rudder::util::free_port API_PORT
    log "port $busy is busy; kube-apiserver uses $API_PORT"
  fi
  [[ -n ${ETCD_PORT:-} ]] || rudder::util::free_port ETCD_PORT
  [[ -n ${ETCD_PEER_PORT:-} ]] || rudder::util::free_port ETCD_PEER_PORT
}

start_etcd() {
  if [[ ${RUDDER_KEEP_DATA:-0} != 1 ]]; then
    rm -rf "$RUDDER_DIR/etcd"
  fi
  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  rudder::etcd::start "$RUDDER_DIR/etcd" "$ETCD_PORT" "$ETCD_PEER_PORT" "$LOG_DIR/etcd.log"
  remember etcd "$ETCD_PID"
}

generate_pki() {
  log "generating PKI in $PKI_DIR"
  "$BIN_DIR/rudder-pki" init --dir "$PKI_DIR" \
    --apiserver-ip 127.0.0.1 \
    --service-ip "$(first_service_ip "$SERVICE_CIDR")" >/dev/null
}

apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" \
    --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz"
}

start_apiserver() {
  log "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  "$BIN_DIR/kube-apiserver" \
    --etcd-servers "$ETCD_ENDPOINT" \
    --bind-address 127.0.0.1 \
    --secure-port "$API_PORT" \
    --advertise-address 127.0.0.1 \
    --tls-cert-file "$PKI_DIR/apiserver.crt" \
    --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --client-ca-file "$PKI_DIR/ca.crt" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-node-port-range "$NODE_PORT_RANGE" \
    -v "$LOG_LEVEL" \
    >"$LOG_DIR/kube-apiserver.log" 2>&1 &
  local pid=$!
  remember kube-apiserver "$pid"
  if ! rudder::util::wait_for kube-apiserver 60 "$pid" apiserver_ready; then
    tail -n 30 "$LOG_DIR/kube-apiserver.log" >&2
    return 1
  fi
}

write_kubeconfig() {
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user admin --context rudder \
    --server "https://127.0.0.1:$API_PORT" --out "$KUBECONFIG_PATH" >/dev/null
}

# start_component NAME ARGS... — start $BIN_DIR/NAME in the background, logging to
# $LOG_DIR/NAME.log, and stop it on exit.
start_component() {
  local name=$1
  shift
  log "starting $name"
  "$BIN_DIR/$name" "$@" >"$LOG_DIR/$name.log" 2>&1 &
  remember "$name" "$!"
}

# The components that run against the apiserver, each with its own client certificate and
# upstream flags. Still to come here:
#   start_component kubelet --kubeconfig ... --container-runtime-endpoint unix://... --node-ip 127.0.0.1
#   start_component kube-proxy --kubeconfig ... --proxy-mode nftables
# Each gets its own client certificate: "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn ...
start_cluster_components() {
  "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn system:kube-controller-manager >/dev/null
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user system-kube-controller-manager \
    --context rudder --server "https://127.0.0.1:$API_PORT" \
    --out "$RUDDER_DIR/controller-manager.kubeconfig" >/dev/null
  start_component kube-controller-manager --kubeconfig "$RUDDER_DIR/controller-manager.kubeconfig" -v "$LOG_LEVEL"
  "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn system:kube-scheduler >/dev/null
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user system-kube-scheduler \
    --context rudder --server "https://127.0.0.1:$API_PORT" \
    --out "$RUDDER_DIR/scheduler.kubeconfig" >/dev/null
  # Plain-HTTP health/metrics on a free loopback port (HTTPS on 10259 comes with issue 3).
  local scheduler_port
  rudder::util::free_port scheduler_port
  start_component kube-scheduler --kubeconfig "$RUDDER_DIR/scheduler.kubeconfig" \
    --secure-port "$scheduler_port" -v "$LOG_LEVEL"
}

write_env_file() {
  cat >"$RUDDER_DIR/env" <<ENV
export KUBECONFIG=$KUBECONFIG_PATH
export RUDDER_APISERVER=https://127.0.0.1:$API_PORT
export RUDDER_ETCD=$ETCD_ENDPOINT
export RUDDER_PKI_DIR=$PKI_DIR
ENV
}

# Return when a started process exits (failure) — otherwise wait for a signal.
supervise() {
  while true; do
    local i
    for i in "${!PIDS[@]}"; do
      if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
        log "${NAMES[i]} exited unexpectedly; see $LOG_DIR/${NAMES[i]}.log"
        return 1
      fi
    done
    # `wait` on a background sleep lets the trap run as soon as a signal arrives.
    sleep 1 &
    wait $! || true
  done
}

main() {
  mkdir -p "$RUDDER_DIR" "$LOG_DIR"
  rm -f "$RUDDER_DIR/ready"
  if [[ ${RUDDER_SKIP_DEPS:-0} != 1 ]]; then
    "$ROOT/hack/install-deps.sh"
  fi
  rudder::guard::install
  build
  for bin in kube-apiserver rudder-pki; do
    [[ -x $BIN_DIR/$bin ]] || { log "missing $BIN_DIR/$bin"; exit 1; }
  done
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  pick_ports
  generate_pki
  start_etcd
  start_apiserver
  write_kubeconfig
  start_cluster_components
  write_env_file
  touch "$RUDDER_DIR/ready"
  cat <<MSG

Local Rudder cluster is running (logs in $LOG_DIR).

  export KUBECONFIG=$KUBECONFIG_PATH
  kubectl cluster-info
  kubectl get namespaces

Press Ctrl-C to stop it.
MSG
  supervise
}

main "$@"
