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
#   rudder::bootstrap::node_credentials NODE [IP]  # the control-plane node's kubelet client
#                                             # kubeconfig + serving cert (signed with the CA key)
#   rudder::bootstrap::random_token           # a bootstrap token, [a-z0-9]{6}.[a-z0-9]{16}
#   rudder::bootstrap::token_secret TOKEN TTL DESCRIPTION  # its kube-system Secret (YAML)
#   rudder::bootstrap::kubeadm_objects SERVER # TLS-bootstrap RBAC + kube-public/cluster-info (YAML)
#   rudder::bootstrap::ca_cert_hash CA_FILE   # sha256:<hex of the CA's SubjectPublicKeyInfo>
#   rudder::bootstrap::discover SERVER TOKEN HASH DIR [NETNS]
#                                             # token discovery: DIR/pki/ca.crt and
#                                             # DIR/bootstrap-kubelet.conf, CA pinned by HASH
#   rudder::bootstrap::node_network_up        # the bridge the nodes' network namespaces hang on
#   rudder::bootstrap::netns_up NS IP POD_CIDR HOST_VETH  # a worker's network namespace
#   rudder::bootstrap::netns_down NS          # and its removal
#   rudder::bootstrap::render TEMPLATE        # a manifests/ template, on stdout
#   rudder::bootstrap::static_pods            # render every control-plane manifest
#   rudder::bootstrap::start_node NODE CIDR BRIDGE PORT HEALTHZ [MANIFESTS [NODE_IP [NETNS]]]
#                                             # containerd (+ images) and the kubelet
#   rudder::bootstrap::kube_proxy_addon       # kube-proxy's DaemonSet (addons/kube-proxy/manifests)
#   rudder::bootstrap::addons                 # every addons/*/manifests (hack/lib/addons.sh)
#   rudder::bootstrap::stop_node NODE         # kubelet, containers, containerd, mounts

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
# kube-proxy is not among them: it is a DaemonSet add-on (addons/kube-proxy), on every node.
RUDDER_STATIC_PODS="etcd kube-apiserver kube-controller-manager kube-scheduler"

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
  chmod 600 "$KUBE_DIR"/*.conf
}

# The control-plane node's kubelet identity (system:node:NODE in system:nodes, what the Node
# authorizer expects) and its serving certificate, signed with the CA key on this machine —
# as kubeadm init writes kubelet.conf for the first node: its apiserver is one of its own
# static pods, so nothing could answer a CSR yet. Joining nodes never come here: they
# bootstrap through a token and a CSR (rudder::bootstrap::discover, the kubelet's
# --bootstrap-kubeconfig) and never read the CA key.
rudder::bootstrap::node_credentials() {
  local node=$1 ip=${2:-127.0.0.1} dir
  dir=$(rudder::bootstrap::node_dir "$node")
  mkdir -p "$dir/pki"
  cp "$PKI_DIR/ca.crt" "$dir/pki/ca.crt"
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

# --- TLS bootstrap: tokens, kubeadm's objects, discovery --------------------------------

# kubeadm's default bootstrap-token group: tokens init and `token create` make carry it as
# auth-extra-groups, and the RBAC below lets that group post node CSRs that get approved.
RUDDER_TOKEN_GROUP=system:bootstrappers:kubeadm:default-node-token

# A bootstrap token, kubeadm's format: a 6-character public id and a 16-character secret,
# both [a-z0-9] (bash's SRANDOM comes from the kernel's getrandom).
rudder::bootstrap::random_token() {
  local chars=abcdefghijklmnopqrstuvwxyz0123456789 out="" i
  for ((i = 0; i < 22; i++)); do
    ((i == 6)) && out+=.
    out+=${chars:SRANDOM % 36:1}
  done
  echo "$out"
}

# rudder::bootstrap::duration_seconds D — a Go-style duration (24h, 1h30m, 90s, 0) in seconds.
rudder::bootstrap::duration_seconds() {
  local d=$1 total=0
  [[ $d == 0 ]] && { echo 0; return; }
  [[ $d =~ ^([0-9]+[hms])+$ ]] || { echo "rudderadm: bad duration '$d' (want e.g. 24h, 30m, 0)" >&2; return 1; }
  while [[ $d =~ ^([0-9]+)([hms])(.*)$ ]]; do
    case ${BASH_REMATCH[2]} in
      h) total=$((total + BASH_REMATCH[1] * 3600)) ;;
      m) total=$((total + BASH_REMATCH[1] * 60)) ;;
      s) total=$((total + BASH_REMATCH[1])) ;;
    esac
    d=${BASH_REMATCH[3]}
  done
  echo "$total"
}

# rudder::bootstrap::token_secret TOKEN TTL_SECONDS DESCRIPTION — the Secret
# kube-system/bootstrap-token-<id> (type bootstrap.kubernetes.io/token) as kubeadm writes it:
# usable for authentication (system:bootstrap:<id> in system:bootstrappers and the default
# node-token group) and for signing cluster-info; TTL 0: no expiration.
rudder::bootstrap::token_secret() {
  local token=$1 ttl=$2 description=$3 expiration=""
  local id=${token%%.*} secret=${token#*.}
  ((ttl > 0)) && expiration="  expiration: \"$(date -u -d "+$ttl seconds" +%Y-%m-%dT%H:%M:%SZ)\""
  cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-$id
  namespace: kube-system
type: bootstrap.kubernetes.io/token
stringData:
  description: $(rudder::bootstrap::yaml_quote "$description")
  token-id: "$id"
  token-secret: "$secret"
${expiration}
  usage-bootstrap-authentication: "true"
  usage-bootstrap-signing: "true"
  auth-extra-groups: "$RUDDER_TOKEN_GROUP"
YAML
}

# The kubeconfig cluster-info publishes: the apiserver's address and the cluster CA, no
# credentials (kubeadm's layout: one unnamed cluster).
rudder::bootstrap::cluster_info_kubeconfig() {
  local server=$1 ca=$2
  cat <<YAML
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 <"$ca")
    server: $server
  name: ""
contexts: null
current-context: ""
kind: Config
preferences: {}
users: null
YAML
}

# rudder::bootstrap::kubeadm_objects SERVER — what kubeadm init creates for TLS bootstrap
# (YAML on stdout): bootstrap-token holders may post node CSRs (system:node-bootstrapper),
# which the csrapproving controller approves (nodeclient), and nodes renew their own
# (selfnodeclient); the public kube-public/cluster-info ConfigMap and the Role letting
# anonymous users and bootstrappers read it (the bootstrapsigner controller signs it per
# token).
rudder::bootstrap::kubeadm_objects() {
  local server=$1 binding name role subject_kind subject
  for binding in \
    "kubeadm:kubelet-bootstrap system:node-bootstrapper Group $RUDDER_TOKEN_GROUP" \
    "kubeadm:node-autoapprove-bootstrap system:certificates.k8s.io:certificatesigningrequests:nodeclient Group $RUDDER_TOKEN_GROUP" \
    "kubeadm:node-autoapprove-certificate-rotation system:certificates.k8s.io:certificatesigningrequests:selfnodeclient Group system:nodes"; do
    read -r name role subject_kind subject <<<"$binding"
    cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: $name
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: $role
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: $subject_kind
  name: $subject
---
YAML
  done
  cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster-info
  namespace: kube-public
data:
  kubeconfig: |
$(rudder::bootstrap::cluster_info_kubeconfig "$server" "$PKI_DIR/ca.crt" | sed 's/^/    /')
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: kubeadm:bootstrap-signer-clusterinfo
  namespace: kube-public
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["cluster-info"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: kubeadm:bootstrap-signer-clusterinfo
  namespace: kube-public
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: kubeadm:bootstrap-signer-clusterinfo
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:anonymous
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers
YAML
}

# rudder::bootstrap::ca_cert_hash CA_FILE — kubeadm's --discovery-token-ca-cert-hash: the
# SHA-256 of the CA certificate's DER SubjectPublicKeyInfo.
rudder::bootstrap::ca_cert_hash() {
  local hex
  hex=$(openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum) ||
    return 1
  echo "sha256:${hex%% *}"
}

# rudder::bootstrap::cluster_info_field JSON_FILE FIELD — from a cluster-info ConfigMap:
# `kubeconfig` (its data.kubeconfig) or `jws ID` (data.jws-kubeconfig-ID, empty if absent).
rudder::bootstrap::cluster_info_field() {
  python3 - "$@" <<'PY'
import json, sys
data = json.load(open(sys.argv[1])).get("data") or {}
if sys.argv[2] == "kubeconfig":
    sys.stdout.write(data.get("kubeconfig", ""))
else:
    sys.stdout.write(data.get("jws-kubeconfig-" + sys.argv[3], ""))
PY
}

# rudder::bootstrap::jws_valid SIGNATURE CONTENT_FILE TOKEN — whether SIGNATURE
# (`<header>..<sig>`, a detached HS256 JWS keyed by the token secret, what the bootstrapsigner
# controller writes) signs the file's content.
rudder::bootstrap::jws_valid() {
  python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, sys
signature, path, token = sys.argv[1], sys.argv[2], sys.argv[3]
token_id, secret = token.split(".", 1)
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
try:
    header, empty, sig = signature.split(".")
    padded = header + "=" * (-len(header) % 4)
    fields = json.loads(base64.urlsafe_b64decode(padded))
except ValueError:
    sys.exit(1)
if empty or fields.get("alg") != "HS256" or fields.get("kid") != token_id:
    sys.exit(1)
content = open(path, "rb").read()
want = hmac.new(secret.encode(), (header + "." + b64(content)).encode(), hashlib.sha256).digest()
sys.exit(0 if hmac.compare_digest(b64(want), sig) else 1)
PY
}

# rudder::bootstrap::discover SERVER TOKEN CA_HASH DIR [NETNS] — kubeadm join's token
# discovery, from the joining node (its network namespace NETNS if given). It reads
# kube-public/cluster-info before trusting the apiserver (TLS unverified: anonymously, or
# with the token where anonymous reads are refused), takes the CA from it only if the CA's
# public key hashes to CA_HASH, checks the bootstrapsigner's JWS for this token when there is
# one (waiting a little for it), reads cluster-info again over TLS verified against that CA,
# and writes DIR/pki/ca.crt and DIR/bootstrap-kubelet.conf (the server from cluster-info, the
# token as bearer). Nothing of the control plane's PKI directory is read.
rudder::bootstrap::discover() {
  local server=$1 token=$2 want=$3 dir=$4 netns=${5:-}
  local id=${token%%.*} tmp url code got jws="" deadline in_netns=()
  [[ -n $netns ]] && in_netns=(nsenter "--net=/run/netns/$netns" --)
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || {
    echo "rudderadm: [discovery] the token must look like [a-z0-9]{6}.[a-z0-9]{16}" >&2
    return 1
  }
  tmp=$(mktemp -d)
  url=$server/api/v1/namespaces/kube-public/configmaps/cluster-info
  deadline=$((SECONDS + ${RUDDER_DISCOVERY_JWS_WAIT:-30}))
  while :; do
    code=$("${in_netns[@]}" curl -sk --max-time 5 -o "$tmp/cm.json" -w '%{http_code}' "$url" || true)
    if [[ $code == 401 || $code == 403 ]]; then
      code=$("${in_netns[@]}" curl -sk --max-time 5 -o "$tmp/cm.json" -w '%{http_code}' \
        -H "Authorization: Bearer $token" "$url" || true)
    fi
    if [[ $code != 200 ]]; then
      echo "rudderadm: [discovery] cannot read cluster-info at $url (HTTP $code): $(head -c 300 "$tmp/cm.json" 2>/dev/null)" >&2
      rm -rf "$tmp"
      return 1
    fi
    rudder::bootstrap::cluster_info_field "$tmp/cm.json" kubeconfig >"$tmp/kubeconfig"
    jws=$(rudder::bootstrap::cluster_info_field "$tmp/cm.json" jws "$id")
    [[ -n $jws || $SECONDS -ge $deadline ]] && break
    sleep 1
  done
  awk '/certificate-authority-data:/ {print $2; exit}' "$tmp/kubeconfig" | base64 -d >"$tmp/ca.crt" 2>/dev/null
  got=$(rudder::bootstrap::ca_cert_hash "$tmp/ca.crt" 2>/dev/null) || got=""
  if [[ -z $got || $got != "$want" ]]; then
    echo "rudderadm: [discovery] cluster-info's CA has public key hash '${got:-none}', not $want: refusing it" >&2
    rm -rf "$tmp"
    return 1
  fi
  if [[ -n $jws ]]; then
    if ! rudder::bootstrap::jws_valid "$jws" "$tmp/kubeconfig" "$token"; then
      echo "rudderadm: [discovery] cluster-info's signature for token $id does not verify: refusing it" >&2
      rm -rf "$tmp"
      return 1
    fi
    echo "rudderadm: [discovery] cluster-info signed for token $id (JWS verified)" >&2
  else
    echo "rudderadm: [discovery] warning: cluster-info has no signature for token $id; trusting the CA by its pinned hash alone" >&2
  fi
  local api_server
  api_server=$(awk '/^ *server:/ {print $2; exit}' "$tmp/kubeconfig")
  # Now trusted: the same cluster-info over verified TLS, from the server it names.
  if ! "${in_netns[@]}" curl -sf --max-time 5 --cacert "$tmp/ca.crt" -H "Authorization: Bearer $token" \
    -o "$tmp/cm2.json" "$api_server/api/v1/namespaces/kube-public/configmaps/cluster-info" ||
    ! cmp -s "$tmp/kubeconfig" <(rudder::bootstrap::cluster_info_field "$tmp/cm2.json" kubeconfig); then
    echo "rudderadm: [discovery] cluster-info read over verified TLS from $api_server differs or failed" >&2
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$dir/pki"
  cp "$tmp/ca.crt" "$dir/pki/ca.crt"
  (
    umask 077
    cat >"$dir/bootstrap-kubelet.conf" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: $api_server
    certificate-authority-data: $(base64 -w0 <"$tmp/ca.crt")
users:
- name: tls-bootstrap-token-user
  user:
    token: $token
contexts:
- name: tls-bootstrap-token-user@kubernetes
  context:
    cluster: kubernetes
    user: tls-bootstrap-token-user
current-context: tls-bootstrap-token-user@kubernetes
YAML
  )
  rm -rf "$tmp"
  echo "rudderadm: [discovery] trusting the CA at $api_server (hash $want)" >&2
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

# Writes the control-plane manifests. Each is written to a dot-file first and renamed:
# the kubelet skips dot-files, so it never reads a half-written manifest.
rudder::bootstrap::static_pods() {
  local c
  mkdir -p "$MANIFEST_DIR"
  rudder::control_plane::apiserver_flags "$PKI_DIR" "$SERVICE_CIDR" "$NODE_PORT_RANGE"
  # Joining nodes authenticate with bootstrap tokens (kubeadm turns this on).
  RUDDER_APISERVER_FLAGS+=(--enable-bootstrap-token-auth)
  for c in $RUDDER_STATIC_PODS; do
    rudder::bootstrap::render "$ROOT/manifests/$c.yaml" >"$MANIFEST_DIR/.$c.yaml"
    mv "$MANIFEST_DIR/.$c.yaml" "$MANIFEST_DIR/$c.yaml"
  done
}

# rudder::bootstrap::start_node NODE POD_CIDR BRIDGE KUBELET_PORT HEALTHZ_PORT [MANIFESTS
#   [NODE_IP [NETNS]]]
# A private containerd (images imported) and a kubelet for NODE, both left running in the
# background after this script exits (kubeadm leaves that to systemd); pids in the node dir.
# The kubelet's credentials come from the node dir: kubelet.conf (the control-plane node's,
# written by node_credentials) or bootstrap-kubelet.conf (a joining node's, from discover:
# the kubelet then requests its client certificate through a CSR and writes kubelet.conf
# itself); pki/ca.crt verifies the apiserver's client certificate on the kubelet's port; a
# node without kubelet-serving.crt serves with the kubelet's self-signed pair in its
# cert-dir (<root-dir>/pki).
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
  local images_dir=${IMAGES_DIR:-$ROOT/_output/images}
  IMAGES_DIR=$images_dir RUDDER_BIN_DIR=$BIN_DIR ADDON_BIN_DIR=$BIN_DIR \
    "$ROOT/hack/build-images.sh" "${image_sets[@]}" --import "$CONTAINERD_SOCK" \
    2>>"$LOG_DIR/images.log" || {
    echo "rudderadm: importing images failed; see $LOG_DIR/images.log" >&2
    return 1
  }
  # Every node runs kube-proxy's DaemonSet pod: a worker needs that one component image
  # (built by init's --components).
  if [[ -z $manifests ]]; then
    if ! ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --all-platforms \
      "$images_dir/kube-proxy.tar" >>"$LOG_DIR/images.log" 2>&1; then
      echo "rudderadm: importing $images_dir/kube-proxy.tar failed (run init first); see $LOG_DIR/images.log" >&2
      return 1
    fi
  fi
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
    --client-ca-file "$dir/pki/ca.crt"
    --authorization-mode Webhook
    --eviction-hard "memory.available<100Mi,nodefs.available<2%,imagefs.available<2%,nodefs.inodesFree<2%"
    -v "${KUBELET_LOG_LEVEL:-1}"
  )
  [[ -f $dir/bootstrap-kubelet.conf ]] && args+=(--bootstrap-kubeconfig "$dir/bootstrap-kubelet.conf")
  [[ -f $dir/kubelet-serving.crt ]] &&
    args+=(--tls-cert-file "$dir/kubelet-serving.crt" --tls-private-key-file "$dir/kubelet-serving.key")
  [[ -n $manifests ]] && args+=(--pod-manifest-path "$manifests")
  # A worker in the host's network namespace runs no kube-proxy of its own (the DaemonSet's
  # affinity skips it): the control-plane node's programs that namespace.
  [[ -z $manifests && -z $netns ]] && args+=(--node-labels rudder.dev/shares-host-network=true)
  # ClusterFirst pods resolve through the DNS add-on's Service (kubeadm's clusterDNS).
  [[ ${RUDDER_NO_ADDONS:-0} == 1 ]] ||
    args+=(--cluster-dns "$(rudder::addons::cluster_dns_ip "$SERVICE_CIDR")")
  # setsid: the kubelet outlives this script and its terminal, as under systemd.
  setsid "${in_netns[@]}" "$BIN_DIR/kubelet" "${args[@]}" >>"$LOG_DIR/kubelet-$node.log" 2>&1 </dev/null 200>&- &
  echo $! >"$dir/kubelet.pid"
  echo "$healthz" >"$dir/kubelet.healthz"
  # A bootstrapping kubelet serves healthz once its CSR is approved and signed.
  if ! rudder::util::wait_for "kubelet $node" 60 "$(<"$dir/kubelet.pid")" \
    "${in_netns[@]}" curl -fsS --max-time 2 "http://127.0.0.1:$healthz/healthz"; then
    tail -n 20 "$LOG_DIR/kubelet-$node.log" >&2
    return 1
  fi
}

# rudder::bootstrap::stop_node NODE — the kubelet first (so it restarts nothing), then every
# container through containerd, containerd itself, and what stayed mounted under the node.
rudder::bootstrap::stop_node() {
  local node=$1 dir pid daemon
  dir=$(rudder::bootstrap::node_dir "$node")
  [[ -d $dir ]] || return 0
  for daemon in kubelet; do
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

# rudder::bootstrap::kube_proxy_addon — kubeadm's kube-proxy add-on: ServiceAccount,
# system:node-proxier binding, ConfigMap (a kubeconfig with the apiserver's address and the
# pod's service-account token) and a DaemonSet on every node (hostNetwork: on a worker
# that is its network namespace, whose nftables it programs), rendered from
# addons/kube-proxy/manifests/*.yaml.tmpl (templates, so hack/lib/addons.sh, which
# local-up-cluster shares and which runs kube-proxy its own way, does not apply them).
# Waits for the DaemonSet's pod on every current node.
rudder::bootstrap::kube_proxy_addon() {
  local t
  for t in "$ROOT"/addons/kube-proxy/manifests/*.yaml.tmpl; do
    rudder::bootstrap::render "$t" || return 1
    echo ---
  done | "$KUBECTL" --kubeconfig "$KUBE_DIR/admin.conf" apply -f - >>"$LOG_DIR/addons.log" 2>&1 || {
    echo "rudderadm: applying addons/kube-proxy failed; see $LOG_DIR/addons.log" >&2
    return 1
  }
  "$KUBECTL" --kubeconfig "$KUBE_DIR/admin.conf" -n kube-system rollout status daemonset/kube-proxy \
    --timeout="${TIMEOUT:-180}s" >>"$LOG_DIR/addons.log" 2>&1 || {
    echo "rudderadm: kube-proxy's DaemonSet did not roll out; see $LOG_DIR/addons.log" >&2
    return 1
  }
}

# rudder::bootstrap::addons — kubeadm's addon phase: every addons/*/manifests applied with
# the admin kubeconfig, their Deployments awaited (hack/lib/addons.sh).
rudder::bootstrap::addons() {
  rudder::addons::deploy "$KUBECTL" "$KUBE_DIR/admin.conf" "$SERVICE_CIDR" \
    "$LOG_DIR/addons.log" "${TIMEOUT:-180}"
}
