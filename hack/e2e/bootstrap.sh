#!/usr/bin/env bash
# End-to-end test of hack/rudderadm.sh (issue 9): on a private root (nothing under the real
# /etc or /var is touched) it runs
#   init   → the control-plane static pods Running from rudder.local images, each with a
#            mirror pod (kubernetes.io/config.mirror, config.source=file) owned by the Node;
#            the node Ready
#   join   → a worker kubelet on the same machine, Ready
#   the control-plane node labelled node-role.kubernetes.io/control-plane and tainted NoSchedule
#   a Deployment of 2 busybox pods Running on the worker, with pod IPs from its CIDR
#   reset  → no kubelet, containerd, container, mount, bridge or file of the cluster is left
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
WORKER=bootstrap-w1
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
"$ADM" init || fail "rudderadm init"
log "init took $((SECONDS - START))s"

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

log "join $WORKER"
"$ADM" join "$WORKER" || fail "rudderadm join"
for n in "$NODE_NAME" "$WORKER"; do
  [[ $(k get node "$n" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
    fail "node $n not Ready"
done
log "ok: nodes $NODE_NAME and $WORKER Ready"

log "a Deployment of 2 busybox pods"
k create deployment bootstrap-web --image=busybox:latest --replicas=2 -- sleep 3600 >/dev/null ||
  fail "creating the Deployment"
all_running() {
  local phases
  phases=$(k get pods -l app=bootstrap-web -o 'jsonpath={range .items[*]}{.status.phase}{"\n"}{end}')
  [[ $(grep -c '^Running$' <<<"$phases") == 2 ]]
}
eventually 90 all_running || {
  k get pods -o wide >&2 || true
  fail "the Deployment's pods are not Running"
}
while read -r name ip node; do
  case $node in
    "$NODE_NAME") fail "$name runs on the tainted control-plane node" ;;
    "$WORKER") [[ $ip == 10.244.61.* ]] || fail "$name on $node has IP $ip, outside 10.244.61.0/24" ;;
    *) fail "$name runs on unknown node $node" ;;
  esac
  log "ok: $name Running on $node at $ip"
done < <(k get pods -l app=bootstrap-web -o 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{"\n"}{end}')

log "reset"
"$ADM" reset || fail "rudderadm reset"
left=()
for p in $(pgrep -f "$RUDDER_ROOT" || true); do
  left+=("process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)")
done
while read -r m; do
  [[ -n $m ]] && left+=("mount $m")
done < <(awk -v r="$RUDDER_ROOT" 'index($2, r) == 1 {print $2}' /proc/mounts)
for b in rdr60 rdr61; do
  ip link show "$b" >/dev/null 2>&1 && left+=("bridge $b")
done
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
