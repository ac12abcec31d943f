#!/usr/bin/env bash
# The HA failure drill (issue 9, "Must show" 3) against hack/ha-up.sh's cluster. While a
# client keeps creating and reading ConfigMaps through the load balancer (every create it
# sees acknowledged is recorded), it
#   1. kills the etcd leader                      -> writes continue
#   2. kills a kube-apiserver                     -> kubectl keeps working
#   3. kills the leading kube-controller-manager and kube-scheduler (found through their
#      Leases)                                    -> others take over within the lease
#      duration, and a new Deployment gets its pods created and scheduled
#   4. stops the worker running that Deployment's first pod (kubelet and containers gone;
#      needs RUDDER_HA_WORKERS >= 2)             -> its pods are recreated on the other worker
#      once the node is Unknown and their NoExecute toleration (5 s) has run out
#   5. restores everything                        -> the cluster converges (all etcd members
#      and apiservers healthy and agreeing, every node Ready, the Deployment available, the
#      stopped worker's pods finally deleted)
# and then checks that every acknowledged write is present, through every apiserver:
# `acknowledged N, present N, lost 0`. Failures 1-3 are SIGKILL (a crash, no hand-over); the
# worker is stopped (its kubelet, containers and containerd), as a node that goes away. The
# time from each failure to the first successful write after it is measured and printed as
# a table (hack/bench/ha records it). Exits non-zero on any lost write or failed step.
#
#   hack/e2e/ha-failures.sh
#
# Environment:
#   RUDDER_DIR           the HA cluster's directory (default /tmp/rudder-ha-drill)
#   RUDDER_HA_EXISTING=1 drill the cluster already running there; otherwise hack/ha-up.sh
#                        is started (and stopped at the end) by this script, with
#                        RUDDER_HA_WORKERS (default 2) workers and NODE_MONITOR_GRACE_PERIOD
#                        (default 20s: upstream's 50s would add half a minute)
#   HA_DRILL_TABLE       also write the timing table (markdown) to this file
#   RUDDER_BIN_DIR, RUDDER_SKIP_BUILD, RUDDER_SKIP_DEPS   passed to hack/ha-up.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# For the cluster this script starts (hack/ha-up.sh and hack/lib/ha.sh read them).
export RUDDER_HA_WORKERS=${RUDDER_HA_WORKERS:-2}
export NODE_MONITOR_GRACE_PERIOD=${NODE_MONITOR_GRACE_PERIOD:-20s}
source "$ROOT/hack/lib/util.sh"
source "$ROOT/hack/lib/etcd.sh"
source "$ROOT/hack/lib/control-plane.sh"
source "$ROOT/hack/lib/ha.sh"
source "$ROOT/hack/lib/lock.sh"

HA_DIR=${RUDDER_DIR:-/tmp/rudder-ha-drill}
export RUDDER_DIR=$HA_DIR
# Its own namespace per run, so a drill can repeat on a cluster that still runs.
NS=ha-drill-$(date +%s)
WORK=$HA_DIR/drill
KUBECTL=(kubectl --kubeconfig "$HA_DIR/admin.kubeconfig" --request-timeout=10s)
CLUSTER_PID=
WRITER_PID=
FAILED=0
TABLE=()

log() { echo "ha-failures: $*" >&2; }
fail() { log "FAIL: $*"; FAILED=1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }

cleanup() {
  local status=$?
  # A second Ctrl-C or TERM must not cut the cleanup short and leave processes behind.
  trap '' INT TERM
  trap - EXIT
  stop_writer
  if [[ -n $CLUSTER_PID ]]; then
    log "stopping the HA cluster"
    rudder::util::stop_pid "$CLUSTER_PID" 120
  fi
  exit "$status"
}

start_cluster() {
  if [[ ${RUDDER_HA_EXISTING:-0} == 1 ]]; then
    [[ -e $HA_DIR/ready ]] || { log "no running HA cluster in $HA_DIR"; exit 1; }
    return
  fi
  # Held for the whole drill (ha-up.sh inherits it); not with RUDDER_HA_EXISTING=1, where the
  # running ha-up.sh holds it.
  rudder::lock::acquire ha-failures || exit 1
  log "starting hack/ha-up.sh in $HA_DIR (output: $HA_DIR.out)"
  mkdir -p "$HA_DIR"
  rm -f "$HA_DIR/ready"
  "$ROOT/hack/ha-up.sh" >"$HA_DIR.out" 2>&1 &
  CLUSTER_PID=$!
  if ! rudder::util::wait_for "HA cluster" "${RUDDER_CLUSTER_TIMEOUT:-1800}" "$CLUSTER_PID" \
    test -e "$HA_DIR/ready"; then
    tail -n 30 "$HA_DIR.out" >&2
    exit 1
  fi
}

# api HOST:PORT [CURL ARGS] — curl API_PATH on that apiserver (or the load balancer) as the
# cluster admin.
api() {
  local addr=$1
  shift
  curl -sS --max-time 5 --cacert "$HA_DIR/pki/ca.crt" \
    --cert "$HA_DIR/pki/admin.crt" --key "$HA_DIR/pki/admin.key" "$@" \
    "https://$addr${API_PATH}"
}

# create_cm NAME — POST a ConfigMap through the load balancer; true when acknowledged (201).
create_cm() {
  local code
  code=$(API_PATH=/api/v1/namespaces/$NS/configmaps api "127.0.0.1:$LB_PORT" -o /dev/null \
    --max-time "${CREATE_TIMEOUT:-5}" \
    -w '%{http_code}' -H 'Content-Type: application/json' -X POST \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\"},\"data\":{\"at\":\"$(date +%s%N)\"}}" \
    2>/dev/null) || true
  [[ $code == 201 ]]
}

read_cm() {
  local code
  code=$(API_PATH=/api/v1/namespaces/$NS/configmaps/$1 api "127.0.0.1:$LB_PORT" -o /dev/null \
    -w '%{http_code}' 2>/dev/null) || true
  [[ $code == 200 ]]
}

# The client that keeps writing and reading through the load balancer during the drill.
# Acknowledged names go to WORK/acked, every outcome to WORK/writer.log.
writer() {
  local i=0 name
  while [[ ! -e $WORK/stop ]]; do
    i=$((i + 1))
    name=w-$i
    if create_cm "$name"; then
      echo "$name" >>"$WORK/acked"
      if read_cm "$name"; then
        echo "$(now_ms) read-ok $name"
      else
        echo "$(now_ms) read-fail $name"
      fi
    else
      echo "$(now_ms) create-fail $name"
    fi
    sleep 0.05
  done >>"$WORK/writer.log"
}

stop_writer() {
  if [[ -n $WRITER_PID ]]; then
    touch "$WORK/stop"
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_PID=
  fi
}

# first_write LABEL T0_MS — try a create every 50 ms until one is acknowledged; record the
# time since T0 (the failure) in the table.
first_write() {
  local label=$1 t0=$2 k=0 deadline=$(($(now_ms) + 60000)) slug name
  slug=$(tr ' ' '-' <<<"$label" | tr -cd 'a-z0-9-')
  while (($(now_ms) < deadline)); do
    k=$((k + 1))
    name=probe-$slug-$k
    # A 2 s client timeout: a request stuck on a dying member is abandoned and retried.
    if CREATE_TIMEOUT=2 create_cm "$name"; then
      echo "$name" >>"$WORK/acked"
      FIRST_WRITE_MS=$(($(now_ms) - t0))
      log "$label: first successful write after $(secs "$FIRST_WRITE_MS") s ($k attempts)"
      return 0
    fi
    sleep 0.05
  done
  fail "$label: no successful write within 60 s"
  FIRST_WRITE_MS=-1
  return 1
}

# Acknowledged creates by the background writer after T0_MS (it keeps going).
writer_acks_since() {
  awk -v t="$1" '$1 >= t && ($2 == "read-ok" || $2 == "read-fail")' \
    "$WORK/writer.log" | wc -l
}

etcd_endpoints() {
  rudder::ha::etcd_servers
}

# The component name (etcd-N) of the current etcd leader.
etcd_leader() {
  local i port
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    rudder::ha::running "etcd-$i" || continue
    port=$(rudder::ha::var "ETCD_CLIENT_PORT_$i")
    if ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$port" endpoint status -w json 2>/dev/null |
      python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["Status"]; sys.exit(0 if s["leader"]==s["header"]["member_id"] else 1)'; then
      echo "etcd-$i"
      return 0
    fi
  done
  return 1
}

step_etcd() {
  local leader t0
  leader=$(etcd_leader) || { fail "no etcd leader found"; return; }
  log "step 1: killing the etcd leader $leader"
  t0=$(now_ms)
  rudder::ha::kill "$leader"
  first_write "etcd leader killed" "$t0" || true
  TABLE+=("| etcd leader ($leader) killed | $(secs "$FIRST_WRITE_MS") | new etcd leader: $(etcd_leader || echo none) |")
  # The client may sit in a request that the dead leader never answers (its timeout: 5 s).
  local acks=0 deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    acks=$(writer_acks_since "$t0")
    ((acks >= 5)) && break
    sleep 0.5
  done
  if ((acks > 0)); then
    log "step 1: the client's writes continue ($acks acknowledged since the kill)"
  else
    fail "step 1: the client got no write acknowledged after the etcd leader was killed"
  fi
  KILLED+=("$leader")
}

# The addresses the kubernetes Service's Endpoints list, sorted, comma-separated.
kubernetes_endpoints() {
  "${KUBECTL[@]}" -n default get endpoints kubernetes -o 'jsonpath={.subsets[*].addresses[*].ip}' |
    tr ' ' '\n' | sort | paste -sd,
}

# endpoints_without IP — the kubernetes Endpoints list other apiservers but not IP.
endpoints_without() {
  local eps
  eps=$(kubernetes_endpoints) || return 1
  [[ -n $eps ]] && ! tr , '\n' <<<"$eps" | grep -qx "$1"
}

step_apiserver() {
  local victim=kube-apiserver-1 t0 i ok=0
  log "step 2: killing $victim"
  t0=$(now_ms)
  rudder::ha::kill "$victim"
  first_write "kube-apiserver killed" "$t0" || true
  local out
  for i in 1 2 3 4 5; do
    if out=$("${KUBECTL[@]}" -n "$NS" get configmaps --no-headers 2>&1) && grep -q . <<<"$out"; then
      ok=$((ok + 1))
    else
      log "step 2: kubectl get configmaps: $(tail -n 2 <<<"$out")"
    fi
  done
  if out=$("${KUBECTL[@]}" get nodes 2>&1); then
    ok=$((ok + 1))
  else
    log "step 2: kubectl get nodes: $(tail -n 2 <<<"$out")"
  fi
  if ((ok == 6)); then
    log "step 2: kubectl keeps working (6 of 6 commands through the load balancer)"
  else
    fail "step 2: only $ok of 6 kubectl commands succeeded with $victim down"
  fi
  # Its record in etcd expires (15 s) and the next pass of a live apiserver (every 10 s)
  # takes it out of the kubernetes Endpoints, so in-cluster clients stop using it.
  local victim_ip gone
  victim_ip=$(rudder::ha::api_host 1)
  rudder::util::wait_for "the kubernetes Endpoints without $victim_ip" 45 0 endpoints_without "$victim_ip" ||
    fail "step 2: the kubernetes Endpoints still list $victim_ip: $(kubernetes_endpoints)"
  gone=$(secs $(($(now_ms) - t0)))
  log "step 2: the kubernetes Endpoints dropped $victim_ip after $gone s: $(kubernetes_endpoints)"
  TABLE+=("| $victim killed | $(secs "$FIRST_WRITE_MS") | kubectl: $ok/6 commands ok; out of the kubernetes Endpoints after $gone s |")
  KILLED+=("$victim")
}

lease_duration() {
  "${KUBECTL[@]}" -n kube-system get lease "$1" -o 'jsonpath={.spec.leaseDurationSeconds}'
}

# wait_new_holder LEASE OLD T0_MS — until the Lease names a holder other than OLD; sets
# TAKEOVER_MS (time since T0) and NEW_HOLDER.
wait_new_holder() {
  local lease=$1 old=$2 t0=$3 holder deadline=$(($(now_ms) + 60000))
  while (($(now_ms) < deadline)); do
    holder=$(rudder::ha::lease_holder "$lease" 2>/dev/null) || holder=
    if [[ -n $holder && $holder != "$old" ]]; then
      TAKEOVER_MS=$(($(now_ms) - t0))
      NEW_HOLDER=$holder
      return 0
    fi
    sleep 0.2
  done
  TAKEOVER_MS=-1
  NEW_HOLDER=
  return 1
}

step_leaders() {
  local cm_holder sched_holder cm_name sched_name t0 duration limit
  cm_holder=$(rudder::ha::lease_holder kube-controller-manager) || cm_holder=
  sched_holder=$(rudder::ha::lease_holder kube-scheduler) || sched_holder=
  cm_name=$(rudder::ha::holder_component "$cm_holder") ||
    { fail "no controller-manager holds the Lease (holder '$cm_holder')"; return; }
  sched_name=$(rudder::ha::holder_component "$sched_holder") ||
    { fail "no scheduler holds the Lease (holder '$sched_holder')"; return; }
  duration=$(lease_duration kube-controller-manager)
  log "step 3: killing the leaders $cm_name ($cm_holder) and $sched_name ($sched_holder); lease duration ${duration}s"
  t0=$(now_ms)
  rudder::ha::kill "$cm_name"
  rudder::ha::kill "$sched_name"
  first_write "leaders killed" "$t0" || true
  local write_ms=$FIRST_WRITE_MS
  # A candidate takes over once the lease has not been renewed for its duration, as seen at
  # its next attempt (every retry period, 2 s): allow the duration plus two retry periods.
  limit=$(((duration + 4) * 1000))
  local cm_ms sched_ms cm_new sched_new
  if wait_new_holder kube-controller-manager "$cm_holder" "$t0"; then
    cm_ms=$TAKEOVER_MS cm_new=$(rudder::ha::holder_component "$NEW_HOLDER" || echo "$NEW_HOLDER")
    log "step 3: $cm_new took the controller-manager Lease after $(secs "$cm_ms") s"
    ((cm_ms <= limit)) || fail "controller-manager takeover took $(secs "$cm_ms") s (> $((limit / 1000)) s)"
  else
    cm_ms=-1 cm_new=none
    fail "no controller-manager took over"
  fi
  if wait_new_holder kube-scheduler "$sched_holder" "$t0"; then
    sched_ms=$TAKEOVER_MS sched_new=$(rudder::ha::holder_component "$NEW_HOLDER" || echo "$NEW_HOLDER")
    log "step 3: $sched_new took the scheduler Lease after $(secs "$sched_ms") s"
    ((sched_ms <= limit)) || fail "scheduler takeover took $(secs "$sched_ms") s (> $((limit / 1000)) s)"
  else
    sched_ms=-1 sched_new=none
    fail "no scheduler took over"
  fi
  TABLE+=("| leading controller-manager + scheduler killed | $(secs "$write_ms") | Lease taken over after $(secs "$cm_ms") s ($cm_new) / $(secs "$sched_ms") s ($sched_new); lease duration ${duration} s |")
  KILLED+=("$cm_name" "$sched_name")
  # The new leaders at work: the Deployment controller (via a ReplicaSet) creates the pods,
  # the scheduler binds them.
  create_deployment || { fail "creating the Deployment failed"; return; }
  local deadline=$((SECONDS + 60)) scheduled=0
  while ((SECONDS < deadline)); do
    scheduled=$("${KUBECTL[@]}" -n "$NS" get pods -l app=drill \
      -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' 2>/dev/null | grep -c . || true)
    ((scheduled >= 2)) && break
    sleep 0.5
  done
  if ((scheduled >= 2)); then
    log "step 3: the new Deployment's 2 pods were created and scheduled"
  else
    fail "step 3: the new Deployment has $scheduled of 2 pods scheduled after 60 s"
  fi
}

# Two replicas that leave a node 5 s after it becomes unreachable or not ready (upstream's
# DefaultTolerationSeconds would give them 300 s).
create_deployment() {
  "${KUBECTL[@]}" -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: drill
spec:
  replicas: 2
  selector:
    matchLabels: {app: drill}
  template:
    metadata:
      labels: {app: drill}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      containers:
      - name: sleep
        image: busybox:latest
        command: [sleep, "3600"]
YAML
}

# "name node phase deleting" per drill pod.
drill_pods() {
  "${KUBECTL[@]}" -n "$NS" get pods -l app=drill -o \
    'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}'
}

# Running drill pods not being deleted, on nodes other than $1.
running_elsewhere() {
  drill_pods 2>/dev/null | awk -v gone="$1" '$2 != gone && $3 == "Running" && $4 == "" {n++} END {print n + 0}'
}

step_worker() {
  if ((RUDDER_HA_WORKERS < 2)); then
    log "step 4: skipped (one worker; RUDDER_HA_WORKERS=2 to drill a worker failure)"
    return
  fi
  local node victim t0 deadline running=0
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    node=$(drill_pods 2>/dev/null | awk '$3 == "Running" && $4 == "" {print $2; exit}')
    [[ -n $node ]] && break
    sleep 0.5
  done
  [[ -n $node ]] || { fail "step 4: no Running drill pod to take a node from"; drill_pods >&2; return; }
  victim=worker-${node##*-}
  log "step 4: stopping $victim (node $node: kubelet, containers and containerd)"
  t0=$(now_ms)
  rudder::ha::stop "$victim"
  local stop_ms=$(($(now_ms) - t0))
  first_write "worker stopped" "$t0" || true
  local write_ms=$FIRST_WRITE_MS
  deadline=$((SECONDS + 180))
  while ((SECONDS < deadline)); do
    running=$(running_elsewhere "$node")
    ((running >= 2)) && break
    sleep 0.5
  done
  local recreate_ms=$(($(now_ms) - t0))
  if ((running >= 2)); then
    log "step 4: the Deployment runs 2 pods off $node again after $(secs "$recreate_ms") s"
  else
    fail "step 4: only $running drill pods run off $node after 180 s"
    drill_pods >&2 || true
  fi
  TABLE+=("| $victim stopped (node $node) | $(secs "$write_ms") | stopping took $(secs "$stop_ms") s; pods running on the other worker after $(secs "$recreate_ms") s (grace period ${NODE_MONITOR_GRACE_PERIOD}, toleration 5 s) |")
  KILLED+=("$victim")
  STOPPED_NODE=$node
}

nodes_ready() {
  local want=$RUDDER_HA_WORKERS
  (("$("${KUBECTL[@]}" get nodes -o 'jsonpath={range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}{end}' | grep -c '^True$')" >= want))
}

# The stopped worker's pods, deleted by the eviction while it was away, are gone once its
# kubelet is back and confirms.
no_pods_left_on() {
  ! drill_pods | awk '{print $2}' | grep -qx "$1"
}

# Every member and apiserver healthy, and every etcd member has applied the write of the
# marker created after the restore (a serializable read answers from the member's own state).
all_converged() {
  local i port
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    rudder::ha::etcd_healthy "$i" || return 1
    rudder::ha::apiserver_ready "$(rudder::ha::api_host "$i")" "$(rudder::ha::var API_PORT_$i)" || return 1
    port=$(rudder::ha::var "ETCD_CLIENT_PORT_$i")
    ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$port" get --consistency=s \
      --keys-only "/registry/configmaps/$NS/converge-marker" 2>/dev/null | grep -q marker || return 1
  done
  # Every apiserver back in the kubernetes Endpoints.
  [[ $(kubernetes_endpoints) == "$(rudder::ha::api_hosts)" ]]
}

step_restore() {
  local name t0
  log "step 5: restoring ${KILLED[*]}"
  local restart_ms
  t0=$(now_ms)
  for name in "${KILLED[@]}"; do
    "$ROOT/hack/ha-up.sh" start "$name" >/dev/null || fail "restarting $name failed"
  done
  restart_ms=$(($(now_ms) - t0))
  log "step 5: restarted and ready after $(secs "$restart_ms") s"
  # From here: whether members rejoining disturb the writes.
  t0=$(now_ms)
  first_write "everything restored" "$t0" || true
  local write_ms=$FIRST_WRITE_MS
  local ready
  ready=$("${KUBECTL[@]}" -n "$NS" rollout status deployment/drill --timeout=120s 2>&1) ||
    fail "step 5: the Deployment did not become available: $ready"
  rudder::util::wait_for "nodes Ready" 60 0 nodes_ready ||
    fail "step 5: not every node is Ready: $("${KUBECTL[@]}" get nodes --no-headers 2>&1 | tr '\n' ';')"
  if [[ -n ${STOPPED_NODE:-} ]]; then
    rudder::util::wait_for "evicted pods" 90 0 no_pods_left_on "$STOPPED_NODE" ||
      fail "step 5: drill pods are still bound to $STOPPED_NODE: $(drill_pods | tr '\n' ';')"
  fi
  stop_writer
  if create_cm converge-marker; then
    echo converge-marker >>"$WORK/acked"
  else
    fail "step 5: creating the convergence marker failed"
  fi
  if rudder::util::wait_for "convergence" 60 0 all_converged; then
    log "step 5: converged: ${RUDDER_HA_MEMBERS} etcd members healthy with the latest write, ${RUDDER_HA_MEMBERS} apiservers ready"
  else
    fail "step 5: the cluster did not converge within 60 s"
  fi
  TABLE+=("| everything restored (restarted and ready in $(secs "$restart_ms") s) | $(secs "$write_ms") | converged; nodes Ready; Deployment available |")
}

# Every acknowledged name must be present, through the load balancer and through each
# apiserver (each serves lists from its own watch cache).
verify() {
  local acked present lost addr names i
  sort -u "$WORK/acked" >"$WORK/acked.sorted"
  acked=$(wc -l <"$WORK/acked.sorted")
  for addr in "127.0.0.1:$LB_PORT" $(for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do echo "$(rudder::ha::api_host "$i"):$(rudder::ha::var "API_PORT_$i")"; done); do
    names=$(API_PATH="/api/v1/namespaces/$NS/configmaps" api "$addr" |
      python3 -c 'import json,sys; [print(i["metadata"]["name"]) for i in json.load(sys.stdin)["items"]]' |
      sort -u) || { fail "listing through $addr failed"; continue; }
    present=$(comm -12 "$WORK/acked.sorted" <(echo "$names") | wc -l)
    lost=$((acked - present))
    if [[ $addr == "127.0.0.1:$LB_PORT" ]]; then
      echo "acknowledged $acked, present $present, lost $lost"
    else
      log "through the apiserver at $addr: present $present of $acked"
    fi
    ((lost == 0)) || { fail "$lost acknowledged writes missing through $addr"; comm -23 "$WORK/acked.sorted" <(echo "$names") | head >&2; }
  done
  local creates_failed reads_failed reads_ok
  creates_failed=$(grep -c ' create-fail ' "$WORK/writer.log" || true)
  reads_ok=$(grep -c ' read-ok ' "$WORK/writer.log" || true)
  reads_failed=$(grep -c ' read-fail ' "$WORK/writer.log" || true)
  log "client: $reads_ok reads of acknowledged creates ok, $reads_failed failed; $creates_failed creates not acknowledged"
}

print_table() {
  local out
  out=$(
    echo "| failure | first successful write after it (s) | notes |"
    echo "|---|---:|---|"
    printf '%s\n' "${TABLE[@]}"
  )
  echo "$out"
  [[ -n ${HA_DRILL_TABLE:-} ]] && echo "$out" >"$HA_DRILL_TABLE"
  return 0
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local started=$SECONDS
  start_cluster
  rudder::ha::load_env
  rm -rf "$WORK"
  mkdir -p "$WORK"
  : >"$WORK/acked"
  "${KUBECTL[@]}" create namespace "$NS" >/dev/null
  writer &
  WRITER_PID=$!
  sleep 2
  KILLED=()
  step_etcd
  step_apiserver
  step_leaders
  step_worker
  step_restore
  verify
  print_table
  log "drill took $((SECONDS - started)) s"
  if ((FAILED)); then
    log "FAILED"
    exit 1
  fi
  log "PASSED"
}

main "$@"
