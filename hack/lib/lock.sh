#!/usr/bin/env bash
# The machine-wide cluster lock. Clusters on this machine share the pod bridges, pod CIDRs and
# the one nftables `table ip kube-proxy`, so only one cluster script may run at a time:
# every script that starts a cluster takes /run/rudder-cluster.lock (flock) first and refuses
# at once, naming the holder, when another process has it.
#
# Nesting does not deadlock: flock(2) locks belong to an open file description, and a child
# inherits its parent's descriptors. A script started by a locking script (ha-up.sh starting
# local-up-cluster.sh for its workers, the e2e scripts starting rudderadm.sh), or by
# `flock /run/rudder-cluster.lock CMD`, finds the inherited descriptor of the lock file and
# re-locks it, which succeeds because it is the same description that holds the lock.
#
#   rudder::lock::acquire WHO   # take the lock on fd 200, or print the holder and return 1
#
# The lock is held on fd 200 and any other inherited descriptor of the file is closed, so
# daemons can be started without it (`200>&-`): a daemon that outlives its script must not
# keep the machine locked.
# Environment: RUDDER_CLUSTER_LOCK (default /run/rudder-cluster.lock).

RUDDER_CLUSTER_LOCK=${RUDDER_CLUSTER_LOCK:-/run/rudder-cluster.lock}

# Descriptors of this shell that refer to the lock file (inherited from a locking parent).
rudder::lock::inherited_fds() {
  local fd target
  for fd in /proc/$$/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    [[ $target == "$RUDDER_CLUSTER_LOCK" ]] && echo "${fd##*/}"
  done
}

# Who holds the lock: every process with the lock file open (a flock lock lives as long as
# one of them does), with its command line, and the note the holding script wrote.
rudder::lock::holder() {
  local fd pid line
  for fd in /proc/[0-9]*/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == "$RUDDER_CLUSTER_LOCK" ]] || continue
    pid=${fd#/proc/}
    pid=${pid%%/*}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    echo "$pid"
  done | sort -un | while read -r pid; do
    line=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    echo "  pid $pid: $line"
  done
  # The note is only current while the process that wrote it still has the file open (a
  # script that does not write one may hold the lock after ours ended).
  local note writer
  note=$(head -n 1 "$RUDDER_CLUSTER_LOCK" 2>/dev/null) || note=""
  writer=$(sed -n 's/^pid \([0-9]*\):.*/\1/p' <<<"$note")
  if [[ -n $writer ]] && ls -l "/proc/$writer/fd" 2>/dev/null | grep -qF -- "-> $RUDDER_CLUSTER_LOCK"; then
    echo "  the lock file says: $note"
  fi
}

# rudder::lock::acquire WHO — non-blocking; WHO names the script in the messages.
rudder::lock::acquire() {
  local who=$1 fd
  for fd in $(rudder::lock::inherited_fds); do
    [[ $fd == 200 ]] && continue
    # Same open file description as the parent's: re-locking it cannot conflict.
    eval "exec 200<&$fd $fd<&-"
  done
  if [[ ! -e /proc/$$/fd/200 || $(readlink /proc/$$/fd/200) != "$RUDDER_CLUSTER_LOCK" ]]; then
    # Read-write without truncating: the holder's note in the file stays readable.
    exec 200<>"$RUDDER_CLUSTER_LOCK"
  fi
  if ! flock -n 200; then
    exec 200<&-
    {
      echo "$who: another cluster script holds $RUDDER_CLUSTER_LOCK (one cluster at a time on"
      echo "$who: this machine: they share the pod bridges and the nftables table ip kube-proxy):"
      rudder::lock::holder | sed "s/^/$who: /"
      echo "$who: stop that cluster first, or wait: flock $RUDDER_CLUSTER_LOCK $0 ..."
    } >&2
    return 1
  fi
  # The outermost holder leaves its note; nested scripts keep it.
  if [[ -z ${RUDDER_CLUSTER_LOCK_OWNER:-} ]]; then
    export RUDDER_CLUSTER_LOCK_OWNER="$$ $who"
    echo "pid $$: $who $(date -u +%H:%M:%S)" >"$RUDDER_CLUSTER_LOCK"
  fi
}
