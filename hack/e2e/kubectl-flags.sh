#!/usr/bin/env bash
# Which of the real kubectl's commands and command flags Rudder's kubectl does not accept.
#
#   hack/e2e/kubectl-flags.sh            # check against the list of known gaps
#   hack/e2e/kubectl-flags.sh --list     # print every missing flag, one `command --flag` a line
#
#   RUDDER_KUBECTL   our binary (default $CARGO_TARGET_DIR/debug/kubectl, else target/debug)
#   REAL_KUBECTL     the reference (default /usr/lib/google-cloud-sdk/bin/kubectl.1.32)
#
# Every command and subcommand the real kubectl lists is walked; each flag its `--help` shows
# under "Options:" is given to ours with its upstream default (or `x`) in front of `--help`.
# A command counts as missing when ours answers "unknown command" to its --help (it is then
# listed as `command (command)` and its flags are not walked).
# A flag counts as missing only when ours answers "unknown flag"/"unknown shorthand flag":
# other refusals (a value ours validates differently) are not this check's business.
# Without --list, exits non-zero when the missing flags differ from
# hack/e2e/compare/flags-missing.txt in either direction (a new gap, or a gap closed without
# updating the list), so the list always says what is left. Needs no cluster.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OURS=${RUDDER_KUBECTL:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kubectl}
REAL=${REAL_KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
KNOWN=$ROOT/hack/e2e/compare/flags-missing.txt
for b in "$OURS" "$REAL"; do
  if [[ ! -x $b ]]; then
    echo "kubectl-flags: $b is not an executable" >&2
    exit 2
  fi
done
WORK=$(mktemp -d /tmp/rudder-kubectl-flags.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Neither binary may read a user's kubeconfig or cache.
export HOME=$WORK/home KUBECONFIG=$WORK/none
mkdir -p "$HOME"

# The subcommands a help page lists: indented words in its command sections.
subcommands() {
  "$REAL" "$@" --help 2>/dev/null | awk '
    /^[A-Za-z].*Commands.*:$/ { in_list = 1; next }
    /^$/ { in_list = 0 }
    in_list && /^  [a-z]/ { print $1 }'
}

# "flag default" for each option a help page lists, e.g. "all-namespaces false".
options() {
  "$REAL" "$@" --help 2>/dev/null | sed -nE "s/^ +(-[A-Za-z], )?--([a-z0-9-]+)=(.*):\$/\2 \3/p"
}

# Commands whose flags are not ours to check: help and the shell-completion internals.
skip_command() {
  case "$1" in
    help | __complete | __completeNoDesc | completion | kustomize | options | alpha) return 0 ;;
  esac
  return 1
}

walk() {
  local sub
  # A whole command ours lacks counts once, as `command (command)`, not flag by flag.
  local help
  help=$("$OURS" "$@" --help </dev/null 2>&1)
  if [[ $help == "error: unknown command"* ]]; then
    echo "$* (command)"
    return
  fi
  options "$@" | while read -r flag default; do
    local value=${default//\'/}
    [[ $value == "[]" || -z $value ]] && value=x
    local refusal
    refusal=$("$OURS" "$@" "--$flag=$value" --help </dev/null 2>&1 >/dev/null)
    if [[ $refusal =~ unknown\ (shorthand\ )?flag ]]; then
      echo "$* --$flag"
    fi
  done
  for sub in $(subcommands "$@"); do
    skip_command "$sub" || walk "$@" "$sub"
  done
}

for top in $(subcommands); do
  skip_command "$top" || walk "$top"
done | sort >"$WORK/missing"

if [[ ${1:-} == --list ]]; then
  cat "$WORK/missing"
  exit 0
fi
grep -vE '^(#|$)' "$KNOWN" | sort >"$WORK/known"
total=$(wc -l <"$WORK/missing")
if diff -u "$WORK/known" "$WORK/missing" >"$WORK/diff"; then
  echo "kubectl-flags: $total upstream commands and flags still missing, all of them listed in ${KNOWN#"$ROOT"/}"
  exit 0
fi
echo "kubectl-flags: the missing flags differ from ${KNOWN#"$ROOT"/} (- closed gap, + new gap):" >&2
grep -E '^[-+][^-+]' "$WORK/diff" >&2
exit 1
