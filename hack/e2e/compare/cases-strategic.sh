# Compare cases for the strategic merge patches that apply, diff and edit send to built-in
# types (sourced by cases.sh). Someone else changes the live Deployment between two applies
# (an env var through `set env`, a sidecar through a patch); a JSON merge patch would replace
# the containers list and lose both, upstream's strategic patch merges by name and keeps them.

SP=$WORK/strategic
mkdir -p "$SP"
sp_deployment() { # IMAGE ENV_A [EXTRA_CONTAINER]
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sp
spec:
  replicas: 0
  selector:
    matchLabels: {app: sp}
  template:
    metadata:
      labels: {app: sp}
    spec:
      containers:
      - name: main
        image: registry.k8s.io/e2e-test-images/$1
        env:
        - {name: A, value: "$2"}
        ports:
        - {containerPort: 8080}
YAML
  if [[ -n ${3:-} ]]; then
    printf '      - name: %s\n        image: registry.k8s.io/e2e-test-images/busybox:1.36\n' "$3"
  fi
}
sp_deployment busybox:1.36 1 extra >"$SP/v1.yaml"
sp_deployment busybox:1.37 2 >"$SP/v2.yaml"
SIDECAR='{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"registry.k8s.io/e2e-test-images/busybox:1.36"}]}}}}'
OTHERS_CHANGED=(--setup "apply -f $SP/v1.yaml" --setup "set env deploy/sp -c main B=from-set"
  --setup "patch deploy sp --type=strategic -p '$SIDECAR'")

mut "strategic apply keeps others' env var and sidecar" "${OTHERS_CHANGED[@]}" \
  --state "get deploy sp" -- apply -f "$SP/v2.yaml"
# The live env list is longer than the file's: upstream's patch sets the order, so it is sent.
mut "strategic apply of the same file after set env" "${OTHERS_CHANGED[@]}" \
  --state "get deploy sp" -- apply -f "$SP/v1.yaml"
mut "strategic apply unchanged" --setup "apply -f $SP/v1.yaml" -- apply -f "$SP/v1.yaml"
diff_case "strategic diff keeps others' changes" \
  "apply -f $SP/v1.yaml; real -n \$ns set env deploy/sp -c main B=from-set" -- diff -f "$SP/v2.yaml"

export KUBE_EDITOR="sed -i s/busybox:1.36/busybox:1.37/"
mut "strategic edit --output-patch" --setup "apply -f $SP/v1.yaml" --state "get deploy sp" \
  -- edit deploy sp --output-patch
unset KUBE_EDITOR
