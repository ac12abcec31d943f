#!/usr/bin/env bash
# Private etcd on loopback (Debian's etcd-server): a single member, as the integration tests
# and local-up-cluster use it, or the members of a cluster (hack/ha-up.sh), whose peers talk
# mutual TLS with certificates from the cluster CA (RUDDER_ETCD_PEER_TLS_DIR). Clients still
# use plain HTTP on loopback: kube-apiserver has no --etcd-cafile/--etcd-certfile/
# --etcd-keyfile yet. Source after util.sh.

rudder::etcd::bin() {
  local etcd_bin
  etcd_bin=$(command -v etcd || echo /usr/bin/etcd)
  if [[ ! -x $etcd_bin ]]; then
    echo "etcd not found; run hack/install-deps.sh" >&2
    return 1
  fi
  echo "$etcd_bin"
}

# rudder::etcd::issue_peer_cert PKI_DIR — etcd-peer.crt/etcd-peer.key in PKI_DIR, signed by
# the cluster CA there (ca.crt, ca.key): what every member presents to, and accepts from, its
# peers (kubeadm's etcd/peer certificate, from the cluster CA rather than a separate etcd
# CA). One certificate serves all members here, as they all listen on 127.0.0.1. Reused
# while it verifies against the CA.
rudder::etcd::issue_peer_cert() {
  local pki=$1 crt=$1/etcd-peer.crt key=$1/etcd-peer.key csr=$1/etcd-peer.csr
  if [[ -s $crt && -s $key ]] && openssl verify -CAfile "$pki/ca.crt" "$crt" >/dev/null 2>&1; then
    return 0
  fi
  (
    umask 077
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$key" -subj "/CN=etcd-peer" -out "$csr" 2>/dev/null
  ) || return 1
  openssl x509 -req -in "$csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -out "$crt" \
    -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost") 2>/dev/null || return 1
  rm -f "$csr"
}

# The scheme of peer URLs: https when RUDDER_ETCD_PEER_TLS_DIR names a directory with the
# peer certificate (rudder::etcd::issue_peer_cert), else http.
rudder::etcd::peer_scheme() {
  if [[ -n ${RUDDER_ETCD_PEER_TLS_DIR:-} && -s $RUDDER_ETCD_PEER_TLS_DIR/etcd-peer.crt ]]; then
    echo https
  else
    echo http
  fi
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
  local client="http://127.0.0.1:${client_port}"
  local scheme peer tls=()
  scheme=$(rudder::etcd::peer_scheme)
  peer="$scheme://127.0.0.1:${peer_port}"
  if [[ $scheme == https ]]; then
    # Mutual TLS between members: each presents the peer certificate and accepts only
    # peers whose certificate the cluster CA signed.
    local d=$RUDDER_ETCD_PEER_TLS_DIR
    tls=(--peer-cert-file "$d/etcd-peer.crt" --peer-key-file "$d/etcd-peer.key"
      --peer-trusted-ca-file "$d/ca.crt" --peer-client-cert-auth)
  fi
  "$etcd_bin" \
    --name "$name" \
    --data-dir "$data_dir" \
    --listen-client-urls "$client" \
    --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" \
    --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$initial_cluster" \
    --initial-cluster-state new \
    "${tls[@]}" \
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
