#!/usr/bin/env bash
# Brings up a local Rudder cluster in the foreground: a private etcd on loopback, the cluster
# PKI, kube-apiserver over HTTPS, an admin kubeconfig, the controller-manager and scheduler,
# and a node: a private containerd (own root, state and socket under RUDDER_DIR/containerd)
# with the test images imported (hack/build-images.sh) and the kubelet. Ctrl-C (or SIGTERM)
# stops everything it started, the kubelet and containerd first, with their containers and
# mounts.
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
#   NODE_NAME            the kubelet's --hostname-override   (default: hostname, lower-cased)
#   KUBELET_PORT         kubelet HTTPS --port                (default 10250; a free port if busy)
#   KUBELET_HEALTHZ_PORT kubelet --healthz-port              (default 10248; a free port if busy)
#   KUBELET_LOG_LEVEL    kubelet -v                          (default 1)
#   POD_CIDR             the node's --pod-cidr               (default 10.244.0.0/24)
#   CNI_BRIDGE           the kubelet's --cni-bridge-name     (default rudder0; one per cluster)
#   KUBELET_EVICTION_HARD the kubelet's --eviction-hard (default: upstream's memory threshold,
#                        disk thresholds at 2% as kind lowers them — a dev machine's disk is
#                        shared with build trees, and upstream's 10%/15% would evict everything)
#   IMAGES_DIR           where the image tarballs are built  (default <repo>/_output/images)
#   RUDDER_NO_KUBELET=1  start containerd and import images, but no kubelet
#   RUDDER_NO_CONTAINERD=1  no node at all: neither containerd nor the kubelet
#   RUDDER_NO_PROXY=1    do not start kube-proxy (it starts after the kubelet)
#   RUDDER_NO_ADDONS=1   do not deploy the add-ons (hack/lib/addons.sh: every
#                        addons/*/manifests — cluster DNS, whose kube-dns Service is at the
#                        service range's tenth address, which the kubelet's --cluster-dns
#                        names, the Ingress controller, …)
#   RUDDER_NO_DEFAULT_STORAGE_CLASS=1  do not create the default StorageClass `standard`
#                        (kubernetes.io/host-path, served by the controller-manager's
#                        --enable-hostpath-provisioner: directories under /tmp/hostpath_pv)
#   CLUSTER_CIDR         kube-proxy --cluster-cidr           (default 10.244.0.0/16)
#   RUDDER_NODE_ONLY=1   only the node (containerd, kubelet, kube-proxy) against an existing
#                        control plane (hack/ha-up.sh uses it): API_PORT is its port on
#                        127.0.0.1, PKI_DIR its PKI (with ca.key), KUBECONFIG_PATH an admin
#                        kubeconfig for it
#
# Restarting kube-proxy while the cluster runs (hack/e2e/kubectl.sh's proxy_restart suite):
# `touch RUDDER_DIR/restart-kube-proxy`; within a second kube-proxy gets SIGTERM (its
# nftables table stays, as on any restart) and starts again with the same command line.
# The request file is removed when the new process runs; RUDDER_DIR/kube-proxy.pid names it.
#
# A kubelet that exits (`kill -9 $(cat RUDDER_DIR/kubelet.pid)`, or a crash) is started again
# a second later with the same command line, as systemd restarts it on a kubeadm node; the
# running containers stay and the new kubelet adopts them. RUDDER_DIR/kubelet.pid names the
# current one. Any other component that exits stops the whole cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/etcd.sh"
source "$ROOT/hack/lib/guard.sh"
source "$ROOT/hack/lib/containerd.sh"
source "$ROOT/hack/lib/control-plane.sh"
source "$ROOT/hack/lib/lock.sh"
source "$ROOT/hack/lib/addons.sh"

RUDDER_DIR=${RUDDER_DIR:-/tmp/rudder-local}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/12}
NODE_PORT_RANGE=${NODE_PORT_RANGE:-30000-32767}
LOG_LEVEL=${LOG_LEVEL:-2}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN_DIR=${RUDDER_BIN_DIR:-$TARGET_DIR/debug}
PKI_DIR=${PKI_DIR:-$RUDDER_DIR/pki}
LOG_DIR=$RUDDER_DIR/logs
KUBECONFIG_PATH=${KUBECONFIG_PATH:-$RUDDER_DIR/admin.kubeconfig}
RUDDER_NODE_ONLY=${RUDDER_NODE_ONLY:-0}
CONTAINERD_DIR=$RUDDER_DIR/containerd
KUBELET_ROOT_DIR=$RUDDER_DIR/kubelet
POD_CIDR=${POD_CIDR:-10.244.0.0/24}
CNI_BRIDGE=${CNI_BRIDGE:-rudder0}
NODE_NAME=${NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}
RUDDER_NO_CONTAINERD=${RUDDER_NO_CONTAINERD:-0}
RUDDER_NO_KUBELET=${RUDDER_NO_KUBELET:-$RUDDER_NO_CONTAINERD}

log() { echo "local-up-cluster: $*" >&2; }

# Every process started here, in start order, with how to stop it on exit: "signal" (the
# default) for a process that needs nothing but SIGTERM, or a command. Also listed in
# RUDDER_DIR/pids ("name pid" lines) for whoever must clean up after this script was
# SIGKILLed (hack/lib/cluster.sh).
PIDS=()
NAMES=()
STOPS=()
# The foreground command being awaited (see interruptible), killed first on exit.
FOREGROUND_PID=

# Runs on every exit path (normal, error, INT, TERM) and stops every remembered process:
#   1. SIGTERM to every "signal" process at once (the control plane), without waiting, so
#      they are on their way down even if a slow node teardown below is cut short;
#   2. the other stop commands in reverse start order: kube-proxy (and its nftables table),
#      the kubelet (before containerd, so it restarts nothing), containerd with its
#      containers and mounts;
#   3. a wait of up to 10 s for all of them, then SIGKILL for stragglers, and a last wait.
cleanup() {
  local status=$?
  # A second Ctrl-C or TERM must not cut the cleanup short and leave processes behind.
  trap '' INT TERM
  trap - EXIT
  rm -f "$RUDDER_DIR/ready"
  if [[ -n $FOREGROUND_PID ]]; then
    kill -TERM "$FOREGROUND_PID" 2>/dev/null || true
  fi
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    if [[ ${STOPS[i]} == signal ]] && kill -0 "${PIDS[i]}" 2>/dev/null; then
      log "stopping ${NAMES[i]} (pid ${PIDS[i]})"
      kill -TERM "${PIDS[i]}" 2>/dev/null || true
    fi
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    if [[ ${STOPS[i]} != signal ]]; then
      log "stopping ${NAMES[i]} (pid ${PIDS[i]})"
      ${STOPS[i]} || true
    fi
  done
  local deadline=$((SECONDS + 10)) left
  while true; do
    left=()
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[i]}" 2>/dev/null && left+=("$i")
    done
    ((${#left[@]} == 0 || SECONDS >= deadline)) && break
    sleep 0.2
  done
  for i in "${left[@]}"; do
    log "${NAMES[i]} (pid ${PIDS[i]}) ignored SIGTERM; sending SIGKILL"
    kill -KILL "${PIDS[i]}" 2>/dev/null || true
  done
  for i in "${!PIDS[@]}"; do
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  [[ -n $FOREGROUND_PID ]] && { kill -KILL "$FOREGROUND_PID" 2>/dev/null || true; }
  rm -f "$RUDDER_DIR/pids" "$RUDDER_DIR/kube-proxy.pid" "$RUDDER_DIR/kubelet.pid"
  log "stopped; logs are in $LOG_DIR"
  exit "$status"
}

# remember NAME PID [STOP_COMMAND...] — stop with STOP_COMMAND instead of SIGTERM on exit.
remember() {
  NAMES+=("$1")
  PIDS+=("$2")
  if (($# > 2)); then
    STOPS+=("${*:3}")
  else
    STOPS+=(signal)
  fi
  echo "$1 $2" >>"$RUDDER_DIR/pids"
}

# interruptible COMMAND... — run a long foreground command (image builds, rollout waits) in
# the background and wait for it: bash runs a trap only after a foreground command returns,
# but interrupts `wait` at once, so INT/TERM stop the cluster without waiting for it.
interruptible() {
  "$@" &
  FOREGROUND_PID=$!
  local rc=0
  wait "$FOREGROUND_PID" || rc=$?
  FOREGROUND_PID=
  return "$rc"
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
  if [[ $RUDDER_NODE_ONLY != 1 ]] && rudder::util::port_in_use "$API_PORT"; then
    local busy=$API_PORT
    rudder::util::free_port API_PORT
    log "port $busy is busy; kube-apiserver uses $API_PORT"
  fi
  [[ -n ${ETCD_PORT:-} ]] || rudder::util::free_port ETCD_PORT
  [[ -n ${ETCD_PEER_PORT:-} ]] || rudder::util::free_port ETCD_PEER_PORT
  KUBELET_PORT=${KUBELET_PORT:-10250}
  KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-10248}
  if [[ $RUDDER_NO_KUBELET != 1 ]]; then
    # The apiserver learns the kubelet's port from the Node's status, so any port works.
    local var busy
    for var in KUBELET_PORT KUBELET_HEALTHZ_PORT; do
      if rudder::util::port_in_use "${!var}"; then
        busy=${!var}
        rudder::util::free_port "$var"
        log "port $busy is busy; the kubelet's $var is ${!var}"
      fi
    done
  fi
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
  rudder::control_plane::generate_pki "$BIN_DIR" "$PKI_DIR" "$SERVICE_CIDR"
}

# The kubelet's serving certificate for 127.0.0.1 and the node name, signed by the cluster
# CA (upstream's subject for a kubelet serving certificate). rudder-pki issues only the
# apiserver's serving certificate, so openssl signs this one; reused while the CA is the same.
# Files are per node: several nodes may share one PKI directory (hack/ha-up.sh's workers).
issue_kubelet_serving_cert() {
  local crt=$PKI_DIR/kubelet-serving-$NODE_NAME.crt key=$PKI_DIR/kubelet-serving-$NODE_NAME.key
  if [[ -s $crt && -s $key ]] &&
    openssl verify -CAfile "$PKI_DIR/ca.crt" "$crt" >/dev/null 2>&1 &&
    openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$NODE_NAME\b"; then
    return
  fi
  local csr=$PKI_DIR/kubelet-serving-$NODE_NAME.csr
  (
    umask 077
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$key" -subj "/O=system:nodes/CN=system:node:$NODE_NAME" -out "$csr" 2>/dev/null
  )
  openssl x509 -req -in "$csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -out "$crt" \
    -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:$NODE_NAME") 2>/dev/null
  rm -f "$csr"
}

# The kubelet's client identity (the Node authorizer's user and group) and its kubeconfig.
write_kubelet_credentials() {
  "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn "system:node:$NODE_NAME" \
    --group system:nodes --name "kubelet-client-$NODE_NAME" >/dev/null
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user "kubelet-client-$NODE_NAME" --context rudder \
    --server "https://127.0.0.1:$API_PORT" --out "$RUDDER_DIR/kubelet.kubeconfig" >/dev/null
  issue_kubelet_serving_cert
}

apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" \
    --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz"
}

start_apiserver() {
  log "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  rudder::control_plane::apiserver_flags "$PKI_DIR" "$SERVICE_CIDR" "$NODE_PORT_RANGE"
  "$BIN_DIR/kube-apiserver" \
    --etcd-servers "$ETCD_ENDPOINT" \
    --bind-address 127.0.0.1 \
    --secure-port "$API_PORT" \
    --advertise-address 127.0.0.1 \
    "${RUDDER_APISERVER_FLAGS[@]}" \
    -v "$LOG_LEVEL" \
    >"$LOG_DIR/kube-apiserver.log" 2>&1 200>&- &
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
  "$BIN_DIR/$name" "$@" >"$LOG_DIR/$name.log" 2>&1 200>&- &
  remember "$name" "$!"
}

# The components that run against the apiserver, each with its own client certificate and
# upstream flags. Still to come here:
#   start_component kubelet --kubeconfig ... --container-runtime-endpoint unix://... --node-ip 127.0.0.1
#   start_component kube-proxy --kubeconfig ... --proxy-mode nftables
# Each gets its own client certificate: "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn ...
start_cluster_components() {
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-controller-manager "https://127.0.0.1:$API_PORT" \
    "$RUDDER_DIR/controller-manager.kubeconfig"
  # --root-ca-file: every namespace gets the kube-root-ca.crt ConfigMap that service account
  # token volumes project (the ServiceAccount admission plugin adds them to every pod).
  # --enable-hostpath-provisioner: one node, so claims of the default class (below) get
  # directories under /tmp/hostpath_pv/ on this machine, as upstream's local cluster offers.
  start_component kube-controller-manager --kubeconfig "$RUDDER_DIR/controller-manager.kubeconfig" \
    --root-ca-file "$PKI_DIR/ca.crt" --enable-hostpath-provisioner -v "$LOG_LEVEL"
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-scheduler "https://127.0.0.1:$API_PORT" "$RUDDER_DIR/scheduler.kubeconfig"
  # HTTPS health/metrics (self-signed, as upstream) on a free loopback port rather than
  # 10259, so a second scheduler elsewhere on the machine cannot clash.
  local scheduler_port
  rudder::util::free_port scheduler_port
  # Its secure port checks callers through the apiserver (TokenReview, SubjectAccessReview),
  # as kubeadm configures it.
  start_component kube-scheduler --kubeconfig "$RUDDER_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$RUDDER_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$RUDDER_DIR/scheduler.kubeconfig" \
    --secure-port "$scheduler_port" -v "$LOG_LEVEL"
}

# containerd with a private config under RUDDER_DIR/containerd, and the test images in it.
start_containerd() {
  log "starting containerd (socket $CONTAINERD_DIR/containerd.sock)"
  if ! rudder::containerd::start "$CONTAINERD_DIR"; then
    log "containerd did not start; see $CONTAINERD_DIR/containerd.log"
    return 1
  fi
  remember containerd "$CONTAINERD_PID" stop_node_runtime
  log "building and importing images"
  interruptible "$ROOT/hack/build-images.sh" --import "$CONTAINERD_SOCK"
}

# Stop containerd with everything it runs, then unmount what the kubelet left mounted for
# pods (volumes under its root directory).
stop_node_runtime() {
  rudder::containerd::stop "$CONTAINERD_DIR"
  rudder::containerd::unmount_under "$KUBELET_ROOT_DIR"
}

kubelet_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
}

start_kubelet() {
  if [[ ! -x $BIN_DIR/kubelet ]]; then
    log "missing $BIN_DIR/kubelet (set RUDDER_NO_KUBELET=1 to run without a node)"
    return 1
  fi
  write_kubelet_credentials
  mkdir -p "$KUBELET_ROOT_DIR" "$RUDDER_DIR/manifests"
  # Pods resolve through the DNS add-on when this script deploys it; otherwise the kubelet
  # gives ClusterFirst pods the node's resolver, as upstream does without --cluster-dns.
  local cluster_dns=()
  addons_wanted && cluster_dns=(--cluster-dns "$(cluster_dns_ip)")
  KUBELET_ARGS=(
    --kubeconfig "$RUDDER_DIR/kubelet.kubeconfig"
    --container-runtime-endpoint "unix://$CONTAINERD_SOCK"
    --hostname-override "$NODE_NAME"
    --node-ip 127.0.0.1
    --root-dir "$KUBELET_ROOT_DIR"
    --pod-manifest-path "$RUDDER_DIR/manifests"
    --pod-cidr "$POD_CIDR"
    --cni-conf-dir "$CONTAINERD_DIR/net.d"
    --cni-bridge-name "$CNI_BRIDGE"
    --cluster-domain cluster.local
    "${cluster_dns[@]}"
    --eviction-hard "${KUBELET_EVICTION_HARD:-memory.available<100Mi,nodefs.available<2%,imagefs.available<2%,nodefs.inodesFree<2%}"
    --address 127.0.0.1
    --port "$KUBELET_PORT"
    --healthz-port "$KUBELET_HEALTHZ_PORT"
    --tls-cert-file "$PKI_DIR/kubelet-serving-$NODE_NAME.crt"
    --tls-private-key-file "$PKI_DIR/kubelet-serving-$NODE_NAME.key"
    --client-ca-file "$PKI_DIR/ca.crt"
    --authorization-mode Webhook
    -v "${KUBELET_LOG_LEVEL:-1}")
  start_component kubelet "${KUBELET_ARGS[@]}"
  local pid=${PIDS[-1]}
  # Stopped and awaited before containerd's teardown, so it restarts no container.
  STOPS[-1]="rudder::util::stop_pid $pid 10"
  KUBELET_STARTED_AT=$SECONDS
  echo "$pid" >"$RUDDER_DIR/kubelet.pid"
  # A kubelet that rejects its flags or cannot reach containerd exits at once: say so here,
  # with its log, rather than leave it to the supervisor's one-liner.
  if ! rudder::util::wait_for kubelet 60 "$pid" kubelet_healthy 2>/dev/null; then
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      log "the kubelet exited at start-up (status $rc); last lines of $LOG_DIR/kubelet.log:"
      tail -n 20 "$LOG_DIR/kubelet.log" | sed 's/^/    /' >&2
      log "set RUDDER_NO_KUBELET=1 to run the cluster without a node"
      return 1
    fi
    log "warning: the kubelet runs but its healthz (127.0.0.1:$KUBELET_HEALTHZ_PORT) does not answer"
  fi
}

# kube-proxy in nftables mode, after the kubelet, so ClusterIP and NodePort Services reach
# the node's pods. It runs as system:kube-proxy (the bootstrap policy's system:node-proxier
# binding gives that user what it reads and the events it writes). Its `table ip kube-proxy` stays
# when the process exits (as upstream's does, so a restart never drops traffic); when the
# cluster stops, the pods are gone too, so the table is removed then (`--cleanup`).
start_kube_proxy() {
  if [[ ${RUDDER_NO_PROXY:-0} == 1 || ! -x $BIN_DIR/kube-proxy ]]; then
    log "not starting kube-proxy"
    return
  fi
  local healthz_port metrics_port
  rudder::util::free_port healthz_port
  rudder::util::free_port metrics_port
  local kubeconfig=$RUDDER_DIR/kube-proxy.kubeconfig
  if [[ $RUDDER_NODE_ONLY == 1 && ! -f $PKI_DIR/ca.key ]]; then
    kubeconfig=$KUBECONFIG_PATH # no CA key to sign its own identity with
  else
    rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
      system:kube-proxy "https://127.0.0.1:$API_PORT" "$kubeconfig"
  fi
  KUBE_PROXY_ARGS=(--kubeconfig "$kubeconfig" --proxy-mode nftables
    --hostname-override "$NODE_NAME" --cluster-cidr "${CLUSTER_CIDR:-10.244.0.0/16}"
    --healthz-bind-address "127.0.0.1:$healthz_port"
    --metrics-bind-address "127.0.0.1:$metrics_port" -v "$LOG_LEVEL")
  start_component kube-proxy "${KUBE_PROXY_ARGS[@]}"
  STOPS[-1]="stop_kube_proxy ${PIDS[-1]}"
  echo "${PIDS[-1]}" >"$RUDDER_DIR/kube-proxy.pid"
}

# The restart hook (see the header): SIGTERM, then the same command line again, logging
# to the same file; the remembered pid, its stop command and RUDDER_DIR/pids follow.
restart_kube_proxy() {
  local i pid
  for i in "${!NAMES[@]}"; do
    [[ ${NAMES[i]} == kube-proxy ]] || continue
    log "restarting kube-proxy (pid ${PIDS[i]}) on request"
    rudder::util::stop_pid "${PIDS[i]}" 10
    "$BIN_DIR/kube-proxy" "${KUBE_PROXY_ARGS[@]}" >>"$LOG_DIR/kube-proxy.log" 2>&1 200>&- &
    pid=$!
    PIDS[i]=$pid
    STOPS[i]="stop_kube_proxy $pid"
    sed -i "s/^kube-proxy .*/kube-proxy $pid/" "$RUDDER_DIR/pids"
    echo "$pid" >"$RUDDER_DIR/kube-proxy.pid"
  done
  rm -f "$RUDDER_DIR/restart-kube-proxy"
}

# containerd died on its own (Debian's 1.6 has crashed here with "concurrent map iteration
# and map write" in its CRI sandbox store): relaunch it as systemd's Restart=always would, at
# most 3 times. Its shims survive, so the pods' containers keep running and the kubelet's
# next CRI call reconnects.
CONTAINERD_RESTARTS=0
restart_containerd() {
  local i=$1
  ((CONTAINERD_RESTARTS < 3)) || return 1
  CONTAINERD_RESTARTS=$((CONTAINERD_RESTARTS + 1))
  log "containerd (pid ${PIDS[i]}) exited unexpectedly; see $CONTAINERD_DIR/containerd.log;" \
    "restarting it ($CONTAINERD_RESTARTS of 3)"
  rudder::containerd::launch "$CONTAINERD_DIR" || return 1
  PIDS[i]=$CONTAINERD_PID
  sed -i "s/^containerd .*/containerd $CONTAINERD_PID/" "$RUDDER_DIR/pids"
}

# The kubelet died (killed, or crashed): start it again with the same command line, as
# systemd's Restart=always does on a kubeadm node. Its pods' containers run on under
# containerd and the new kubelet adopts them. One that keeps exiting within 10 s of its
# start is given up on after 5 tries in a row, and the cluster stops as for any other
# component.
KUBELET_QUICK_EXITS=0
restart_kubelet() {
  local i=$1 rc=0 pid
  wait "${PIDS[i]}" 2>/dev/null || rc=$?
  if ((SECONDS - KUBELET_STARTED_AT < 10)); then
    KUBELET_QUICK_EXITS=$((KUBELET_QUICK_EXITS + 1))
  else
    KUBELET_QUICK_EXITS=0
  fi
  ((KUBELET_QUICK_EXITS < 5)) || return 1
  log "the kubelet (pid ${PIDS[i]}) exited (status $rc); starting it again" \
    "(see $LOG_DIR/kubelet.log)"
  sleep 1
  "$BIN_DIR/kubelet" "${KUBELET_ARGS[@]}" >>"$LOG_DIR/kubelet.log" 2>&1 200>&- &
  pid=$!
  PIDS[i]=$pid
  STOPS[i]="rudder::util::stop_pid $pid 10"
  KUBELET_STARTED_AT=$SECONDS
  sed -i "s/^kubelet .*/kubelet $pid/" "$RUDDER_DIR/pids"
  echo "$pid" >"$RUDDER_DIR/kubelet.pid"
}

# The default StorageClass `standard` (upstream's local-cluster add-on): claims that name
# no class get host-path volumes from the controller-manager's provisioner.
create_default_storage_class() {
  [[ ${RUDDER_NO_DEFAULT_STORAGE_CLASS:-0} != 1 && -x $BIN_DIR/kubectl ]] || return 0
  "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_PATH" apply -f - >>"$LOG_DIR/storage-class.log" 2>&1 <<'YAML' ||
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
YAML
    log "creating the default StorageClass failed; see $LOG_DIR/storage-class.log"
}

stop_kube_proxy() {
  rudder::util::stop_pid "$1" 10
  "$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
}

start_node() {
  if [[ $RUDDER_NO_CONTAINERD == 1 ]]; then
    log "RUDDER_NO_CONTAINERD=1: no containerd, no kubelet"
    return
  fi
  start_containerd
  if [[ $RUDDER_NO_KUBELET == 1 ]]; then
    log "RUDDER_NO_KUBELET=1: not starting the kubelet"
    return
  fi
  start_kubelet
  start_kube_proxy
  deploy_addons
}

# Add-ons are deployed by the single-node quick start only (hack/ha-up.sh brings its own
# nodes with RUDDER_NODE_ONLY=1), and only with a kube-proxy to carry their Services.
addons_wanted() {
  [[ ${RUDDER_NO_ADDONS:-0} != 1 && $RUDDER_NODE_ONLY != 1 && ${RUDDER_NO_PROXY:-0} != 1 ]] &&
    [[ -x $BIN_DIR/rudder-dns && -x $BIN_DIR/rudder-ingress && -x $BIN_DIR/kube-proxy &&
      -x $BIN_DIR/kubectl ]]
}

cluster_dns_ip() { rudder::addons::cluster_dns_ip "$SERVICE_CIDR"; }

# Every add-on under addons/ (hack/lib/addons.sh), applied with our own kubectl; their
# images are built from the binaries and imported (no registry). The rollouts are awaited
# so the cluster is usable when this script says it is; an add-on that does not come up is
# reported but does not stop the cluster.
deploy_addons() {
  addons_wanted || { log "not deploying add-ons"; return 0; }
  interruptible rudder::addons::import_images "$BIN_DIR" "$CONTAINERD_SOCK" "$LOG_DIR/addons.log" ||
    { log "building the add-on images failed; see $LOG_DIR/addons.log"; return 0; }
  interruptible rudder::addons::deploy "$BIN_DIR/kubectl" "$KUBECONFIG_PATH" "$SERVICE_CIDR" \
    "$LOG_DIR/addons.log" || log "add-ons not deployed; see $LOG_DIR/addons.log"
}

write_env_file() {
  cat >"$RUDDER_DIR/env" <<ENV
export KUBECONFIG=$KUBECONFIG_PATH
export RUDDER_APISERVER=https://127.0.0.1:$API_PORT
export RUDDER_ETCD=${ETCD_ENDPOINT:-}
export RUDDER_PKI_DIR=$PKI_DIR
export RUDDER_NODE_NAME=$NODE_NAME
ENV
  if [[ $RUDDER_NO_CONTAINERD != 1 ]]; then
    # ctr reads these: `ctr containers ls` then lists the CRI's containers.
    cat >>"$RUDDER_DIR/env" <<ENV
export CONTAINERD_ADDRESS=$CONTAINERD_DIR/containerd.sock
export CONTAINERD_NAMESPACE=k8s.io
ENV
  fi
}

# Return when a started process exits (failure) — otherwise wait for a signal.
supervise() {
  while true; do
    local i
    for i in "${!PIDS[@]}"; do
      if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
        if [[ ${NAMES[i]} == containerd ]] && restart_containerd "$i"; then
          continue
        fi
        if [[ ${NAMES[i]} == kubelet ]] && restart_kubelet "$i"; then
          continue
        fi
        log "${NAMES[i]} exited unexpectedly; see $LOG_DIR/${NAMES[i]}.log"
        return 1
      fi
    done
    if [[ -e $RUDDER_DIR/restart-kube-proxy ]]; then
      restart_kube_proxy
    fi
    # `wait` on a background sleep lets the trap run as soon as a signal arrives.
    sleep 1 &
    wait $! || true
  done
}

main() {
  # One cluster at a time on this machine (hack/lib/lock.sh); a node started by hack/ha-up.sh
  # (RUDDER_NODE_ONLY=1) inherits ha-up.sh's lock.
  rudder::lock::acquire local-up-cluster || exit 1
  mkdir -p "$RUDDER_DIR" "$LOG_DIR"
  rm -f "$RUDDER_DIR/ready" "$RUDDER_DIR/pids" "$RUDDER_DIR/restart-kube-proxy" \
    "$RUDDER_DIR/kube-proxy.pid" "$RUDDER_DIR/kubelet.pid"
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
  if [[ $RUDDER_NODE_ONLY != 1 ]]; then
    generate_pki
    start_etcd
    start_apiserver
    write_kubeconfig
    start_cluster_components
    create_default_storage_class
  fi
  start_node
  write_env_file
  touch "$RUDDER_DIR/ready"
  cat <<MSG

Local Rudder cluster is running (logs in $LOG_DIR).

  export KUBECONFIG=$KUBECONFIG_PATH
  kubectl cluster-info
  kubectl get namespaces
MSG
  if [[ $RUDDER_NO_CONTAINERD != 1 ]]; then
    local node_note=""
    [[ $RUDDER_NO_KUBELET == 1 ]] && node_note=" (kubelet not started)"
    cat <<MSG
  kubectl get nodes              # node $NODE_NAME$node_note
  ctr --address $CONTAINERD_DIR/containerd.sock -n k8s.io containers ls
MSG
  fi
  cat <<MSG

Or: source $RUDDER_DIR/env
Press Ctrl-C to stop it.
MSG
  supervise
}

main "$@"
