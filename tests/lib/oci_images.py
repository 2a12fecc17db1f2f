"""Small OCI image layouts built on the spot, for `skopeo copy oci:<dir>:<tag>`
into berth's registry: no network, no image build tool, reproducible digests.

make_oci_layout(out, tag, files, config) is the general form; the two images
the tests use are
  make_text_layout:    one file /hello.txt, no shell (registry tests);
  make_busybox_layout: static /bin/busybox with /bin/sh and /www/index.html,
                       default command `httpd -f -p 8080 -h /www`
                       (task tests; needs busybox-static).
"""
import gzip
import hashlib
import io
import json
import os
import tarfile

BUSYBOX_INDEX_HTML = b"hello from a berth task\n"


def make_oci_layout(out, tag, files, config):
    """Writes an OCI layout of one layer to `out` and returns the manifest digest.

    files: list of (path, kind, content, mode) with kind "dir", "file" (content
    bytes) or "symlink" (content = target); config: the image config's "config"
    object (Cmd, Env, ...)."""
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest, len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, kind, content, mode in files:
            info = tarfile.TarInfo(path)
            info.mode, info.mtime = mode, 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, content
                tf.addfile(info)
            else:
                info.size = len(content)
                tf.addfile(info, io.BytesIO(content))
    raw = raw.getvalue()
    layer, layer_size = put(gzip.compress(raw, mtime=0))
    image_config = {"architecture": "amd64", "os": "linux", "config": config,
                    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}
    config_digest, config_size = put(json.dumps(image_config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                           "size": config_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer,
                            "size": layer_size}]}
    manifest_digest, manifest_size = put(json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2,
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                            "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return manifest_digest


def make_text_layout(out, tag, text):
    """A one-file image (/hello.txt holding `text`, no shell)."""
    return make_oci_layout(out, tag, [("hello.txt", "file", text.encode(), 0o644)], {"Cmd": ["/hello"]})


def make_busybox_layout(out, tag):
    """busybox-static with /bin/sh and /www/index.html; serves it on 8080 by default."""
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    files = [("bin", "dir", None, 0o755), ("www", "dir", None, 0o755), ("tmp", "dir", None, 0o755),
             ("bin/busybox", "file", busybox, 0o755), ("bin/sh", "symlink", "busybox", 0o777),
             ("www/index.html", "file", BUSYBOX_INDEX_HTML, 0o644)]
    return make_oci_layout(out, tag, files,
                           {"Env": ["PATH=/bin"], "Cmd": ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]})
