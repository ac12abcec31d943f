#!/usr/bin/env bash
# kubeadm-like bootstrap phases for hack/rudderadm.sh: preflight, certs, kubeconfigs, static
# pod manifests, the node runtime and the kubelet, and their undoing. Source after util.sh,
# containerd.sh and control-plane.sh; every function reads the layout variables that
# rudder::bootstrap::layout sets.
#
#   rudder::bootstrap::layout                 # paths under RUDDER_ROOT (default /)
#   rudder::bootstrap::preflight              # checks; exits with every problem listed
#   rudder::bootstrap::certs                  # PKI (cluster CA, apiserver, SA keys …)
#   rudder::bootstrap::kubeconfigs            # admin, controller-manager, scheduler, kube-proxy
#   rudder::bootstrap::node_credentials NODE [IP]  # kubelet client kubeconfig + serving cert
#   rudder::bootstrap::node_network_up        # the bridge the nodes' network namespaces hang on
#   rudder::bootstrap::netns_up NS IP POD_CIDR HOST_VETH  # a worker's network namespace
#   rudder::bootstrap::netns_down NS          # and its removal
#   rudder::bootstrap::render TEMPLATE        # a manifests/ template, on stdout
#   rudder::bootstrap::static_pods            # render every control-plane manifest
#   rudder::bootstrap::start_node NODE CIDR BRIDGE PORT HEALTHZ [MANIFESTS [NODE_IP [NETNS]]]
#                                             # containerd (+ images) and the kubelet
#   rudder::bootstrap::addons                 # every addons/*/manifests (hack/lib/addons.sh)
#   rudder::bootstrap::start_node_proxy NODE NETNS  # kube-proxy in a worker's namespace
#   rudder::bootstrap::stop_node NODE         # kube-proxy, kubelet, containers, containerd, mounts

# The paths kubeadm uses, all under RUDDER_ROOT so a test can keep the real /etc and /var
# untouched. The manifest directory can be moved on its own (RUDDER_MANIFEST_DIR).
rudder::bootstrap::layout() {
  local root=${RUDDER_ROOT:-}
  root=${root%/}
  KUBE_DIR=$root/etc/kubernetes
  PKI_DIR=$KUBE_DIR/pki
  MANIFEST_DIR=${RUDDER_MANIFEST_DIR:-$KUBE_DIR/manifests}
  ETCD_DATA_DIR=$root/var/lib/etcd
  NODES_DIR=$root/var/lib/rudder/nodes
  LOG_DIR=$root/var/log/rudder
  STATE_FILE=$KUBE_DIR/rudderadm.env
}

# The static pods init writes, in start order; each has a mirror pod named NAME-NODE.
RUDDER_STATIC_PODS="etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy"

# Where a node's kubelet root, containerd and pid files live.
rudder::bootstrap::node_dir() { echo "$NODES_DIR/$1"; }

BOOTSTRAP_PROBLEMS=()
rudder::bootstrap::problem() { BOOTSTRAP_PROBLEMS+=("$*"); }

# kubeadm's preflight: everything that would make init fail half-way is checked first, and
# every problem is reported at once. Swap is only a warning (the kubelet does not refuse it).
rudder::bootstrap::preflight() {
  local port name bin
  BOOTSTRAP_PROBLEMS=()
  ((EUID == 0)) || rudder::bootstrap::problem "must run as root (containers, mounts, bridges)"
  for bin in containerd ctr runc etcd nft ip openssl curl ss; do
    command -v "$bin" >/dev/null ||
      rudder::bootstrap::problem "$bin not found on PATH (hack/install-deps.sh installs it)"
  done
  [[ -d /usr/lib/cni ]] ||
    rudder::bootstrap::problem "/usr/lib/cni missing (Debian containernetworking-plugins)"
  local bins=(kubelet kubectl rudder-pki kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
  [[ ${RUDDER_NO_ADDONS:-0} == 1 ]] || bins+=(rudder-dns rudder-ingress)
  for bin in "${bins[@]}"; do
    [[ -x $BIN_DIR/$bin ]] ||
      rudder::bootstrap::problem "$BIN_DIR/$bin missing (cargo build --bins, or set RUDDER_BIN_DIR)"
  done
  for name in API_PORT ETCD_PORT ETCD_PEER_PORT SCHEDULER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT \
    PROXY_HEALTHZ_PORT PROXY_METRICS_PORT; do
    port=${!name}
    if rudder::util::port_in_use "$port"; then
      rudder::bootstrap::problem "port $port ($name) is in use"
    fi
  done
  if [[ -d $MANIFEST_DIR ]] && compgen -G "$MANIFEST_DIR/*.yaml" >/dev/null; then
    rudder::bootstrap::problem "$MANIFEST_DIR already holds manifests (run hack/rudderadm.sh reset)"
  fi
  [[ -e $PKI_DIR/ca.key ]] &&
    rudder::bootstrap::problem "$PKI_DIR already holds a CA (run hack/rudderadm.sh reset)"
  [[ -d $ETCD_DATA_DIR/member ]] &&
    rudder::bootstrap::problem "$ETCD_DATA_DIR is not empty (run hack/rudderadm.sh reset)"
  # A leftover bridge without ports is reused by the CNI bridge plugin; one with ports
  # belongs to a running cluster.
  if [[ -n $(ip -o link show master "$CNI_BRIDGE" 2>/dev/null) ]]; then
    rudder::bootstrap::problem "bridge $CNI_BRIDGE has interfaces attached (another cluster uses it?)"
  fi
  if [[ ${RUDDER_NODE_NETNS:-0} == 1 && -n $(ip -o link show master "$NODE_NET_BRIDGE" 2>/dev/null) ]]; then
    rudder::bootstrap::problem "node bridge $NODE_NET_BRIDGE has interfaces attached (another cluster's nodes?)"
  fi
  if [[ -r /proc/swaps ]] && (($(wc -l </proc/swaps) > 1)); then
    echo "rudderadm: [preflight] warning: swap is on; the kubelet runs anyway" >&2
  fi
  if ((${#BOOTSTRAP_PROBLEMS[@]})); then
    local p
    echo "rudderadm: [preflight] some checks failed:" >&2
    for p in "${BOOTSTRAP_PROBLEMS[@]}"; do
      echo "    - $p" >&2
    done
    return 1
  fi
}

rudder::bootstrap::certs() {
  mkdir -p "$PKI_DIR"
  local extra=""
  [[ $API_HOST != 127.0.0.1 ]] && extra=$API_HOST
  rudder::control_plane::generate_pki "$BIN_DIR" "$PKI_DIR" "$SERVICE_CIDR" "$extra"
  rudder::etcd::issue_peer_cert "$PKI_DIR"
}

# The node network (RUDDER_NODE_NETNS=1): a bridge on the host, NODE_NET_BRIDGE with the
# address API_HOST (/24), that every worker's network namespace hangs on by a veth. The
# apiserver listens on API_HOST, so nodes in their own namespaces reach it; the host routes
# between the nodes (each worker's pod CIDR via its node address: host-gw, with the host as
# the one gateway). A leftover bridge without ports is reused.
rudder::bootstrap::node_network_up() {
  if ! ip link show "$NODE_NET_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_NET_BRIDGE" type bridge
  fi
  ip addr replace "$API_HOST/24" dev "$NODE_NET_BRIDGE"
  ip link set "$NODE_NET_BRIDGE" up
  # The host forwards between the nodes' namespaces and its own pod bridges.
  sysctl -qw net.ipv4.ip_forward=1
}

# rudder::bootstrap::netns_up NS IP POD_CIDR HOST_VETH — network namespace NS with eth0 at
# IP/24 on the node bridge (its peer HOST_VETH on the host), a default route via the host,
# and the host's route to the node's pod CIDR via IP.
rudder::bootstrap::netns_up() {
  local ns=$1 ip=$2 cidr=$3 veth=$4
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$NODE_NET_BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$API_HOST"
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  ip route replace "$cidr" via "$ip" dev "$NODE_NET_BRIDGE"
}

# rudder::bootstrap::netns_down NS — the namespace goes, and with it its veth pair, pod
# bridge and the host's route through it.
rudder::bootstrap::netns_down() {
  ip netns del "$1" 2>/dev/null || true
}

# kubeadm's admin.conf, controller-manager.conf and scheduler.conf (certificates embedded).
rudder::bootstrap::kubeconfigs() {
  local server=https://$API_HOST:$API_PORT
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user admin --context rudder \
    --server "$server" --out "$KUBE_DIR/admin.conf" >/dev/null
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-controller-manager "$server" "$KUBE_DIR/controller-manager.conf"
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-scheduler "$server" "$KUBE_DIR/scheduler.conf"
  # kube-proxy's identity: the bootstrap policy binds system:kube-proxy to
  # system:node-proxier (kubeadm gives the DaemonSet a ServiceAccount with that binding).
  rudder::control_plane::component_kubeconfig "$BIN_DIR" "$PKI_DIR" \
    system:kube-proxy "$server" "$KUBE_DIR/kube-proxy.conf"
  chmod 600 "$KUBE_DIR"/*.conf
}

# The kubelet's client identity (system:node:NODE in system:nodes, what the Node authorizer
# expects) and its serving certificate, signed with the CA key on this machine. A joining
# node gets the same: there is no bootstrap-token authenticator or CSR signer yet, so the
# script plays the CA's part.
rudder::bootstrap::node_credentials() {
  local node=$1 ip=${2:-127.0.0.1} dir
  dir=$(rudder::bootstrap::node_dir "$node")
  mkdir -p "$dir"
  "$BIN_DIR/rudder-pki" client --dir "$PKI_DIR" --cn "system:node:$node" \
    --group system:nodes --name "kubelet-client-$node" >/dev/null
  "$BIN_DIR/rudder-pki" kubeconfig --dir "$PKI_DIR" --user "kubelet-client-$node" \
    --context rudder --server "https://$API_HOST:$API_PORT" --out "$dir/kubelet.conf" >/dev/null
  chmod 600 "$dir/kubelet.conf"
  local crt=$dir/kubelet-serving.crt key=$dir/kubelet-serving.key csr=$dir/kubelet-serving.csr
  (
    umask 077
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$key" -subj "/O=system:nodes/CN=system:node:$node" -out "$csr" 2>/dev/null
  )
  openssl x509 -req -in "$csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -out "$crt" \
    -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,IP:$ip,DNS:$node") 2>/dev/null
  rm -f "$csr"
}

# YAML single-quoted scalar.
rudder::bootstrap::yaml_quote() {
  local s=${1//\'/\'\'}
  printf "'%s'" "$s"
}

# rudder::bootstrap::render TEMPLATE — replace {{NAME}} with $NAME for the variables below;
# a line `- {{APISERVER_FLAGS}}` becomes one list item per element of RUDDER_APISERVER_FLAGS.
# An unknown placeholder left in the output is an error.
rudder::bootstrap::render() {
  local template=$1 line indent arg var out
  local vars=(VERSION NODE_NAME API_PORT ETCD_PORT ETCD_PEER_PORT SCHEDULER_PORT
    ETCD_DATA_DIR PKI_DIR KUBE_DIR CLUSTER_CIDR PROXY_HEALTHZ_PORT PROXY_METRICS_PORT API_HOST)
  out=$(
    while IFS= read -r line || [[ -n $line ]]; do
      if [[ $line =~ ^([[:space:]]*)-\ \{\{APISERVER_FLAGS\}\}$ ]]; then
        indent=${BASH_REMATCH[1]}
        for arg in "${RUDDER_APISERVER_FLAGS[@]}"; do
          printf '%s- %s\n' "$indent" "$(rudder::bootstrap::yaml_quote "$arg")"
        done
        continue
      fi
      for var in "${vars[@]}"; do
        line=${line//"{{$var}}"/${!var}}
      done
      printf '%s\n' "$line"
    done <"$template"
  )
  if grep -q '{{' <<<"$out"; then
    echo "rudderadm: $template: unknown placeholder: $(grep -o '{{[^}]*}}' <<<"$out" | head -1)" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# Writes the control-plane manifests (and kube-proxy's, see manifests/kube-proxy.yaml). Each is written to a dot-file first and renamed:
# the kubelet skips dot-files, so it never reads a half-written manifest.
rudder::bootstrap::static_pods() {
  local c
  mkdir -p "$MANIFEST_DIR"
  rudder::control_plane::apiserver_flags "$PKI_DIR" "$SERVICE_CIDR" "$NODE_PORT_RANGE"
  for c in $RUDDER_STATIC_PODS; do
    rudder::bootstrap::render "$ROOT/manifests/$c.yaml" >"$MANIFEST_DIR/.$c.yaml"
    mv "$MANIFEST_DIR/.$c.yaml" "$MANIFEST_DIR/$c.yaml"
  done
}

# rudder::bootstrap::start_node NODE POD_CIDR BRIDGE KUBELET_PORT HEALTHZ_PORT [MANIFESTS]
# A private containerd (images imported) and a kubelet for NODE, both left running in the
# background after this script exits (kubeadm leaves that to systemd); pids in the node dir.
rudder::bootstrap::start_node() {
  local node=$1 cidr=$2 bridge=$3 port=$4 healthz=$5 manifests=${6:-} ip=${7:-127.0.0.1}
  local netns=${8:-} dir
  # In the node's own network namespace (nsenter enters only that: mounts stay shared
  # between the kubelet and containerd, as the kubelet's volumes need).
  local in_netns=()
  [[ -n $netns ]] && in_netns=(nsenter "--net=/run/netns/$netns" --)
  dir=$(rudder::bootstrap::node_dir "$node")
  mkdir -p "$dir/kubelet" "$LOG_DIR"
  # reset deletes the bridge the CNI plugin creates for this node.
  echo "$bridge" >"$dir/bridge"
  if ! CONTAINERD_NETNS=$netns rudder::containerd::start "$dir/containerd"; then
    echo "rudderadm: containerd for $node did not start; see $dir/containerd/containerd.log" >&2
    return 1
  fi
  # The component images on the node that runs the static pods (a worker has none: its
  # import would cost half a minute), and the add-on images everywhere: any node may run an
  # add-on pod, and they are never pulled (no registry).
  local image_sets=()
  [[ -n $manifests ]] && image_sets+=(--components)
  [[ ${RUDDER_NO_ADDONS:-0} == 1 ]] || image_sets+=(--addons)
  IMAGES_DIR=${IMAGES_DIR:-$ROOT/_output/images} RUDDER_BIN_DIR=$BIN_DIR ADDON_BIN_DIR=$BIN_DIR \
    "$ROOT/hack/build-images.sh" "${image_sets[@]}" --import "$CONTAINERD_SOCK" \
    2>>"$LOG_DIR/images.log" || {
    echo "rudderadm: importing images failed; see $LOG_DIR/images.log" >&2
    return 1
  }
  local args=(
    --kubeconfig "$dir/kubelet.conf"
    --container-runtime-endpoint "unix://$CONTAINERD_SOCK"
    --hostname-override "$node"
    --node-ip "$ip"
    --root-dir "$dir/kubelet"
    --pod-cidr "$cidr"
    --cni-conf-dir "$dir/containerd/net.d"
    --cni-bridge-name "$bridge"
    --cluster-domain cluster.local
    --address "$ip"
    --port "$port"
    --healthz-port "$healthz"
    --tls-cert-file "$dir/kubelet-serving.crt"
    --tls-private-key-file "$dir/kubelet-serving.key"
    --client-ca-file "$PKI_DIR/ca.crt"
    --authorization-mode Webhook
    --eviction-hard "memory.available<100Mi,nodefs.available<2%,imagefs.available<2%,nodefs.inodesFree<2%"
    -v "${KUBELET_LOG_LEVEL:-1}"
  )
  [[ -n $manifests ]] && args+=(--pod-manifest-path "$manifests")
  # ClusterFirst pods resolve through the DNS add-on's Service (kubeadm's clusterDNS).
  [[ ${RUDDER_NO_ADDONS:-0} == 1 ]] ||
    args+=(--cluster-dns "$(rudder::addons::cluster_dns_ip "$SERVICE_CIDR")")
  # setsid: the kubelet outlives this script and its terminal, as under systemd.
  setsid "${in_netns[@]}" "$BIN_DIR/kubelet" "${args[@]}" >>"$LOG_DIR/kubelet-$node.log" 2>&1 </dev/null 200>&- &
  echo $! >"$dir/kubelet.pid"
  echo "$healthz" >"$dir/kubelet.healthz"
  if ! rudder::util::wait_for "kubelet $node" 60 "$(<"$dir/kubelet.pid")" \
    "${in_netns[@]}" curl -fsS --max-time 2 "http://127.0.0.1:$healthz/healthz"; then
    tail -n 20 "$LOG_DIR/kubelet-$node.log" >&2
    return 1
  fi
}

# rudder::bootstrap::start_node_proxy NODE NETNS — kube-proxy for a worker in its own
# network namespace, where it programs that namespace's nftables (its own `table ip
# kube-proxy`, apart from the host's, which the control-plane node's static kube-proxy pod
# keeps), so the node's pods reach Services through their own node, as upstream's per-node
# kube-proxy does. Run beside the kubelet like it (kubeadm's DaemonSet would need its image on
# every node, and a privileged pod, which our kubelet cannot give yet); pid in the node dir.
rudder::bootstrap::start_node_proxy() {
  local node=$1 netns=$2 dir
  dir=$(rudder::bootstrap::node_dir "$node")
  setsid nsenter "--net=/run/netns/$netns" -- "$BIN_DIR/kube-proxy" \
    --kubeconfig "$KUBE_DIR/kube-proxy.conf" --proxy-mode nftables \
    --hostname-override "$node" --cluster-cidr "$CLUSTER_CIDR" \
    --healthz-bind-address 127.0.0.1:10256 --metrics-bind-address 127.0.0.1:10249 \
    -v "${KUBE_PROXY_LOG_LEVEL:-1}" >>"$LOG_DIR/kube-proxy-$node.log" 2>&1 </dev/null 200>&- &
  echo $! >"$dir/kube-proxy.pid"
  # Ready once it has programmed its table (its healthz answers after the first sync).
  rudder::util::wait_for "kube-proxy $node" 60 "$(<"$dir/kube-proxy.pid")" \
    nsenter "--net=/run/netns/$netns" -- curl -fsS --max-time 2 http://127.0.0.1:10256/healthz || {
    tail -n 20 "$LOG_DIR/kube-proxy-$node.log" >&2
    return 1
  }
}

# rudder::bootstrap::stop_node NODE — the kubelet first (so it restarts nothing), then every
# container through containerd, containerd itself, and what stayed mounted under the node.
rudder::bootstrap::stop_node() {
  local node=$1 dir pid daemon
  dir=$(rudder::bootstrap::node_dir "$node")
  [[ -d $dir ]] || return 0
  for daemon in kube-proxy kubelet; do
    [[ -f $dir/$daemon.pid ]] || continue
    pid=$(<"$dir/$daemon.pid")
    if grep -q "$daemon" "/proc/$pid/cmdline" 2>/dev/null; then
      rudder::util::stop_pid "$pid" 10
    fi
    rm -f "$dir/$daemon.pid"
  done
  rudder::containerd::stop "$dir/containerd"
  rudder::containerd::unmount_under "$dir"
}

# rudder::bootstrap::addons — kubeadm's addon phase: every addons/*/manifests applied with
# the admin kubeconfig, their Deployments awaited (hack/lib/addons.sh).
rudder::bootstrap::addons() {
  rudder::addons::deploy "$KUBECTL" "$KUBE_DIR/admin.conf" "$SERVICE_CIDR" \
    "$LOG_DIR/addons.log" "${TIMEOUT:-180}"
}
