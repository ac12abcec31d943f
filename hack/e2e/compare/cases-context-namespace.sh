# Compare cases run without -n, under a kubeconfig whose context names kc-compare (sourced by
# cases.sh). client-go treats the context's namespace as a default, not as -n: objects from
# files keep their own namespace, and generated objects carry none.

CONTEXT_FILES=$WORK/context-namespace
mkdir -p "$CONTEXT_FILES"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ctx-elsewhere\n  namespace: kube-system\n' \
  >"$CONTEXT_FILES/kube-system-cm.yaml"

same_in_context "context namespace: get uses it" -- get cm settings -o name
same_in_context "context namespace: generated object has none" -- \
  create configmap ctx-made --from-literal=a=b --dry-run=client -o yaml
same_in_context "context namespace: apply keeps the file's" -- \
  apply -f "$CONTEXT_FILES/kube-system-cm.yaml" --dry-run=server -o jsonpath='{.metadata.namespace}'
same_in_context "context namespace: create keeps the file's" -- \
  create -f "$CONTEXT_FILES/kube-system-cm.yaml" --dry-run=server -o name
same_in_context "context namespace: get -f looks in the file's" -- \
  get -f "$CONTEXT_FILES/kube-system-cm.yaml"
same_in_context "context namespace: replace keeps the file's" -- \
  replace -f "$CONTEXT_FILES/kube-system-cm.yaml" --dry-run=server
same_in_context "context namespace: diff keeps the file's" -- \
  diff -f "$CONTEXT_FILES/kube-system-cm.yaml"
same_in_context "context namespace: label keeps the file's" -- \
  label -f "$CONTEXT_FILES/kube-system-cm.yaml" --local a=b -o yaml
