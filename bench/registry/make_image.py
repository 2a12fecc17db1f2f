#!/usr/bin/python3
"""Writes a ~100 MB OCI image layout of incompressible, reproducible bytes.

usage: make_image.py OUT_DIR [LAYER_MB ...]   (default 40 35 25; tag "1")
Each layer is a tar (one file) compressed with gzip -1; the bytes come
from a seeded PRNG, so every run (and every machine) pushes the same digests.
Prints {"manifest": ..., "bytes": total blob bytes} as JSON.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

out = sys.argv[1]
sizes = [int(x) for x in sys.argv[2:]] or [40, 35, 25]
blob_dir = os.path.join(out, "blobs", "sha256")
os.makedirs(blob_dir, exist_ok=True)


def store(data):
    hexd = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blob_dir, hexd), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexd, "size": len(data)}


layers, diff_ids = [], []
for n, mb in enumerate(sizes):
    payload = random.Random(7000 + n).randbytes(mb * 1_000_000)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("layer%d.bin" % n)
        info.size, info.mode, info.mtime = len(payload), 0o644, 0
        tf.addfile(info, io.BytesIO(payload))
    raw = raw.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append(dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip",
                       **store(gzip.compress(raw, compresslevel=1, mtime=0))))
config = store(json.dumps({"architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode())
manifest_bytes = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **config),
                             "layers": layers}, sort_keys=True).encode()
manifest = store(manifest_bytes)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json",
                                                      annotations={"org.opencontainers.image.ref.name": "1"},
                                                      **manifest)]}, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
total = sum(l["size"] for l in layers) + config["size"] + manifest["size"]
print(json.dumps({"manifest": manifest["digest"], "bytes": total,
                  "layers": [os.path.join(blob_dir, l["digest"][7:]) for l in layers]}))
