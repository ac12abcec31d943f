#!/usr/bin/env bash
# Small helpers shared by the hack/ scripts: free ports, waiting, stopping processes.
# Source it; functions are namespaced rudder::util::*.

# rudder::util::free_port VAR
# Store in VAR a TCP port on 127.0.0.1 that nothing listens on. Ports already handed out by
# this shell are remembered, so two calls never return the same port (which is why the port
# is assigned to a variable rather than printed: a $(...) subshell would forget it).
RUDDER_UTIL_TAKEN_PORTS=${RUDDER_UTIL_TAKEN_PORTS:-}
rudder::util::free_port() {
  # Odd local names: `printf -v` must not hit a local that shadows the caller's variable.
  local __fp_var=$1 __fp_port __fp_listening
  __fp_listening=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
  for _ in $(seq 1 200); do
    __fp_port=$((20000 + RANDOM % 12000))
    if ! grep -qx "$__fp_port" <<<"$__fp_listening" &&
      [[ " $RUDDER_UTIL_TAKEN_PORTS " != *" $__fp_port "* ]]; then
      RUDDER_UTIL_TAKEN_PORTS="$RUDDER_UTIL_TAKEN_PORTS $__fp_port"
      printf -v "$__fp_var" '%s' "$__fp_port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# True when something listens on 127.0.0.1:PORT.
rudder::util::port_in_use() {
  ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# rudder::util::wait_for NAME TIMEOUT_SECONDS PID COMMAND...
# Retry COMMAND every 0.2 s until it succeeds; give up after the timeout or when PID (the
# process expected to become ready; 0 for none) has exited.
rudder::util::wait_for() {
  local name=$1 timeout=$2 pid=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [[ $pid != 0 ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before becoming ready" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "$name not ready after ${timeout}s" >&2
  return 1
}

# Stop PID with SIGTERM, escalating to SIGKILL after GRACE seconds (default 10).
rudder::util::stop_pid() {
  local pid=$1 grace=${2:-10} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# rudder::util::check_free_disk DIR SPARE_GIB — fails, saying why, when the file system
# holding DIR has less free than the kubelet's eviction threshold (2 % in our scripts'
# --eviction-hard) plus SPARE_GIB GiB. Below that, the test clusters' kubelets evict pods
# part-way through the e2e suites, which then fail far from the cause. (Measured in CI on
# 2026-12-02: the e2e suites' directories peak at 5.0 GB, during the bootstrap e2e.)
rudder::util::check_free_disk() {
  local dir=$1 spare_gib=$2 size_kib free_kib need_kib
  read -r size_kib free_kib < <(df -Pk "$dir" | awk 'NR == 2 {print $2, $4}')
  need_kib=$((size_kib / 50 + spare_gib * 1024 * 1024))
  if ((free_kib < need_kib)); then
    echo "only $((free_kib / 1024 / 1024)) GiB free on the file system of $dir;" \
      "the e2e suites need $((need_kib / 1024 / 1024)) GiB (the kubelet evicts pods below 2 %" \
      "free, and the clusters write about ${spare_gib} GiB). Free some space (old target" \
      "directories, /tmp/rudder-*) and run again." >&2
    return 1
  fi
}
