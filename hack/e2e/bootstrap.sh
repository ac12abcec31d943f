#!/usr/bin/env bash
# End-to-end test of hack/rudderadm.sh (issue 9, must-show 1 and 2): on a private root
# (nothing under the real /etc or /var is touched) it runs
#   init   → the control-plane static pods (and kube-proxy's) Running from rudder.local
#            images, each with a mirror pod (kubernetes.io/config.mirror, config.source=file)
#            owned by the Node; the node Ready; the add-ons (DNS, Ingress) available
#   join ×2 → two worker kubelets on the same machine, Ready, each with its own pod CIDR
#   the control-plane node labelled node-role.kubernetes.io/control-plane and tainted NoSchedule
#   a Deployment of 6 busybox web servers, 3 on each worker, with pod IPs from its CIDR
#   a pod on worker 1 fetches a page from a pod on worker 2 by pod IP, and back
#   a pod resolves the Deployment's Service by name (cluster DNS) and reaches its pods
#   reset  → no kubelet, containerd, container, mount, bridge, nftables table or file of the
#            cluster is left
# and exits non-zero at the first failure (after a reset, unless BOOTSTRAP_KEEP=1).
#
#   hack/e2e/bootstrap.sh
#
# Environment: RUDDER_BIN_DIR (binaries, as rudderadm.sh), KUBECTL (default kubectl on PATH),
# BOOTSTRAP_KEEP=1 to leave a failed cluster running for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ADM=$ROOT/hack/rudderadm.sh
export RUDDER_ROOT=${RUDDER_ROOT:-$(mktemp -d /tmp/rudder-bootstrap.XXXXXX)}
export NODE_NAME=bootstrap-cp
WORKERS=(bootstrap-w1 bootstrap-w2)
KUBECONFIG=$RUDDER_ROOT/etc/kubernetes/admin.conf
KUBECTL=${KUBECTL:-$(command -v kubectl)}
source "$ROOT/hack/lib/lock.sh"
# The whole run holds the cluster lock; rudderadm.sh inherits it.
rudder::lock::acquire e2e/bootstrap || exit 1
START=$SECONDS
FAILED=0

log() { echo "e2e/bootstrap: $*" >&2; }
fail() {
  log "FAIL: $*"
  FAILED=1
  exit 1
}
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

cleanup() {
  local rc=$?
  if ((rc != 0)) && [[ ${BOOTSTRAP_KEEP:-} == 1 ]]; then
    log "kept the cluster under $RUDDER_ROOT (reset with RUDDER_ROOT=$RUDDER_ROOT $ADM reset)"
    return
  fi
  if ((FAILED == 0 && rc == 0)); then
    return
  fi
  log "resetting after a failure; kubelet logs in $RUDDER_ROOT/var/log/rudder"
  "$ADM" reset >/dev/null 2>&1 || true
}
trap cleanup EXIT

# http_get POD ADDRESS PORT — the body of http://ADDRESS:PORT/ fetched from inside POD. With
# busybox nc: the test image's busybox wget crashes (SIGSEGV) there.
http_get() {
  local out
  out=$(k exec "$1" -- sh -c 'printf "GET / HTTP/1.0\r\nHost: %s\r\n\r\n" "$0" | nc -w 5 "$0" "$1"' "$2" "$3") ||
    return 1
  tr -d '\r' <<<"$out" | sed '1,/^$/d'
}

# Retry "$@" for up to $1 seconds.
eventually() {
  local timeout=$1 deadline
  shift
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

log "init (root $RUDDER_ROOT)"
join_cmd=$("$ADM" init) || fail "rudderadm init"
log "init took $((SECONDS - START))s; it printed: $join_cmd"
# kubeadm's join line: ... join NODE_NAME --token T --discovery-token-ca-cert-hash sha256:H
TOKEN=$(awk '{for (i = 1; i < NF; i++) if ($i == "--token") print $(i + 1)}' <<<"$join_cmd")
CA_HASH=$(awk '{for (i = 1; i < NF; i++) if ($i == "--discovery-token-ca-cert-hash") print $(i + 1)}' <<<"$join_cmd")
[[ $TOKEN =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || fail "init printed no bootstrap token: $join_cmd"
TOKEN_ID=${TOKEN%%.*}
PKI=$RUDDER_ROOT/etc/kubernetes/pki
want_hash=sha256:$(openssl x509 -in "$PKI/ca.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
[[ $CA_HASH == "$want_hash" ]] || fail "init printed CA hash $CA_HASH, the CA's SubjectPublicKeyInfo hashes to $want_hash"
[[ $(k -n kube-system get secret "bootstrap-token-$TOKEN_ID" -o 'jsonpath={.type}') == bootstrap.kubernetes.io/token ]] ||
  fail "no Secret kube-system/bootstrap-token-$TOKEN_ID of type bootstrap.kubernetes.io/token"
log "ok: bootstrap token $TOKEN_ID (Secret bootstrap-token-$TOKEN_ID), CA hash $CA_HASH"

# Every control-plane component: a Running mirror pod, annotated as upstream's, owned by the
# Node, whose container runs the rudder.local image.
version=$(awk -F'"' '/^\[workspace.package\]/ {p = 1} p && /^version *=/ {print "v" $2; exit}' "$ROOT/Cargo.toml")
for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  pod=$c-$NODE_NAME
  got=$(k get pod -n kube-system "$pod" -o 'jsonpath={.status.phase} {.metadata.annotations.kubernetes\.io/config\.source} {.metadata.ownerReferences[0].kind} {.spec.containers[0].image} {.metadata.annotations.kubernetes\.io/config\.mirror}') ||
    fail "no mirror pod $pod"
  read -r phase source owner image mirror <<<"$got"
  [[ $phase == Running ]] || fail "$pod is $phase, want Running"
  [[ $source == file ]] || fail "$pod config.source=$source, want file"
  [[ $owner == Node ]] || fail "$pod is owned by '$owner', want the Node"
  [[ $image == "rudder.local/$c:$version" ]] || fail "$pod runs $image"
  [[ -n $mirror ]] || fail "$pod has no kubernetes.io/config.mirror annotation"
  log "ok: $pod Running from $image, mirror of $mirror"
done
# Other taints may appear beside it (a nearly full disk adds disk-pressure): look for ours only.
cp_effect=$(k get node "$NODE_NAME" \
  -o 'jsonpath={.spec.taints[?(@.key=="node-role.kubernetes.io/control-plane")].effect}')
[[ $cp_effect == NoSchedule ]] ||
  fail "control-plane node taints are '$(k get node "$NODE_NAME" -o 'jsonpath={.spec.taints}')', want node-role.kubernetes.io/control-plane:NoSchedule among them"
k get node "$NODE_NAME" -o 'jsonpath={.metadata.labels}' | grep -q '"node-role.kubernetes.io/control-plane"' ||
  fail "control-plane node lacks the node-role.kubernetes.io/control-plane label"
log "ok: $NODE_NAME labelled and tainted as the control plane"

# The bootstrapsigner signed cluster-info for the token (what join verifies).
signed() {
  [[ -n $(k -n kube-public get configmap cluster-info -o "jsonpath={.data.jws-kubeconfig-$TOKEN_ID}") ]]
}
eventually 30 signed || fail "kube-public/cluster-info has no jws-kubeconfig-$TOKEN_ID (bootstrapsigner)"
log "ok: cluster-info signed for token $TOKEN_ID"

# ca_key_opens OUT — counts every open of the CA key into OUT (inotify) until killed; the
# controller-manager read it at start, nothing may read it while the workers join.
# (`exec`: the background job's pid is then python's own, so killing it stops the watcher.)
ca_key_watch() {
  exec python3 - "$PKI/ca.key" "$1" <<'PY'
import ctypes, os, signal, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
IN_OPEN = 0x20
fd = libc.inotify_init1(0)
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), IN_OPEN) < 0:
    sys.exit("inotify: errno %d" % ctypes.get_errno())
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
opens = 0
with open(sys.argv[2], "w") as out:
    out.write("0\n")
    out.flush()
    while True:
        os.read(fd, 4096)
        opens += 1
        out.seek(0)
        out.write("%d\n" % opens)
        out.flush()
PY
}
ca_key_opens=$RUDDER_ROOT/ca-key-opens
ca_key_watch "$ca_key_opens" &
watch_pid=$!
eventually 10 test -s "$ca_key_opens" || fail "the ca.key watcher did not start"

# Both joins at once (each picks its own free pod CIDR and bridge): a worker's start-up is
# mostly waiting, and CI time counts. Only the token and the CA hash are given.
log "join ${WORKERS[*]} (in parallel) with token $TOKEN_ID"
t=$SECONDS
join_pids=()
for w in "${WORKERS[@]}"; do
  "$ADM" join "$w" --token "$TOKEN" --discovery-token-ca-cert-hash "$CA_HASH" &
  join_pids+=($!)
done
for i in "${!WORKERS[@]}"; do
  wait "${join_pids[i]}" || fail "rudderadm join ${WORKERS[i]}"
done
log "joins took $((SECONDS - t))s"
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
opens=$(<"$ca_key_opens")
rm -f "$ca_key_opens"
[[ $opens == 0 ]] || fail "ca.key was opened $opens times while the workers joined"
log "ok: ca.key was not opened while the workers joined"

# The token path, from the API's side: each worker's CSR was posted by the bootstrap token's
# user to the kubelet client signer, approved, and signed by the cluster CA, and the kubelet
# runs with that very certificate.
for w in "${WORKERS[@]}"; do
  node_dir=$RUDDER_ROOT/var/lib/rudder/nodes/$w
  csr=$(k get csr -o json | python3 -c '
import json, sys
node = sys.argv[1]
import base64, subprocess
for item in json.load(sys.stdin)["items"]:
    req = base64.b64decode(item["spec"]["request"])
    subject = subprocess.run(["openssl", "req", "-noout", "-subject", "-nameopt", "RFC2253"],
                             input=req, capture_output=True).stdout.decode()
    if "CN=system:node:%s," % node in subject.strip() + ",":
        print(item["metadata"]["name"])
' "$w") || fail "listing CSRs"
  [[ -n $csr ]] || fail "no CSR for system:node:$w: $(k get csr 2>&1)"
  read -r requestor signer approved groups <<<"$(k get csr "$csr" -o 'jsonpath={.spec.username} {.spec.signerName} {.status.conditions[?(@.type=="Approved")].status} {.spec.groups}')"
  [[ $requestor == "system:bootstrap:$TOKEN_ID" ]] || fail "CSR $csr was posted by '$requestor', want system:bootstrap:$TOKEN_ID"
  [[ $signer == kubernetes.io/kube-apiserver-client-kubelet ]] || fail "CSR $csr has signer $signer"
  [[ $approved == True ]] || fail "CSR $csr is not Approved: $(k get csr "$csr" -o jsonpath='{.status.conditions}')"
  [[ $groups == *system:bootstrappers:kubeadm:default-node-token* ]] ||
    fail "CSR $csr's requestor groups $groups lack the token's extra group"
  k get csr "$csr" -o 'jsonpath={.status.certificate}' | base64 -d >"$RUDDER_ROOT/$w-issued.crt"
  current=$node_dir/kubelet/pki/kubelet-client-current.pem
  [[ -L $current ]] || fail "$w has no kubelet-client-current.pem link in its cert-dir"
  openssl verify -CAfile "$PKI/ca.crt" "$current" >/dev/null 2>&1 ||
    fail "$w's client certificate does not verify against the cluster CA"
  [[ $(openssl x509 -in "$current" -noout -fingerprint -sha256) == \
    "$(openssl x509 -in "$RUDDER_ROOT/$w-issued.crt" -noout -fingerprint -sha256)" ]] ||
    fail "$w's kubelet runs with a certificate other than the one CSR $csr issued"
  subject=$(openssl x509 -in "$current" -noout -subject -nameopt RFC2253)
  [[ $subject == *"CN=system:node:$w"* && $subject == *"O=system:nodes"* ]] || fail "$w's client certificate has subject $subject"
  rm -f "$RUDDER_ROOT/$w-issued.crt"
  grep -q "kubelet-client-current.pem" "$node_dir/kubelet.conf" ||
    fail "$w's kubelet.conf does not use the bootstrapped certificate"
  grep -q "token:" "$node_dir/kubelet.conf" && fail "$w's kubelet.conf carries the bootstrap token"
  [[ ! -e $node_dir/kubelet-serving.crt ]] || fail "$w has a serving certificate signed by the script"
  log "ok: $w joined through CSR $csr (by system:bootstrap:$TOKEN_ID, Approved, signed by the cluster CA, in use)"
done
for n in "$NODE_NAME" "${WORKERS[@]}"; do
  [[ $(k get node "$n" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
    fail "node $n not Ready"
  cidr=$(k get node "$n" -o 'jsonpath={.spec.podCIDR}')
  addr=$(k get node "$n" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')
  log "ok: node $n Ready, InternalIP $addr, pod CIDR $cidr"
done
# Each worker in its own network namespace, at its own address on the node bridge.
if [[ ${RUDDER_NODE_NETNS:-1} == 1 ]]; then
  for w in "${WORKERS[@]}"; do
    [[ -e /run/netns/rdr-$w ]] || fail "no network namespace rdr-$w for $w"
    addr=$(k get node "$w" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')
    [[ $addr == 172.30.60.* ]] || fail "$w has InternalIP $addr, want one on the node network 172.30.60.0/24"
    [[ $(ip netns exec "rdr-$w" ip -o addr show eth0) == *"inet $addr/"* ]] ||
      fail "$w's namespace has no eth0 at $addr"
    ip netns exec "rdr-$w" nft list table ip kube-proxy >/dev/null 2>&1 ||
      fail "$w's namespace has no kube-proxy table (its own kube-proxy)"
  done
  log "ok: ${WORKERS[*]} each in its own network namespace, with its own kube-proxy table"
fi
# kube-proxy: the DaemonSet's pod, Running, on every node (kubeadm's add-on).
for n in "$NODE_NAME" "${WORKERS[@]}"; do
  got=$(k -n kube-system get pods -l k8s-app=kube-proxy --field-selector "spec.nodeName=$n" \
    -o 'jsonpath={range .items[*]}{.status.phase} {.metadata.ownerReferences[0].kind} {.spec.containers[0].image}{"\n"}{end}')
  [[ $got == "Running DaemonSet rudder.local/kube-proxy:$version" ]] ||
    fail "kube-proxy on $n: '$got', want one Running DaemonSet pod of rudder.local/kube-proxy:$version"
done
log "ok: kube-proxy DaemonSet pods Running on $NODE_NAME ${WORKERS[*]}"
# Each worker its own pod CIDR (rudderadm join picks 10.244.61.0/24, 10.244.62.0/24, …).
declare -A CIDR_OF
for w in "${WORKERS[@]}"; do
  CIDR_OF[$w]=$(k get node "$w" -o 'jsonpath={.spec.podCIDR}')
done
[[ ${CIDR_OF[${WORKERS[0]}]} != "${CIDR_OF[${WORKERS[1]}]}" ]] || fail "both workers have pod CIDR ${CIDR_OF[${WORKERS[0]}]}"

# The add-ons init applied: cluster DNS and the Ingress controller available.
for d in rudder-dns rudder-ingress; do
  [[ $(k -n kube-system get deployment "$d" -o 'jsonpath={.status.availableReplicas}') -ge 1 ]] 2>/dev/null ||
    fail "add-on $d is not available: $(k -n kube-system get pods -o wide 2>&1)"
done
log "ok: add-ons rudder-dns and rudder-ingress available"

# A Deployment of 6 busybox web servers spread evenly over the workers: a hard topology
# spread over hostnames that ignores tainted nodes (nodeTaintsPolicy Honor; by default the
# tainted control-plane node would count as an empty domain and block the spread), so each
# worker gets exactly 3.
log "a Deployment of 6 busybox web servers, spread over the workers"
k apply -f - >/dev/null <<'YAML' || fail "creating the Deployment and Service"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bootstrap-web
spec:
  replicas: 6
  selector:
    matchLabels:
      app: bootstrap-web
  template:
    metadata:
      labels:
        app: bootstrap-web
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        nodeTaintsPolicy: Honor
        labelSelector:
          matchLabels:
            app: bootstrap-web
      containers:
      - name: web
        image: busybox:latest
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
        - containerPort: 8080
        readinessProbe:
          tcpSocket:
            port: 8080
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: bootstrap-web
spec:
  selector:
    app: bootstrap-web
  ports:
  - port: 80
    targetPort: 8080
YAML
all_ready() {
  [[ $(k get deployment bootstrap-web -o 'jsonpath={.status.readyReplicas}') == 6 ]]
}
eventually 120 all_ready || {
  k get pods -o wide >&2 || true
  fail "the Deployment's 6 pods are not Ready"
}
declare -A PODS_ON POD_ON IP_OF
while read -r name ip node; do
  case $node in
    "$NODE_NAME") fail "$name runs on the tainted control-plane node" ;;
    "${WORKERS[0]}" | "${WORKERS[1]}")
      [[ $ip == "${CIDR_OF[$node]%.0/24}".* ]] || fail "$name on $node has IP $ip, outside ${CIDR_OF[$node]}" ;;
    *) fail "$name runs on unknown node $node" ;;
  esac
  PODS_ON[$node]=$((${PODS_ON[$node]:-0} + 1))
  POD_ON[$node]=$name
  IP_OF[$name]=$ip
done < <(k get pods -l app=bootstrap-web -o 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
for w in "${WORKERS[@]}"; do
  [[ ${PODS_ON[$w]:-0} == 3 ]] || fail "$w runs ${PODS_ON[$w]:-0} of the 6 pods, want 3"
done
log "ok: 6 pods Ready, 3 on ${WORKERS[0]} (${CIDR_OF[${WORKERS[0]}]}), 3 on ${WORKERS[1]} (${CIDR_OF[${WORKERS[1]}]})"

# Pod to pod across nodes, by IP, both ways: each node's bridge and pod CIDR, routed by the
# host between them (host-gw on one machine).
for pair in "0 1" "1 0"; do
  read -r a b <<<"$pair"
  from=${POD_ON[${WORKERS[a]}]} to=${POD_ON[${WORKERS[b]}]}
  got=$(http_get "$from" "${IP_OF[$to]}" 8080 2>&1) ||
    fail "$from (${WORKERS[a]}) cannot reach $to (${WORKERS[b]}) at ${IP_OF[$to]}: $got"
  [[ $got == "$to" ]] || fail "$from reached ${IP_OF[$to]} but got '$got', want '$to'"
  log "ok: $from on ${WORKERS[a]} reached $to on ${WORKERS[b]} at ${IP_OF[$to]}"
done

# A Service by name: cluster DNS (the add-on, at the kubelets' --cluster-dns) resolves it,
# kube-proxy carries the connection to one of the 6 pods, wherever it runs.
from=${POD_ON[${WORKERS[0]}]}
svc_ip=$(k get service bootstrap-web -o 'jsonpath={.spec.clusterIP}')
resolved=$(k exec "$from" -- nslookup -type=a bootstrap-web.default.svc.cluster.local. 2>&1 |
  awk '/^Address/ {a = $NF} END {print a}') || true
[[ $resolved == "$svc_ip" ]] ||
  fail "bootstrap-web.default.svc.cluster.local resolved to '$resolved' in $from, want $svc_ip"
seen=()
for _ in 1 2 3 4 5 6; do
  got=$(http_get "$from" "$resolved" 80 2>&1) ||
    fail "$from cannot reach Service bootstrap-web at $resolved: $got"
  [[ -n ${IP_OF[$got]:-} ]] || fail "Service bootstrap-web answered '$got', not one of its pods"
  seen+=("$got")
done
log "ok: $from resolved bootstrap-web to $resolved and reached its pods: $(printf '%s\n' "${seen[@]}" | sort -u | paste -sd' ')"

log "reset"
"$ADM" reset || fail "rudderadm reset"
left=()
for p in $(pgrep -f "$RUDDER_ROOT" || true); do
  left+=("process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)")
done
while read -r m; do
  [[ -n $m ]] && left+=("mount $m")
done < <(awk -v r="$RUDDER_ROOT" 'index($2, r) == 1 {print $2}' /proc/mounts)
for ns in /run/netns/rdr-bootstrap-*; do
  [[ -e $ns ]] && left+=("network namespace ${ns##*/}")
done
for b in rdr60 rdr61 rdr62 rdr-nodes; do
  ip link show "$b" >/dev/null 2>&1 && left+=("bridge $b")
done
nft list table ip kube-proxy >/dev/null 2>&1 && left+=("nftables table ip kube-proxy")
while read -r f; do
  [[ -n $f ]] && left+=("file $f")
done < <(find "$RUDDER_ROOT" -mindepth 1 -not -type d -not -path "$RUDDER_ROOT/var/log/*")
if ((${#left[@]})); then
  printf '    %s\n' "${left[@]}" >&2
  fail "reset left ${#left[@]} things behind"
fi
log "ok: reset left nothing behind"
rm -rf "$RUDDER_ROOT"
log "PASS in $((SECONDS - START))s"
