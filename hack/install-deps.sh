#!/usr/bin/env bash
# Installs what Rudder needs on a Debian machine: etcd, containerd + runc + crun + CNI plugins,
# nftables and friends, busybox-static (test images) and protoc (etcd-client and the CRI
# protos are compiled at build time). Idempotent: apt is skipped when everything is present.
#
#   hack/install-deps.sh            # system packages
#   hack/install-deps.sh --python   # also the Python `kubernetes` client (e2e tests)
#   hack/install-deps.sh --ha       # also HAProxy (hack/ha-up.sh's load balancer)
set -euo pipefail

PACKAGES=(
  etcd-server etcd-client
  containerd runc crun containernetworking-plugins
  nftables iptables conntrack iproute2
  busybox-static protobuf-compiler libprotobuf-dev
  curl ca-certificates
  openssl # hack/local-up-cluster.sh signs the kubelet's serving certificate; apiserver tests make RSA keys
  python3 # hack/build-images.sh writes the image tarballs with Python's tarfile/hashlib
)

log() { echo "install-deps: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    # `dpkg-query -W` prints "install ok installed" only for fully installed packages.
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
      echo "$p"
    fi
  done
}

install_system() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "system packages present"
    return
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The judge of client compatibility: the PyPI `kubernetes` package, installed only if missing.
install_python_client() {
  local py=${PYTHON:-python3}
  if ! command -v "$py" >/dev/null 2>&1; then
    log "no $py; skipping the Python kubernetes client"
    return 1
  fi
  if "$py" -c 'import kubernetes' >/dev/null 2>&1; then
    log "python kubernetes client present"
    return
  fi
  log "installing the python kubernetes client"
  "$py" -m pip install -q kubernetes ||
    "$py" -m pip install -q --break-system-packages kubernetes
}

main() {
  local want_python=0 arg
  for arg in "$@"; do
    case $arg in
      --python) want_python=1 ;;
      # Only the HA topology needs a load balancer; the quick start stays lean.
      --ha) PACKAGES+=(haproxy) ;;
      -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
      *) log "unknown argument $arg"; exit 2 ;;
    esac
  done
  install_system
  if [[ $want_python -eq 1 ]]; then
    install_python_client
  fi
}

main "$@"
