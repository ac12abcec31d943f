# The cases of hack/e2e/kubectl-compare.sh (sourced). `same` runs a read-only command in
# namespace kc-compare; `mut` runs a mutating one in a fresh namespace per binary.
C=$COMPARE

# --- kubeconfig and discovery
same "config view" -- config view
same "config view --minify -o json" -- config view --minify -o json
same "config get-contexts" -- config get-contexts
same "config get-contexts -o name" -- config get-contexts -o name
same "config current-context" -- config current-context
same "config use-context unknown" -- config use-context nope
same "api-versions" -- api-versions
same "api-resources" -- api-resources
same "api-resources -o wide" -- api-resources -o wide
same "api-resources --namespaced=false" -- api-resources --namespaced=false
same "api-resources --api-group=apps -o name" -- api-resources --api-group=apps -o name
same "cluster-info" -- cluster-info

# --- get: tables
same "get pods" -- get pods
same "get deploy" -- get deploy
same "get deployments.apps" -- get deployments.apps
same "get deployment.v1.apps web" -- get deployment.v1.apps web
same "get svc -o wide" -- get svc -o wide
same "get cm" -- get cm
same "get cm settings other" -- get cm settings other
same "get configmap/settings secret/creds" -- get configmap/settings secret/creds
same "get deploy,svc" -- get deploy,svc
same "get cm,secrets -l app=web" -- get cm,secrets -l app=web
same "get cm --show-labels" -- get cm --show-labels
same "get cm -L app" -- get cm -L app,tier
same "get cm --no-headers" -- get cm --no-headers
same "get cm --sort-by" -- get cm --sort-by=.metadata.name
same "get cm --field-selector" -- get cm --field-selector metadata.name=other
same "get ns" -- get ns
same "get nodes" -- get nodes
same "get nodes -o wide" -- get nodes -o wide
same "get svc -A" -- get svc -A
same "get cm -A -l app=web" -- get cm -A -l app=web
same "get empty selection" -- get pods -l app=nothing
same "get empty all namespaces" -- get cm -A -l app=nothing
same "get cluster-scoped empty" -- get ns -l app=nothing
same "get --chunk-size=1" -- get cm --chunk-size=1

# --- get: other formats
same "get cm settings -o yaml" -- get cm settings -o yaml
same "get cm other -o yaml (folded)" -- get cm other -o yaml
same "get cm settings -o json" -- get cm settings -o json
same "get cm -o name" -- get cm -o name
same "get deploy,svc -o name" -- get deploy,svc -o name
same "get secret creds -o jsonpath" -- get secret creds -o 'jsonpath={.data.password}'
same "get cm -o jsonpath range" -- get cm -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.metadata.labels.app}{"\n"}{end}'
same "get cm -o jsonpath items" -- get cm -o 'jsonpath={.items[*].metadata.name}'
same "get cm -o jsonpath filter" -- get cm -o 'jsonpath={.items[?(@.metadata.name=="settings")].data.greeting}'
same "get deploy -o custom-columns" -- get deploy -o 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGES:.spec.template.spec.containers[*].image,MISSING:.spec.nope'
same "get cm -o custom-columns --no-headers" -- get cm -o custom-columns=N:.metadata.name --no-headers
same "get svc -o yaml list" -- get svc -o yaml
same "get cm --sort-by -o name" -- get cm --sort-by=.metadata.name -o name

# --- errors
same "get missing pod" -- get pod nope
same "get missing pods with one present" -- get cm nope settings
same "get --ignore-not-found" -- get pod nope --ignore-not-found
same "get unknown type" -- get nosuchtype
same "get no args" -- get
same "get bad output" -- get cm -o foo
same "delete missing" -- delete cm nope
same "delete type without name" -- delete cm
# The server's Invalid: one error alone reads "The <Kind> "<name>" is invalid: …", among
# several each keeps the server's message.
mut "create deployment --replicas=-1 (Invalid)" -- create deployment inv --image=busybox --replicas=-1
mut "create -f (Invalid, several causes)" -- create -f "$C/invalid/pod-several-causes.yaml"
mut "apply -f (Invalid, several causes)" -- apply -f "$C/invalid/pod-several-causes.yaml"
mut "create -f (two Invalid objects)" -- create -f "$C/invalid/two-objects.yaml"
mut "apply -f (two Invalid objects)" -- apply -f "$C/invalid/two-objects.yaml"
mut "create configmap (Invalid name)" -- create configmap Bad_Name --from-literal=a=1
mut "create secret generic (Invalid name)" -- create secret generic Bad_Name --from-literal=a=1
mut "create service nodeport (Invalid name)" -- create service nodeport Bad_Name --tcp=80:80
mut "create namespace (Invalid name)" -- create namespace Bad_Name
mut "create token for a missing service account" -- create token nosuch
mut "create serviceaccount twice (AlreadyExists)" --setup "create serviceaccount twice" -- create serviceaccount twice
mut "label (two = in a word)" --setup "create configmap lab" -- label cm lab a=b=c
mut "label (Invalid value)" --setup "create configmap lab" -- label cm lab 'x=not valid'

# --- replace
# A Deployment's status changes until it has rolled out, and a replace (GET, then PUT with
# that resourceVersion) races with it in both binaries.
SETTLED=(--setup "create -f $C/apply.yaml" --setup "rollout status deploy/applied --timeout=90s")
mut "replace -f" "${SETTLED[@]}" --state "get cm applied" -- replace -f "$C/apply-modified.yaml"
mut "replace -f (deployment)" "${SETTLED[@]}" --state "get deploy applied" \
  -- replace -f "$C/apply-modified.yaml"
mut "replace -f missing objects" -- replace -f "$C/apply.yaml"
mut "replace -f - (stdin) -o name" "${SETTLED[@]}" --stdin "$C/apply-modified.yaml" \
  --state "get cm applied" -- replace -f - -o name
mut "replace --save-config" --setup "create -f $C/apply.yaml" --state "get cm applied" \
  -- replace --save-config -f "$C/replace-cm.yaml"
mut "replace --dry-run=client" --setup "create -f $C/apply.yaml" --state "get cm applied" \
  -- replace --dry-run=client -f "$C/replace-cm.yaml"
mut "replace --dry-run=server" --setup "create -f $C/apply.yaml" --state "get cm applied" \
  -- replace --dry-run=server -f "$C/replace-cm.yaml"
mut "replace --force" --setup "create -f $C/apply.yaml" --state "get cm applied" \
  -- replace --force -f "$C/replace-cm.yaml"
same "replace without -f" -- replace
same "replace --grace-period without --force" -- replace -f "$C/apply.yaml" --grace-period=1
same "replace --force --dry-run" -- replace --force --dry-run=client -f "$C/apply.yaml"

# --- events (fixed times, so ages agree once normalised)
EVENTS_SETUP=(--setup 'create -f - < <(sed "s/NS/$ns/" "$C/events.yaml")')
mut "events" "${EVENTS_SETUP[@]}" -- events
mut "events --for pod/web" "${EVENTS_SETUP[@]}" -- events --for pod/web
mut "events --for deploy/web --no-headers" "${EVENTS_SETUP[@]}" -- events --for deploy/web --no-headers
mut "events --types=Warning" "${EVENTS_SETUP[@]}" -- events --types=warning
mut "events -o name" "${EVENTS_SETUP[@]}" -- events -o name
mut "events -o jsonpath" "${EVENTS_SETUP[@]}" -- events -o 'jsonpath={.kind} {range .items[*]}{.reason},{end}'
mut "events none" -- events
same "events --types bogus" -- events --types=Bogus
same "events --for without a slash" -- events --for=web
same "events --for an unknown type" -- events --for=nosuch/web

# --- create
mut "create -f" --state "get cm applied" -- create -f "$C/apply.yaml"
mut "create -f twice (AlreadyExists)" --setup "create -f $C/apply.yaml" -- create -f "$C/apply.yaml"
mut "create -f - (stdin)" --stdin "$C/apply.yaml" --state "get cm applied" -- create -f -
mut "create -f bad yaml" -- create -f "$C/bad.yaml"
mut "create -f missing file" -- create -f "$C/nope.yaml"
mut "create -f dir" --state "get cm applied" -- create -f "$C/dir-does-not-exist"
mut "create namespace-scoped -o name" -- create -f "$C/apply.yaml" -o name
mut "create configmap" --state "get cm gen" -- create configmap gen --from-literal=a=1 --from-literal=b=two
mut "create secret generic" --state "get secret gen" -- create secret generic gen --from-literal=password=s3cret
mut "create serviceaccount" -- create serviceaccount robot
mut "create deployment" --state "get deploy gen" -- create deployment gen --image=registry.k8s.io/e2e-test-images/busybox:1.36 --replicas=2
mut "create configmap --dry-run=client -o yaml" -- create configmap gen --from-literal=a=1 --dry-run=client -o yaml

# --- apply
mut "apply -f (create)" --state "get cm applied" -- apply -f "$C/apply.yaml"
mut "apply -f (unchanged)" --setup "apply -f $C/apply.yaml" --state "get cm applied" -- apply -f "$C/apply.yaml"
mut "apply -f (three-way configure)" --setup "apply -f $C/apply.yaml" --state "get cm applied" -- apply -f "$C/apply-modified.yaml"
mut "apply -f (deployment state)" --setup "apply -f $C/apply.yaml" --state "get deploy applied" -- apply -f "$C/apply-modified.yaml"
mut "apply -f on created object (warning)" --setup "create -f $C/apply.yaml" --state "get cm applied" -- apply -f "$C/apply.yaml"
mut "apply --server-side" --state "get cm applied" -- apply --server-side -f "$C/apply.yaml"
# apply -l/--prune (allowlist-based; the default list makes upstream log a klog line with its
# time and pid, so the cases name ConfigMaps), --force, and the *-last-applied subcommands.
AP=$C/apply-prune
# diff -l / --prune: the files' objects that match take part; pruned objects show as deleted.
diff_case "diff -l with a matching object" "apply -f $AP/two.yaml" -- diff -f "$AP/one-modified.yaml" -l tier=a
diff_case "diff -l with nothing matching" "apply -f $AP/two.yaml" -- diff -f "$AP/one-modified.yaml" -l tier=b
diff_case "diff --prune -l" "apply -f $AP/two.yaml" \
  -- diff --prune -l app=prune-x --prune-allowlist=core/v1/ConfigMap -f "$AP/one-modified.yaml"
same "diff --prune with a bad allowlist" -- diff --prune --prune-allowlist=bad -f "$AP/one.yaml"
same "diff -l with a bad selector" -- diff -l 'a in (' -f "$AP/one.yaml"
PRUNE_CM=(--prune-allowlist=core/v1/ConfigMap)
mut "apply --prune -l" --setup "apply -f $AP/two.yaml" --state "get cm -l app=prune-x" \
  -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" -f "$AP/one.yaml"
mut "apply --prune -l --dry-run=client" --setup "apply -f $AP/two.yaml" --state "get cm -l app=prune-x" \
  -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" -f "$AP/one.yaml" --dry-run=client
mut "apply --prune -l --dry-run=server" --setup "apply -f $AP/two.yaml" --state "get cm -l app=prune-x" \
  -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" -f "$AP/one.yaml" --dry-run=server
mut "apply --prune -l -o name" --setup "apply -f $AP/two.yaml" \
  -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" -f "$AP/one.yaml" -o name
mut "apply --prune --all" --setup "apply -f $AP/two.yaml" --setup "apply -f $AP/other.yaml" --state "get cm" \
  -- apply --prune --all "${PRUNE_CM[@]}" -f "$AP/one.yaml"
mut "apply --prune leaves objects apply did not create" --setup "create -f $AP/two.yaml" \
  --state "get cm -l app=prune-x" -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" -f "$AP/one.yaml"
mut "apply --prune --cascade=orphan --grace-period=0" --setup "apply -f $AP/two.yaml" --state "get cm prune-a" \
  -- apply --prune -l app=prune-x "${PRUNE_CM[@]}" --cascade=orphan --grace-period=0 -f "$AP/one.yaml"
mut "apply -l picks the files' objects" --state "get cm -l app=prune-x" -- apply -f "$AP/two.yaml" -l tier=b
mut "apply -l matching none of the files' objects" -- apply -f "$AP/two.yaml" -l tier=c
same "apply --prune without -l or --all" -- apply --prune -f "$AP/one.yaml"
same "apply --all with -l" -- apply --all -l app=prune-x -f "$AP/one.yaml"
same "apply --prune --server-side" -- apply --prune --server-side -l app=prune-x -f "$AP/one.yaml"
same "apply --prune --force" -- apply --prune --force -l app=prune-x -f "$AP/one.yaml"
same "apply --force --server-side" -- apply --force --server-side -f "$AP/one.yaml"
same "apply --force --dry-run=server" -- apply --force --dry-run=server -f "$AP/one.yaml"
same "apply --subresource without --server-side" -- apply --subresource=status -f "$AP/one.yaml"
same "apply --prune-allowlist not group/version/kind" \
  -- apply --prune -l app=prune-x --prune-allowlist=v1/ConfigMap -f "$AP/one.yaml"
same "apply --prune-allowlist unknown kind" \
  -- apply --prune -l app=prune-x --prune-allowlist=core/v1/Nope -f "$AP/one.yaml"
same "apply unexpected args" -- apply -f "$AP/one.yaml" cm
same "apply --cascade bad value" -- apply --cascade=sideways -f "$AP/one.yaml"
mut "apply --dry-run=client on an unchanged object" --setup "apply -f $AP/one.yaml" \
  -- apply -f "$AP/one.yaml" --dry-run=client
mut "apply -o jsonpath (several objects: one List)" -- apply -f "$AP/two.yaml" -o 'jsonpath={.kind} {.items[*].metadata.name}'
mut "apply -o jsonpath prints nothing when an object fails" --state "get cm prune-a" \
  -- apply -f "$AP/one.yaml" -f "$AP/no-name.yaml" -o 'jsonpath={.kind}'
mut "apply without a name" -- apply -f "$AP/no-name.yaml"
mut "apply --server-side without a name" -- apply --server-side -f "$AP/no-name.yaml"
mut "apply --overwrite=false unchanged" --setup "apply -f $AP/one.yaml" -- apply --overwrite=false -f "$AP/one.yaml"
mut "apply --openapi-patch=false --wait --timeout" --setup "apply -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply --openapi-patch=false --wait --timeout=10s -f "$AP/one-modified.yaml"
mut "apply --force re-creates what cannot be patched" --setup "apply -f $AP/immutable.yaml" \
  --state "get cm prune-frozen" -- apply --force -f "$AP/immutable-changed.yaml"
mut "apply without --force on an immutable change" --setup "apply -f $AP/immutable.yaml" \
  --state "get cm prune-frozen" -- apply -f "$AP/immutable-changed.yaml"
mut "apply view-last-applied" --setup "apply -f $AP/two.yaml" -- apply view-last-applied cm/prune-a
mut "apply view-last-applied -o json (two names)" --setup "apply -f $AP/two.yaml" \
  -- apply view-last-applied configmap prune-a prune-b -o json
mut "apply view-last-applied -l" --setup "apply -f $AP/two.yaml" -- apply view-last-applied cm -l app=prune-x
mut "apply view-last-applied -f" --setup "apply -f $AP/two.yaml" -- apply view-last-applied -f "$AP/two.yaml" -o json
mut "apply view-last-applied without a record (by name)" --setup "create -f $AP/one.yaml" \
  -- apply view-last-applied cm/prune-a
mut "apply view-last-applied without a record (-f)" --setup "create -f $AP/one.yaml" \
  -- apply view-last-applied -f "$AP/one.yaml"
mut "apply view-last-applied -o wide" --setup "apply -f $AP/one.yaml" -- apply view-last-applied cm/prune-a -o wide
mut "apply view-last-applied after set-last-applied" --setup "apply -f $AP/one.yaml" \
  --setup "apply set-last-applied -f $AP/one-modified.yaml" -- apply view-last-applied cm/prune-a -o json
same "apply view-last-applied missing object" -- apply view-last-applied cm/prune-nope
same "apply view-last-applied type without name" -- apply view-last-applied cm
same "apply view-last-applied nothing named" -- apply view-last-applied
mut "apply set-last-applied" --setup "apply -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply set-last-applied -f "$AP/one-modified.yaml"
mut "apply set-last-applied no changes required" --setup "apply -f $AP/one.yaml" \
  --setup "apply set-last-applied -f $AP/one.yaml" -- apply set-last-applied -f "$AP/one.yaml"
mut "apply set-last-applied without a record" --setup "create -f $AP/one.yaml" \
  -- apply set-last-applied -f "$AP/one.yaml"
mut "apply set-last-applied --create-annotation" --setup "create -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply set-last-applied --create-annotation -f "$AP/one.yaml"
mut "apply set-last-applied --dry-run=client" --setup "apply -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply set-last-applied -f "$AP/one-modified.yaml" --dry-run=client
mut "apply set-last-applied --dry-run=server -o name" --setup "apply -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply set-last-applied -f "$AP/one-modified.yaml" --dry-run=server -o name
mut "apply set-last-applied missing object" -- apply set-last-applied -f "$AP/one.yaml"
export KUBE_EDITOR="sed -i s/^\ \ a:\ .*/\ \ a:\ edited/"
mut "apply edit-last-applied" --setup "apply -f $AP/one.yaml" --state "get cm prune-a" \
  -- apply edit-last-applied cm/prune-a
mut "apply edit-last-applied -o json (editor finds nothing to change)" --setup "apply -f $AP/one.yaml" \
  -- apply edit-last-applied cm/prune-a -o json
export KUBE_EDITOR=true
mut "apply edit-last-applied unchanged" --setup "apply -f $AP/one.yaml" -- apply edit-last-applied cm/prune-a
mut "apply edit-last-applied without a record" --setup "create -f $AP/one.yaml" \
  -- apply edit-last-applied cm/prune-a
unset KUBE_EDITOR

# --- delete
mut "delete cm" --setup "create -f $C/apply.yaml" -- delete cm applied
mut "delete TYPE/NAME" --setup "create -f $C/apply.yaml" -- delete configmap/applied deploy/applied
mut "delete -f" --setup "create -f $C/apply.yaml" -- delete -f "$C/apply.yaml"
mut "delete -l" --setup "create -f $C/apply.yaml" -- delete cm -l stage=one
mut "delete -l none" -- delete cm -l stage=none
mut "delete --all" --setup "create -f $C/apply.yaml" --state "get cm -l stage=one" -- delete deploy --all
mut "delete -o name" --setup "create -f $C/apply.yaml" -- delete cm applied -o name

# --- label, annotate, scale, patch
mut "label" --setup "create -f $C/apply.yaml" --state "get cm applied" -- label cm applied team=blue
mut "label overwrite refused" --setup "create -f $C/apply.yaml" -- label cm applied stage=two
mut "label --overwrite" --setup "create -f $C/apply.yaml" --state "get cm applied" -- label cm applied stage=two --overwrite
mut "label remove" --setup "create -f $C/apply.yaml" --state "get cm applied" -- label configmap/applied stage-
mut "label unchanged" --setup "create -f $C/apply.yaml" -- label cm applied stage=one
mut "annotate" --setup "create -f $C/apply.yaml" --state "get cm applied" -- annotate cm applied note=hi
mut "scale" --setup "create -f $C/apply.yaml" -- scale deploy applied --replicas=3
mut "scale TYPE/NAME" --setup "create -f $C/apply.yaml" -- scale deployment/applied --replicas=0
mut "patch merge" --setup "create -f $C/apply.yaml" --state "get cm applied" -- patch cm applied --type merge -p '{"data":{"c":"3"}}'
mut "patch json" --setup "create -f $C/apply.yaml" --state "get cm applied" -- patch cm applied --type json -p '[{"op":"remove","path":"/data/a"}]'
mut "patch strategic" --setup "create -f $C/apply.yaml" --state "get deploy applied" -- patch deploy applied -p '{"spec":{"replicas":2}}'
mut "patch no change" --setup "create -f $C/apply.yaml" -- patch cm applied --type merge -p '{"data":{"a":"1"}}'
mut "patch missing" -- patch cm nope --type merge -p '{"data":{}}'

# --- set
APPLIED=(--setup "create -f $C/apply.yaml")
mut "set image" "${APPLIED[@]}" --state "get deploy applied" -- set image deploy/applied main=busybox:1.37
mut "set image unknown container" "${APPLIED[@]}" -- set image deploy/applied nope=busybox:1
mut "set env" "${APPLIED[@]}" --state "get deploy applied" -- set env deploy/applied A=1 B=two
mut "set env overwrite and remove" "${APPLIED[@]}" --setup "set env deploy/applied A=1 B=2 C=3" \
  --state "get deploy applied" -- set env deploy/applied B=20 C- D=4
mut "set env -e and a removal of nothing" "${APPLIED[@]}" --state "get deploy applied" \
  -- set env deploy/applied -e X=1 NOPE-
# One key at a time: upstream walks the ConfigMap's data as a Go map, in random order.
mut "set env --from configmap --prefix" "${APPLIED[@]}" --state "get deploy applied" \
  -- set env deploy/applied --from=configmap/applied --keys=a --prefix=CM_
mut "set env --from --keys" "${APPLIED[@]}" --state "get deploy applied" \
  -- set env deploy/applied --from=configmap/applied --keys=b
mut "set env --list" "${APPLIED[@]}" --setup "set env deploy/applied A=1 --from=configmap/applied --keys=a" \
  -- set env deploy/applied --list B=2
mut "set env --list --resolve" "${APPLIED[@]}" --setup "set env deploy/applied --from=configmap/applied --keys=b" \
  -- set env deploy/applied --list --resolve
mut "set env --overwrite=false" "${APPLIED[@]}" --setup "set env deploy/applied A=1" \
  -- set env deploy/applied A=2 --overwrite=false
mut "set env -c unknown" "${APPLIED[@]}" -- set env deploy/applied -c nope A=1
mut "set env unchanged" "${APPLIED[@]}" --setup "set env deploy/applied A=1" -- set env deploy/applied A=1
mut "set env --dry-run=client -o name" "${APPLIED[@]}" --state "get deploy applied" \
  -- set env deploy/applied A=1 --dry-run=client -o name
same "set env without resources" -- set env A=1
same "set env changes before resources" -- set env A=1 deploy/web
same "set env modify and remove" -- set env deploy/web A=1 A-
mut "set resources" "${APPLIED[@]}" --state "get deploy applied" \
  -- set resources deploy/applied --limits=cpu=200m,memory=512Mi --requests=cpu=100m
mut "set resources unknown container" "${APPLIED[@]}" -- set resources deploy/applied -c nope --limits=cpu=1
mut "set resources unchanged" "${APPLIED[@]}" --setup "set resources deploy/applied --limits=cpu=1" \
  -- set resources deploy/applied --limits=cpu=1
same "set resources without values" -- set resources deploy/web
mut "set serviceaccount" "${APPLIED[@]}" --state "get deploy applied" -- set serviceaccount deploy/applied robot
mut "set sa unchanged" "${APPLIED[@]}" --setup "set sa deploy/applied robot" -- set sa deploy/applied robot
mut "set env --dry-run=client -o yaml shows the change" "${APPLIED[@]}" --setup "set env deploy/applied A=1 B=2" \
  -- set env deploy/applied A- C=3 --dry-run=client -o 'jsonpath={.spec.template.spec.containers[0].env}'
BINDING=(--setup "create rolebinding rb --clusterrole=view --user=amy")
mut "set subject" "${BINDING[@]}" --state "get rolebinding rb" \
  -- set subject rolebinding rb --user=zed --user=amy --group=devs --serviceaccount=:robot --serviceaccount=ops:bot
mut "set subject unchanged" "${BINDING[@]}" -- set subject rolebinding/rb --user=amy
mut "set subject without subjects" "${BINDING[@]}" -- set subject rolebinding/rb
mut "set subject bad serviceaccount" "${BINDING[@]}" -- set subject rolebinding/rb --serviceaccount=robot
mut "set subject of a configmap" "${APPLIED[@]}" -- set subject cm/applied --user=amy
mut "set subject --dry-run=client -o yaml" "${BINDING[@]}" -- set subject rolebinding/rb --group=devs --dry-run=client -o 'jsonpath={.subjects}'
SERVICE=(--setup "create service clusterip web --tcp=80:8080")
mut "set selector" "${SERVICE[@]}" --state "get svc web" -- set selector svc/web 'app=other,tier=front'
mut "set selector unchanged" "${SERVICE[@]}" -- set selector service web app=web
mut "set selector with an expression" "${SERVICE[@]}" -- set selector svc/web 'env!=qa'
mut "set selector of a deployment" "${APPLIED[@]}" -- set selector deploy/applied app=x
mut "set selector --resource-version mismatch" "${SERVICE[@]}" -- set selector svc/web app=x --resource-version=1
same "set selector without a selector" -- set selector
same "set env --dry-run=client --template" -- set env deploy/web Z=1 --dry-run=client --template='{{range .spec.template.spec.containers}}{{.name}} {{.env}}{{end}}{{"\n"}}'
same "set image --dry-run=client -o go-template --show-managed-fields" \
  -- set image deploy/web web=busybox:2 --dry-run=client -o go-template --show-managed-fields --template='{{(index .spec.template.spec.containers 0).image}}'

# --- auth, wait, rollout
same "auth whoami" -- auth whoami
same "auth whoami -o json" -- auth whoami -o json
same "auth whoami -o jsonpath" -- auth whoami -o 'jsonpath={.kind} {.status.userInfo.username}'
same "auth whoami --template alone (a table)" -- auth whoami --template='{{.kind}}'
same "auth whoami -o wide" -- auth whoami -o wide
same "auth can-i get pods" -- auth can-i get pods
same "auth can-i create deployments.apps -q" -- auth can-i create deployments.apps --quiet
same "auth can-i unknown type" -- auth can-i get nosuchthing
same "wait condition" -- wait --for=condition=Available deploy/web --timeout=60s
same "wait jsonpath" -- wait --for=jsonpath='{.spec.replicas}'=2 deploy/web --timeout=10s
same "wait missing object" -- wait --for=condition=Ready pod/nope --timeout=2s
# Conditions not yet met when the wait starts: the object is watched from the read.
SLEEPER=(--setup "run sleeper --image=busybox:latest --restart=Never -- sleep 3600")
mut "wait for a pod to become Ready" "${SLEEPER[@]}" -- wait --for=condition=Ready pod/sleeper --timeout=90s
mut "wait --for=delete of a terminating pod" "${SLEEPER[@]}" \
  --setup "wait --for=condition=Ready pod/sleeper --timeout=90s" \
  --setup "delete pod sleeper --grace-period=3 --wait=false" \
  -- wait --for=delete pod/sleeper --timeout=90s
mut "wait times out" --setup "create configmap plain" \
  -- wait --for=jsonpath='{.data.k}'=v configmap/plain --timeout=2s
mut "wait --for=create (exists)" --setup "create configmap made" -- wait --for=create configmap/made --timeout=5s
# The object appears two seconds into the wait (the setup line starts that in the background).
mut "wait --for=create (created while waiting)" \
  --setup "get ns \$ns -o name; (sleep 2; real -n \$ns create configmap later) &" \
  -- wait --for=create configmap/later --timeout=30s
mut "wait --for=create times out" -- wait --for=create configmap/never --timeout=2s
same "rollout status" -- rollout status deploy/web --timeout=30s
same "rollout status TYPE NAME" -- rollout status deployment web --watch=false
same "rollout history" -- rollout history deployment/web
same "rollout history --revision" -- rollout history deployment/web --revision=1
same "rollout history --revision -o yaml" -- rollout history deployment/web --revision=1 -o yaml
same "rollout history -o name" -- rollout history deployment/web -o name
same "rollout history -o jsonpath" -- rollout history deployment/web -o 'jsonpath={.metadata.name}{"\n"}'
same "rollout history missing revision" -- rollout history deployment/web --revision=9
same "rollout history negative revision" -- rollout history deployment/web --revision=-1
same "rollout history -o wide" -- rollout history deployment/web -o wide
CHANGE_CAUSE=(--setup "create -f $C/apply.yaml"
  --setup "annotate deploy applied kubernetes.io/change-cause='first try'"
  --setup "wait --for=jsonpath='{.metadata.annotations.kubernetes\\.io/change-cause}'='first try' rs -l app=applied --timeout=30s")
mut "rollout history with a change-cause" "${CHANGE_CAUSE[@]}" -- rollout history deploy/applied
mut "rollout history --revision with a change-cause" "${CHANGE_CAUSE[@]}" -- rollout history deploy/applied --revision=1
mut "rollout restart" --setup "create -f $C/apply.yaml" -- rollout restart deploy/applied
mut "rollout pause" --setup "create -f $C/apply.yaml" --state "get deploy applied" -- rollout pause deploy/applied
mut "rollout pause twice" --setup "create -f $C/apply.yaml" --setup "rollout pause deploy/applied" \
  -- rollout pause deploy/applied
mut "rollout resume" --setup "create -f $C/apply.yaml" --setup "rollout pause deploy/applied" \
  --state "get deploy applied" -- rollout resume deploy/applied
mut "rollout resume when not paused" --setup "create -f $C/apply.yaml" -- rollout resume deployment applied
mut "rollout restart a paused deployment" --setup "create -f $C/apply.yaml" \
  --setup "rollout pause deploy/applied" -- rollout restart deploy/applied
WORKLOADS=(--setup "create -f $C/workloads.yaml" --setup "rollout status ds/agent --timeout=90s"
  --setup "rollout status sts/db --timeout=90s")
CHANGED_STS=(--setup "set env sts/db A=1" --setup "rollout status sts/db --timeout=90s")
mut "rollout status daemonset, statefulset" "${WORKLOADS[@]}" -- rollout status ds/agent sts/db --timeout=60s
mut "rollout restart daemonset, statefulset" "${WORKLOADS[@]}" -- rollout restart ds/agent statefulset/db
mut "rollout pause a daemonset" "${WORKLOADS[@]}" -- rollout pause ds/agent
mut "rollout history daemonset, statefulset" "${WORKLOADS[@]}" -- rollout history ds/agent sts/db
mut "rollout history --revision of a daemonset" "${WORKLOADS[@]}" -- rollout history ds/agent --revision=1
mut "rollout history -o of a statefulset" "${WORKLOADS[@]}" "${CHANGED_STS[@]}" -- rollout history sts/db \
  -o 'jsonpath={.kind} {.metadata.name} {.spec.template.spec.containers[0].env}{"\n"}'
mut "rollout history --revision of a statefulset" "${WORKLOADS[@]}" "${CHANGED_STS[@]}" -- rollout history sts/db --revision=2
mut "rollout undo with one revision" "${WORKLOADS[@]}" -- rollout undo ds/agent
mut "rollout undo statefulset" "${WORKLOADS[@]}" "${CHANGED_STS[@]}" --state "get sts db" -- rollout undo sts/db
# Not compared: `rollout undo --to-revision=CURRENT`. Upstream's rollbacker skips it only when
# the revision's stored bytes equal its own encoding of the template, which depends on how
# the controller serialised the revision; ours says "skipped rollback" as upstream's does on
# an upstream cluster, the real kubectl on ours re-applies it.
mut "rollout undo to a missing revision" "${WORKLOADS[@]}" -- rollout undo sts/db --to-revision=7
same "rollout status of a configmap" -- rollout status cm/settings
same "rollout history of a service" -- rollout history svc/web
same "rollout undo of a configmap" -- rollout undo cm/settings
same "rollout history of a replicaset" -- rollout history rs -l app=nope

# --- exec, attach, cp, run -i: a Deployment of the imported busybox:latest (the fixtures'
# e2e image is not imported, so their pods never run)
RUN_IMAGE=busybox:latest
real -n kc-compare create deployment shell --image="$RUN_IMAGE" -- httpd -f -p 8080 >/dev/null
real -n kc-compare rollout status deployment/shell --timeout=90s >/dev/null ||
  echo "kubectl-compare: deployment shell not ready; exec cases will fail" >&2
SHELL_POD=$(real -n kc-compare get pods -l app=shell -o jsonpath='{.items[0].metadata.name}')
printf 'line one\nline two\n' >"$WORK/exec-stdin"
same "exec" -- exec "$SHELL_POD" -- echo hello
same "exec TYPE/NAME" -- exec deploy/shell -- sh -c 'echo out; echo err >&2'
same "exec exit code" -- exec deploy/shell -- sh -c 'echo before; exit 3'
same "exec -i" --stdin "$WORK/exec-stdin" -- exec -i deploy/shell -- wc -l
same "exec -it without a terminal" --stdin "$WORK/exec-stdin" -- exec -it deploy/shell -- cat
same "exec -t without -i" -- exec -t deploy/shell -- echo no-tty
same "exec missing pod" -- exec nope -- ls
same "exec without command" -- exec deploy/shell
same "exec command without --" -- exec deploy/shell ls
mut "exec a Deployment without pods" --setup "create deployment idle --image=busybox:latest --replicas=0" \
  -- exec deploy/idle --pod-running-timeout=2s -- true
same "attach missing container" -- attach deploy/shell -c nope
same "attach missing pod" -- attach nope
# Remote paths relative to the container's working directory (/): with an absolute one tar
# notes "removing leading '/'" on stderr, which the real kubectl prints or loses depending on
# which of its stream goroutines finishes first.
same "cp from pod (file)" -- cp "$SHELL_POD:etc/hostname" "$WORK/cp-hostname"
same "cp from pod (dir)" -- cp "$SHELL_POD:etc" "$WORK/cp-etc"
same "cp both local" -- cp "$WORK/a" "$WORK/b"
same "cp both remote" -- cp "$SHELL_POD:/a" "$SHELL_POD:/b"
same "cp missing local source" -- cp "$WORK/nope" "$SHELL_POD:/tmp/x"
same "cp to pod" -- cp "$WORK/exec-stdin" "$SHELL_POD:/tmp/"
same "exec reads what cp wrote" -- exec "$SHELL_POD" -- cat /tmp/exec-stdin
port_forward_case "port-forward deploy :8080" deploy/shell :8080
port_forward_case "port-forward pod 8080" "pod/$SHELL_POD" 18480:8080

# --- proxy
API=http://127.0.0.1:PORT/api/v1/namespaces/kc-compare
proxy_case "proxy GET" -- "$API/configmaps/settings"
proxy_case "proxy GET by localhost" -- "http://localhost:PORT/api/v1/namespaces/kc-compare/configmaps/settings"
proxy_case "proxy NotFound from the server" -- "$API/configmaps/nope"
proxy_case "proxy refuses exec" -- -X POST "$API/pods/$SHELL_POD/exec?command=true&stdout=true"
proxy_case "proxy refuses other hosts" -- -H "Host: evil.example:80" "$API/configmaps/settings"
proxy_case "proxy --api-prefix" --api-prefix=/custom/ -- "http://127.0.0.1:PORT/custom/api/v1/namespaces/kc-compare/configmaps/settings"
proxy_case "proxy outside --api-prefix" --api-prefix=/custom -- "$API/configmaps/settings"
proxy_case "proxy --reject-methods" --reject-methods='^POST$' -- -X POST -H 'Content-Type: application/json' -d '{}' "$API/configmaps"
WWW=$WORK/www
mkdir -p "$WWW/docs" "$WWW/empty"
echo '<p>docs</p>' >"$WWW/docs/index.html"
echo 'console.log(1)' >"$WWW/app.js"
echo 'plain words' >"$WWW/NOTES"
proxy_case "proxy --www file" --www="$WWW" -- "http://127.0.0.1:PORT/static/app.js"
proxy_case "proxy --www sniffed file" --www="$WWW" -- "http://127.0.0.1:PORT/static/NOTES"
proxy_case "proxy --www index.html" --www="$WWW" -- "http://127.0.0.1:PORT/static/docs/"
proxy_case "proxy --www directory redirect" --www="$WWW" -- "http://127.0.0.1:PORT/static/docs"
proxy_case "proxy --www listing" --www="$WWW" -- "http://127.0.0.1:PORT/static/"
proxy_case "proxy --www missing" --www="$WWW" -- "http://127.0.0.1:PORT/static/nope"
proxy_case "proxy --www-prefix, API still served" --www="$WWW" --www-prefix=/files -- \
  "http://127.0.0.1:PORT/files/app.js" "$API/configmaps/settings"
proxy_case "proxy POST (Invalid from the server)" -- -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}' "$API/configmaps"
mut "run -i --rm exit code" --stdin "$WORK/exec-stdin" -- run -i --rm t --image="$RUN_IMAGE" --restart=Never -- sh -c 'read x; echo "got $x"; exit 5'
mut "run --rm without attach" -- run t --rm --image="$RUN_IMAGE"
mut "run -i --dry-run" -- run t -i --image="$RUN_IMAGE" --dry-run=client
mut "run --overrides (merge)" -- run t --image="$RUN_IMAGE" --dry-run=client -o yaml --overrides='{"spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"o","image":"x"}]}}'
mut "run --overrides (strategic)" -- run t --image="$RUN_IMAGE" --dry-run=client -o yaml --override-type=strategic --overrides='{"spec":{"containers":[{"name":"t","stdin":true},{"name":"side","image":"x"}]}}'
mut "run --overrides (zero values)" -- run t --image="$RUN_IMAGE" --dry-run=client -o yaml --overrides='{"status":null,"spec":{"initContainers":[{"image":"a"}],"volumes":[{"emptyDir":{}}],"containers":[{"name":"t","ports":[{"name":"p"}],"volumeMounts":[{"readOnly":true}]}]}}'
mut "run --overrides (json)" -- run t --image="$RUN_IMAGE" --dry-run=client -o yaml --override-type=json --overrides='[{"op":"add","path":"/metadata/labels/tier","value":"web"}]'
# Not attached: what a piped stdin's end does to an attached ephemeral container (whose
# stdinOnce is false) is containerd's to decide, and the real kubectl loses the output.
mut "debug -i --attach=false (ephemeral container)" --setup "run target --image=$RUN_IMAGE -- sleep 3600" \
  --state "get pod target" \
  -- debug -i --attach=false target --image="$RUN_IMAGE" -c dbg --profile=general -- sh -c 'read x; echo "got $x"'
mut "debug --target without attach" --setup "run target --image=$RUN_IMAGE -- sleep 3600" \
  --state "get pod target" -- debug target --image="$RUN_IMAGE" -c dbg --target=target -- true
mut "debug unknown profile" --setup "run target --image=$RUN_IMAGE -- sleep 3600" \
  -- debug target --image="$RUN_IMAGE" --profile=bogus
TARGET_SETUP=(--setup "run target --image=$RUN_IMAGE --labels=app=t --annotations=note=hi -- sleep 3600"
  --setup "wait --for=condition=PodScheduled pod/target --timeout=60s")
mut "debug --copy-to with a debug container (general, --keep-labels)" "${TARGET_SETUP[@]}" \
  --state "get pod copy" -- debug target --copy-to=copy --same-node --image="$RUN_IMAGE" -c dbg \
  --profile=general --keep-labels --env=A=1 -- sleep 100
mut "debug --copy-to changing a container (sysadmin)" "${TARGET_SETUP[@]}" --state "get pod copy" \
  -- debug target --copy-to=copy --same-node -c target --profile=sysadmin --share-processes=false -- sleep 5
mut "debug --copy-to --set-image (legacy)" "${TARGET_SETUP[@]}" --state "get pod copy" \
  -- debug target --copy-to=copy --same-node --set-image='*=busybox:1'
mut "debug --copy-to --replace (generated name)" "${TARGET_SETUP[@]}" --state "get pods" \
  -- debug target --copy-to=copy --same-node --replace --image="$RUN_IMAGE" --profile=baseline -- sleep 100
mut "debug --copy-to --custom" "${TARGET_SETUP[@]}" --state "get pod copy" \
  -- debug target --copy-to=copy --same-node --image="$RUN_IMAGE" -c dbg --profile=general \
  --custom="$C/debug-custom.yaml" -- sleep 100
same "debug --custom changing the image" -- debug target --image="$RUN_IMAGE" --custom="$C/debug-custom-image.json"
same "debug --custom missing file" -- debug target --image="$RUN_IMAGE" --custom="$C/nope.json"
same "debug without --image" -- debug target
same "debug --copy-to without image" -- debug target --copy-to=x
same "debug --copy-to args without container" -- debug target --copy-to=x -- sh
same "debug --replace without --copy-to" -- debug target --replace --image="$RUN_IMAGE"
same "debug --target with --copy-to" -- debug target --copy-to=x --image="$RUN_IMAGE" --target=target
same "debug bad image" -- debug target --image=Bad:Image
same "debug -t without -i" -- debug target --image="$RUN_IMAGE" -t
same "debug a deployment" -- debug deploy/web --image="$RUN_IMAGE" --profile=general
same "debug unknown type" -- debug nosuch/x --image="$RUN_IMAGE" --profile=general
same "debug missing node" -- debug node/nope --image="$RUN_IMAGE" --profile=general
same "debug missing pod" -- debug nope --image="$RUN_IMAGE" --profile=general
mut "run --override-type unknown" -- run t --image="$RUN_IMAGE" --dry-run=client --override-type=bogus --overrides='{}'
mut "run --dry-run=client --template" -- run t --image="$RUN_IMAGE" --dry-run=client --template='{{.kind}} {{(index .spec.containers 0).image}}'
same "expose --dry-run=client -o go-template --template" \
  -- expose deploy web --port=80 --dry-run=client -o go-template --template='{{.kind}} {{.metadata.name}} {{.spec.selector}} {{(index .spec.ports 0).port}}'
same "autoscale --dry-run=client --template" \
  -- autoscale deploy web --max=3 --dry-run=client --template='{{.spec.maxReplicas}} {{.spec.scaleTargetRef.name}}'
mut "create token -o jsonpath" --setup "create serviceaccount robot" \
  -- create token robot -o 'jsonpath={.kind} {.apiVersion} {.spec.audiences}'

# --- nodes (last: cordon changes the shared node; uncordoned again afterwards)
NODE=$(real get nodes -o jsonpath='{.items[0].metadata.name}')
mut "debug node/NAME (legacy, -c)" --state "get pods" -- debug "node/$NODE" --image="$RUN_IMAGE" -c dbg -- true
mut "debug node/NAME (baseline, -q)" --state "get pods" \
  -- debug "node/$NODE" --image="$RUN_IMAGE" --profile=baseline -q -- true
mut "debug node/NAME (netadmin)" --state "get pods" \
  -- debug "node/$NODE" --image="$RUN_IMAGE" --profile=netadmin -- true
mut "cordon" --setup "uncordon $NODE" -- cordon "$NODE"
mut "cordon already cordoned" --setup "cordon $NODE" -- cordon "$NODE"
mut "uncordon" --setup "cordon $NODE" -- uncordon "$NODE"
mut "uncordon missing node" -- uncordon no-such-node
mut "cordon --dry-run=client" --setup "uncordon $NODE" -- cordon "$NODE" --dry-run=client
mut "cordon --dry-run=server" --setup "uncordon $NODE" -- cordon "$NODE" --dry-run=server
mut "uncordon --dry-run (already)" --setup "uncordon $NODE" -- uncordon "$NODE" --dry-run=client
real uncordon "$NODE" >/dev/null 2>&1
mut "taint --dry-run=client --template" \
  -- taint nodes "$NODE" kc-dry=x:NoSchedule --dry-run=client --template='{{range .spec.taints}}{{.key}}={{.value}}:{{.effect}} {{end}}'
mut "taint --dry-run=client -o yaml --show-managed-fields" -- taint nodes "$NODE" kc-dry=x:NoSchedule --dry-run=client -o yaml --show-managed-fields
mut "taint --dry-run=bogus" -- taint nodes "$NODE" kc-dry=x:NoSchedule --dry-run=bogus

# --- go-template printer (-o go-template, go-template-file, template, --template)
same "get -o go-template field" -- get cm settings -o 'go-template={{.metadata.name}} {{.data.greeting}}{{"\n"}}'
same "get -o go-template range map" -- get cm -o 'go-template={{range .items}}{{.metadata.name}}{{"\t"}}{{range $k, $v := .data}}{{$k}}={{printf "%q" $v}};{{end}}{{"\n"}}{{end}}'
same "get -o go-template if/else if" -- get cm -o 'go-template={{range .items}}{{if eq .metadata.name "settings"}}S{{else if .metadata.labels}}L{{else}}-{{end}}{{end}}{{"\n"}}'
same "get -o go-template missing key" -- get cm settings -o 'go-template={{.nope}} {{.metadata.nope.deeper}} {{index .data "nope"}}'
same "get -o go-template with/len/index" -- get deploy web -o 'go-template={{with .spec.template.spec}}{{len .containers}} {{(index .containers 0).name}}{{end}} {{.spec.replicas}} {{.metadata.labels}}'
same "get -o go-template printf/print/println" -- get deploy web -o 'go-template={{printf "%s:%d:%v:%5s|" .kind .spec.replicas .metadata.labels.app "x"}}{{print 1 2 "a" "b"}}{{println " end" 3}}'
same "get -o go-template and/or/not/lt" -- get deploy web -o 'go-template={{and .spec .spec.replicas}} {{or .nope "fallback"}} {{not .spec.paused}} {{lt .spec.replicas 5}} {{ge .spec.replicas 2}}'
same "get -o go-template trim and vars" -- get cm -o 'go-template={{- $n := 0 -}}
{{- range .items -}}
  {{- $n = len .metadata.name -}}
  {{ .metadata.name }}={{ $n }}{{ "\n" -}}
{{- end }}'
same "get -o go-template base64decode" -- get secret creds -o 'go-template={{.data.password | base64decode}}{{"\n"}}'
same "get -o template= alias" -- get cm settings -o 'template={{.kind}}/{{.metadata.name}}'
same "get --template alone" -- get cm settings --template='{{.metadata.name}}'
same "get -o go-template --template" -- get cm settings -o go-template --template='{{.data.number}}'
same "get -o go-template-file" -- get cm -o "go-template-file=$C/template.gotmpl"
same "get -o go-template no template" -- get cm -o go-template
same "get -o go-template parse error" -- get cm -o 'go-template={{.metadata.name'
same "get -o go-template unknown function" -- get cm -o 'go-template={{.items | nosuch}}'
same "get -o go-template exec error" -- get cm settings -o 'go-template=before {{index .data 3}}'
# The error dumps the whole object: a ConfigMap nothing changes between the two runs (a
# Deployment's status can move on in between, e.g. to ProgressDeadlineExceeded).
same "get -o go-template incompatible compare" -- get cm settings -o 'go-template={{lt (len .data) 2.5}}'
mut "create --dry-run -o go-template" -- create configmap gt --from-literal=a=b --dry-run=client -o 'go-template={{.kind}} {{.data.a}}{{"\n"}}'

# --- certificate approve|deny. CSRs are cluster-scoped: each binary gets its own, named
# kc-csr-<case>-<ours|real>, and the result is compared by its conditions.
CSR_KEY=$WORK/csr.key
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kc-compare-user" \
  -keyout "$CSR_KEY" -out "$WORK/csr.pem" 2>/dev/null
CSR_REQUEST=$(base64 -w0 <"$WORK/csr.pem")
# make_csr NAME [CONDITION] — a fresh CSR, optionally already Approved or Denied.
make_csr() {
  real delete csr "$1" --ignore-not-found --wait >/dev/null 2>&1
  real create -f - >/dev/null <<YAML
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: $1
spec:
  request: $CSR_REQUEST
  signerName: kubernetes.io/kube-apiserver-client
  usages: [client auth]
YAML
  [[ -n ${2:-} ]] && real certificate "$2" "$1" >/dev/null
  return 0
}
# csr_case NAME PRE -- ARGS... — ARGS may use @CSR@ for the CSR's name; PRE is "", approve or deny.
csr_case() {
  local name=$1 pre=$2 tag bin csr
  shift 3
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  CASE_NO=$((CASE_NO + 1))
  for tag in ours real; do
    [[ $tag == ours ]] && bin=$OURS || bin=$REAL
    csr=kc-csr-$CASE_NO-$tag
    make_csr "$csr" "$pre"
    run_one "$tag" "$bin" default "" "${@//@CSR@/$csr}"
    sed -i -E "s/kc-csr-[0-9]+-$tag/kc-csr/g" "$WORK/$tag.out" "$WORK/$tag.err"
    real get csr "$csr" -o json | jq -c '[.status.conditions // [] | .[] | {type, status, reason, message}]' >"$WORK/$tag.state"
    real delete csr "$csr" --ignore-not-found >/dev/null 2>&1
  done
  compare_outputs "$name"
}
csr_case "certificate approve" "" -- certificate approve @CSR@
csr_case "certificate deny" "" -- certificate deny @CSR@
csr_case "certificate approve already approved" approve -- certificate approve @CSR@
csr_case "certificate approve --force" approve -- certificate approve @CSR@ --force
csr_case "certificate approve denied" deny -- certificate approve @CSR@
csr_case "certificate deny approved" approve -- certificate deny @CSR@
csr_case "certificate approve -o name" "" -- certificate approve @CSR@ -o name
csr_case "certificate approve --template" "" -- certificate approve @CSR@ --template='{{range .status.conditions}}{{.type}}/{{.reason}} {{end}}'
csr_case "certificate approve missing" "" -- certificate approve kc-no-such-csr
csr_case "certificate approve missing and present" "" -- certificate approve kc-no-such-csr @CSR@
csr_case "certificate approve no args" "" -- certificate approve

# --- top: usage changes between two runs, so numbers are normalised; headers, names and
# errors must match.
# top_case NAME -- ARGS...
top_case() {
  local name=$1 tag
  shift 2
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  for tag in ours real; do
    [[ $tag == ours ]] && bin=$OURS || bin=$REAL
    run_one "$tag" "$bin" kc-compare "" "$@"
    # Numbers vary; column widths follow them. A pod's age in errors moves on between runs.
    sed -i -E -e 's/\b[0-9]+(m|Mi|%)/N\1/g' -e 's/ +/ /g' "$WORK/$tag.out"
    sed -i -E -e 's/, age: [0-9hms.]+$/, age: <age>/' "$WORK/$tag.err"
  done
  compare_outputs "$name"
}
if ! skip "top"; then
  # The metrics add-on needs a scrape or two after the pods start.
  for _ in $(seq 60); do
    real -n kc-compare top pod >/dev/null 2>&1 && real top node >/dev/null 2>&1 && break
    sleep 2
  done
fi
top_case "top node" -- top node
top_case "top nodes --no-headers --sort-by=cpu" -- top nodes --no-headers --sort-by=cpu
top_case "top node --show-capacity --sort-by=memory" -- top node --show-capacity --sort-by=memory
top_case "top node NAME" -- top node "$NODE"
top_case "top node missing" -- top node no-such-node
top_case "top node bad --sort-by" -- top node --sort-by=name
top_case "top pod" -- top pod
top_case "top pod -l" -- top pod -l app=web --sort-by=memory
top_case "top pod --containers" -- top pod --containers
top_case "top pod -A (kc-compare rows)" -- top pod -A --field-selector metadata.namespace=kc-compare
top_case "top pod --sum" -- top pod --sum --use-protocol-buffers=false
top_case "top pod missing" -- top pod nope
top_case "top pod NAME and selector" -- top pod nope -l app=web
top_case "top pod empty selection" -- top pod -l app=nothing

# --- the command line as pflag and cobra read it: Go booleans and durations, and their
# errors (each command's flags are refused before it runs, with exit status 1).
same "flag: unknown" -- get pods --bogus=1
same "flag: unknown shorthand in a group" -- get pods -Az
same "flag: needs an argument" -- get pods -o
same "flag: long form needs an argument" -- get pods --output
same "flag: bad boolean" -- get pods --watch=maybe
same "flag: boolean =false" -- get configmaps --show-labels=false
same "flag: shorthand boolean =false" -- get configmaps -A=false
same "flag: bad integer" -- scale deploy/web --replicas=abc
same "flag: integer out of range" -- get pods --chunk-size=99999999999999999999
same "flag: duration without a unit" -- wait --for=delete pod/nope --timeout=30
same "flag: duration with an unknown unit" -- rollout status deploy/web --timeout=5x
same "flag: duration in two units" -- rollout status deploy/web --timeout=1m30s
same "flag: rollout status -w=false" -- rollout status deploy/web -w=false
same "flag: unknown subcommand" -- rollout statsu deploy/web
same "flag: unknown command after flags" -- gett pods
same "flag: unknown flag of a subcommand" -- top pod --bogus

# --- kubectl config editing, without a cluster: each binary edits its own copy of
# compare/kubeconfig-fixture.yaml (see config_case), and the resulting files must match.
config_case "config set-cluster new" -- config set-cluster edge --server=https://edge.example.com:6443 --tls-server-name=edge
config_case "config set-cluster existing --server" -- config set-cluster staging --server=https://10.0.0.9:6443
config_case "config set-cluster --embed-certs" -- config set-cluster prod --certificate-authority=kubeconfig-fixture-ca.crt --embed-certs
config_case "config set-cluster --certificate-authority path" -- config set-cluster staging --certificate-authority=kubeconfig-fixture-ca.crt
config_case "config set-cluster insecure with a CA" -- config set-cluster prod --insecure-skip-tls-verify --certificate-authority=kubeconfig-fixture-ca.crt
config_case "config set-cluster --embed-certs without a CA" -- config set-cluster prod --embed-certs
config_case "config set-cluster --embed-certs missing file" -- config set-cluster prod --embed-certs --certificate-authority=nope.crt
config_case "config set-cluster without a name" --help-page -- config set-cluster
config_case "config set-credentials --token" -- config set-credentials admin --token=new-token
config_case "config set-credentials --token= removes it" -- config set-credentials admin --token=
config_case "config set-credentials basic auth replaces the token" -- config set-credentials admin --username=root --password=secret
config_case "config set-credentials two methods" -- config set-credentials admin --token=t --username=u
config_case "config set-credentials --embed-certs" -- config set-credentials dev --client-certificate=kubeconfig-fixture-client.crt --client-key=kubeconfig-fixture-client.key --embed-certs
config_case "config set-credentials --embed-certs without files" -- config set-credentials dev --embed-certs
config_case "config set-credentials exec plugin" -- config set-credentials robot --exec-command=/usr/local/bin/auth --exec-api-version=client.authentication.k8s.io/v1 --exec-arg=login,--quiet --exec-env=MODE=ci
config_case "config set-credentials too many args" --help-page -- config set-credentials a b
config_case "config set a field" -- config set clusters.staging.server https://10.0.0.10:6443
config_case "config set a new entry with dots in its name" -- config set contexts.team.a.b.namespace apps
config_case "config set a bool" -- config set clusters.prod.insecure-skip-tls-verify true
config_case "config set a bad bool" -- config set clusters.prod.insecure-skip-tls-verify maybe
config_case "config set base64 data" -- config set users.dev.client-key-data S0VZCg==
config_case "config set --set-raw-bytes" -- config set users.dev.client-key-data raw-key --set-raw-bytes
config_case "config set bad base64" -- config set users.dev.client-key-data 'not base64'
config_case "config set unknown field" -- config set bogus value
config_case "config set a map" -- config set clusters.prod value
config_case "config set past a string" -- config set current-context.x y
config_case "config set empty value" -- config set users.admin.token ''
config_case "config set one argument" --help-page -- config set current-context
config_case "config unset a field" -- config unset contexts.prod.namespace
config_case "config unset an entry" -- config unset users.dev
config_case "config unset a missing key" -- config unset contexts.nope.namespace
config_case "config unset current-context" -- config unset current-context
config_case "config delete-cluster" -- config delete-cluster staging
config_case "config delete-cluster unknown" -- config delete-cluster nope
config_case "config delete-user" -- config delete-user dev
config_case "config delete-user without a name" -- config delete-user
config_case "config rename-context the current one" -- config rename-context prod production
config_case "config rename-context onto an existing one" -- config rename-context prod staging
config_case "config set-context new (file)" -- config set-context review --cluster=staging --user=admin
config_case "config delete-context the current one" -- config delete-context prod

# --- global credential flags, field validation and server warnings
same "--as: refused as the impersonated user" -- --as=nobody get pods
same "--as with --as-group" -- --as=nobody --as-group=system:masters get configmap settings -o name
same "--as-group without --as" -- --as-group=devs get pods
same "--as: auth whoami" -- --as=nobody --as-group=devs auth whoami
same "--as: auth can-i" -- auth can-i list pods --as=system:serviceaccount:kc-compare:default
same "--request-timeout refused" -- get pods --request-timeout=soon
mut "--validate strict (default)" -- create -f "$C/unknown-field.yaml"
mut "--validate=false" --state "get cm unknown-field" -- create -f "$C/unknown-field.yaml" --validate=false
mut "--validate=warn prints the server's warning" -- create -f "$C/unknown-field.yaml" --validate=warn
mut "--warnings-as-errors" -- create -f "$C/unknown-field.yaml" --validate=warn --warnings-as-errors
mut "--validate bad value" -- create -f "$C/unknown-field.yaml" --validate=bogus
mut "apply strict" -- apply -f "$C/unknown-field.yaml"
mut "apply --server-side strict" -- apply --server-side -f "$C/unknown-field.yaml"
mut "replace strict, object missing" -- replace -f "$C/unknown-field.yaml"
mut "apply --server-side conflict" --setup "apply --server-side --field-manager=first -f $C/apply.yaml" \
  -- apply --server-side --field-manager=second -f "$C/ssa-conflict.yaml"
mut "create --field-manager" --state "get cm unknown-field --show-managed-fields -o jsonpath={.metadata.managedFields[*].manager}" \
  -- create -f "$C/unknown-field.yaml" --validate=ignore --field-manager=my-tool
mut "create --save-config" --state "get cm unknown-field" -- create -f "$C/unknown-field.yaml" --validate=ignore --save-config

# --- logs flags
# Fixtures in a namespace of their own (kc-logs), so that the kc-compare listings and
# describes keep their set: pods that printed a fixed set of lines and exited, a pod held
# by an init container, a Job, a Deployment and Services standing for pods. Several log
# streams read one after the other come in the random order of a Go map upstream, so the
# cases that read more than one stream use streams with identical lines (or one stream).
# logs_case NAME -- ARGS... — a read-only command in namespace kc-logs.
logs_case() {
  local name=$1
  shift 2
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  run_one ours "$OURS" kc-logs "" "$@"
  run_one real "$REAL" kc-logs "" "$@"
  compare_outputs "$name"
}
if ! skip "logs flags"; then
  real wait --for=delete ns/kc-logs --timeout=180s >/dev/null 2>&1
  fresh_namespace kc-logs
  real -n kc-logs apply -f - >/dev/null <<'EOF' || echo "kubectl-compare: logs fixtures failed" >&2
apiVersion: v1
kind: Pod
metadata: {name: counter, labels: {app: counter}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: "busybox:latest", command: ["sh", "-c", "for i in $(seq 1 15); do echo line $i; done"]}
---
apiVersion: v1
kind: Pod
metadata: {name: twins-a, labels: {app: twins}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: "busybox:latest", command: ["echo", "hello"]}
---
apiVersion: v1
kind: Pod
metadata: {name: twins-b, labels: {app: twins}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: "busybox:latest", command: ["echo", "hello"]}
---
apiVersion: v1
kind: Pod
metadata: {name: duo}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: setup, image: "busybox:latest", command: ["echo", "same line"]}
  containers:
  - {name: first, image: "busybox:latest", command: ["echo", "same line"]}
  - {name: second, image: "busybox:latest", command: ["echo", "same line"]}
---
apiVersion: v1
kind: Pod
metadata:
  name: annotated
  annotations: {kubectl.kubernetes.io/default-container: second}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: first, image: "busybox:latest", command: ["echo", "from first"]}
  - {name: second, image: "busybox:latest", command: ["echo", "from second"]}
---
apiVersion: v1
kind: Pod
metadata:
  name: misannotated
  annotations: {kubectl.kubernetes.io/default-container: gone}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: first, image: "busybox:latest", command: ["echo", "from first"]}
  - {name: second, image: "busybox:latest", command: ["echo", "from second"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stuck, labels: {app: stuck}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: wait, image: "busybox:latest", command: ["sleep", "3600"]}
  containers:
  - {name: main, image: "busybox:latest", command: ["sleep", "3600"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: "busybox:latest", command: ["echo", "job done"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: "busybox:latest", command: ["sh", "-c", "echo one; echo two; exec sleep 3600"]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: idle}
spec:
  replicas: 0
  selector: {matchLabels: {app: idle}}
  template:
    metadata: {labels: {app: idle}}
    spec:
      containers:
      - {name: main, image: "busybox:latest"}
---
apiVersion: v1
kind: Service
metadata: {name: twins}
spec:
  selector: {app: twins}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: solo}
spec:
  selector: {app: counter}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: headless}
spec:
  clusterIP: None
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
EOF
  real -n kc-logs wait --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s \
    pod/counter pod/twins-a pod/twins-b pod/duo pod/annotated pod/misannotated >/dev/null 2>&1 ||
    echo "kubectl-compare: logs fixture pods did not finish" >&2
  real -n kc-logs wait --for=condition=complete job/once --timeout=120s >/dev/null 2>&1
  real -n kc-logs rollout status deploy/echo --timeout=120s >/dev/null 2>&1
  real -n kc-logs wait --for=jsonpath='{.status.containerStatuses[0].state.waiting.reason}'=PodInitializing \
    pod/stuck --timeout=120s >/dev/null 2>&1
fi
logs_case "logs flags: one pod" -- logs counter
logs_case "logs flags: --tail" -- logs counter --tail=3
logs_case "logs flags: --tail=0" -- logs counter --tail=0
logs_case "logs flags: --tail below -1" -- logs counter --tail=-2
logs_case "logs flags: --limit-bytes" -- logs counter --limit-bytes=10
logs_case "logs flags: negative --limit-bytes" -- logs counter --limit-bytes=-1
logs_case "logs flags: --since-time in the past" -- logs counter --since-time=2000-01-01T00:00:00Z
logs_case "logs flags: --since-time with an offset and a fraction" -- logs counter --since-time=2000-01-01T02:00:00.5+02:00 --tail=2
logs_case "logs flags: --since-time in the future" -- logs counter --since-time=2100-01-01T00:00:00Z
logs_case "logs flags: --since-time not RFC 3339" -- logs counter --since-time=2024-08-30
logs_case "logs flags: --since-time out of range" -- logs counter --since-time=2024-02-30T00:00:00Z
logs_case "logs flags: --since and --since-time" -- logs counter --since=1h --since-time=2000-01-01T00:00:00Z
logs_case "logs flags: --since" -- logs counter --since=87600h --tail=1
logs_case "logs flags: negative --since" -- logs counter --since=-2s
logs_case "logs flags: --timestamps" -- logs counter --timestamps --tail=1
logs_case "logs flags: --prefix" -- logs counter --prefix --tail=2
logs_case "logs flags: --insecure-skip-tls-verify-backend" -- logs counter --insecure-skip-tls-verify-backend --tail=1
logs_case "logs flags: -f on a finished pod" -- logs -f counter --tail=2
logs_case "logs flags: -p without a previous container" -- logs -p counter
logs_case "logs flags: -l tails 10 lines" -- logs -l app=counter
logs_case "logs flags: -l --tail=-1" -- logs -l app=counter --tail=-1
logs_case "logs flags: -l --prefix" -- logs -l app=counter --prefix --tail=2
logs_case "logs flags: -l matching several pods" -- logs -l app=twins
logs_case "logs flags: -l matching nothing" -- logs -l app=nothing
logs_case "logs flags: -l and a pod" -- logs counter -l app=counter
logs_case "logs flags: -l and a pod with its container" -- logs counter main -l app=counter
logs_case "logs flags: -l refused by the server" -- logs -l 'a b'
logs_case "logs flags: -l --limit-bytes" -- logs -l app=twins --limit-bytes=3
logs_case "logs flags: -l with a missing container" -- logs -l app=twins -c nope
logs_case "logs flags: -f -l over --max-log-requests" -- logs -f -l app=twins --max-log-requests=1
logs_case "logs flags: -f -l within --max-log-requests" -- logs -f -l app=twins --max-log-requests=2
logs_case "logs flags: -f --all-containers over --max-log-requests" -- logs -f duo --all-containers --max-log-requests=2
logs_case "logs flags: several containers, default one" -- logs duo
logs_case "logs flags: --all-containers" -- logs duo --all-containers
logs_case "logs flags: -c" -- logs duo -c second --prefix
logs_case "logs flags: inline container" -- logs duo setup
logs_case "logs flags: -c and an inline container" -- logs duo second -c second
logs_case "logs flags: --all-containers with a container" -- logs duo --all-containers -c first
logs_case "logs flags: unknown container" -- logs duo -c nope
logs_case "logs flags: default-container annotation" -- logs annotated
logs_case "logs flags: default-container annotation naming nothing" -- logs misannotated
logs_case "logs flags: waiting container" -- logs stuck
logs_case "logs flags: waiting container, --ignore-errors" -- logs stuck --ignore-errors
logs_case "logs flags: -f waiting container, --ignore-errors" -- logs -f -l app=stuck --ignore-errors
logs_case "logs flags: missing pod" -- logs nope
logs_case "logs flags: missing deployment" -- logs deploy/nope
logs_case "logs flags: unknown type" -- logs nosuchtype/x
logs_case "logs flags: TYPE/ without a name" -- logs deploy/
logs_case "logs flags: two slashes" -- logs deploy/a/b
logs_case "logs flags: missing replicaset" -- logs rs/nope
logs_case "logs flags: pod/NAME" -- logs pod/counter --tail=1
logs_case "logs flags: deploy/NAME" -- logs deploy/echo
logs_case "logs flags: deployment/NAME --tail" -- logs deployment/echo --tail=1
logs_case "logs flags: job/NAME" -- logs job/once
logs_case "logs flags: svc/NAME with several pods" -- logs svc/twins
logs_case "logs flags: svc/NAME --all-pods" -- logs svc/solo --all-pods --tail=2
logs_case "logs flags: --all-pods on a pod" -- logs counter --all-pods --tail=1
logs_case "logs flags: -l --all-pods" -- logs -l app=counter --all-pods --tail=1
logs_case "logs flags: service without a selector" -- logs svc/headless
logs_case "logs flags: configmap" -- logs cm/plain
logs_case "logs flags: a kind without pods" -- logs sa/default
logs_case "logs flags: a kind outside kubectl's scheme" -- logs apiservice/v1beta1.metrics.k8s.io
logs_case "logs flags: workload without pods, --pod-running-timeout" -- logs deploy/idle --pod-running-timeout=2s
logs_case "logs flags: --pod-running-timeout=0" -- logs deploy/idle --pod-running-timeout=0s
skip "logs flags" || real delete ns kc-logs --wait=false >/dev/null 2>&1

# --- label and annotate: dry runs, listing, preconditions, selectors, files, managers
ONE_CM=(--setup "create configmap one" --setup "label configmap one app=web")
mut "label --dry-run=client" "${ONE_CM[@]}" --state "get cm one" -- label cm one tier=db --dry-run=client
mut "label --dry-run=server" "${ONE_CM[@]}" --state "get cm one" -- label cm one tier=db --dry-run=server
mut "label --list" "${ONE_CM[@]}" -- label cm one --list
mut "label --list of several objects" "${ONE_CM[@]}" --setup "create configmap two" -- label cm one two --list
mut "label --list with -o" "${ONE_CM[@]}" -- label cm one --list -o yaml
mut "label --resource-version conflict" "${ONE_CM[@]}" -- label cm one app=x --resource-version=1 --overwrite
mut "label --field-selector" "${ONE_CM[@]}" --setup "create configmap two" --state "get cm -l tier=db -o name" \
  -- label cm tier=db --field-selector=metadata.name=one
mut "label a name with a selector" "${ONE_CM[@]}" -- label cm one tier=db --field-selector=metadata.name=one
mut "label -o jsonpath" "${ONE_CM[@]}" -- label cm one tier=db -o 'jsonpath={.metadata.labels.tier}'
mut "label removal, dry run" "${ONE_CM[@]}" -- label cm one app- --dry-run=client
mut "annotate --field-manager" "${ONE_CM[@]}" \
  --state "get cm one --show-managed-fields -o jsonpath={.metadata.managedFields[*].manager}" \
  -- annotate cm one x=1 --field-manager=mine
same "label --local -f -o yaml" -- label -f "$C/apply.yaml" q=1 --local -o yaml
same "label --local without -f" -- label cm settings q=1 --local

# --- get/delete/auth flags
# get --raw, -f/-R, --show-kind, --server-print=false, --subresource, --show-managed-fields
# and -w --output-watch-events; delete --dry-run, --raw, --timeout, -i; auth can-i --list.
# Case names start with "gda:" (COMPARE_FILTER=gda:).
GDA=$C/get-delete-auth

# gda_watch NAME -- ARGS... — a watch both binaries run for three seconds, then are
# interrupted (as a user would with ^C); what they printed until then is compared.
gda_watch() {
  local name=$1 tag bin
  shift 2
  skip "$name" && return 0
  rm -f "$WORK"/*.state
  for tag in ours real; do
    [[ $tag == ours ]] && bin=$OURS || bin=$REAL
    timeout -s INT 3 "$bin" --kubeconfig "$RUDDER_E2E_KUBECONFIG" -n kc-compare "$@" \
      </dev/null >"$WORK/$tag.out" 2>"$WORK/$tag.err"
    echo $? >"$WORK/$tag.rc"
  done
  compare_outputs "$name"
}

same "gda: get --raw an object" -- get --raw /api/v1/namespaces/kc-compare/configmaps/settings
same "gda: get --raw a missing object" -- get --raw /api/v1/namespaces/kc-compare/configmaps/nope
same "gda: get --raw /healthz" -- get --raw /healthz
same "gda: get --raw not a path" -- get --raw api
same "gda: get --raw bad escape" -- get --raw '/api/%zz'
same "gda: get --raw with arguments" -- get --raw /api pods
same "gda: get --raw with -w" -- get --raw /api -w
same "gda: get --raw with -o" -- get --raw /api -o json
same "gda: get --raw lets --field-selector through" -- get --raw /api/v1/namespaces/kc-compare/configmaps/settings --field-selector a=b
same "gda: get -f a file" -- get -f "$GDA/settings.yaml"
same "gda: get -f a file -o json" -- get -f "$GDA/settings.yaml" -o json
same "gda: get -f fixtures (several types)" -- get -f "$C/fixtures.yaml"
same "gda: get -f fixtures -o name" -- get -f "$C/fixtures.yaml" -o name
same "gda: get -f with a missing object" -- get -f "$GDA/with-missing.yaml"
same "gda: get -f with a missing object -o json" -- get -f "$GDA/with-missing.yaml" -o json
same "gda: get -f --ignore-not-found" -- get -f "$GDA/with-missing.yaml" --ignore-not-found
same "gda: get -f DIR" -- get -f "$GDA/tree" -o name
same "gda: get -f DIR -R" -- get -f "$GDA/tree" -R
same "gda: get -f - (stdin)" --stdin "$GDA/settings.yaml" -- get -f - -o name
same "gda: get -f -l (server tables carry no labels)" -- get -f "$GDA/settings.yaml" -l app=web
same "gda: get -f -l -o name" -- get -f "$GDA/settings.yaml" -l app=web -o name
same "gda: get -f -l --server-print=false" -- get -f "$GDA/settings.yaml" -l app=web --server-print=false
same "gda: get -f with a type argument" -- get cm -f "$GDA/settings.yaml"
same "gda: get -f with TYPE/NAME" -- get cm/settings -f "$GDA/settings.yaml"
same "gda: get -f -A" -- get -f "$GDA/settings.yaml" -A
same "gda: get -f a missing path" -- get -f "$GDA/nope.yaml"
same "gda: get --show-kind" -- get cm --show-kind
same "gda: get --show-kind -o wide" -- get deploy web --show-kind -o wide
same "gda: get --server-print=false" -- get cm --server-print=false
same "gda: get --server-print=false several types" -- get deploy,svc,cm --server-print=false
same "gda: get --server-print=false -A" -- get cm -A -l app=web --server-print=false
same "gda: get --server-print=false nothing found" -- get ns -l app=nothing --server-print=false
same "gda: get --server-print=false --show-labels -L" -- get cm --server-print=false --show-labels -L app
same "gda: get --subresource=scale" -- get deploy web --subresource=scale
same "gda: get --subresource=scale -o json" -- get deploy web --subresource=scale -o json
same "gda: get --subresource=status" -- get deploy/web --subresource=status
same "gda: get --subresource of a collection" -- get deploy --subresource=scale
same "gda: get --subresource unknown" -- get deploy web --subresource=nope
same "gda: get --show-managed-fields -o yaml" -- get cm settings -o yaml --show-managed-fields
same "gda: get -o jsonpath sees managedFields" -- get cm settings -o 'jsonpath={.metadata.managedFields[*].manager}'
same "gda: get --output-watch-events without -w" -- get cm --output-watch-events
same "gda: get --show-labels -o json" -- get cm --show-labels -o json
same "gda: get a name with -l" -- get cm settings -l app=web
same "gda: get a name across all namespaces" -- get cm settings -A
same "gda: get -w two types" -- get cm,secret -w
same "gda: get -w without arguments" -- get -w
gda_watch "gda: get -w --output-watch-events" -- get cm -w --output-watch-events
gda_watch "gda: get -w --output-watch-events -o json" -- get cm -w --output-watch-events -o json
gda_watch "gda: get -w -o yaml" -- get cm -w -o yaml
gda_watch "gda: get -w --output-watch-events -o name" -- get cm -w --output-watch-events -o name
gda_watch "gda: get -w --server-print=false --show-kind" -- get cm -A --field-selector metadata.namespace=kc-compare -w --server-print=false --show-kind --output-watch-events
gda_watch "gda: get -w --sort-by (warning)" -- get cm -w --sort-by=.metadata.name

mut "gda: delete --dry-run=client" --setup "create -f $C/apply.yaml" --state "get cm applied" -- delete cm applied --dry-run=client
mut "gda: delete --dry-run=server" --setup "create -f $C/apply.yaml" --state "get cm applied" -- delete cm applied --dry-run=server
mut "gda: delete --dry-run=client -l -o name" --setup "create -f $C/apply.yaml" -- delete cm,deploy -l stage=one --dry-run=client -o name
mut "gda: delete --dry-run=client a missing object" -- delete cm nope --dry-run=client
same "gda: delete --dry-run bad value" -- delete cm nope --dry-run=bogus
mut "gda: delete -i answered y" --setup "create -f $C/apply.yaml" --stdin "$GDA/answer-yes.txt" --state "get cm applied" -- delete cm applied -i
mut "gda: delete -i answered n" --setup "create -f $C/apply.yaml" --stdin "$GDA/answer-no.txt" --state "get cm applied" -- delete cm applied -i
mut "gda: delete -i without an answer" --setup "create -f $C/apply.yaml" --state "get cm applied" -- delete cm applied -i
mut "gda: delete -i nothing found" -- delete cm -l app=nothing -i
mut "gda: delete -i a missing object" --stdin "$GDA/answer-yes.txt" -- delete cm nope -i
mut "gda: delete --timeout" --setup "create -f $C/apply.yaml" --state "get cm applied" -- delete cm applied --timeout=30s
same "gda: delete --timeout without a unit" -- delete cm nope --timeout=5
mut "gda: delete --force" --setup "create cm gone" -- delete cm gone --force
mut "gda: delete --now with --grace-period" --setup "create cm gone" -- delete cm gone --now --grace-period=5
mut "gda: delete --force with --grace-period" --setup "create cm gone" -- delete cm gone --force --grace-period=5
mut "gda: delete --cascade=false (deprecated)" --setup "create cm gone" -- delete cm gone --cascade=false
mut "gda: delete a name across all namespaces" -- delete cm gone -A
same "gda: delete --raw a missing object" -- delete --raw /api/v1/namespaces/kc-compare/configmaps/nope
same "gda: delete --raw not a path" -- delete --raw api
same "gda: delete --raw -i" -- delete --raw /api -i
same "gda: delete --raw two files" -- delete --raw /api -f a -f b
same "gda: delete --raw a URL" -- delete --raw /api -f http://example.com/x
same "gda: delete --raw -R" -- delete --raw /api -f a -R
same "gda: delete --raw -o name" -- delete --raw /api -o name
same "gda: delete --all without a type" -- delete --all
same "gda: delete a name with -l" -- delete cm settings -l app=web
same "gda: delete TYPE/NAME with --all" -- delete cm/settings --all
same "gda: delete -o json" -- delete cm nope -o json

same "gda: auth can-i --list" -- auth can-i --list
same "gda: auth can-i --list --no-headers" -- auth can-i --list --no-headers
same "gda: auth can-i --list as a service account" -- auth can-i --list --as=system:serviceaccount:kc-compare:default
same "gda: auth can-i --list with arguments" -- auth can-i --list pods
same "gda: auth can-i --list -A" -- auth can-i --list -A
same "gda: auth can-i --no-headers without --list" -- auth can-i get pods --no-headers
same "gda: auth can-i three arguments" -- auth can-i get pods web
same "gda: auth can-i unknown verb" -- auth can-i frob pods
same "gda: auth can-i cluster-scoped type" -- auth can-i get nodes
same "gda: auth can-i unknown type in a group" -- auth can-i get foos.example.com
same "gda: auth can-i denied" -- auth can-i get pods --as=nobody
same "gda: auth can-i /URL with --subresource" -- auth can-i get /healthz --subresource=log
same "gda: get -o json --ignore-not-found (nothing found)" -- get cm nope -o json --ignore-not-found
same "gda: get -f -A -o name (no namespace to read in)" -- get -f "$GDA/settings.yaml" -A -o name
mut "gda: delete -f -l (manifests judged as written)" --setup "create cm settings" --state "get cm settings" -- delete -f "$GDA/settings.yaml" -l app=web
mut "gda: delete -f -A (no namespace to delete in)" --setup "create cm settings" -- delete -f "$GDA/settings.yaml" -A
same "gda: delete a cluster-scoped type under -n (warning)" -- delete ns default --dry-run=client

# --- scale: dry runs, -o (the object as read), preconditions, files, waiting
IDLE_DEPLOY=(--setup "create deployment idle --image=busybox:latest --replicas=0 -- sleep 3600")
mut "scale --dry-run=client" "${IDLE_DEPLOY[@]}" --state "get deploy idle -o jsonpath={.spec.replicas}" \
  -- scale deploy idle --replicas=2 --dry-run=client
mut "scale --dry-run=server -o jsonpath" "${IDLE_DEPLOY[@]}" \
  -- scale deploy idle --replicas=2 --dry-run=server -o 'jsonpath={.kind} {.spec.replicas}'
mut "scale -o name" "${IDLE_DEPLOY[@]}" -- scale deploy idle --replicas=0 -o name
# (A mismatch names the live resourceVersion, which differs between the two namespaces.)
mut "scale --resource-version, client dry run" "${IDLE_DEPLOY[@]}" \
  -- scale deploy idle --replicas=1 --resource-version=1 --dry-run=client
mut "scale --timeout" "${IDLE_DEPLOY[@]}" --state "get deploy idle -o jsonpath={.spec.replicas}" \
  -- scale deploy idle --replicas=0 --timeout=30s

# --- create configmap/secret data: env files, hashed names, key checks (client dry runs)
same "create configmap --from-env-file" -- create configmap env --from-env-file="$C/settings.env" --dry-run=client -o yaml
same "create secret --from-env-file" -- create secret generic env --from-env-file="$C/settings.env" --dry-run=client -o yaml
same "create configmap --from-env-file twice" -- create configmap env --from-env-file="$C/settings.env" --from-env-file="$C/settings.env" --dry-run=client
same "create --from-env-file with --from-literal" -- create configmap env --from-env-file="$C/settings.env" --from-literal=a=b --dry-run=client
same "create configmap --append-hash" -- create configmap hashed --from-literal=a=1 --append-hash --dry-run=client -o yaml
same "create secret --append-hash" -- create secret generic hashed --from-literal=a=1 --type=example/x --append-hash --dry-run=client -o name
same "create configmap duplicate key" -- create configmap dup --from-literal=a=1 --from-literal=a=2 --dry-run=client
same "create secret duplicate key" -- create secret generic dup --from-literal=a=1 --from-literal=a=2 --dry-run=client
same "create configmap bad key" -- create configmap bad --from-literal=b/c=1 --dry-run=client
same "create secret bad key" -- create secret generic bad --from-literal=..=1 --dry-run=client
same "create configmap empty key" -- create configmap bad --from-literal==1 --dry-run=client
same "create configmap from a directory" -- create configmap dir --from-file="$C" --dry-run=client -o name

# --- patch: dry runs, --local and -f, field manager
mut "patch --dry-run=client" "${ONE_CM[@]}" --state "get cm one -o jsonpath={.metadata.labels}" \
  -- patch cm one -p '{"metadata":{"labels":{"app":"x"}}}' --dry-run=client
mut "patch --dry-run=server (no change)" "${ONE_CM[@]}" -- patch cm one -p '{"metadata":{"labels":{"app":"web"}}}' --dry-run=server
mut "patch --dry-run=client -o jsonpath" "${ONE_CM[@]}" \
  -- patch cm one --type=merge -p '{"data":{"b":"2"}}' --dry-run=client -o 'jsonpath={.data}'
same "patch --local -f" -- patch -f "$C/apply.yaml" --type=merge -p '{"metadata":{"labels":{"x":"y"}}}' --local -o name
same "patch --local with server resources" -- patch cm settings -p '{"data":{"c":"2"}}' --local
mut "patch --field-manager" "${ONE_CM[@]}" \
  --state "get cm one --show-managed-fields -o jsonpath={.metadata.managedFields[*].manager}" \
  -- patch cm one --type=merge -p '{"data":{"a":"5"}}' --field-manager=me

# --- per-command files
source "$C/cases-rollout.sh"
source "$C/cases-set.sh"
source "$C/cases-wait-run.sh"
source "$C/cases-create-config.sh"
source "$C/cases-context-namespace.sh"
source "$C/cases-strategic.sh"

# --- auth reconcile: cluster-scoped objects, reset before each binary's run
RECONCILE_RESET=(--setup "delete clusterrole,clusterrolebinding kc-reconcile --ignore-not-found")
RECONCILE_EXISTING=("${RECONCILE_RESET[@]}" --setup "create -f $C/reconcile-rbac.yaml")
RECONCILE_STATE="get clusterrole,clusterrolebinding kc-reconcile"
mut "auth reconcile creates roles and bindings" "${RECONCILE_RESET[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac.yaml"
mut "auth reconcile of what exists" "${RECONCILE_EXISTING[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac.yaml"
mut "auth reconcile adds rules and subjects" "${RECONCILE_EXISTING[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac-more.yaml"
mut "auth reconcile --remove-extra-permissions --remove-extra-subjects" "${RECONCILE_EXISTING[@]}" \
  --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac-more.yaml" --remove-extra-permissions --remove-extra-subjects -o name
mut "auth reconcile a changed roleRef" "${RECONCILE_EXISTING[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-roleref.yaml"
mut "auth reconcile --dry-run=client of what exists" "${RECONCILE_EXISTING[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac-more.yaml" --dry-run=client
mut "auth reconcile from stdin" "${RECONCILE_EXISTING[@]}" --stdin "$C/reconcile-roleref.yaml" \
  --state "$RECONCILE_STATE" -- auth reconcile -f -
mut "auth reconcile namespaced objects without a namespace" --state "get role,rolebinding,cm" \
  -- auth reconcile -f "$C/reconcile-namespaced.yaml"
same "auth reconcile without -f" -- auth reconcile
same "auth reconcile with arguments" -- auth reconcile -f "$C/reconcile-rbac.yaml" extra
same "auth reconcile --dry-run=server" -- auth reconcile -f "$C/reconcile-rbac.yaml" --dry-run=server
same "auth reconcile -o wide" -- auth reconcile -f "$C/reconcile-rbac.yaml" -o wide
# Last: leaves no kc-reconcile objects behind.
mut "auth reconcile --dry-run=client -o yaml" "${RECONCILE_RESET[@]}" --state "$RECONCILE_STATE" \
  -- auth reconcile -f "$C/reconcile-rbac.yaml" --dry-run=client -o yaml
