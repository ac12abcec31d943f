#!/usr/bin/env bash
# A private containerd with the CRI plugin (shared/RUNTIME-NOTES.md): its own root, state,
# socket, runc state and registry hosts under one directory, so it runs beside any other
# containerd and leaves nothing behind when stopped. Source after util.sh.
#
#   rudder::containerd::write_config DIR   # DIR/config.toml (+ DIR/net.d, DIR/certs.d)
#   rudder::containerd::start DIR          # writes the config, starts containerd, waits;
#                                          # sets CONTAINERD_PID and CONTAINERD_SOCK; in the
#                                          # network namespace CONTAINERD_NETNS when set
#   rudder::containerd::ctr DIR ARGS...    # ctr against DIR's socket, namespace k8s.io
#   rudder::containerd::remove_all DIR     # kill and delete every task and container
#   rudder::containerd::stop DIR           # remove_all, stop containerd, reap shims and mounts
#   rudder::containerd::reap DIR           # after containerd died: its containers, shims, mounts
#   rudder::containerd::unmount_under DIR  # unmount everything below DIR, deepest first
#
# Layout of DIR: config.toml, containerd.sock, containerd.pid, containerd.log, root/, state/,
# opt/, runc/, net.d/ (the kubelet writes its CNI conflist there), certs.d/ (registry hosts).

# Every image registry (certs.d/_default applies to each host without its own directory) is
# pointed at a closed loopback port: no registry is reachable here and no image pull may send
# traffic off this machine. Images are imported locally (hack/build-images.sh).
RUDDER_CONTAINERD_DEAD_REGISTRY=${RUDDER_CONTAINERD_DEAD_REGISTRY:-http://127.0.0.1:9}

rudder::containerd::sock() {
  echo "$1/containerd.sock"
}

# rudder::containerd::oci_runtime — which OCI runtime the CRI's default handler runs, on
# stdout: crun where it is installed and this host's cgroup layout suits it (see
# rudder::containerd::prepare_cgroups), else runc. crun starts a container with about a third
# of runc's CPU (no Go runtime, no re-exec of itself as `runc init`), which is most of a
# sandbox's cost on a small machine (hack/bench/RESULTS.md, pod startup).
# RUDDER_OCI_RUNTIME=runc|crun overrides; crun asked for but unusable is an error.
rudder::containerd::oci_runtime() {
  local want=${RUDDER_OCI_RUNTIME:-auto}
  case $want in
    runc) echo runc; return 0 ;;
    crun | auto) ;;
    *) echo "RUDDER_OCI_RUNTIME=$want: expected runc or crun" >&2; return 1 ;;
  esac
  if command -v crun >/dev/null && rudder::containerd::prepare_cgroups; then
    echo crun
  elif [[ $want == crun ]]; then
    echo "RUDDER_OCI_RUNTIME=crun, but crun is missing or this host's cgroups don't suit it" >&2
    return 1
  else
    echo runc
  fi
}

# rudder::containerd::prepare_cgroups — make the host's cgroup layout one crun accepts; fails
# (changing nothing) where it can't. crun refuses a hybrid layout (v1 controllers plus a
# cgroup2 mount at /sys/fs/cgroup/unified) in which the cgroup2 side still holds a controller;
# on this kind of machine that is hugetlb alone, which nothing uses through cgroup2. A
# controller no cgroup2 subtree has enabled can be moved to a v1 hierarchy of its own, where
# runc and crun handle it like the other v1 controllers. Pure v1 and pure v2 need nothing.
rudder::containerd::prepare_cgroups() {
  local unified=/sys/fs/cgroup/unified controller
  [[ -f $unified/cgroup.controllers ]] || return 0
  [[ -z $(<"$unified/cgroup.subtree_control") ]] || return 1
  for controller in $(<"$unified/cgroup.controllers"); do
    mkdir -p "/sys/fs/cgroup/$controller" &&
      mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller" || return 1
    # A change to the host that outlives us: say so once, where the user sees it.
    echo "containerd: moved the $controller cgroup controller from cgroup2 to" \
      "/sys/fs/cgroup/$controller (v1), so that crun accepts this hybrid layout" >&2
  done
  [[ -z $(<"$unified/cgroup.controllers") ]]
}

# rudder::containerd::runtime_table NAME DIR — the CRI runtime handler NAME (runc or crun),
# both through containerd's runc shim, which runs the binary named.
rudder::containerd::runtime_table() {
  local name=$1 dir=$2
  cat <<TOML
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name.options]
        BinaryName = "$(command -v "$name")"
        # The runtime's state beside ours rather than in the shared /run/containerd/runc,
        # so leftovers of this instance can be found and removed.
        Root = "$dir/$name"
TOML
}

# With RUDDER_CONTAINERD_PPROF=1: containerd's debug socket (DIR/debug.sock), which serves
# Go's /debug/pprof for profiling it (hack/bench/pod-startup's notes).
rudder::containerd::pprof_table() {
  cat <<TOML
[debug]
  address = "$1/debug.sock"
TOML
}

# rudder::containerd::config DIR [RUNTIME] — the config for an instance under DIR, on stdout;
# RUNTIME (runc or crun) is the default handler's, rudder::containerd::oci_runtime's choice
# when not given.
rudder::containerd::config() {
  local dir=$1 runtime=${2:-}
  [[ -n $runtime ]] || runtime=$(rudder::containerd::oci_runtime) || return 1
  cat <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"

[grpc]
  address = "$dir/containerd.sock"
$([[ ${RUDDER_CONTAINERD_PPROF:-0} == 1 ]] && rudder::containerd::pprof_table "$dir")

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  netns_mounts_under_state_dir = true
  # Required here: root lacks CAP_SYS_RESOURCE, so the sandbox's oom_score_adj of -998
  # cannot be written and RunPodSandbox fails without this.
  restrict_oom_score_adj = true
  # Exec/attach/port-forward streams: loopback only, on a port the kernel picks.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "$runtime"
$(rudder::containerd::runtime_table runc "$dir")
$([[ $runtime == crun ]] && rudder::containerd::runtime_table crun "$dir")
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/certs.d"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
}

# rudder::containerd::write_config DIR — write DIR/config.toml and the directories it names.
rudder::containerd::write_config() {
  local dir=$1
  local runtime config
  runtime=$(rudder::containerd::oci_runtime) || return 1
  mkdir -p "$dir/root" "$dir/state" "$dir/opt" "$dir/runc" "$dir/crun" "$dir/net.d" \
    "$dir/certs.d/_default"
  config=$(rudder::containerd::config "$dir" "$runtime") || return 1
  echo "$config" >"$dir/config.toml"
  cat >"$dir/certs.d/_default/hosts.toml" <<TOML
# No registry is reachable from this machine; a pull fails fast on loopback instead.
# (containerd 1.6 rejects a hosts.toml without a [host] table.)
server = "$RUDDER_CONTAINERD_DEAD_REGISTRY"
[host."$RUDDER_CONTAINERD_DEAD_REGISTRY"]
  capabilities = ["pull", "resolve"]
TOML
}

# rudder::containerd::ctr DIR ARGS... — ctr against the instance under DIR (namespace k8s.io,
# where the CRI keeps its images and containers).
rudder::containerd::ctr() {
  local dir=$1
  shift
  ctr --address "$dir/containerd.sock" --namespace k8s.io "$@"
}

rudder::containerd::answers() {
  ctr --address "$1/containerd.sock" version
}

# rudder::containerd::start DIR [TIMEOUT] — start containerd for DIR in the background (log
# in DIR/containerd.log) and wait until its socket answers. Sets CONTAINERD_PID and
# CONTAINERD_SOCK.
rudder::containerd::start() {
  local dir=$1 timeout=${2:-30}
  local bin
  bin=$(command -v containerd || echo /usr/bin/containerd)
  if [[ ! -x $bin ]] || ! command -v ctr >/dev/null; then
    echo "containerd/ctr not found; run hack/install-deps.sh" >&2
    return 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local old
  if [[ -f $dir/containerd.pid ]] && old=$(<"$dir/containerd.pid") &&
    grep -q containerd "/proc/$old/cmdline" 2>/dev/null; then
    echo "containerd for $dir already runs (pid $old); stop it first" >&2
    return 1
  fi
  # Leftovers of an instance that was killed: its shims and mounts would confuse the new one.
  rudder::containerd::reap "$dir"
  rudder::containerd::write_config "$dir"
  rudder::containerd::launch "$dir" "$timeout"
}

# rudder::containerd::launch DIR [TIMEOUT] — run containerd on DIR's existing config and wait
# until it answers (sets CONTAINERD_PID, CONTAINERD_SOCK). Without start's reaping, a
# relaunch after a crash finds the running shims again, so pods keep their containers.
rudder::containerd::launch() {
  local dir=$1 timeout=${2:-30}
  local bin
  bin=$(command -v containerd || echo /usr/bin/containerd)
  rm -f "$dir/containerd.sock" "$dir/containerd.sock.ttrpc"
  # A node with its own network namespace (hack/rudderadm.sh join): containerd, and so the
  # CNI plugins and the pods' host-side veths and bridge, live in it. nsenter enters only the
  # network namespace: mounts stay shared with the kubelet.
  local netns=()
  [[ -n ${CONTAINERD_NETNS:-} ]] && netns=(nsenter "--net=/run/netns/$CONTAINERD_NETNS" --)
  "${netns[@]}" "$bin" --config "$dir/config.toml" >>"$dir/containerd.log" 2>&1 200>&- &
  CONTAINERD_PID=$!
  CONTAINERD_SOCK=$dir/containerd.sock
  echo "$CONTAINERD_PID" >"$dir/containerd.pid"
  if ! rudder::util::wait_for containerd "$timeout" "$CONTAINERD_PID" \
    rudder::containerd::answers "$dir"; then
    tail -n 20 "$dir/containerd.log" >&2
    return 1
  fi
}

# rudder::containerd::remove_all DIR — while containerd runs: SIGKILL every task and delete
# every container in every namespace, through containerd, so that the shims unmount the
# root filesystems, remove cgroups and exit on their own.
rudder::containerd::remove_all() {
  local dir=$1 ns id
  local ctr=(timeout 30 ctr --address "$dir/containerd.sock")
  "${ctr[@]}" version >/dev/null 2>&1 || return 0
  for ns in $("${ctr[@]}" namespaces ls -q 2>/dev/null); do
    for id in $("${ctr[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" tasks kill --all --signal SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $("${ctr[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" tasks delete --force "$id" >/dev/null 2>&1 || true
    done
    for id in $("${ctr[@]}" -n "$ns" containers ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" containers delete "$id" >/dev/null 2>&1 || true
    done
  done
}

# Process ids of containerd-shim-runc-v2 processes serving the socket under DIR.
rudder::containerd::shims() {
  local sock=$1/containerd.sock proc
  for proc in /proc/[0-9]*; do
    local cmd
    cmd=$(tr '\0' '\n' 2>/dev/null <"$proc/cmdline") || continue
    if [[ $(head -n 1 <<<"$cmd") == *containerd-shim* ]] &&
      grep -qxF -- "$sock" <<<"$cmd"; then
      echo "${proc#/proc/}"
    fi
  done
}

# rudder::containerd::reap DIR — after containerd is gone (or was killed): remove what it
# left behind. Containers whose bundle lies under DIR are killed and deleted with the runtime
# that made them, in our private runc and crun roots and in the shared runc one (`ctr run`
# uses that), then the shims that served our socket are killed and every mount under DIR is
# unmounted, deepest first.
rudder::containerd::reap() {
  local dir=$1 root ns id bundle pid runtime bin
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  for root in "$dir/runc" "$dir/crun" /run/containerd/runc; do
    runtime=runc
    [[ $root == */crun ]] && runtime=crun
    bin=$(command -v "$runtime") || continue
    [[ -d $root ]] || continue
    for ns in "$root"/*/; do
      [[ -d $ns ]] || continue
      # Both runtimes list ID, PID, STATUS, BUNDLE first.
      while read -r id bundle; do
        if [[ $bundle == "$dir"/* ]]; then
          "$bin" --root "${ns%/}" delete --force "$id" >/dev/null 2>&1 || true
        fi
      done < <("$bin" --root "${ns%/}" list 2>/dev/null | awk 'NR > 1 {print $1, $4}')
    done
  done
  for pid in $(rudder::containerd::shims "$dir"); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  rudder::containerd::unmount_under "$dir"
}

# rudder::containerd::unmount_under DIR — unmount every mount point below DIR, deepest first
# (root filesystems, sandbox network namespaces and shm, or a kubelet's pod volumes).
rudder::containerd::unmount_under() {
  local dir=$1 mnt
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  # Field 5 of mountinfo is the mount point.
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount --lazy "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($5, d) == 1 {print length($5), $5}' /proc/self/mountinfo |
    sort -rn | cut -d' ' -f2-)
}

# rudder::containerd::stop DIR — remove all containers, stop containerd (SIGTERM, SIGKILL
# after 10 s) and reap what is left.
rudder::containerd::stop() {
  local dir=$1 pid=""
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  [[ -f $dir/containerd.pid ]] && pid=$(<"$dir/containerd.pid")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    rudder::containerd::remove_all "$dir"
    rudder::util::stop_pid "$pid" 10
  fi
  rm -f "$dir/containerd.pid"
  rudder::containerd::reap "$dir"
}
