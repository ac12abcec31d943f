#!/usr/bin/env bash
# Builds the images pods run here, as OCI image-layout tarballs — no registry or docker is
# reachable, so images are imported into containerd locally (shared/RUNTIME-NOTES.md):
#
#   busybox.tar  docker.io/library/busybox:latest  (containerd's CRI resolves `busybox`,
#                                                    `busybox:latest` to this name)
#   pause.tar    registry.k8s.io/pause:3.9          (the sandbox image; idles, exits on TERM)
#
# Both are one layer: Debian's busybox-static with its applets, /etc/passwd and /etc/group.
# On import, the busybox image is also tagged under the names upstream's e2e manifests use
# (registry.k8s.io/e2e-test-images/busybox:1.36 and :1.37; see IMAGE_ALIASES), so manifests
# written for upstream run here unchanged instead of waiting on a pull that cannot succeed.
# The build is deterministic and skipped when its inputs are unchanged.
#
# With --addons, also the add-on images (addons/*/manifests use them), from binaries already
# built by cargo; each is one layer with the binary, the shared libraries ldd lists for it
# and busybox (so `kubectl exec` has a shell):
#   rudder-dns.tar      docker.io/rudder/rudder-dns:dev
#   rudder-ingress.tar  docker.io/rudder/rudder-ingress:dev
#   rudder-metrics.tar  docker.io/rudder/rudder-metrics:dev
#
#   hack/build-images.sh                       # build into $IMAGES_DIR
#   hack/build-images.sh --import SOCKET       # build, then import into containerd at SOCKET
#                                              # (namespace k8s.io, where the CRI looks)
#   hack/build-images.sh --addons [--import SOCKET]
#   hack/build-images.sh --components [--import SOCKET]
#                                              # also the control-plane component images
#                                              # (see build_component_images below)
#
# Environment:
#   IMAGES_DIR   output directory        (default <repo>/_output/images)
#   BUSYBOX      the static busybox      (default /bin/busybox, from busybox-static)
#   CTR          the ctr binary          (default: ctr on PATH)
#   PYTHON       python 3                (default python3)
#   ADDON_BIN_DIR  where rudder-dns, rudder-ingress and rudder-metrics are (default $CARGO_TARGET_DIR/debug,
#                  else <repo>/target/debug)
#   RUDDER_BIN_DIR  where the component binaries are (default $CARGO_TARGET_DIR or
#                <repo>/target, then /debug)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR=${IMAGES_DIR:-$ROOT/_output/images}
BUSYBOX=${BUSYBOX:-/bin/busybox}
PYTHON=${PYTHON:-python3}
CTR=${CTR:-ctr}
BUILDER=$ROOT/hack/lib/oci_image.py
TARBALLS=(busybox.tar pause.tar)
IMAGE_NAMES=(docker.io/library/busybox:latest registry.k8s.io/pause:3.9)
# ALIAS=SOURCE: after import, ALIAS names the same image as SOURCE (one of IMAGE_NAMES).
IMAGE_ALIASES=(
  registry.k8s.io/e2e-test-images/busybox:1.36=docker.io/library/busybox:latest
  registry.k8s.io/e2e-test-images/busybox:1.37=docker.io/library/busybox:latest
)
# Images are imported and listed in the CRI's namespace.
NAMESPACE=k8s.io

log() { echo "build-images: $*" >&2; }

usage() {
  # The header comment, up to the first line that is not one.
  awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"
}

# A hash of everything the tarballs are made from: when it matches the one stored with the
# last build, the tarballs are current.
inputs_hash() {
  {
    sha256sum "$BUSYBOX" "$BUILDER" "${BASH_SOURCE[0]}" | awk '{print $1}'
    uname -m
  } | sha256sum | awk '{print $1}'
}

build() {
  if [[ ! -x $BUSYBOX ]]; then
    log "$BUSYBOX not found; run hack/install-deps.sh (busybox-static)"
    return 1
  fi
  if ldd "$BUSYBOX" >/dev/null 2>&1; then
    log "$BUSYBOX is dynamically linked; the images need busybox-static"
    return 1
  fi
  mkdir -p "$IMAGES_DIR"
  # Tests build concurrently (one process per test); one builder at a time, the others
  # find the stamp current once they get the lock.
  exec 9>"$IMAGES_DIR/.lock"
  flock 9
  local want have="" f
  want=$(inputs_hash)
  [[ -f $IMAGES_DIR/.inputs ]] && have=$(<"$IMAGES_DIR/.inputs")
  local complete=1
  for f in "${TARBALLS[@]}"; do
    [[ -s $IMAGES_DIR/$f ]] || complete=0
  done
  if [[ $want == "$have" && $complete == 1 ]]; then
    log "images in $IMAGES_DIR are current"
  else
    log "building images into $IMAGES_DIR"
    rm -f "$IMAGES_DIR/.inputs"
    "$PYTHON" "$BUILDER" --busybox "$BUSYBOX" --out "$IMAGES_DIR" >&2
    echo "$want" >"$IMAGES_DIR/.inputs"
  fi
  flock -u 9
  exec 9>&-
}

# import_images SOCKET — import every tarball into containerd at SOCKET (which unpacks it into
# the default snapshotter, overlayfs, as the CRI is configured) and check that each image is
# listed, complete and unpacked: the CRI needs the snapshot to create a container.
import_images() {
  local sock=$1 f name
  local ctr=("$CTR" --address "$sock" --namespace "$NAMESPACE")
  for f in "${TARBALLS[@]}"; do
    log "importing $f into $sock"
    # --all-platforms: ctr 1.6 otherwise filters by a strict platform match; the images
    # carry the host's platform anyway.
    "${ctr[@]}" images import --all-platforms "$IMAGES_DIR/$f" >&2
  done
  local alias
  for alias in "${IMAGE_ALIASES[@]}"; do
    # --force: a re-import moves the alias to the image just imported.
    "${ctr[@]}" images tag --force "${alias#*=}" "${alias%%=*}" >/dev/null
  done
  for name in "${IMAGE_NAMES[@]}" "${IMAGE_ALIASES[@]%%=*}"; do
    # Columns: REF TYPE DIGEST STATUS SIZE UNPACKED.
    if ! "${ctr[@]}" images check "name==$name" |
      awk -v n="$name" '$1 == n && $4 == "complete" && $NF == "true" {ok = 1} END {exit !ok}'; then
      log "$name is missing, incomplete or not unpacked in $sock"
      return 1
    fi
  done
  log "imported ${IMAGE_NAMES[*]} (and tagged ${IMAGE_ALIASES[*]%%=*})"
}

ADDON_BINS=(rudder-dns rudder-ingress rudder-metrics)
ADDON_BIN_DIR=${ADDON_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/debug}

# build_addons — one image per add-on binary. Rebuilt every time (the binaries change with
# every cargo build; building takes a second).
build_addons() {
  local bin
  for bin in "${ADDON_BINS[@]}"; do
    if [[ ! -x $ADDON_BIN_DIR/$bin ]]; then
      log "$ADDON_BIN_DIR/$bin not found; run cargo build -p $bin (or set ADDON_BIN_DIR)"
      return 1
    fi
  done
  mkdir -p "$IMAGES_DIR"
  for bin in "${ADDON_BINS[@]}"; do
    log "building $bin.tar from $ADDON_BIN_DIR/$bin"
    # The shared libraries the binary loads (absolute paths ldd resolves), copied at the
    # same paths so the dynamic loader finds them in the container.
    local libs
    libs=$(ldd "$ADDON_BIN_DIR/$bin" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}' | sort -u | tr '\n' ' ')
    "$PYTHON" - "$ROOT/hack/lib" "$BUSYBOX" "$ADDON_BIN_DIR/$bin" "$bin" "$IMAGES_DIR/$bin.tar" $libs <<'PY' >&2
import os, sys
sys.path.insert(0, sys.argv[1])
import oci_image
busybox, binary, name, out, libs = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
layer = oci_image.Layer()
dirs = {"bin", "dev", "etc", "proc", "sys", "tmp", "usr", "usr/local", "usr/local/bin"}
for lib in libs:
    parts = lib.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        dirs.add("/".join(parts[:i]))
for d in sorted(dirs):
    layer.dir(d, 0o1777 if d == "tmp" else 0o755)
with open(busybox, "rb") as f:
    layer.file("bin/busybox", f.read(), 0o755)
for applet in ["sh", "ls", "cat", "nslookup", "wget", "nc"]:
    layer.symlink("bin/" + applet, "busybox")
layer.file("etc/passwd", oci_image.PASSWD.encode())
layer.file("etc/group", oci_image.GROUP.encode())
with open(binary, "rb") as f:
    layer.file("usr/local/bin/" + name, f.read(), 0o755)
for lib in libs:
    with open(os.path.realpath(lib), "rb") as f:
        layer.file(lib.strip("/"), f.read(), 0o755)
image = {"file": name + ".tar", "name": "docker.io/rudder/%s:dev" % name, "tag": "dev",
         "process": {"Entrypoint": ["/usr/local/bin/" + name]}}
files, manifest = oci_image.image_layout(layer.finish(), image, oci_image.go_arch())
oci_image.write_tarball(out, files)
print("%s %s %s" % (image["file"], image["name"], manifest))
PY
    TARBALLS+=("$bin.tar")
    IMAGE_NAMES+=("docker.io/rudder/$bin:dev")
  done
}

# ---------------------------------------------------------------------------------------------
# Component images (issue 9): one minimal image per control-plane component, tagged with the
# workspace version — rudder.local/<component>:v<version> — holding the binary and the shared
# libraries ldd names for it (plus the dynamic loader), nothing else. kube-proxy's image also
# carries nft (and its libraries), which it runs to program the Service rules. etcd is
# Debian's /usr/bin/etcd. Built only with --components; rebuilt when a binary changes.
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd)
COMPONENT_IMAGE_NAMES=()

# The workspace version (Cargo.toml's [workspace.package] version) as an image tag.
workspace_version() {
  awk -F'"' '/^\[workspace.package\]/ {p = 1} p && /^version *=/ {print "v" $2; exit}' \
    "$ROOT/Cargo.toml"
}

# The files of COMPONENT's image, one "source-path" per line; the first is the entrypoint.
component_files() {
  local bin_dir=$1 component=$2
  case $component in
    etcd) echo /usr/bin/etcd ;;
    kube-proxy) echo "$bin_dir/kube-proxy"; command -v nft || echo /usr/sbin/nft ;;
    *) echo "$bin_dir/$component" ;;
  esac
}

build_component_images() {
  local bin_dir=${RUDDER_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/debug}
  local version c f
  version=$(workspace_version)
  [[ -n $version ]] || { log "cannot read the workspace version from Cargo.toml"; return 1; }
  mkdir -p "$IMAGES_DIR"
  exec 8>"$IMAGES_DIR/.components.lock"
  flock 8
  COMPONENT_IMAGE_NAMES=()
  for c in "${COMPONENTS[@]}"; do
    local files=() name=rudder.local/$c:$version tar=$IMAGES_DIR/$c.tar
    mapfile -t files < <(component_files "$bin_dir" "$c")
    for f in "${files[@]}"; do
      if [[ ! -x $f ]]; then
        log "$f not found (build it: cargo build --bins; etcd: hack/install-deps.sh)"
        return 1
      fi
    done
    # Inputs: the files' identity (size, mtime) and this script; hashing 100 MB debug
    # binaries on every run would cost more than it saves.
    local want have=""
    want=$({ stat -L -c '%n %s %Y' "${files[@]}"; echo "$name"; sha256sum "${BASH_SOURCE[0]}" "$BUILDER"; } |
      sha256sum | awk '{print $1}')
    [[ -f $tar.inputs ]] && have=$(<"$tar.inputs")
    COMPONENT_IMAGE_NAMES+=("$name")
    if [[ $want == "$have" && -s $tar ]]; then
      continue
    fi
    log "building $name from ${files[*]}"
    rm -f "$tar.inputs"
    ROOT=$ROOT "$PYTHON" - "$tar" "$name" "${files[@]}" <<'EOF' >&2
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "hack", "lib"))
import oci_image as oci

out, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]

def libraries(path):
    """The shared objects ldd resolves for path (none for a static binary)."""
    res = subprocess.run(["ldd", path], capture_output=True, text=True)
    libs = []
    for line in res.stdout.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                libs.append(target)
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])  # the dynamic loader
    return libs

layer = oci.Layer()
dirs = set()
entries = {}
for f in files:
    entries[f] = f
    for lib in libraries(f):
        entries[lib] = lib
# Put the entrypoint binary at /usr/local/bin/<name>, libraries where ldd found them.
target = {files[0]: "/usr/local/bin/" + os.path.basename(files[0])}
for f in files[1:]:
    target[f] = "/usr/sbin/" + os.path.basename(f)
for src in entries:
    parent = os.path.dirname(target.get(src, src).lstrip("/"))
    while parent:
        dirs.add(parent)
        parent = os.path.dirname(parent)
for d in sorted(dirs):
    layer.dir(d)
for d in ["tmp", "etc", "var", "var/lib"]:
    if d not in dirs:
        layer.dir(d, 0o1777 if d == "tmp" else 0o755)
        dirs.add(d)
layer.file("etc/passwd", oci.PASSWD.encode())
layer.file("etc/group", oci.GROUP.encode())
# Each file goes where ldd named it (the loader's /lib64/ld-linux-x86-64.so.2 is a symlink
# on the host): the real file's content is stored under the name the binary asks for.
for src in sorted(entries, key=lambda s: target.get(s, s)):
    dst = target.get(src, src).lstrip("/")
    with open(os.path.realpath(src), "rb") as fh:
        layer.file(dst, fh.read(), 0o755)
blob = layer.finish()
tag = name.rsplit(":", 1)[1]
image = {"name": name, "tag": tag,
         "process": {"Entrypoint": [target[files[0]]]}}
files_, digest = oci.image_layout(blob, image, oci.go_arch())
oci.write_tarball(out, files_)
print("%s %s %s (%d MB)" % (os.path.basename(out), name, digest, len(blob) >> 20))
EOF
    echo "$want" >"$tar.inputs"
  done
  flock -u 8
  exec 8>&-
}

# import_component_images SOCKET — import the component tarballs and check each is unpacked.
import_component_images() {
  local sock=$1 c name
  local ctr=("$CTR" --address "$sock" --namespace "$NAMESPACE")
  for c in "${COMPONENTS[@]}"; do
    log "importing $c.tar into $sock"
    "${ctr[@]}" images import --all-platforms "$IMAGES_DIR/$c.tar" >&2
  done
  for name in "${COMPONENT_IMAGE_NAMES[@]}"; do
    if ! "${ctr[@]}" images check "name==$name" |
      awk -v n="$name" '$1 == n && $4 == "complete" && $NF == "true" {ok = 1} END {exit !ok}'; then
      log "$name is missing, incomplete or not unpacked in $sock"
      return 1
    fi
  done
  log "imported ${COMPONENT_IMAGE_NAMES[*]}"
}
# ---------------------------------------------------------------------------------------------

main() {
  local sock="" addons=0 components=0
  while (($#)); do
    case $1 in
      --addons) addons=1; shift ;;
      --import)
        [[ $# -ge 2 ]] || { log "--import needs a containerd socket"; exit 2; }
        sock=$2
        shift 2
        ;;
      --components) components=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) log "unknown argument $1"; usage >&2; exit 2 ;;
    esac
  done
  build
  if ((addons)); then
    build_addons
  fi
  if ((components)); then
    build_component_images
  fi
  if [[ -n $sock ]]; then
    import_images "$sock"
    if ((components)); then
      import_component_images "$sock"
    fi
  fi
}

main "$@"
