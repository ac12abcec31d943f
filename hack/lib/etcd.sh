#!/usr/bin/env bash
# Private etcd on loopback (Debian's etcd-server): a single member, as the integration tests
# and local-up-cluster use it, or the members of a cluster (hack/ha-up.sh). Source after
# util.sh.

rudder::etcd::bin() {
  local etcd_bin
  etcd_bin=$(command -v etcd || echo /usr/bin/etcd)
  if [[ ! -x $etcd_bin ]]; then
    echo "etcd not found; run hack/install-deps.sh" >&2
    return 1
  fi
  echo "$etcd_bin"
}

# rudder::etcd::launch_member NAME DATA_DIR CLIENT_PORT PEER_PORT INITIAL_CLUSTER LOG_FILE
# Starts one member in the background without waiting (a member of a new cluster is healthy
# only once a quorum runs) and sets ETCD_PID. INITIAL_CLUSTER is etcd's
# `name=http://127.0.0.1:peer,...`; it is only read when DATA_DIR is empty, so the same call
# restarts a member that was stopped.
rudder::etcd::launch_member() {
  local name=$1 data_dir=$2 client_port=$3 peer_port=$4 initial_cluster=$5 log_file=$6
  local etcd_bin
  etcd_bin=$(rudder::etcd::bin) || return 1
  mkdir -p "$data_dir"
  chmod 700 "$data_dir"
  local client="http://127.0.0.1:${client_port}" peer="http://127.0.0.1:${peer_port}"
  "$etcd_bin" \
    --name "$name" \
    --data-dir "$data_dir" \
    --listen-client-urls "$client" \
    --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" \
    --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$initial_cluster" \
    --initial-cluster-state new \
    >>"$log_file" 2>&1 200>&- &
  ETCD_PID=$!
}

# rudder::etcd::start DATA_DIR CLIENT_PORT PEER_PORT LOG_FILE
# Starts a single-member etcd in the background, sets ETCD_PID and ETCD_ENDPOINT, waits until
# healthy.
rudder::etcd::start() {
  local data_dir=$1 client_port=$2 peer_port=$3 log_file=$4
  ETCD_ENDPOINT="http://127.0.0.1:${client_port}"
  : >"$log_file"
  rudder::etcd::launch_member rudder "$data_dir" "$client_port" "$peer_port" \
    "rudder=http://127.0.0.1:${peer_port}" "$log_file" || return 1
  if ! rudder::util::wait_for etcd 30 "$ETCD_PID" curl -fsS "$ETCD_ENDPOINT/health"; then
    tail -n 20 "$log_file" >&2
    return 1
  fi
}
