#!/usr/bin/env bash
# Runs the same kubectl commands with Rudder's kubectl and with the real one against one
# cluster and compares what a user sees: stdout (ages normalised), stderr and exit status;
# for mutating commands also the resulting objects.
#
#   hack/e2e/kubectl-compare.sh                          # starts its own local cluster
#   RUDDER_E2E_KUBECONFIG=F hack/e2e/kubectl-compare.sh  # uses an existing cluster
#
#   RUDDER_KUBECTL   our binary (default $CARGO_TARGET_DIR/debug/kubectl, else target/debug)
#   REAL_KUBECTL     the reference (default /usr/bin/kubectl)
#   COMPARE_FILTER   only run cases whose name contains this text
#
# The cases are in hack/e2e/compare/cases.sh. Read-only cases look at fixtures in namespace
# kc-compare; mutating cases run each binary in a fresh namespace of its own
# (kc-mut-N-ours, kc-mut-N-real), prepared the same way by the real kubectl. Prints PASS/FAIL per case and exits
# non-zero when any case failed. KUBECONFIG from the environment is never used.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z ${RUDDER_E2E_KUBECONFIG:-} ]]; then
  exec "$ROOT/hack/e2e/with-cluster.sh" "$0" "$@"
fi
unset KUBECONFIG
COMPARE=$ROOT/hack/e2e/compare
OURS=${RUDDER_KUBECTL:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kubectl}
REAL=${REAL_KUBECTL:-/usr/bin/kubectl}
WORK=$(mktemp -d /tmp/rudder-kubectl-compare.XXXXXX)
# Our discovery cache must not be shared with a user's: a private HOME for both binaries.
export HOME=$WORK/home
mkdir -p "$HOME"
trap 'rm -rf "$WORK"' EXIT

for b in "$OURS" "$REAL"; do
  if [[ ! -x $b ]]; then
    echo "kubectl-compare: $b is not an executable (build with: cargo build -p kubectl)" >&2
    exit 2
  fi
done

PASSED=0
FAILED=0
FAILURES=()

# real ARGS... — the reference kubectl, for setup and inspection.
real() {
  timeout 120 "$REAL" --kubeconfig "$RUDDER_E2E_KUBECONFIG" "$@"
}

# normalise FILE — ages become <age>, timestamps <time>, runs of spaces one (columns widen with ages), and the
# per-binary namespace names one name.
normalise() {
  sed -E -e 's/\b[0-9]+(s|m|h|d|y)([0-9]+(s|m|h|d))?\b/<age>/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<time>/g' \
    -e 's/ {2,}/  /g' -e 's/ +$//' -e 's/kc-mut-[0-9]+-(ours|real)/kc-mut/g' "$1"
}

# state NS ARGS... — an object as JSON without what differs between two creations.
state() {
  local ns=$1
  shift
  real -n "$ns" "$@" -o json 2>&1 | jq -S '
    def clean: del(.metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
                   .metadata.managedFields, .metadata.namespace, .metadata.generation,
                   .metadata.annotations["deployment.kubernetes.io/revision"], .status)
               | if .metadata.annotations == {} then del(.metadata.annotations) else . end;
    if .items then .items |= map(clean) else clean end' 2>/dev/null |
    sed -E 's/kc-mut-[0-9]+-(ours|real)/kc-mut/g' || echo "(no state)"
}

# run_one BIN NS STDIN ARGS... — runs BIN, leaves out/err/rc in $WORK/<tag>.*
run_one() {
  local tag=$1 bin=$2 ns=$3 stdin=$4
  shift 4
  local rc=0
  if [[ -n $stdin ]]; then
    timeout 120 "$bin" --kubeconfig "$RUDDER_E2E_KUBECONFIG" -n "$ns" "$@" \
      <"$stdin" >"$WORK/$tag.out" 2>"$WORK/$tag.err" || rc=$?
  else
    timeout 120 "$bin" --kubeconfig "$RUDDER_E2E_KUBECONFIG" -n "$ns" "$@" \
      </dev/null >"$WORK/$tag.out" 2>"$WORK/$tag.err" || rc=$?
  fi
  echo "$rc" >"$WORK/$tag.rc"
}

report() {
  local name=$1 ok=$2 why=$3
  if [[ $ok == 1 ]]; then
    PASSED=$((PASSED + 1))
    echo "PASS $name"
  else
    FAILED=$((FAILED + 1))
    FAILURES+=("$name")
    echo "FAIL $name: $why"
    sed 's/^/    /' "$WORK/why" | head -n 40
  fi
}

# compare_outputs NAME — compares ours.* with real.*; sets $WORK/why.
compare_outputs() {
  local name=$1 ok=1 why=""
  : >"$WORK/why"
  if [[ $(cat "$WORK/ours.rc") != "$(cat "$WORK/real.rc")" ]]; then
    ok=0
    why="exit status ours=$(cat "$WORK/ours.rc") real=$(cat "$WORK/real.rc")"
    { echo "--- our stderr"; cat "$WORK/ours.err"; echo "--- real stderr"; cat "$WORK/real.err"; } >>"$WORK/why"
  fi
  if ! diff <(normalise "$WORK/ours.out") <(normalise "$WORK/real.out") >>"$WORK/why"; then
    ok=0
    why="${why:+$why; }stdout differs (< ours, > real)"
  fi
  if ! diff <(normalise "$WORK/ours.err") <(normalise "$WORK/real.err") >>"$WORK/why"; then
    ok=0
    why="${why:+$why; }stderr differs (< ours, > real)"
  fi
  if [[ -e $WORK/ours.state ]] && ! diff "$WORK/ours.state" "$WORK/real.state" >>"$WORK/why"; then
    ok=0
    why="${why:+$why; }resulting objects differ (< ours, > real)"
  fi
  report "$name" "$ok" "$why"
}

skip() {
  [[ -n ${COMPARE_FILTER:-} && $1 != *"$COMPARE_FILTER"* ]]
}

# same NAME -- ARGS... — a read-only command in namespace kc-compare.
same() {
  local name=$1
  shift 2
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  run_one ours "$OURS" kc-compare "" "$@"
  run_one real "$REAL" kc-compare "" "$@"
  compare_outputs "$name"
}

# mut NAME [--setup "ARGS"]... [--stdin FILE] [--state "ARGS"] -- ARGS...
# Each binary runs ARGS in its own fresh namespace after the same setup (done by the real
# kubectl); --state names objects whose resulting JSON must match.
mut() {
  local name=$1
  shift
  local setups=() stdin="" state_args=""
  while [[ $1 != -- ]]; do
    case $1 in
      --setup) setups+=("$2"); shift 2 ;;
      --stdin) stdin=$2; shift 2 ;;
      --state) state_args=$2; shift 2 ;;
      *) echo "mut: bad option $1" >&2; return 1 ;;
    esac
  done
  shift
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  local tag bin ns s
  CASE_NO=$((CASE_NO + 1))
  for tag in ours real; do
    ns=kc-mut-$CASE_NO-$tag
    [[ $tag == ours ]] && bin=$OURS || bin=$REAL
    fresh_namespace "$ns"
    for s in "${setups[@]}"; do
      eval "real -n $ns $s" >/dev/null 2>&1
    done
    run_one "$tag" "$bin" "$ns" "$stdin" "$@"
    if [[ -n $state_args ]]; then
      eval "state $ns $state_args" >"$WORK/$tag.state"
    fi
  done
  compare_outputs "$name"
}

# fresh_namespace NS — a new, empty namespace (one per case and binary: no cleanup races).
fresh_namespace() {
  real create ns "$1" >/dev/null
  NAMESPACES+=("$1")
}
NAMESPACES=(kc-compare)
CASE_NO=0

echo "kubectl-compare: ours=$OURS real=$REAL ($("$REAL" version --client 2>/dev/null | head -n1))"
# A previous run's namespaces may still be terminating.
real wait --for=delete ns/kc-compare --timeout=180s >/dev/null 2>&1
for ns in $(real get ns -o name 2>/dev/null | grep -o 'kc-mut-.*'); do
  real wait --for=delete "ns/$ns" --timeout=180s >/dev/null 2>&1
done
real create ns kc-compare >/dev/null 2>&1
real apply -f "$COMPARE/fixtures.yaml" >/dev/null || { echo "kubectl-compare: fixtures failed" >&2; exit 1; }
# Both binaries must see the same replica counts and ready pods: wait for the deployment.
real -n kc-compare rollout status deploy/web --timeout=120s >/dev/null 2>&1 ||
  echo "kubectl-compare: warning: deployment web not ready; pod columns may race" >&2

source "$COMPARE/cases.sh"

real delete ns "${NAMESPACES[@]}" --wait=false >/dev/null 2>&1
echo
echo "kubectl-compare: $PASSED passed, $FAILED failed"
if ((FAILED > 0)); then
  printf '  FAIL %s\n' "${FAILURES[@]}"
  exit 1
fi
