#!/usr/bin/env bash
# The traffic guard: Service and pod addresses are private-range addresses, and a packet for
# one of them that no local rule or route claims would otherwise follow the default route
# off this machine. The guard drops such packets on the external interfaces (eth*). Every
# script that starts a cluster installs it first and never removes it while the cluster runs
# (see shared/RUNTIME-NOTES.md). The host's own packets are judged at postrouting, not
# output: at output a packet to a ClusterIP still carries the route chosen before
# kube-proxy's DNAT (eth0) and would be dropped; at postrouting it carries its final one (the
# pod bridge). Traffic to pods on local bridges is unaffected either way.
#
# IPv6: Service and pod ranges of a dual-stack cluster are unique-local (fc00::/7) or
# documentation (2001:db8::/32) addresses, and this machine's own eth0 network is fd00::/64
# with a default route, so an unclaimed IPv6 Service or pod address would leave just the same.
# The guard drops IPv6 packets to those ranges on the external interfaces too. Only what
# keeps the host's own IPv6 link working passes: neighbour/router discovery and the host's
# IPv6 default gateways (the next hop itself, never a Service range). Loopback, our bridges,
# veths and test namespaces are not eth*, so cluster traffic is unaffected.
#
# Source it and call `rudder::guard::install`, or run it directly.

# The host's own DNS resolvers (from /etc/resolv.conf) may sit in a private range too (here:
# 10.255.255.53): port 53 to exactly those addresses is the machine's configured path to its
# resolver, not a Service or pod address, so it is accepted before the drop.
rudder::guard::resolvers() {
  awk '$1 == "nameserver" && $2 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { print $2 }' \
    /etc/resolv.conf 2>/dev/null | sort -u | paste -sd, -
}

# The host's IPv6 default gateways (comma-separated), whose own address may be unique-local.
rudder::guard::ipv6_gateways() {
  ip -6 route show default 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort -u | paste -sd, -
}

# The IPv6 lines of one guard chain: let the host's link keep working, drop the rest of the
# private and documentation ranges on eth*.
rudder::guard::ipv6_rules() {
  local gateways
  gateways=$(rudder::guard::ipv6_gateways)
  echo '    oifname "eth*" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept'
  if [[ -n $gateways ]]; then
    echo "    oifname \"eth*\" ip6 daddr { $gateways } accept"
  fi
  echo '    oifname "eth*" ip6 daddr { fc00::/7, fec0::/10, 2001:db8::/32 } counter drop'
}

rudder::guard::ruleset() {
  local resolvers allow="" ipv6
  resolvers=$(rudder::guard::resolvers)
  if [[ -n $resolvers ]]; then
    allow="    ip daddr { $resolvers } udp dport 53 accept
    ip daddr { $resolvers } tcp dport 53 accept"
  fi
  ipv6=$(rudder::guard::ipv6_rules)
  cat <<NFT
table inet rudder_guard {
  chain guard_out {
    type filter hook postrouting priority 10; policy accept;
$allow
    oifname "eth*" ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 } counter drop
$ipv6
  }
  chain guard_fwd {
    type filter hook forward priority 10; policy accept;
    oifname "eth*" ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 } counter drop
$ipv6
  }
}
NFT
}

# Idempotent: an existing table with both chains, the resolver exception (when there are
# private resolvers) and the IPv6 drop in both chains is left as it is, counters kept;
# anything else named rudder_guard (e.g. an IPv4-only guard) is replaced atomically.
rudder::guard::install() {
  local nft
  nft=$(command -v nft || echo /usr/sbin/nft)
  if [[ ! -x $nft ]]; then
    echo "guard: nft not found; run hack/install-deps.sh" >&2
    return 1
  fi
  local out fwd
  if out=$("$nft" list chain inet rudder_guard guard_out 2>/dev/null) &&
     fwd=$("$nft" list chain inet rudder_guard guard_fwd 2>/dev/null) &&
     grep -q 'hook postrouting' <<<"$out" &&
     grep -q 'fc00::/7' <<<"$out" && grep -q 'fc00::/7' <<<"$fwd" &&
     { [[ -z $(rudder::guard::resolvers) ]] || grep -q 'dport 53 accept' <<<"$out"; }; then
    return 0
  fi
  # `add table` then `delete table` makes the delete safe when the table is absent; the whole
  # batch is applied atomically by nft -f.
  {
    echo "add table inet rudder_guard"
    echo "delete table inet rudder_guard"
    rudder::guard::ruleset
  } | "$nft" -f - || {
    echo "guard: failed to install the nftables guard table" >&2
    return 1
  }
  echo "guard: installed table inet rudder_guard" >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  rudder::guard::install
fi
