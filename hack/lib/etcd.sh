#!/usr/bin/env bash
# A private single-member etcd on loopback (Debian's etcd-server), as the integration tests
# and local-up-cluster use it. Source after util.sh.

# rudder::etcd::start DATA_DIR CLIENT_PORT PEER_PORT LOG_FILE
# Starts etcd in the background, sets ETCD_PID and ETCD_ENDPOINT, waits until healthy.
rudder::etcd::start() {
  local data_dir=$1 client_port=$2 peer_port=$3 log_file=$4
  local etcd_bin
  etcd_bin=$(command -v etcd || echo /usr/bin/etcd)
  if [[ ! -x $etcd_bin ]]; then
    echo "etcd not found; run hack/install-deps.sh" >&2
    return 1
  fi
  mkdir -p "$data_dir"
  chmod 700 "$data_dir"
  ETCD_ENDPOINT="http://127.0.0.1:${client_port}"
  local peer="http://127.0.0.1:${peer_port}"
  "$etcd_bin" \
    --name rudder \
    --data-dir "$data_dir" \
    --listen-client-urls "$ETCD_ENDPOINT" \
    --advertise-client-urls "$ETCD_ENDPOINT" \
    --listen-peer-urls "$peer" \
    --initial-advertise-peer-urls "$peer" \
    --initial-cluster "rudder=$peer" \
    --initial-cluster-state new \
    >"$log_file" 2>&1 &
  ETCD_PID=$!
  if ! rudder::util::wait_for etcd 30 "$ETCD_PID" curl -fsS "$ETCD_ENDPOINT/health"; then
    tail -n 20 "$log_file" >&2
    return 1
  fi
}
