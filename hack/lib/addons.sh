#!/usr/bin/env bash
# The cluster add-ons (addons/*/manifests: cluster DNS, the Ingress controller, and any other
# add-on with a manifests directory), deployed the same way by every cluster script:
# hack/local-up-cluster.sh and hack/rudderadm.sh init. Source after util.sh and
# control-plane.sh.
#
#   rudder::addons::cluster_dns_ip SERVICE_CIDR     # the kube-dns Service's address
#   rudder::addons::manifest_dirs                   # every addons/*/manifests directory
#   rudder::addons::deployments DIR...              # namespace/name of every Deployment
#   rudder::addons::import_images BIN_DIR SOCKET LOG   # build + import the add-on images
#   rudder::addons::deploy KUBECTL KUBECONFIG SERVICE_CIDR LOG [TIMEOUT]
#                                                   # apply every add-on, await rollouts
#
# Add-on images come from binaries cargo built (no registry): hack/build-images.sh --addons
# builds them and imports them into one node's containerd; every node that may run an
# add-on pod needs them (imagePullPolicy Never).

RUDDER_ADDONS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The service range's tenth address (10.96.0.10 by default), as kubeadm picks it for
# kube-dns; addons/dns/manifests/service.yaml names it and the kubelet's --cluster-dns
# must match.
rudder::addons::cluster_dns_ip() {
  local first
  first=$(rudder::control_plane::first_service_ip "$1")
  echo "${first%.*}.$((${first##*.} + 9))"
}

# Every add-on with manifests, in name order (dns, ingress, metrics, …).
rudder::addons::manifest_dirs() {
  local dir
  for dir in "$RUDDER_ADDONS_ROOT"/addons/*/manifests; do
    [[ -d $dir ]] && compgen -G "$dir/*.yaml" >/dev/null && echo "$dir"
  done
  return 0
}

# rudder::addons::deployments DIR... — "namespace/name" of each Deployment in the YAML files
# under DIR (multi-document files too; a Deployment without a namespace is in "default").
rudder::addons::deployments() {
  local dir
  for dir in "$@"; do
    awk '
      function flush() {
        if (kind == "Deployment" && name != "") print (ns == "" ? "default" : ns) "/" name
        kind = ""; name = ""; ns = ""; meta = 0
      }
      FNR == 1 { flush() }
      /^---/ { flush(); next }
      /^kind:/ { kind = $2 }
      /^metadata:/ { meta = 1; next }
      /^[^ #]/ { meta = 0 }
      meta && /^  name:/ { name = $2 }
      meta && /^  namespace:/ { ns = $2 }
      END { flush() }
    ' "$dir"/*.yaml
  done
}

# rudder::addons::import_images BIN_DIR SOCKET LOG — build the add-on images from BIN_DIR's
# binaries and import them into the containerd at SOCKET; output to LOG.
rudder::addons::import_images() {
  local bin_dir=$1 sock=$2 log=$3
  ADDON_BIN_DIR=$bin_dir RUDDER_BIN_DIR=$bin_dir \
    "$RUDDER_ADDONS_ROOT/hack/build-images.sh" --addons --import "$sock" >>"$log" 2>&1
}

# rudder::addons::deploy KUBECTL KUBECONFIG SERVICE_CIDR LOG [TIMEOUT]
# Applies every add-on's manifests with KUBECTL (our kubectl or the real one), then waits
# for each of their Deployments to roll out (TIMEOUT seconds each, default 120). The DNS
# add-on's Service must use the address the kubelets were given (--cluster-dns): if it does
# not for SERVICE_CIDR, nothing is applied. Returns non-zero when applying fails; a
# Deployment that does not roll out in time is reported (warning) but not an error, so a
# cluster whose add-on is slow still comes up. Progress goes to stderr, details to LOG.
rudder::addons::deploy() {
  local kubectl=$1 kubeconfig=$2 service_cidr=$3 log=$4 timeout=${5:-120}
  local dns_ip dirs dir names=() deployment
  dns_ip=$(rudder::addons::cluster_dns_ip "$service_cidr")
  local dns_service=$RUDDER_ADDONS_ROOT/addons/dns/manifests/service.yaml
  if [[ -f $dns_service ]] && ! grep -q "clusterIP: $dns_ip\$" "$dns_service"; then
    echo "addons: not deploying: $dns_service does not use $dns_ip ($service_cidr)" >&2
    return 1
  fi
  mapfile -t dirs < <(rudder::addons::manifest_dirs)
  for dir in "${dirs[@]}"; do
    names+=("$(basename "$(dirname "$dir")")")
  done
  echo "addons: applying ${names[*]} (kube-dns at $dns_ip)" >&2
  for dir in "${dirs[@]}"; do
    if ! "$kubectl" --kubeconfig "$kubeconfig" apply -f "$dir/" >>"$log" 2>&1; then
      echo "addons: applying ${dir#"$RUDDER_ADDONS_ROOT"/} failed; see $log" >&2
      return 1
    fi
  done
  while read -r deployment; do
    [[ -n $deployment ]] || continue
    if ! "$kubectl" --kubeconfig "$kubeconfig" -n "${deployment%%/*}" rollout status \
      "deployment/${deployment#*/}" --timeout="${timeout}s" >>"$log" 2>&1; then
      echo "addons: warning: deployment $deployment is not ready after ${timeout}s; see $log" >&2
    fi
  done < <(rudder::addons::deployments "${dirs[@]}")
  return 0
}
