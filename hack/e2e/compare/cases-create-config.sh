# Compare cases for create's generators, the --dry-run spellings and config view (sourced by
# cases.sh; same helpers: same, mut).

# --- a generator's NAME and required flags, counted and named as cobra does
same "create namespace without a name" -- create namespace
same "create configmap with two names" -- create configmap a b
same "create deployment without --image" -- create deployment d
same "create cronjob without its required flags" -- create cronjob c
same "create job with names around flags" -- create job a --image=busybox b

# --- --dry-run spellings
same "create --dry-run client (a space: one more name)" -- create namespace x --dry-run client
mut "create --dry-run=true (deprecated boolean)" -- create configmap x --dry-run=true
mut "create --dry-run=0 (deprecated boolean)" --state "get cm x -o jsonpath={.metadata.name}" \
  -- create configmap x --dry-run=0
mut "create --dry-run alone (deprecated)" -- create configmap x --dry-run -o name
mut "label --dry-run=1" "${ONE_CM[@]}" -- label cm one x=y --dry-run=1

# --- create token bound to an object
TOKEN_SA=(--setup "create serviceaccount robot" --setup "create secret generic bound")
mut "create token --bound-object-kind=Secret" "${TOKEN_SA[@]}" \
  -- create token robot --bound-object-kind=Secret --bound-object-name=bound \
  -o 'jsonpath={.spec.boundObjectRef.kind}/{.spec.boundObjectRef.name}'
mut "create token bound to a missing object" "${TOKEN_SA[@]}" \
  -- create token robot --bound-object-kind=Pod --bound-object-name=nope
mut "create token bound with the wrong uid" "${TOKEN_SA[@]}" \
  -- create token robot --bound-object-kind=Secret --bound-object-name=bound --bound-object-uid=0d4691ed-659b-4935-a832-355f77ee47cc
same "create token --bound-object-name without a kind" -- create token robot --bound-object-name=x
same "create token --bound-object-kind=Deployment" -- create token robot --bound-object-kind=Deployment --bound-object-name=x
same "create token --bound-object-kind without a name" -- create token robot --bound-object-kind=Pod
same "create token --duration=-1s" -- create token robot --duration=-1s
same "create token --duration=1500ms" -- create token robot --duration=1500ms

# --- create clusterrole: aggregation and non-resource URLs
same "create clusterrole --aggregation-rule" -- create clusterrole agg \
  --aggregation-rule=rbac.example.com/aggregate-to-view=true,tier=web --dry-run=client -o yaml
mut "create clusterrole --aggregation-rule --dry-run=server" -- create clusterrole agg \
  --aggregation-rule=a=b --aggregation-rule=c=d --dry-run=server -o 'jsonpath={.aggregationRule}'
same "create clusterrole --aggregation-rule with verbs" -- create clusterrole agg --aggregation-rule=a=b --verb=get
same "create clusterrole malformed --aggregation-rule" -- create clusterrole agg --aggregation-rule=ab
same "create clusterrole without resources" -- create clusterrole c --verb=get
same "create clusterrole bad verb for a URL" -- create clusterrole c --verb=list --non-resource-url=/healthz
same "create clusterrole URL without a slash" -- create clusterrole c --verb=get --non-resource-url=healthz
same "create clusterrole URL with an inner star" -- create clusterrole c --verb=get --non-resource-url='/a*b'
same "create clusterrole repeated URLs" -- create clusterrole c --verb=get --non-resource-url=/a,/b,/a --dry-run=client -o yaml

# --- create secret tls
TLS=(--cert="$C/tls-fixture.crt" --key="$C/tls-fixture.key")
mut "create secret tls --append-hash" -- create secret tls tls "${TLS[@]}" --append-hash
same "create secret tls without --key" -- create secret tls t --cert="$C/tls-fixture.crt"
same "create secret tls with switched files" -- create secret tls t \
  --cert="$C/tls-fixture.key" --key="$C/tls-fixture.crt" --dry-run=client
same "create secret tls with a missing file" -- create secret tls t --cert=/nonexistent.crt \
  --key="$C/tls-fixture.key" --dry-run=client

# --- config view: --merge and the print flags
same "config view --merge=false" -- config view --merge=false
same "config view -o name" -- config view -o name
same "config view --template" -- config view --template='{{.kind}} {{(index .contexts 0).name}}'
same "config view -o go-template" -- config view -o 'go-template={{len .clusters}}'
same "config view -o wide" -- config view -o wide
same "config view -o json --show-managed-fields" -- config view -o json --show-managed-fields

# --- edit: the flags around the editor (a non-interactive one, as kubectl-compare.sh's)
EDIT_CM=(--setup "create cm applied --from-literal=a=1")
export KUBE_EDITOR="sed -i s/^\ \ a:\ .*/\ \ a:\ edited/"
mut "edit --output-patch" "${EDIT_CM[@]}" --state "get cm applied" -- edit cm applied --output-patch
mut "edit -f" "${EDIT_CM[@]}" --state "get cm applied" -- edit -f "$C/replace-cm.yaml"
mut "edit -f with a type" "${EDIT_CM[@]}" -- edit cm -f "$C/replace-cm.yaml"
mut "edit --template" "${EDIT_CM[@]}" -- edit cm applied --template='{{.data.a}}'
mut "edit --save-config" "${EDIT_CM[@]}" \
  -- edit cm/applied --save-config -o 'go-template={{range $k, $v := .metadata.annotations}}{{$k}} {{end}}'
mut "edit --field-manager" "${EDIT_CM[@]}" \
  --state "get cm applied --show-managed-fields -o jsonpath={.metadata.managedFields[*].manager}" \
  -- edit cm applied --field-manager=my-editor
mut "edit --windows-line-endings" "${EDIT_CM[@]}" --state "get cm applied" \
  -- edit cm applied --windows-line-endings
mut "edit -o json (the editor gets JSON)" "${EDIT_CM[@]}" -- edit cm applied -o json
mut "edit every configmap" "${EDIT_CM[@]}" -- edit cm
same "edit --subresource=bogus" -- edit cm settings --subresource=bogus
same "edit -o name" -- edit cm settings -o name
export KUBE_EDITOR=true
mut "edit --subresource=status" --setup "create deploy web --image=busybox" -- edit deploy web --subresource=status
unset KUBE_EDITOR

# --- --allow-missing-template-keys=false: templates fail on what is missing
same "get -o jsonpath missing key (not allowed)" -- get cm settings -o 'jsonpath={.nope}' --allow-missing-template-keys=false
same "get -o jsonpath index out of range (not allowed)" -- get cm -o 'jsonpath={.items[99]}' --allow-missing-template-keys=false
same "get -o jsonpath items missing field (not allowed)" -- get cm -o 'jsonpath={.items[*].nope}' --allow-missing-template-keys=false
same "get -o jsonpath present key (not allowed)" -- get cm settings -o 'jsonpath={.data}' --allow-missing-template-keys=false
same "get -o go-template missing key (not allowed)" -- get cm settings -o 'go-template={{.nope}}' --allow-missing-template-keys=false
same "get -o go-template missing key (allowed)" -- get cm settings -o 'go-template={{.nope}}'
same "config view jsonpath missing key (not allowed)" -- config view -o 'jsonpath={.nope}' --allow-missing-template-keys=false

# --- -f and the smaller flags of exec, autoscale, expose, taint, drain
same "exec -f" -- exec -f "$C/exec-target.yaml" -- echo from-a-file
same "exec -f missing file" -- exec -f /nonexistent.yaml -- true
mut "autoscale -f" --setup "create deploy web --image=busybox" --state "get hpa web" \
  -- autoscale -f "$C/exec-target.yaml" --max=3
mut "autoscale -f with a type" --setup "create deploy web --image=busybox" -- autoscale deploy -f "$C/exec-target.yaml" --max=3
mut "expose -f -R (the file's object, which has no selector)" --setup "create deploy web --image=busybox --port=8080" \
  -- expose -f "$C/exec-target.yaml" -R --port=80
mut "expose -f (the file's object)" -- expose -f "$C/apply.yaml" --port=80 --dry-run=client -o yaml

# --- objects kubectl builds as Go structs: JSON in Go's field order, --save-config records them so
mut "expose --save-config" --setup "create deploy web --image=busybox --port=8080" --state "get svc web" \
  -- expose deploy web --port=80 --save-config
mut "expose --dry-run=client -o json" --setup "create deploy web --image=busybox --port=8080" \
  -- expose deploy web --port=80 --target-port=8080 --dry-run=client -o json
mut "autoscale --save-config" --setup "create deploy web --image=busybox" --state "get hpa web" \
  -- autoscale deploy web --min=2 --max=3 --cpu-percent=50 --save-config
mut "autoscale --dry-run=client -o json" --setup "create deploy web --image=busybox" \
  -- autoscale deploy web --max=3 --cpu-percent=50 --dry-run=client -o json
same "create deployment --dry-run=client -o json" -- create deployment x --image=busybox --port=80 --replicas=2 --dry-run=client -o json
mut "create configmap --save-config" --state "get cm gen" -- create configmap gen --from-literal=b=2 --from-literal=a=1 --save-config
mut "create service clusterip --save-config" --state "get svc cip" -- create service clusterip cip --tcp=80:8080 --save-config
same "create quota --dry-run=client -o json" -- create quota q --hard=pods=3,cpu=1000m,memory=1024Mi --scopes=BestEffort --dry-run=client -o json
mut "create quota --save-config" --state "get quota q" -- create quota q --hard=pods=3,cpu=1000m --save-config
mut "create quota bad scope (server refusal)" -- create quota q --hard=pods=3 --scopes=Bogus
same "create priorityclass --dry-run=client -o json" -- create priorityclass pc --value=1000 --global-default --description=high --dry-run=client -o json --save-config
# PriorityClasses are cluster-scoped: only a server dry run, so that neither binary's object stays.
mut "create priorityclass --dry-run=server" -- create priorityclass kc-pc --value=1000 --preemption-policy=Never --dry-run=server -o 'jsonpath={.kind} {.metadata.name} {.value} {.preemptionPolicy}'
mut "create priorityclass bad policy (server refusal)" -- create priorityclass kc-pc --preemption-policy=Bogus --dry-run=server
same "create pdb --dry-run=client -o json" -- create pdb p --selector='app=x,tier in (b,a)' --min-available=50% --dry-run=client -o json
mut "create pdb --save-config" --state "get pdb p" -- create pdb p --selector=app=x --max-unavailable=1 --save-config
same "create ingress --dry-run=client -o json" -- create ingress i --rule='foo.com/bar*=svc:8080,tls=sec' --rule='/x=s2:http' --class=nginx --annotation=a=1 --dry-run=client -o json
mut "create ingress --save-config" --state "get ingress i" -- create ingress i --rule='foo.com/bar=svc:8080,tls=sec' --default-backend=def:http --save-config
mut "taint --validate=false --dry-run=server" -- taint nodes "$NODE" kc-v=x:NoSchedule --validate=false --dry-run=server -o name
mut "taint --validate=bogus" -- taint nodes "$NODE" kc-v=x:NoSchedule --validate=bogus
mut "drain --chunk-size=1 --dry-run=client" -- drain "$NODE" --chunk-size=1 --dry-run=client --pod-selector=app=nothing-here

# --- -f takes a comma-separated list, as upstream's string-slice flag
same "get -f with two comma-separated files" -- get -f "$C/exec-target.yaml,$C/exec-target.yaml" -o name
mut "create -f with two comma-separated files" -- create -f "$C/replace-cm.yaml,$C/exec-target.yaml" --dry-run=client -o name
