#!/usr/bin/env bash
# kubeadm for Rudder, on one machine: the control plane as static pods run by a kubelet, from
# the per-component images (hack/build-images.sh --components).
#
#   hack/rudderadm.sh init            # preflight, certs, kubeconfigs, etcd + control-plane
#                                     # manifests, containerd + kubelet; waits for the
#                                     # apiserver and the node Ready; a bootstrap token and
#                                     # kubeadm's TLS-bootstrap objects; applies the add-ons
#                                     # (kube-proxy DaemonSet, DNS, Ingress); prints the join
#                                     # command on stdout; leaves it all running
#   hack/rudderadm.sh join NAME --token T --discovery-token-ca-cert-hash sha256:H
#                                     # a worker kubelet NAME on this machine (own network
#                                     # namespace, root dir, containerd, pod CIDR, bridge):
#                                     # token discovery of the CA, then TLS bootstrap (the
#                                     # kubelet's CSR, approved and signed by the controller-
#                                     # manager). The join never reads the CA key or admin.conf.
#                                     # Without --token (local demo only): a token is made
#                                     # with admin.conf first.
#   hack/rudderadm.sh token create [--ttl 24h] [--description D] [--print-join-command]
#   hack/rudderadm.sh token list
#   hack/rudderadm.sh token delete ID|TOKEN...
#   hack/rudderadm.sh reset           # stop every kubelet and its containers, remove the
#                                     # manifests, PKI, kubeconfigs and etcd data
#
# kubeadm's phases, in order: preflight → certs → kubeconfig → etcd/control-plane (static pod
# manifests) → kubelet-start → wait-control-plane → bootstrap-token → addon →
# mark-control-plane. (kubeadm marks before the add-ons; here the add-ons come first so that
# their pods, whose manifests carry no control-plane toleration as kubeadm's CoreDNS does, are
# placed on the control-plane node before it is tainted and are running when init ends.)
# After init:
#   export KUBECONFIG=$RUDDER_ROOT/etc/kubernetes/admin.conf; kubectl get pods -n kube-system
#
# Environment:
#   RUDDER_ROOT          prefix for /etc/kubernetes, /var/lib/etcd, /var/lib/rudder, /var/log/rudder
#                        (default: the real root; tests use a temporary directory)
#   RUDDER_MANIFEST_DIR  static pod manifests (default $RUDDER_ROOT/etc/kubernetes/manifests)
#   RUDDER_BIN_DIR       our binaries (default $CARGO_TARGET_DIR or <repo>/target, then /debug)
#   NODE_NAME            the control-plane node (default rudder-cp)
#   POD_CIDR, CNI_BRIDGE the control-plane node's pod CIDR and bridge (10.244.60.0/24, rdr60)
#   JOIN_POD_CIDR, JOIN_BRIDGE  a joining worker's (default: the first free of
#                        10.244.61.0/24 + rdr61, 10.244.62.0/24 + rdr62, …)
#   CLUSTER_CIDR         every node's pod CIDR together, kube-proxy's --cluster-cidr
#                        (default 10.244.0.0/16)
#   RUDDER_NODE_NETNS=0  workers share the host's network namespace (all kubelets on
#                        127.0.0.1) instead of one namespace each
#   NODE_NET_BRIDGE, NODE_NET_PREFIX  the node network: a host bridge (default rdr-nodes)
#                        at PREFIX.1/24 (default 172.30.60.1, where the apiserver then
#                        listens); worker K (pod CIDR 10.244.K.0/24) is at PREFIX.K
#   RUDDER_NO_ADDONS=1   no add-ons (addons/*/manifests, hack/lib/addons.sh) and no
#                        --cluster-dns for the kubelets
#   SERVICE_CIDR         --service-cluster-ip-range (default 10.96.0.0/12)
#   API_PORT ETCD_PORT ETCD_PEER_PORT SCHEDULER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT
#   PROXY_HEALTHZ_PORT PROXY_METRICS_PORT
#                        loopback ports (default: free ones)
#   KUBECTL              kubectl for the readiness checks (default: kubectl on PATH)
#   RUDDER_CONTROL_PLANE_TAINT=0  no NoSchedule taint on the control-plane node (kubeadm
#                        taints it; untainted, a single node runs workloads too)
#   RUDDER_INIT_TIMEOUT  seconds to wait for the control plane and the node (default 180)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/etcd.sh"
source "$ROOT/hack/lib/guard.sh"
source "$ROOT/hack/lib/containerd.sh"
source "$ROOT/hack/lib/control-plane.sh"
source "$ROOT/hack/lib/bootstrap.sh"
source "$ROOT/hack/lib/lock.sh"
source "$ROOT/hack/lib/addons.sh"

BIN_DIR=${RUDDER_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/debug}
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/12}
NODE_PORT_RANGE=${NODE_PORT_RANGE:-30000-32767}
TIMEOUT=${RUDDER_INIT_TIMEOUT:-180}
# Workers in their own network namespaces (see join) unless RUDDER_NODE_NETNS=0; the node
# network's bridge and its /24 prefix (the host is .1, where the apiserver listens).
RUDDER_NODE_NETNS=${RUDDER_NODE_NETNS:-1}
NODE_NET_BRIDGE=${NODE_NET_BRIDGE:-rdr-nodes}
NODE_NET_PREFIX=${NODE_NET_PREFIX:-172.30.60}
API_HOST=127.0.0.1
VERSION=$(awk -F'"' '/^\[workspace.package\]/ {p = 1} p && /^version *=/ {print "v" $2; exit}' "$ROOT/Cargo.toml")

log() { echo "rudderadm: $*" >&2; }

usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; }

# The real kubectl (Debian's /usr/bin/kubectl) when there is one: the checks below use
# jsonpath filters.
KUBECTL=${KUBECTL:-$(command -v kubectl || echo "$BIN_DIR/kubectl")}
kubectl_admin() { "$KUBECTL" --kubeconfig "$KUBE_DIR/admin.conf" "$@"; }

apiserver_healthy() {
  curl -fsS --max-time 2 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" \
    --key "$PKI_DIR/admin.key" "https://$API_HOST:$API_PORT/readyz" >/dev/null
}

# True when node $1 reports Ready=True.
node_ready() {
  kubectl_admin get node "$1" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

# True when every control-plane static pod has a Running mirror pod.
control_plane_mirrored() {
  local c phase
  for c in $RUDDER_STATIC_PODS; do
    phase=$(kubectl_admin get pod -n kube-system "$c-$NODE_NAME" \
      -o 'jsonpath={.metadata.annotations.kubernetes\.io/config\.mirror}/{.status.phase}' 2>/dev/null) || return 1
    [[ $phase == ?*/Running ]] || return 1
  done
}

# kubeadm's mark-control-plane phase: the node-role label (which kubectl's ROLES column shows)
# and the NoSchedule taint that keeps ordinary pods on workers. RUDDER_CONTROL_PLANE_TAINT=0
# leaves the taint off, for a single-node cluster that runs workloads.
mark_control_plane() {
  log "[mark-control-plane] labelling node $NODE_NAME node-role.kubernetes.io/control-plane"
  kubectl_admin label node "$NODE_NAME" node-role.kubernetes.io/control-plane= --overwrite >/dev/null
  if [[ ${RUDDER_CONTROL_PLANE_TAINT:-1} != 0 ]]; then
    kubectl_admin taint node "$NODE_NAME" node-role.kubernetes.io/control-plane:NoSchedule \
      --overwrite >/dev/null
  fi
}

save_state() {
  {
    local v
    for v in NODE_NAME POD_CIDR CNI_BRIDGE API_PORT ETCD_PORT ETCD_PEER_PORT SCHEDULER_PORT \
      KUBELET_PORT KUBELET_HEALTHZ_PORT SERVICE_CIDR CLUSTER_CIDR PROXY_HEALTHZ_PORT \
      PROXY_METRICS_PORT RUDDER_NODE_NETNS NODE_NET_BRIDGE NODE_NET_PREFIX API_HOST; do
      printf '%s=%q\n' "$v" "${!v}"
    done
  } >"$STATE_FILE"
}

cmd_init() {
  NODE_NAME=${NODE_NAME:-rudder-cp}
  POD_CIDR=${POD_CIDR:-10.244.60.0/24}
  CNI_BRIDGE=${CNI_BRIDGE:-rdr60}
  CLUSTER_CIDR=${CLUSTER_CIDR:-10.244.0.0/16}
  [[ $RUDDER_NODE_NETNS == 1 ]] && API_HOST=$NODE_NET_PREFIX.1
  local p
  for p in API_PORT ETCD_PORT ETCD_PEER_PORT SCHEDULER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT \
    PROXY_HEALTHZ_PORT PROXY_METRICS_PORT; do
    [[ -n ${!p:-} ]] || rudder::util::free_port "$p"
  done
  local start=$SECONDS
  log "[preflight] checking the machine"
  rudder::bootstrap::preflight
  log "[preflight] installing the traffic guard (nftables table rudder_guard)"
  rudder::guard::install
  mkdir -p "$KUBE_DIR" "$LOG_DIR"
  # Written before anything else: reset removes PKI and etcd data only where init ran.
  save_state
  if [[ $RUDDER_NODE_NETNS == 1 ]]; then
    log "[network] node bridge $NODE_NET_BRIDGE at $API_HOST/24 (the apiserver listens there)"
    rudder::bootstrap::node_network_up
  fi
  # Node ports on 127.0.0.1, and Services whose endpoint is a loopback address, need the
  # kernel to route loopback-addressed packets that come from pods (kube-proxy's privileged
  # pod sets it too, once it runs).
  sysctl -qw net.ipv4.conf.all.route_localnet=1
  log "[certs] generating the PKI in $PKI_DIR"
  rudder::bootstrap::certs
  log "[kubeconfig] writing admin.conf, controller-manager.conf, scheduler.conf in $KUBE_DIR"
  rudder::bootstrap::kubeconfigs
  rudder::bootstrap::node_credentials "$NODE_NAME"
  log "[control-plane] writing static pod manifests in $MANIFEST_DIR"
  mkdir -p "$ETCD_DATA_DIR"
  chmod 700 "$ETCD_DATA_DIR"
  rudder::bootstrap::static_pods
  log "[kubelet-start] containerd and the kubelet for node $NODE_NAME (pod CIDR $POD_CIDR, bridge $CNI_BRIDGE)"
  rudder::bootstrap::start_node "$NODE_NAME" "$POD_CIDR" "$CNI_BRIDGE" "$KUBELET_PORT" \
    "$KUBELET_HEALTHZ_PORT" "$MANIFEST_DIR"
  log "[wait-control-plane] waiting for the apiserver at https://$API_HOST:$API_PORT (up to ${TIMEOUT}s)"
  if ! rudder::util::wait_for kube-apiserver "$TIMEOUT" 0 apiserver_healthy; then
    log "the apiserver did not become ready; see $LOG_DIR/kubelet-$NODE_NAME.log and"
    log "  ctr --address $(rudder::bootstrap::node_dir "$NODE_NAME")/containerd/containerd.sock -n k8s.io containers ls"
    return 1
  fi
  log "[wait-control-plane] waiting for node $NODE_NAME Ready and the control-plane mirror pods"
  rudder::util::wait_for "node $NODE_NAME" "$TIMEOUT" 0 node_ready "$NODE_NAME" || return 1
  rudder::util::wait_for "control-plane mirror pods" "$TIMEOUT" 0 control_plane_mirrored || return 1
  log "[bootstrap-token] TLS-bootstrap RBAC, kube-public/cluster-info and a bootstrap token"
  rudder::bootstrap::kubeadm_objects "https://$API_HOST:$API_PORT" | kubectl_admin apply -f - >/dev/null ||
    return 1
  local token
  token=$(rudder::bootstrap::random_token)
  create_token "$token" "$((24 * 3600))" "The default bootstrap token generated by 'rudderadm init'." ||
    return 1
  log "[addon] kube-proxy (DaemonSet, details in $LOG_DIR/addons.log)"
  rudder::bootstrap::kube_proxy_addon || return 1
  if [[ ${RUDDER_NO_ADDONS:-0} != 1 ]]; then
    log "[addon] applying the add-ons (details in $LOG_DIR/addons.log)"
    rudder::bootstrap::addons || return 1
  fi
  mark_control_plane
  log "control plane up in $((SECONDS - start))s. To use it:"
  log "  export KUBECONFIG=$KUBE_DIR/admin.conf"
  log "  kubectl get pods -n kube-system"
  log "to add a worker on this machine (the token lasts 24h; '$0 token create' makes another):"
  join_command "$token"
}

# The join command for TOKEN, on stdout (kubeadm prints it the same way).
join_command() {
  echo "$0 join NODE_NAME --token $1 --discovery-token-ca-cert-hash $(rudder::bootstrap::ca_cert_hash "$PKI_DIR/ca.crt")"
}

# create_token TOKEN TTL_SECONDS DESCRIPTION — its Secret, through admin.conf.
create_token() {
  rudder::bootstrap::token_secret "$@" | kubectl_admin apply -f - >/dev/null
}

# rudderadm token create|list|delete — kubeadm token, through admin.conf.
cmd_token() {
  load_state
  local sub=${1:-}
  shift || true
  case $sub in
    create)
      local ttl=24h description="" print_join=0 token=""
      while (($#)); do
        case $1 in
          --ttl) ttl=$2; shift 2 ;;
          --description) description=$2; shift 2 ;;
          --print-join-command) print_join=1; shift ;;
          -*) log "token create: unknown flag $1"; return 2 ;;
          *) token=$1; shift ;;
        esac
      done
      [[ -n $token ]] || token=$(rudder::bootstrap::random_token)
      [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || { log "a token looks like [a-z0-9]{6}.[a-z0-9]{16}"; return 2; }
      local seconds
      seconds=$(rudder::bootstrap::duration_seconds "$ttl") || return 2
      create_token "$token" "$seconds" "$description" || return 1
      if ((print_join)); then
        join_command "$token"
      else
        echo "$token"
      fi
      ;;
    list)
      kubectl_admin -n kube-system get secrets --field-selector type=bootstrap.kubernetes.io/token -o json |
        python3 -c '
import base64, datetime, json, sys
d = lambda s, k: base64.b64decode(s.get(k, "")).decode()
rows = [("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")]
now = datetime.datetime.now(datetime.timezone.utc)
for item in json.load(sys.stdin)["items"]:
    data = item.get("data", {})
    exp = d(data, "expiration")
    ttl = "<forever>"
    if exp:
        left = datetime.datetime.fromisoformat(exp.replace("Z", "+00:00")) - now
        ttl = "<invalid>" if left.total_seconds() <= 0 else "%dh" % round(left.total_seconds() / 3600)
    usages = ",".join(k[len("usage-bootstrap-"):] for k in sorted(data)
                      if k.startswith("usage-bootstrap-") and d(data, k) == "true")
    rows.append((d(data, "token-id") + "." + d(data, "token-secret"), ttl, exp or "<never>", usages,
                 d(data, "description") or "<none>", d(data, "auth-extra-groups")))
widths = [max(len(r[i]) for r in rows) for i in range(6)]
for r in rows:
    print("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
'
      ;;
    delete)
      (($#)) || { log "token delete needs a token or token id"; return 2; }
      local t
      for t in "$@"; do
        kubectl_admin -n kube-system delete secret "bootstrap-token-${t%%.*}" >/dev/null || return 1
        echo "bootstrap token \"${t%%.*}\" deleted"
      done
      ;;
    *) log "usage: $0 token create|list|delete"; return 2 ;;
  esac
}

load_state() {
  if [[ ! -f $STATE_FILE ]]; then
    log "$STATE_FILE not found: run '$0 init' first"
    return 1
  fi
  # shellcheck disable=SC1090
  source "$STATE_FILE"
}

# The first worker network (10.244.K.0/24 on bridge rdrK, K = 61, 62, …) that no node of
# this cluster uses and whose bridge has no ports: FREE_CIDR and FREE_BRIDGE.
free_worker_network() {
  local k used="" f
  for f in "$NODES_DIR"/*/bridge; do
    [[ -f $f ]] && used+=" $(<"$f") "
  done
  for ((k = 61; k < 100; k++)); do
    [[ $used == *" rdr$k "* ]] && continue
    [[ -n $(ip -o link show master "rdr$k" 2>/dev/null) ]] && continue
    FREE_CIDR=10.244.$k.0/24
    FREE_BRIDGE=rdr$k
    FREE_INDEX=$k
    return 0
  done
  return 1
}

cmd_join() {
  local node="" token="" ca_hash=""
  while (($#)); do
    case $1 in
      --token) token=${2:-}; shift 2 ;;
      --discovery-token-ca-cert-hash) ca_hash=${2:-}; shift 2 ;;
      -*) log "join: unknown flag $1"; return 2 ;;
      *) [[ -z $node ]] || { log "join: one node name only"; return 2; }; node=$1; shift ;;
    esac
  done
  [[ -n $node ]] || { log "join needs a node name"; return 2; }
  load_state
  if [[ -z $token ]]; then
    # The local demo: this machine also holds admin.conf. A real join gets both from init's
    # output (or 'token create --print-join-command') and needs nothing else.
    log "[preflight] no --token: making one with admin.conf (local demo; see 'token create')"
    token=$(rudder::bootstrap::random_token)
    create_token "$token" 3600 "made by 'rudderadm join $node' without --token" || return 1
    ca_hash=$(rudder::bootstrap::ca_cert_hash "$PKI_DIR/ca.crt") || return 1
  fi
  [[ $ca_hash == sha256:* ]] || { log "join needs --discovery-token-ca-cert-hash sha256:<hex>"; return 2; }
  local cidr=${JOIN_POD_CIDR:-} bridge=${JOIN_BRIDGE:-} port healthz
  # Several joins may run at once (hack/e2e/bootstrap.sh joins its workers in parallel):
  # the node directory and its bridge are claimed under a lock, so no two pick the same.
  mkdir -p "$NODES_DIR"
  exec 201>"$NODES_DIR/.join.lock"
  flock 201
  if [[ -d $(rudder::bootstrap::node_dir "$node") ]]; then
    log "node $node already exists here (reset removes it)"
    return 1
  fi
  local index=""
  if [[ -z $cidr || -z $bridge ]]; then
    free_worker_network || { log "[preflight] no free pod CIDR/bridge; set JOIN_POD_CIDR/JOIN_BRIDGE"; return 1; }
    cidr=${JOIN_POD_CIDR:-$FREE_CIDR}
    bridge=${JOIN_BRIDGE:-$FREE_BRIDGE}
    index=$FREE_INDEX
  fi
  # The node's own network namespace and address on the node network (worker K at
  # PREFIX.K; JOIN_NODE_IP overrides).
  local ip=127.0.0.1 netns=""
  if [[ ${RUDDER_NODE_NETNS:-0} == 1 ]]; then
    [[ -n $index ]] || index=$(grep -o '[0-9]*$' <<<"$bridge")
    ip=${JOIN_NODE_IP:-$NODE_NET_PREFIX.$index}
    netns=rdr-$node
    if [[ -z $index && -z ${JOIN_NODE_IP:-} ]] || [[ -e /run/netns/$netns ]]; then
      log "[preflight] cannot place $node on the node network (netns $netns, index '$index'); set JOIN_NODE_IP"
      return 1
    fi
  elif [[ -n $(ip -o link show master "$bridge" 2>/dev/null) ]]; then
    log "[preflight] bridge $bridge is in use; set JOIN_BRIDGE/JOIN_POD_CIDR"
    return 1
  fi
  local dir
  dir=$(rudder::bootstrap::node_dir "$node")
  mkdir -p "$dir"
  echo "$bridge" >"$dir/bridge"
  if [[ -n $netns ]]; then
    echo "$netns" >"$dir/netns"
    log "[network] $node in network namespace $netns at $ip (pods $cidr, routed via $ip)"
    rudder::bootstrap::netns_up "$netns" "$ip" "$cidr" "rv${index:-$RANDOM}"
  fi
  exec 201>&-
  rudder::util::free_port port
  rudder::util::free_port healthz
  rudder::guard::install
  # From here on, only what a separate machine would have: the token, the CA hash and the
  # apiserver's address. No file of $PKI_DIR and no admin credential is read.
  log "[discovery] reading cluster-info from https://$API_HOST:$API_PORT with token ${token%%.*}"
  rudder::bootstrap::discover "https://$API_HOST:$API_PORT" "$token" "$ca_hash" "$dir" "$netns" ||
    return 1
  log "[kubelet-start] TLS bootstrap and kubelet for $node (pod CIDR $cidr, bridge $bridge)"
  rudder::bootstrap::start_node "$node" "$cidr" "$bridge" "$port" "$healthz" "" "$ip" "$netns" ||
    return 1
  # Ready, as the node itself sees it: its bootstrapped credentials may read its Node.
  local self=("$KUBECTL" --kubeconfig "$dir/kubelet.conf")
  rudder::util::wait_for "node $node" "$TIMEOUT" 0 node_ready_as "$node" "${self[@]}" || return 1
  if [[ -n $netns ]]; then
    # kube-proxy's DaemonSet pod in the node's namespace: ready once its rules are written.
    log "[kube-proxy] waiting for the kube-proxy pod on $node"
    rudder::util::wait_for "kube-proxy on $node" "$TIMEOUT" 0 \
      nsenter "--net=/run/netns/$netns" -- curl -fsS --max-time 2 "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz" || return 1
  fi
  log "node $node joined (client certificate from its CSR) and is Ready"
}

# node_ready_as NODE KUBECTL... — node_ready with the given kubectl and credentials.
node_ready_as() {
  local node=$1
  shift
  "$@" get node "$node" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

cmd_reset() {
  local node dir bridge
  if [[ ! -f $STATE_FILE && ! -d $NODES_DIR ]]; then
    # /var/lib/etcd may belong to a system etcd: without our state file it is not ours.
    log "[reset] no $STATE_FILE and no $NODES_DIR: nothing of rudderadm's to remove"
    return 0
  fi
  [[ -f $STATE_FILE ]] && source "$STATE_FILE"
  if [[ -d $NODES_DIR ]]; then
    for dir in "$NODES_DIR"/*/; do
      [[ -d $dir ]] || continue
      node=$(basename "$dir")
      log "[reset] stopping the kubelet and containers of $node"
      rudder::bootstrap::stop_node "$node"
      if [[ -f $dir/netns ]]; then
        # The pod bridge, the veths and the host's route to the pods go with it.
        log "[reset] removing network namespace $(<"$dir/netns")"
        rudder::bootstrap::netns_down "$(<"$dir/netns")"
        continue
      fi
      bridge=""
      [[ -f $dir/bridge ]] && bridge=$(<"$dir/bridge")
      if [[ -n $bridge ]] && ip link show "$bridge" >/dev/null 2>&1; then
        ip link del "$bridge" || true
      fi
    done
  fi
  if [[ ${RUDDER_NODE_NETNS:-0} == 1 ]] && ip link show "$NODE_NET_BRIDGE" >/dev/null 2>&1; then
    log "[reset] removing the node bridge $NODE_NET_BRIDGE"
    ip link del "$NODE_NET_BRIDGE" || true
  fi
  # kube-proxy's nftables table outlives it (as upstream's, so a restart drops no traffic);
  # with every pod gone it goes too.
  if [[ -x $BIN_DIR/kube-proxy ]]; then
    log "[reset] removing kube-proxy's nftables table"
    "$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  log "[reset] removing manifests, PKI, kubeconfigs, etcd data and node state"
  rm -rf "$MANIFEST_DIR" "$PKI_DIR" "$ETCD_DATA_DIR" "$NODES_DIR"
  rm -f "$KUBE_DIR"/{admin,controller-manager,scheduler,kube-proxy}.conf "$STATE_FILE"
  # The traffic guard stays: other clusters on this machine may rely on it.
  log "[reset] done (logs kept in $LOG_DIR)"
}

main() {
  rudder::bootstrap::layout
  local cmd=${1:-}
  shift || true
  # init, join and reset create or remove bridges, containers and the kube-proxy table: one
  # cluster script at a time on this machine (hack/lib/lock.sh). The lock is released when
  # this script exits; the cluster it leaves running is not locked.
  case $cmd in
    init | join | reset) rudder::lock::acquire "rudderadm $cmd" || exit 1 ;;
  esac
  case $cmd in
    init) cmd_init "$@" ;;
    join) cmd_join "$@" ;;
    token) cmd_token "$@" ;;
    reset) cmd_reset "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
