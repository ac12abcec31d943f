# Compare cases for kubectl set (sourced by cases.sh; same helpers: same, mut).
# The flags beyond the basics: -f/-R, --local, --field-manager, and what the objects look
# like when printed (upstream prints them as its Go types encode them).

# Manifests for --local (changed and printed without the server) and for -f (naming objects
# on the server). One of each kind `set` changes, sparse, so Go's zero values show.
SET_FILES=$WORK/set-files
mkdir -p "$SET_FILES/tree/nested"
cat >"$SET_FILES/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: nginx:1
        env:
        - {name: A, value: "1"}
        resources:
          limits: {cpu: 1000m, memory: 1024Mi}
EOF
cat >"$SET_FILES/kinds.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: main
    image: busybox
    ports: [{containerPort: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: main, image: busybox}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1024Mi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: d}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: main, image: busybox}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: r}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: main, image: busybox}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {a: b}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: main, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox}]
EOF
cat >"$SET_FILES/rich.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rich
  annotations: {z: "1", a: "2"}
spec:
  replicas: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector:
    matchExpressions: [{key: app, operator: In, values: [rich]}]
  template:
    metadata: {labels: {app: rich}}
    spec:
      tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
      securityContext: {runAsUser: 1000, fsGroup: 2000}
      volumes:
      - name: cfg
        configMap: {name: settings, items: [{key: a, path: a.txt}], defaultMode: 420}
      - name: tmp
        emptyDir: {sizeLimit: 1024Mi}
      initContainers:
      - {name: init, image: busybox, command: [sh, -c, "true"]}
      containers:
      - name: main
        image: nginx
        unknownField: dropped
        ports: [{containerPort: 80, name: http, protocol: TCP}]
        env:
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: MEM
          valueFrom: {resourceFieldRef: {resource: limits.memory}}
        - name: CM
          valueFrom: {configMapKeyRef: {name: settings, key: a}}
        envFrom: [{configMapRef: {name: settings}, prefix: P_}]
        resources: {limits: {cpu: 0.5, memory: 512Mi}, requests: {cpu: 100m}}
        readinessProbe:
          httpGet: {path: /, port: http}
        livenessProbe:
          tcpSocket: {port: 80}
EOF
cat >"$SET_FILES/bindings.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  selector: {app: old, tier: front}
  ports: [{port: 80}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: User, name: amy, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
EOF
cat >"$SET_FILES/refs.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: refs
  labels: {app: refs, tier: "x y"}
spec:
  selector:
    matchLabels: {app: refs}
  template:
    metadata:
      labels: {app: refs}
    spec:
      containers:
      - name: main
        image: nginx
        resources: {limits: {cpu: 1500m, memory: 512Mi}, requests: {cpu: 250m}}
        env:
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: LABELS, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}
        - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
        - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
        - {name: MILLI, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
        - {name: GPU, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}
EOF
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec:\n  ports: [{port: 80}]\n' \
  >"$SET_FILES/svc.yaml"
printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n' \
  >"$SET_FILES/rb.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {log.level: debug, MODE: fast}\n' \
  >"$SET_FILES/cm.yaml"
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {x: 1}\n' \
  >"$SET_FILES/widget.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: elsewhere}\n' \
  >"$SET_FILES/other-ns.yaml"
cp "$SET_FILES/deploy.yaml" "$SET_FILES/tree/deploy.yaml"
cp "$SET_FILES/svc.yaml" "$SET_FILES/tree/nested/svc.yaml"
# Manifests that only name the objects of apply.yaml (-f without --local reads kind and
# name, then the object from the server), one of them two directories down (for -R).
mkdir -p "$SET_FILES/names/nested/deeper"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: applied\n' \
  >"$SET_FILES/names/nested/deeper/deploy.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: applied\n' >"$SET_FILES/applied.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nope\n' >"$SET_FILES/missing.yaml"
SF=$SET_FILES
# What the managedFields entry of manager $1 says (only it: the order of the entries depends
# on the second each write fell in).
set_managed_by() {
  printf 'jsonpath={.metadata.managedFields[?(@.manager=="%s")].manager} {.metadata.managedFields[?(@.manager=="%s")].operation}{"\\n"}' "$1" "$1"
}

# --- --local: the -f objects changed here and printed, nothing sent.
same "set image --local" -- set image --local -f "$SF/deploy.yaml" main=nginx:2
same "set image --local -o yaml" -- set image --local -f "$SF/deploy.yaml" main=nginx:2 -o yaml
same "set image --local -o json" -- set image --local -f "$SF/deploy.yaml" main=nginx:2 -o json
same "set image --local every kind -o yaml" -- set image --local -f "$SF/kinds.yaml" main=x -o yaml
same "set image --local every kind -o json" -- set image --local -f "$SF/kinds.yaml" main=x -o json
same "set image --local every kind" -- set image --local -f "$SF/kinds.yaml" main=x
same "set image --local typed fields -o yaml" -- set image --local -f "$SF/rich.yaml" main=x -o yaml
same "set image --local typed fields -o json" -- set image --local -f "$SF/rich.yaml" main=x -o json
same "set image --local --dry-run=client" -- set image --local -f "$SF/deploy.yaml" main=x --dry-run=client
same "set image --local -o name, two files" -- set image --local -f "$SF/deploy.yaml,$SF/kinds.yaml" main=x -o name
same "set image --local unchanged" -- set image --local -f "$SF/deploy.yaml" main=nginx:1
same "set image --local unknown container" -- set image --local -f "$SF/deploy.yaml" nope=x
same "set image --local not a workload" -- set image --local -f "$C/apply.yaml" main=x -o name
same "set image --local -f -" --stdin "$SF/deploy.yaml" -- set image --local -f - main=x -o jsonpath='{.spec.template.spec.containers[0].image}'
same "set image --local -f dir" -- set image --local -f "$SF/tree" main=x -o name
same "set image --local -f dir -R" -- set image --local -f "$SF/tree" -R main=x -o name
same "set image --local with a resource" -- set image --local -f "$SF/deploy.yaml" deploy/web main=x
same "set image --local without -f" -- set image --local main=x
same "set image --local --dry-run=server" -- set image --local -f "$SF/deploy.yaml" main=x --dry-run=server
same "set image --local custom resource" -- set image --local -f "$SF/widget.yaml" main=x
same "set image --local other namespace" -- set image --local -f "$SF/other-ns.yaml" main=x
same "set image --local without images" -- set image --local -f "$SF/deploy.yaml"
same "set image --local wildcard and more" -- set image --local -f "$SF/deploy.yaml" main=a '*=b'
same "set image --local --all -l --dry-run=server" -- set image --local -f "$SF/deploy.yaml" main=a --all -l a=b --dry-run=server
same "set env --local -o yaml" -- set env --local -f "$SF/deploy.yaml" B=2 A- -o yaml
same "set env --local" -- set env --local -f "$SF/deploy.yaml" B=2
same "set env --local unchanged" -- set env --local -f "$SF/deploy.yaml" A=1
same "set env --local --list" -- set env --local -f "$SF/rich.yaml" --list X=1
same "set env --local --list --resolve" -- set env --local -f "$SF/refs.yaml" --list --resolve
same "set env --local --list --resolve -c" -- set env --local -f "$SF/refs.yaml" --list --resolve -c main CPU-
same "set env --local ignores resources" -- set env --local -f "$SF/deploy.yaml" deploy/other B=1 -o name
same "set env --local --from a workload" -- set env --local -f "$SF/deploy.yaml" --from=configmap/settings
same "set env --local --from a ConfigMap" -- set env --local -f "$SF/cm.yaml" --from=configmap/settings
same "set env --local -c unknown" -- set env --local -f "$SF/deploy.yaml" -c nope A=1
same "set env --local --overwrite=false" -- set env --local -f "$SF/deploy.yaml" --overwrite=false A=2
same "set env --local every kind -c" -- set env --local -f "$SF/kinds.yaml" -c main X=1 -o name
same "set resources --local -o yaml" -- set resources --local -f "$SF/deploy.yaml" --requests=cpu=0.5 -o yaml
same "set resources --local canonical quantities unchanged" -- set resources --local -f "$SF/deploy.yaml" --limits=cpu=1,memory=1Gi
same "set resources --local with a resource" -- set resources --local -f "$SF/deploy.yaml" deploy/web --limits=cpu=1
same "set resources --local bad limits" -- set resources --local -f "$SF/deploy.yaml" --limits=cpu
same "set resources --local -c init -o json" -- set resources --local -f "$SF/rich.yaml" -c init --limits=cpu=2 -o json
same "set serviceaccount --local -o yaml" -- set serviceaccount --local -f "$SF/deploy.yaml" robot -o yaml
same "set serviceaccount --local not workloads" -- set serviceaccount --local -f "$SF/bindings.yaml" robot
same "set serviceaccount --local --dry-run=server" -- set sa --local -f "$SF/deploy.yaml" robot --dry-run=server
same "set selector --local -o yaml" -- set selector --local -f "$SF/bindings.yaml" app=new --resource-version=5 -o yaml
same "set selector --local" -- set selector --local -f "$SF/bindings.yaml" app=new
same "set selector --local --dry-run=server" -- set selector --local -f "$SF/svc.yaml" app=new --dry-run=server
same "set selector --local recurses by default" -- set selector --local -f "$SF/tree" app=x -o name
same "set selector --local -R=false" -- set selector --local -f "$SF/tree" -R=false app=x -o name
same "set selector --local with a resource" -- set selector --local -f "$SF/svc.yaml" svc/x app=new
same "set subject --local -o yaml" -- set subject --local -f "$SF/bindings.yaml" --user=bob -o yaml
same "set subject --local -o json" -- set subject --local -f "$SF/rb.yaml" --group=devs --serviceaccount=ops:bot -o json
same "set subject --local cluster binding needs a namespace" -- set subject --local -f "$SF/bindings.yaml" --serviceaccount=:robot
same "set subject --local without subjects" -- set subject --local -f "$SF/rb.yaml"
same "set subject --local with a resource" -- set subject --local -f "$SF/rb.yaml" rb/x --user=a

# --- -f without --local: the objects the manifests name, changed on the server.
mut "set image -f" "${APPLIED[@]}" --state "get deploy applied" \
  -- set image -f "$SET_FILES/applied.yaml" main=busybox:1.37
mut "set image -f a ConfigMap and a Deployment" "${APPLIED[@]}" --state "get deploy applied" \
  -- set image -f "$C/apply.yaml" main=busybox:1.37
mut "set image -f and a resource" "${APPLIED[@]}" -- set image -f "$SET_FILES/applied.yaml" deploy/applied main=x
mut "set image -f missing object" "${APPLIED[@]}" --state "get deploy applied" \
  -- set image -f "$SET_FILES/missing.yaml" -f "$SET_FILES/applied.yaml" main=x
mut "set image missing object changes none" "${APPLIED[@]}" --state "get deploy applied" \
  -- set image deploy/applied deploy/nope main=x
mut "set image --field-manager" "${APPLIED[@]}" \
  -- set image deploy/applied main=x --field-manager=imager -o "$(set_managed_by imager)"
mut "set image --dry-run=server -f" "${APPLIED[@]}" --state "get deploy applied" \
  -- set image -f "$SET_FILES/applied.yaml" main=x --dry-run=server
mut "set env -f dir -R --field-manager" "${APPLIED[@]}" --state "get deploy applied" \
  -- set env -f "$SET_FILES/names" -R A=1 --field-manager=envy -o "$(set_managed_by envy)"
mut "set env -f dir without -R" "${APPLIED[@]}" -- set env -f "$SET_FILES/names" A=1
mut "set env -f --list" "${APPLIED[@]}" -- set env -f "$SET_FILES/applied.yaml" --list A=1
mut "set resources -f --field-manager" "${APPLIED[@]}" --state "get deploy applied" \
  -- set resources -f "$SET_FILES/applied.yaml" --limits=cpu=200m --field-manager=sizer -o "$(set_managed_by sizer)"
mut "set serviceaccount -f --field-manager" "${APPLIED[@]}" --state "get deploy applied" \
  -- set serviceaccount -f "$SET_FILES/applied.yaml" robot --field-manager=sa-setter -o "$(set_managed_by sa-setter)"
mut "set serviceaccount -f not workloads" "${APPLIED[@]}" -- set serviceaccount -f "$C/apply.yaml" robot
mut "set selector -f --field-manager" --setup "create -f $SET_FILES/svc.yaml" --state "get svc svc" \
  -- set selector -f "$SET_FILES/svc.yaml" app=new --field-manager=selector -o "$(set_managed_by selector)"
mut "set subject -f --field-manager" --setup "create -f $SET_FILES/rb.yaml" --state "get rolebinding rb" \
  -- set subject -f "$SET_FILES/rb.yaml" --user=bob --field-manager=binder -o "$(set_managed_by binder)"
mut "set subject -f --dry-run=client -o yaml" --setup "create -f $SET_FILES/rb.yaml" \
  -- set subject -f "$SET_FILES/rb.yaml" --user=bob --dry-run=client -o jsonpath='{.subjects}'
mut "set image -f and TYPE NAME" "${APPLIED[@]}" -- set image -f "$SET_FILES/applied.yaml" deploy applied main=x
mut "set env -f --from" "${APPLIED[@]}" -- set env -f "$SET_FILES/applied.yaml" --from=configmap/applied
mut "set env -l --from TYPE/NAME" "${APPLIED[@]}" -- set env deploy -l app=applied --from=configmap/applied
mut "set env --list --resolve fields and resources" --setup "create -f $SET_FILES/refs.yaml" \
  -- set env deploy/refs --list --resolve
# One key per setup: upstream walks the ConfigMap's data as a Go map, in random order.
mut "set env --list --resolve missing ConfigMap" "${APPLIED[@]}" \
  --setup "set env deploy/applied --from=configmap/applied --keys=a" \
  --setup "set env deploy/applied --from=configmap/applied --keys=b" --setup "delete configmap applied" \
  -- set env deploy/applied --list --resolve
