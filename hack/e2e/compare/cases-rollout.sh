# Compare cases for kubectl rollout (sourced by cases.sh; same helpers: same, mut).
# The flags beyond the basics: -f/-R, the print flags, --field-manager, undo's --dry-run and
# status's --revision.

# Manifests naming the Deployment of apply.yaml (`-f` reads only kind and name, then the
# object is read from the server), one at the top and one two directories down (for -R).
RO_FILES=$WORK/rollout-files
mkdir -p "$RO_FILES/tree/nested"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: applied\n' >"$RO_FILES/deploy.yaml"
cp "$RO_FILES/deploy.yaml" "$RO_FILES/tree/nested/deploy.yaml"

RO_APPLIED=(--setup "create -f $C/apply.yaml")
RO_READY=("${RO_APPLIED[@]}" --setup "rollout status deploy/applied --timeout=90s")
# Revision 2 rolled out, with annotations of its own that a rollback replaces.
RO_REV2=("${RO_READY[@]}" --setup "set env deploy/applied A=1"
  --setup "rollout status deploy/applied --timeout=90s"
  --setup "annotate deploy applied mine=x kubernetes.io/change-cause=second")
RO_WORKLOADS=(--setup "create -f $C/workloads.yaml" --setup "rollout status sts/db --timeout=90s"
  --setup "set env sts/db A=1" --setup "rollout status sts/db --timeout=90s")
# What the named field manager did (the other managers' order is the server's business).
ro_managed_by() { echo "jsonpath={.metadata.managedFields[?(@.manager==\"$1\")].operation}{\"\\n\"}"; }

# Refused before the server is asked.
same "rollout pause without resources" -- rollout pause
same "rollout restart without resources" -- rollout restart -o name
same "rollout undo without resources" -- rollout undo --dry-run=client
same "rollout history without resources" -- rollout history --revision=-1
same "rollout status without resources" -- rollout status --revision=-1
same "rollout status negative revision" -- rollout status deploy/web --revision=-1
same "rollout undo --dry-run=bogus" -- rollout undo deploy/web --dry-run=bogus

# pause, resume, restart: -o, --template, --show-managed-fields, --field-manager.
mut "rollout pause -o name" "${RO_APPLIED[@]}" --state "get deploy applied" \
  -- rollout pause deploy/applied -o name
mut "rollout pause --field-manager --show-managed-fields" "${RO_APPLIED[@]}" \
  -- rollout pause deploy/applied --field-manager=pauser --show-managed-fields \
  -o "$(ro_managed_by pauser)"
mut "rollout resume --template" "${RO_APPLIED[@]}" --setup "rollout pause deploy/applied" \
  --state "get deploy applied" \
  -- rollout resume deploy/applied --template='{{.metadata.name}} {{.spec.paused}}{{"\n"}}'
mut "rollout resume --field-manager" "${RO_APPLIED[@]}" --setup "rollout pause deploy/applied" \
  -- rollout resume deploy/applied --field-manager=resumer -o "$(ro_managed_by resumer)"
mut "rollout restart -o jsonpath" "${RO_APPLIED[@]}" \
  -- rollout restart deploy/applied -o 'jsonpath={.spec.template.metadata.annotations}{"\n"}'
mut "rollout restart --field-manager" "${RO_APPLIED[@]}" \
  -- rollout restart deploy/applied --field-manager=restarter -o "$(ro_managed_by restarter)"
# Upstream asks for the printer only after patching: a bad -o still pauses.
mut "rollout pause -o wide" "${RO_APPLIED[@]}" --state "get deploy applied" -- rollout pause deploy/applied -o wide
mut "rollout pause -l matching nothing" "${RO_APPLIED[@]}" -- rollout pause deploy -l app=none

# -f and -R.
mut "rollout pause -f" "${RO_APPLIED[@]}" --state "get deploy applied" \
  -- rollout pause -f "$RO_FILES/deploy.yaml"
mut "rollout pause -f with a ConfigMap" "${RO_APPLIED[@]}" --state "get deploy applied" \
  -- rollout pause -f "$C/apply.yaml"
mut "rollout resume -R -f" "${RO_APPLIED[@]}" --setup "rollout pause deploy/applied" \
  --state "get deploy applied" -- rollout resume -R -f "$RO_FILES/tree"
mut "rollout restart -f with a ConfigMap" "${RO_APPLIED[@]}" -- rollout restart -f "$C/apply.yaml" -o name
same "rollout pause TYPE/NAME and -f" -- rollout pause deploy/web -f "$RO_FILES/deploy.yaml"
same "rollout undo TYPE NAME and -f" -- rollout undo deploy web -f "$RO_FILES/deploy.yaml"
# -l filters the -f objects by their labels on the server.
mut "rollout pause -l -f matching nothing" "${RO_APPLIED[@]}" --state "get deploy applied" \
  -- rollout pause -l app=applied -f "$RO_FILES/deploy.yaml"
mut "rollout pause -f of a missing object" -- rollout pause -f "$RO_FILES/deploy.yaml"
mut "rollout status -f" "${RO_READY[@]}" -- rollout status -f "$RO_FILES/deploy.yaml"
mut "rollout status -R -f" "${RO_READY[@]}" -- rollout status -R -f "$RO_FILES/tree" --watch=false
mut "rollout history -f" "${RO_READY[@]}" -- rollout history -f "$RO_FILES/deploy.yaml"
mut "rollout history -f with a ConfigMap" "${RO_READY[@]}" -- rollout history -f "$C/apply.yaml"
mut "rollout undo -f" "${RO_REV2[@]}" --state "get deploy applied" -- rollout undo -f "$RO_FILES/deploy.yaml"

# status --revision: only while the Deployment is still at that revision.
mut "rollout status --revision (running)" "${RO_READY[@]}" -- rollout status deploy/applied --revision=1
mut "rollout status --revision (moved on)" "${RO_REV2[@]}" -- rollout status deploy/applied --revision=1
mut "rollout status --revision of a statefulset" "${RO_WORKLOADS[@]}" \
  -- rollout status sts/db --revision=7 --watch=false

# history's print flags.
same "rollout history --show-managed-fields" \
  -- rollout history deployment/web --revision=1 --show-managed-fields -o 'jsonpath={.kind}{"\n"}'
same "rollout history --template alone" -- rollout history deployment/web --template='{{.kind}}{{"\n"}}'
same "rollout history --allow-missing-template-keys" \
  -- rollout history deployment/web --allow-missing-template-keys=true -o 'jsonpath={.nothing}'

# undo: --dry-run, -o, and what upstream's rollbacker checks.
mut "rollout undo --dry-run=client" "${RO_REV2[@]}" --state "get deploy applied" \
  -- rollout undo deploy/applied --dry-run=client
mut "rollout undo --dry-run" "${RO_REV2[@]}" -- rollout undo deploy/applied --dry-run --to-revision=1
mut "rollout undo --dry-run=server" "${RO_REV2[@]}" --state "get deploy applied" \
  -- rollout undo deploy/applied --dry-run=server
mut "rollout undo -o name" "${RO_REV2[@]}" --state "get deploy applied" -- rollout undo deploy/applied -o name
mut "rollout undo -o jsonpath prints the object as read" "${RO_REV2[@]}" \
  -- rollout undo deploy/applied -o 'jsonpath={.spec.template.spec.containers[0].env}{"\n"}'
mut "rollout undo --dry-run=server -o jsonpath" "${RO_REV2[@]}" \
  -- rollout undo deploy/applied --dry-run=server -o 'jsonpath={.metadata.name}{"\n"}'
mut "rollout undo to the running revision" "${RO_REV2[@]}" -- rollout undo deploy/applied --to-revision=2
mut "rollout undo of a deployment to a missing revision" "${RO_REV2[@]}" -- rollout undo deploy/applied --to-revision=5
mut "rollout undo of a deployment with one revision" "${RO_READY[@]}" -- rollout undo deploy/applied
mut "rollout undo a paused deployment" "${RO_REV2[@]}" --setup "rollout pause deploy/applied" \
  -- rollout undo deploy/applied
mut "rollout undo --dry-run=client of a paused deployment" "${RO_REV2[@]}" \
  --setup "rollout pause deploy/applied" -- rollout undo deploy/applied --dry-run=client
mut "rollout undo statefulset --dry-run=client" "${RO_WORKLOADS[@]}" --state "get sts db" \
  -- rollout undo sts/db --dry-run=client
mut "rollout undo statefulset --dry-run=server" "${RO_WORKLOADS[@]}" --state "get sts db" \
  -- rollout undo sts/db --dry-run=server
