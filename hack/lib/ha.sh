#!/usr/bin/env bash
# The highly available control plane of hack/ha-up.sh, one component at a time, so that the
# failure drill (hack/e2e/ha-failures.sh) can kill any one of them and start it again
# exactly as it first ran. Source after util.sh, etcd.sh and control-plane.sh, with HA_DIR
# and BIN_DIR set; rudder::ha::load_env reads the rest (ports) from HA_DIR/ha.env.
#
# Components, in start order (rudder::ha::components):
#   etcd-1..3                 a 3-member etcd cluster, data in HA_DIR/etcd-N
#   kube-apiserver-1..3       sharing one PKI (CA, serving cert, service-account keys)
#                             and all three etcd members
#   haproxy                   TCP load balancer in front of the apiservers, health-checking
#                             /readyz over HTTPS; every kubeconfig points at it
#   kube-controller-manager-1..3, kube-scheduler-1..3   --leader-elect (upstream's default)
#   worker-1..RUDDER_HA_WORKERS  a node each: hack/local-up-cluster.sh with RUDDER_NODE_ONLY=1
#                             (containerd, kubelet), node ha-worker-N, pod CIDR
#                             10.244.(69+N).0/24 on bridge rdr(69+N); all in the host's
#                             network namespace (no netns per node yet)
#
# Layout of HA_DIR: ha.env, pki/, logs/NAME.log, run/NAME.pid, etcd-N/, haproxy.cfg,
# admin.kubeconfig, controller-manager.kubeconfig, scheduler.kubeconfig, worker-N/ (the
# node's RUDDER_DIR), env, ready.
#
#   rudder::ha::pick_ports / rudder::ha::save_env / rudder::ha::load_env
#   rudder::ha::start NAME        # start (or restart) one component in the background
#   rudder::ha::wait_ready NAME   # until it serves (etcd: /health; apiserver: /readyz)
#   rudder::ha::kill NAME [SIG]   # SIGKILL (default) or SIG, and wait until it is gone
#   rudder::ha::stop NAME         # SIGTERM, SIGKILL after 10 s (a worker: 60 s)
#   rudder::ha::pid NAME          # its pid, if it runs
#   rudder::ha::lease_holder LEASE          # holderIdentity of kube-system/LEASE
#   rudder::ha::holder_component IDENTITY   # which component logged that identity

RUDDER_HA_MEMBERS=${RUDDER_HA_MEMBERS:-3}
RUDDER_HA_WORKERS=${RUDDER_HA_WORKERS:-1}
RUDDER_HA_PROXY=${RUDDER_HA_PROXY:-0}
RUDDER_HA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

rudder::ha::components() {
  local kind i
  for kind in etcd kube-apiserver; do
    for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do echo "$kind-$i"; done
  done
  echo haproxy
  for kind in kube-controller-manager kube-scheduler; do
    for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do echo "$kind-$i"; done
  done
  for ((i = 1; i <= RUDDER_HA_WORKERS; i++)); do echo "worker-$i"; done
}

# Free loopback ports for every member; kept in HA_DIR/ha.env so a restarted component gets
# the same ones.
rudder::ha::pick_ports() {
  local i api_port
  # Every apiserver serves on the same port, each on its own loopback address
  # (rudder::ha::api_host): the kubernetes Service's Endpoints carry one port for all of them.
  rudder::util::free_port api_port
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    rudder::util::free_port "ETCD_CLIENT_PORT_$i"
    rudder::util::free_port "ETCD_PEER_PORT_$i"
    printf -v "API_PORT_$i" %s "$api_port"
    rudder::util::free_port "SCHEDULER_PORT_$i"
  done
  for ((i = 1; i <= RUDDER_HA_WORKERS; i++)); do
    rudder::util::free_port "KUBELET_PORT_$i"
    rudder::util::free_port "KUBELET_HEALTHZ_PORT_$i"
  done
  LB_PORT=${LB_PORT:-}
  if [[ -z $LB_PORT ]] || rudder::util::port_in_use "$LB_PORT"; then
    rudder::util::free_port LB_PORT
  fi
}

rudder::ha::save_env() {
  local i
  {
    echo "RUDDER_HA_MEMBERS=$RUDDER_HA_MEMBERS"
    echo "RUDDER_HA_WORKERS=$RUDDER_HA_WORKERS"
    echo "RUDDER_HA_PROXY=${RUDDER_HA_PROXY:-0}"
    echo "NODE_MONITOR_GRACE_PERIOD=$NODE_MONITOR_GRACE_PERIOD"
    echo "LB_PORT=$LB_PORT"
    echo "SERVICE_CIDR=$SERVICE_CIDR"
    echo "NODE_PORT_RANGE=$NODE_PORT_RANGE"
    echo "LOG_LEVEL=$LOG_LEVEL"
    echo "BIN_DIR=$BIN_DIR"
    for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
      echo "ETCD_CLIENT_PORT_$i=$(rudder::ha::var ETCD_CLIENT_PORT_$i)"
      echo "ETCD_PEER_PORT_$i=$(rudder::ha::var ETCD_PEER_PORT_$i)"
      echo "API_PORT_$i=$(rudder::ha::var API_PORT_$i)"
      echo "SCHEDULER_PORT_$i=$(rudder::ha::var SCHEDULER_PORT_$i)"
    done
    for ((i = 1; i <= RUDDER_HA_WORKERS; i++)); do
      echo "KUBELET_PORT_$i=$(rudder::ha::var KUBELET_PORT_$i)"
      echo "KUBELET_HEALTHZ_PORT_$i=$(rudder::ha::var KUBELET_HEALTHZ_PORT_$i)"
    done
  } >"$HA_DIR/ha.env"
}

rudder::ha::load_env() {
  if [[ ! -f $HA_DIR/ha.env ]]; then
    echo "no HA cluster in $HA_DIR (missing ha.env); start hack/ha-up.sh first" >&2
    return 1
  fi
  # shellcheck disable=SC1091
  source "$HA_DIR/ha.env"
}

rudder::ha::var() {
  echo "${!1}"
}

# The etcd members' client URLs, comma separated (kube-apiserver --etcd-servers).
rudder::ha::etcd_servers() {
  local i urls=()
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    urls+=("http://127.0.0.1:$(rudder::ha::var ETCD_CLIENT_PORT_$i)")
  done
  (IFS=,; echo "${urls[*]}")
}

rudder::ha::initial_cluster() {
  local i peers=()
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
    peers+=("etcd-$i=$(RUDDER_ETCD_PEER_TLS_DIR=$HA_DIR/pki rudder::etcd::peer_scheme)://127.0.0.1:$(rudder::ha::var ETCD_PEER_PORT_$i)")
  done
  (IFS=,; echo "${peers[*]}")
}

# The log filter for lease candidates: whatever RUST_LOG says, plus the leader election's
# info lines, which name the identity (rudder::ha::holder_component reads them).
rudder::ha::rust_log() {
  echo "${RUST_LOG:-info},common::leader_election=info"
}

# True while PID runs. A killed component that `ha-up.sh start` started is reaped by PID 1,
# which may take seconds: until then it is a zombie, which counts as gone.
rudder::ha::alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # Field 3, after the parenthesised command name, is the state.
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

rudder::ha::pid() {
  local file=$HA_DIR/run/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  rudder::ha::alive "$pid" || return 1
  echo "$pid"
}

rudder::ha::running() {
  rudder::ha::pid "$1" >/dev/null
}

# rudder::ha::start NAME — start one component in the background (log appended to
# HA_DIR/logs/NAME.log, pid in HA_DIR/run/NAME.pid). Starting a running one is an error.
rudder::ha::start() {
  local name=$1 n=${1##*-} pid
  if pid=$(rudder::ha::pid "$name"); then
    echo "$name already runs (pid $pid)" >&2
    return 1
  fi
  mkdir -p "$HA_DIR/logs" "$HA_DIR/run"
  local log=$HA_DIR/logs/$name.log
  echo "==== $(date -u +%FT%TZ) starting $name" >>"$log"
  case $name in
    etcd-*)
      # Peer TLS when ha-up.sh issued the peer certificate (RUDDER_ETCD_PEER_TLS=1).
      RUDDER_ETCD_PEER_TLS_DIR=$HA_DIR/pki rudder::etcd::launch_member "$name" "$HA_DIR/$name" \
        "$(rudder::ha::var ETCD_CLIENT_PORT_$n)" "$(rudder::ha::var ETCD_PEER_PORT_$n)" \
        "$(rudder::ha::initial_cluster)" "$log" || return 1
      pid=$ETCD_PID
      ;;
    kube-apiserver-*)
      rudder::control_plane::apiserver_flags "$HA_DIR/pki" "$SERVICE_CIDR" "$NODE_PORT_RANGE"
      "$BIN_DIR/kube-apiserver" \
        --etcd-servers "$(rudder::ha::etcd_servers)" \
        --bind-address "$(rudder::ha::api_host "$n")" \
        --secure-port "$(rudder::ha::var API_PORT_$n)" \
        --advertise-address "$(rudder::ha::api_host "$n")" \
        "${RUDDER_APISERVER_FLAGS[@]}" \
        -v "$LOG_LEVEL" >>"$log" 2>&1 200>&- &
      pid=$!
      ;;
    haproxy)
      rudder::ha::write_haproxy_config
      # -db: stay in the foreground (no daemon), so the pid is haproxy's own.
      haproxy -db -f "$HA_DIR/haproxy.cfg" >>"$log" 2>&1 200>&- &
      pid=$!
      ;;
    kube-controller-manager-*)
      RUST_LOG=$(rudder::ha::rust_log) "$BIN_DIR/kube-controller-manager" \
        --kubeconfig "$HA_DIR/controller-manager.kubeconfig" \
        --leader-elect=true \
        --root-ca-file "$HA_DIR/pki/ca.crt" \
        --node-monitor-grace-period "$NODE_MONITOR_GRACE_PERIOD" \
        -v "$LOG_LEVEL" >>"$log" 2>&1 200>&- &
      pid=$!
      ;;
    kube-scheduler-*)
      RUST_LOG=$(rudder::ha::rust_log) "$BIN_DIR/kube-scheduler" \
        --kubeconfig "$HA_DIR/scheduler.kubeconfig" \
        --authentication-kubeconfig "$HA_DIR/scheduler.kubeconfig" \
        --authorization-kubeconfig "$HA_DIR/scheduler.kubeconfig" \
        --leader-elect=true \
        --secure-port "$(rudder::ha::var SCHEDULER_PORT_$n)" \
        -v "$LOG_LEVEL" >>"$log" 2>&1 200>&- &
      pid=$!
      ;;
    worker-*)
      # The node part of the quick start, against the load balancer. kube-proxy only on
      # request: its nftables table is one per machine (and so per host-netns node).
      mkdir -p "$HA_DIR/$name"
      rm -f "$HA_DIR/$name/ready"
      RUDDER_DIR=$HA_DIR/$name RUDDER_NODE_ONLY=1 RUDDER_SKIP_DEPS=1 RUDDER_SKIP_BUILD=1 \
        RUDDER_BIN_DIR=$BIN_DIR API_PORT=$LB_PORT PKI_DIR=$HA_DIR/pki \
        KUBECONFIG_PATH=$HA_DIR/admin.kubeconfig \
        KUBELET_PORT=$(rudder::ha::var KUBELET_PORT_$n) \
        KUBELET_HEALTHZ_PORT=$(rudder::ha::var KUBELET_HEALTHZ_PORT_$n) \
        POD_CIDR=10.244.$((69 + n)).0/24 CNI_BRIDGE=rdr$((69 + n)) NODE_NAME=ha-worker-$n \
        RUDDER_NO_PROXY=$((1 - RUDDER_HA_PROXY)) LOG_LEVEL=$LOG_LEVEL \
        "$RUDDER_HA_ROOT/hack/local-up-cluster.sh" >>"$log" 2>&1 &
      pid=$!
      ;;
    *)
      echo "unknown component $name" >&2
      return 1
      ;;
  esac
  # Its death is the drill's business, not a job-control message of this shell.
  disown "$pid" 2>/dev/null || true
  echo "$pid" >"$HA_DIR/run/$name.pid"
}

rudder::ha::etcd_healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:$(rudder::ha::var ETCD_CLIENT_PORT_$1)/health" |
    grep -q '"health":"true"'
}

# rudder::ha::apiserver_ready HOST PORT — /readyz answers 200.
rudder::ha::apiserver_ready() {
  curl -fsS --max-time 2 --cacert "$HA_DIR/pki/ca.crt" \
    "https://$1:$2/readyz" >/dev/null
}

# rudder::ha::api_host N — the loopback address kube-apiserver-N serves and advertises on.
rudder::ha::api_host() {
  echo "127.0.0.$((10 + $1))"
}

# The apiservers' addresses, comma-separated (for the serving certificate).
rudder::ha::api_hosts() {
  local i hosts=()
  for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do hosts+=("$(rudder::ha::api_host "$i")"); done
  (IFS=,; echo "${hosts[*]}")
}

# rudder::ha::wait_ready NAME [TIMEOUT] — until NAME serves; controllers and schedulers only
# need to be running (one of them leads, the others wait on the Lease).
rudder::ha::wait_ready() {
  local name=$1 timeout=${2:-60} n=${1##*-} pid
  pid=$(rudder::ha::pid "$name") || { echo "$name is not running" >&2; return 1; }
  case $name in
    etcd-*) rudder::util::wait_for "$name" "$timeout" "$pid" rudder::ha::etcd_healthy "$n" ;;
    kube-apiserver-*)
      rudder::util::wait_for "$name" "$timeout" "$pid" \
        rudder::ha::apiserver_ready "$(rudder::ha::api_host "$n")" "$(rudder::ha::var API_PORT_$n)"
      ;;
    haproxy) rudder::util::wait_for "$name" "$timeout" "$pid" rudder::ha::apiserver_ready 127.0.0.1 "$LB_PORT" ;;
    # Images are built and imported first: give it time.
    worker-*) rudder::util::wait_for "$name" 600 "$pid" test -e "$HA_DIR/$name/ready" ;;
    *) sleep 0.5; kill -0 "$pid" 2>/dev/null ;;
  esac
}

# rudder::ha::kill NAME [SIGNAL] — SIGKILL by default: a crash, no graceful hand-over.
rudder::ha::kill() {
  local name=$1 sig=${2:-KILL} pid i
  pid=$(rudder::ha::pid "$name") || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    rudder::ha::alive "$pid" || break
    sleep 0.05
  done
  rm -f "$HA_DIR/run/$name.pid"
}

# rudder::ha::stop NAME — SIGTERM, SIGKILL after 10 s (a worker: 60 s, it stops its
# kubelet, containers and containerd first).
rudder::ha::stop() {
  local name=$1 pid i grace=100
  [[ $name == worker-* ]] && grace=600
  if pid=$(rudder::ha::pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
      rudder::ha::alive "$pid" || break
      sleep 0.1
    done
    rudder::ha::kill "$name" KILL
  fi
  rm -f "$HA_DIR/run/$name.pid"
}

# HAProxy in TCP mode (TLS passes through to the apiservers, so client certificates still
# authenticate), checking each apiserver's /readyz over HTTPS against the cluster CA every
# second (every 250 ms once a check failed). A connection refused by a dead apiserver is
# retried on another one at once (redispatch),
# and sessions to a server marked down are closed so watches reconnect elsewhere.
rudder::ha::write_haproxy_config() {
  local i
  {
    cat <<CFG
global
  log stdout format raw local0 notice
  maxconn 4096

defaults
  mode tcp
  log global
  # Loopback connects are instant; a failed one is retried after min(this, 1 s).
  timeout connect 500ms
  # Watches and exec streams are long-lived.
  timeout client 1h
  timeout server 1h
  retries 3
  # Retry a refused connection on another apiserver at once, not on the same one.
  option redispatch 1

frontend kube-apiserver
  bind 127.0.0.1:$LB_PORT
  default_backend kube-apiservers

backend kube-apiservers
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz
  http-check expect status 200
  default-server check check-ssl verify required ca-file $HA_DIR/pki/ca.crt inter 1s fastinter 250ms fall 2 rise 2 on-marked-down shutdown-sessions
CFG
    for ((i = 1; i <= RUDDER_HA_MEMBERS; i++)); do
      echo "  server kube-apiserver-$i $(rudder::ha::api_host "$i"):$(rudder::ha::var API_PORT_$i)"
    done
  } >"$HA_DIR/haproxy.cfg"
}

# rudder::ha::lease_holder LEASE — the holderIdentity of kube-system/LEASE, through the load
# balancer (empty when nobody holds it).
rudder::ha::lease_holder() {
  kubectl --kubeconfig "$HA_DIR/admin.kubeconfig" --request-timeout=5s -n kube-system \
    get lease "$1" -o 'jsonpath={.spec.holderIdentity}'
}

# rudder::ha::holder_component IDENTITY — the component whose log names IDENTITY (every
# candidate logs its identity when it acquires the lease).
rudder::ha::holder_component() {
  local identity=$1 file
  [[ -n $identity ]] || return 1
  for file in "$HA_DIR"/logs/kube-controller-manager-*.log "$HA_DIR"/logs/kube-scheduler-*.log; do
    if grep -qF -- "$identity" "$file" 2>/dev/null; then
      basename "$file" .log
      return 0
    fi
  done
  return 1
}
