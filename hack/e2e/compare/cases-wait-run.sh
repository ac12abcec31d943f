# Compare cases for kubectl wait and run (sourced by cases.sh; same helpers: same, mut).
# wait: the builder flags (-f/-R, -A, --field-selector, --local) and the print flags;
# run: --expose, --privileged, --save-config and the delete flags it has for --rm.

# --- wait
# Manifests naming the fixture ConfigMaps: `settings` at the top, `other` two directories
# down (wait reads directories recursively unless -R=false).
WAIT_FILES=$WORK/wait-files
mkdir -p "$WAIT_FILES/tree/nested"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n' >"$WAIT_FILES/tree/settings.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: kc-compare\n' \
  >"$WAIT_FILES/tree/nested/other.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: away\n  namespace: elsewhere\n' \
  >"$WAIT_FILES/elsewhere.yaml"

# Refused before the server is asked.
same "wait without --for" -- wait cm/settings
same "wait -o wide" -- wait --for=create cm/settings -o wide
same "wait -f with TYPE/NAME" -- wait --for=create -f "$WAIT_FILES/tree" cm/settings
same "wait TYPE/NAME --field-selector" -- wait --for=create cm/settings --field-selector=metadata.name=x
same "wait --local with TYPE/NAME" -- wait --local --for=create cm/settings
same "wait --local without files" -- wait --local --for=create

# The print flags: the met object, as -o says.
same "wait -o name" -- wait --for=condition=Available deploy/shell --timeout=60s -o name
same "wait -o jsonpath" -- wait --for=jsonpath='{.spec.replicas}'=1 deploy/shell -o 'jsonpath={.metadata.name}{"\n"}'
same "wait --template" -- wait --for=create cm/settings --template='{{.metadata.name}} {{.data.greeting}}{{"\n"}}'
same "wait -o yaml" -- wait --for=create cm/settings -o yaml
same "wait -o json --show-managed-fields" -- wait --for=create cm/other -o json --show-managed-fields
same "wait --allow-missing-template-keys" -- wait --for=create cm/settings -o name --allow-missing-template-keys=false

# Which objects: selectors, -A, files.
same "wait --field-selector" -- wait --for=create cm --field-selector=metadata.name=other
same "wait -l and --field-selector" -- wait --for=create cm -l app=web --field-selector=metadata.name=settings -o name
# Upstream's builder keeps -n (always given here) under -A and refuses each listed object.
same "wait -A with -n" -- wait --for=create svc -A --field-selector=metadata.name=kubernetes
same "wait -A with a name" -- wait --for=create svc/kubernetes -A
same "wait no matching resources" -- wait --for=condition=Ready cm -l app=nothing
# A create wait lists the selection again until it finds something.
same "wait --for=create, nothing selected" -- wait --for=create cm -l app=nothing --timeout=2s
mut "wait --for=create, selected while waiting" \
  --setup "get ns \$ns -o name; (sleep 2; real -n \$ns create configmap later; real -n \$ns label configmap later app=later) &" \
  -- wait --for=create cm -l app=later --timeout=30s
same "wait --for=delete with nothing to wait for" -- wait --for=delete cm -l app=nothing
same "wait --for=delete of a missing object" -- wait --for=delete cm/nope --timeout=2s
same "wait -f" -- wait --for=create -f "$C/fixtures.yaml"
same "wait -f directory (recursive)" -- wait --for=create -f "$WAIT_FILES/tree" -o name
same "wait -f directory -R=false" -- wait --for=create -f "$WAIT_FILES/tree" -R=false
same "wait -f -l" -- wait --for=create -f "$C/fixtures.yaml" -l app=other -o name
same "wait --timeout=0 (met)" -- wait --for=jsonpath='{.spec.replicas}'=1 deploy/shell --timeout=0
same "wait --timeout=0 (not met)" -- wait --for=jsonpath='{.spec.replicas}'=5 deploy/shell --timeout=0

# --local: the files' objects as written, no server object read.
same "wait --local -f" -- wait --local --for=create -f "$C/fixtures.yaml"
same "wait --local -o yaml" -- wait --local --for=create -f "$WAIT_FILES/tree/nested/other.yaml" -o yaml
same "wait --local -o yaml (several)" -- wait --local --for=create -f "$WAIT_FILES/tree" -o yaml
same "wait -o yaml (several)" -- wait --for=create cm -l app -o yaml
same "wait --local -R=false -o name" -- wait --local --for=create -f "$WAIT_FILES/tree" -R=false -o name
same "wait --local, object of another namespace" -- wait --local --for=create -f "$WAIT_FILES/elsewhere.yaml" -o name

# A deletion while waiting: the object as it was last seen.
mut "wait --for=delete -o name" --setup "create configmap gone" \
  --setup "get ns \$ns -o name; (sleep 2; real -n \$ns delete configmap gone) &" \
  -- wait --for=delete cm/gone --timeout=30s -o name

# --- run
mut "run --expose" --state "get svc t" -- run t --image="$RUN_IMAGE" --port=80 --expose -- sleep 3600
mut "run --expose --labels" --state "get svc t" \
  -- run t --image="$RUN_IMAGE" --port=8080 --expose --labels=app=t,tier=x -- sleep 3600
mut "run --expose --dry-run=client -o yaml" -- run t --image="$RUN_IMAGE" --port=80 --expose --dry-run=client -o yaml
# A client dry run prints upstream's typed objects: JSON in Go's field order.
mut "run --expose --privileged --dry-run=client -o json" \
  -- run t --image="$RUN_IMAGE" --port=80 --expose --privileged --env=A=1 --dry-run=client -o json -- sleep 1
mut "run --expose --dry-run=server -o name" -- run t --image="$RUN_IMAGE" --port=80 --expose --dry-run=server -o name
mut "run --expose without --port" -- run t --image="$RUN_IMAGE" --expose
mut "run --expose with the service there" --setup "create service clusterip t --tcp=80" \
  -- run t --image="$RUN_IMAGE" --port=80 --expose -- sleep 3600
mut "run --port not a number" -- run t --image="$RUN_IMAGE" --port=eighty
mut "run -t without -i" -- run t --image="$RUN_IMAGE" -t
mut "run bad --labels" -- run t --image="$RUN_IMAGE" --labels=app
mut "run bad --image-pull-policy" -- run t --image="$RUN_IMAGE" --image-pull-policy=Sometimes
mut "run --privileged" --state "get pod t" -- run t --image="$RUN_IMAGE" --privileged -- sleep 3600
mut "run --privileged --dry-run=client -o yaml" -- run t --image="$RUN_IMAGE" --privileged --dry-run=client -o yaml
mut "run --save-config" --state "get pod t" -- run t --image="$RUN_IMAGE" --port=80 --save-config -- sleep 3600
mut "run --save-config --expose" --state "get svc t" \
  -- run t --image="$RUN_IMAGE" --port=80 --expose --labels=app=t --save-config -- sleep 3600
mut "run --save-config --dry-run=client" -- run t --image="$RUN_IMAGE" --save-config --dry-run=client -o yaml
mut "run --cascade=bogus" -- run t --image="$RUN_IMAGE" --cascade=bogus
mut "run --cascade=false" -- run t --image="$RUN_IMAGE" --cascade=false --dry-run=client -o name
mut "run ignores the delete flags without --rm" -- run t --image="$RUN_IMAGE" --dry-run=client -o name \
  --grace-period=0 --force --wait --timeout=5s -f /nonexistent.yaml -R
mut "run --grace-period not a number" -- run t --image="$RUN_IMAGE" --grace-period=soon
mut "run -i --rm --expose with the delete flags" --stdin "$WORK/exec-stdin" \
  -- run -i --rm t --image="$RUN_IMAGE" --restart=Never --port=80 --expose \
  --cascade=foreground --grace-period=0 --force --wait --timeout=5s -- sh -c 'read x; echo "got $x"'
mut "run -i --rm -q" --stdin "$WORK/exec-stdin" \
  -- run -i --rm -q t --image="$RUN_IMAGE" --restart=Never -- sh -c 'read x; echo "got $x"'
