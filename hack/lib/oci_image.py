#!/usr/bin/env python3
"""Builds the test images as OCI image-layout tarballs, without a registry or docker.

Used by hack/build-images.sh. Every image is one uncompressed layer holding a static busybox
with its applet symlinks, /etc/passwd, /etc/group and a few directories; files are owned by
0:0 and carry a fixed mtime, so the same busybox binary always yields the same digests.

    oci_image.py --busybox /bin/busybox --out DIR

writes DIR/busybox.tar (docker.io/library/busybox:latest) and DIR/pause.tar
(registry.k8s.io/pause:3.9). `ctr images import` reads both (shared/RUNTIME-NOTES.md).
"""

import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile

# Fixed timestamp for every tar entry and the image config: digests must not depend on
# when or where the image was built.
EPOCH = 0
CREATED = "1970-01-01T00:00:00Z"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnobody:x:65534:\n"

# PID 1 ignores signals it has no handler for, so the pause container traps TERM and INT
# itself; `sleep & wait` keeps the shell responsive to them while idling.
PAUSE_SCRIPT = (
    "trap 'kill $! 2>/dev/null; exit 0' TERM INT; "
    "while :; do sleep 3600 & wait $!; done"
)

# What each tarball holds: file name, full reference, tag, and the config's process.
IMAGES = [
    {
        "file": "busybox.tar",
        "name": "docker.io/library/busybox:latest",
        "tag": "latest",
        "process": {"Cmd": ["sh"]},
    },
    {
        "file": "pause.tar",
        "name": "registry.k8s.io/pause:3.9",
        "tag": "3.9",
        "process": {"Entrypoint": ["/bin/sh", "-c", PAUSE_SCRIPT]},
    },
]

MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"


def go_arch():
    """The host architecture in OCI (Go) spelling; ctr filters imports by platform."""
    machine = platform.machine().lower()
    return {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)


def applets(busybox):
    """The applet names the busybox binary provides (`busybox --list`)."""
    out = subprocess.run(
        [busybox, "--list"], check=True, capture_output=True, text=True
    ).stdout
    names = sorted({n.strip() for n in out.split() if n.strip()})
    return [n for n in names if n != "busybox" and "/" not in n]


class Layer:
    """An in-memory, deterministic layer tarball."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.USTAR_FORMAT)

    def _info(self, name, kind, mode):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = EPOCH
        return info

    def dir(self, name, mode=0o755):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

    def file(self, name, data, mode=0o644):
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def symlink(self, name, target):
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def finish(self):
        self.tar.close()
        return self.buf.getvalue()


def busybox_layer(busybox):
    layer = Layer()
    for d in ["bin", "dev", "etc", "home", "proc", "root", "sys", "usr", "usr/bin",
              "usr/sbin", "var", "var/www"]:
        layer.dir(d, 0o700 if d == "root" else 0o755)
    layer.dir("tmp", 0o1777)
    with open(busybox, "rb") as f:
        layer.file("bin/busybox", f.read(), 0o755)
    for name in applets(busybox):
        layer.symlink("bin/" + name, "busybox")
    # `#!/usr/bin/env sh` scripts expect env here.
    layer.symlink("usr/bin/env", "../../bin/busybox")
    layer.file("etc/passwd", PASSWD.encode())
    layer.file("etc/group", GROUP.encode())
    return layer.finish()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def image_layout(layer, image, arch):
    """The files of one OCI image layout: {path: bytes}."""
    config = {
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": dict({"Env": ["PATH=" + PATH], "WorkingDir": "/"}, **image["process"]),
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "history": [{"created": CREATED, "created_by": "hack/build-images.sh"}],
    }
    config_bytes = canonical(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": digest(config_bytes),
                   "size": len(config_bytes)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": digest(layer), "size": len(layer)}],
    }
    manifest_bytes = canonical(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": digest(manifest_bytes),
            "size": len(manifest_bytes),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {
                "io.containerd.image.name": image["name"],
                "org.opencontainers.image.ref.name": image["tag"],
            },
        }],
    }
    files = {
        "oci-layout": canonical({"imageLayoutVersion": "1.0.0"}),
        "index.json": canonical(index),
    }
    for blob in (layer, config_bytes, manifest_bytes):
        files["blobs/sha256/" + digest(blob)[len("sha256:"):]] = blob
    return files, digest(manifest_bytes)


def write_tarball(path, files):
    """Write the layout as a tarball, atomically (concurrent builders may race)."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    layer = Layer()
    for d in ["blobs", "blobs/sha256"]:
        layer.dir(d)
    for name in sorted(files):
        layer.file(name, files[name])
    with open(tmp, "wb") as f:
        f.write(layer.finish())
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busybox", default="/bin/busybox")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    layer = busybox_layer(args.busybox)
    arch = go_arch()
    for image in IMAGES:
        files, manifest_digest = image_layout(layer, image, arch)
        write_tarball(os.path.join(args.out, image["file"]), files)
        print("%s %s %s" % (image["file"], image["name"], manifest_digest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
