#!/usr/bin/env bash
# Control-plane pieces shared by hack/local-up-cluster.sh (one of each) and hack/ha-up.sh
# (several apiservers, controller-managers and schedulers on one PKI): the cluster PKI, the
# flags every kube-apiserver of a cluster shares, and component kubeconfigs. Source it.
#
#   rudder::control_plane::first_service_ip CIDR
#   rudder::control_plane::generate_pki BIN_DIR PKI_DIR SERVICE_CIDR [EXTRA_APISERVER_IPS]
#   rudder::control_plane::apiserver_flags PKI_DIR SERVICE_CIDR NODE_PORT_RANGE
#                                           # sets the array RUDDER_APISERVER_FLAGS
#   rudder::control_plane::component_kubeconfig BIN_DIR PKI_DIR CN SERVER OUT

# The service IP range's first address is the `kubernetes` Service's ClusterIP (upstream
# rule); it must be in the apiserver's serving certificate.
rudder::control_plane::first_service_ip() {
  local cidr=$1 a b c d prefix
  IFS=./ read -r a b c d prefix <<<"$cidr"
  local mask=$(((0xffffffff << (32 - ${prefix:-32})) & 0xffffffff))
  local n=$((((a << 24 | b << 16 | c << 8 | d) & mask) + 1))
  echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"
}

# The CA, the apiserver's serving certificate (127.0.0.1 and the first service IP), the
# service-account key pair, the admin client and the apiserver's client identity towards
# kubelets (logs, exec, port-forward, nodes/proxy).
rudder::control_plane::generate_pki() {
  local bin_dir=$1 pki_dir=$2 service_cidr=$3 extra_ips=${4:-}
  "$bin_dir/rudder-pki" init --dir "$pki_dir" \
    --apiserver-ip "127.0.0.1${extra_ips:+,$extra_ips}" \
    --service-ip "$(rudder::control_plane::first_service_ip "$service_cidr")" >/dev/null
  "$bin_dir/rudder-pki" client --dir "$pki_dir" --cn kube-apiserver-kubelet-client \
    --group system:masters --name apiserver-kubelet-client >/dev/null
}

# The flags every kube-apiserver of one cluster shares (all but --etcd-servers, the ports
# and addresses), in the array RUDDER_APISERVER_FLAGS.
rudder::control_plane::apiserver_flags() {
  local pki_dir=$1 service_cidr=$2 node_port_range=$3
  RUDDER_APISERVER_FLAGS=(
    --tls-cert-file "$pki_dir/apiserver.crt"
    --tls-private-key-file "$pki_dir/apiserver.key"
    --client-ca-file "$pki_dir/ca.crt"
    --service-cluster-ip-range "$service_cidr"
    --service-node-port-range "$node_port_range"
    --authorization-mode Node,RBAC
    # How the apiserver reaches kubelets: with its own client certificate, at their
    # InternalIP first (as kubeadm configures it), since node names need not resolve.
    --kubelet-client-certificate "$pki_dir/apiserver-kubelet-client.crt"
    --kubelet-client-key "$pki_dir/apiserver-kubelet-client.key"
    --kubelet-preferred-address-types InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP
    # Service account tokens (TokenRequest, bearer authentication), kubeadm's key layout;
    # every apiserver of a cluster signs and verifies with the same keys. The
    # ServiceAccount admission plugin is on (upstream's default): pods get the
    # kube-api-access-* volume, whose CA comes from the kube-root-ca.crt ConfigMap that
    # kube-controller-manager publishes when started with --root-ca-file.
    --service-account-issuer https://kubernetes.default.svc.cluster.local
    --service-account-key-file "$pki_dir/sa.pub"
    --service-account-signing-key-file "$pki_dir/sa.key"
    # The aggregation layer (kubeadm's front-proxy layout from rudder-pki init): the
    # apiserver presents front-proxy-client when it proxies to an APIService's backend,
    # which trusts X-Remote-User only from certificates of front-proxy-ca.
    --proxy-client-cert-file "$pki_dir/front-proxy-client.crt"
    --proxy-client-key-file "$pki_dir/front-proxy-client.key"
    --requestheader-client-ca-file "$pki_dir/front-proxy-ca.crt"
    --requestheader-allowed-names front-proxy-client
  )
}

# A client certificate for CN (file name: CN with ':' as '-') and a kubeconfig using it
# against SERVER, written to OUT.
rudder::control_plane::component_kubeconfig() {
  local bin_dir=$1 pki_dir=$2 cn=$3 server=$4 out=$5
  "$bin_dir/rudder-pki" client --dir "$pki_dir" --cn "$cn" >/dev/null
  "$bin_dir/rudder-pki" kubeconfig --dir "$pki_dir" --user "${cn//:/-}" \
    --context rudder --server "$server" --out "$out" >/dev/null
}
