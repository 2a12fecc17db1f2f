#!/usr/bin/python3
"""ECR and the OCI registry through `berth serve`, with /usr/bin/aws, podman and skopeo.

Usage: ecr_integration_test.py <path to berth> [unittest args]
"""
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import urllib.request

BERTH = None


def make_oci_layout(out, tag, text):
    """A one-layer image (one file, no shell) as an OCI layout: no network needed."""
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        payload = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode, info.mtime = len(payload), 0o644, 0
        tf.addfile(info, io.BytesIO(payload))
    raw = raw.getvalue()
    layer, layer_size = put(gzip.compress(raw, mtime=0))
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/hello"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}
    cdg, csz = put(json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": csz},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer,
                            "size": layer_size}]}
    mdg, msz = put(json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": mdg, "size": msz,
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return mdg


class Daemon:
    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="berth-ecr-it-")
        self.address = "127.%d.%d.%d" % (random.randint(64, 250), random.randint(0, 255), random.randint(2, 250))
        self.port = 4566
        self.registry = "%s:%d" % (self.address, self.port)
        self.env = dict(os.environ)

    def start(self):
        self.log = open(os.path.join(self.data_dir, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [BERTH, "serve", "--data-dir", self.data_dir, "--bind", self.address, "--port", str(self.port)],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://%s/_berth/health" % self.registry, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("berth did not become healthy")
        out = subprocess.run([BERTH, "env", "--data-dir", self.data_dir], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value.strip("'\"")
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            self.env.pop(k, None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


D = None
WORK = None


def run(args, check=True, input=None):
    p = subprocess.run(args, env=D.env, capture_output=True, text=True, input=input, timeout=180)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def aws(*args, check=True):
    return run(["/usr/bin/aws", "--endpoint-url", "http://" + D.registry, "--region", "us-east-1", "--output",
                "json"] + list(args), check=check)


def podman(*args, check=True, input=None):
    return run(["podman", "--root", os.path.join(WORK, "podman-root"), "--runroot", os.path.join(WORK, "podman-run"),
                "--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--events-backend=none"] + list(args),
               check=check, input=input)


def password():
    return aws("ecr", "get-login-password").stdout.strip()


class EcrIntegration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global D, WORK
        D = Daemon()
        D.start()
        WORK = tempfile.mkdtemp(prefix="berth-ecr-work-")
        D.env["REGISTRY_AUTH_FILE"] = os.path.join(WORK, "auth.json")
        D.env["XDG_RUNTIME_DIR"] = os.path.join(WORK, "xdg")
        os.makedirs(D.env["XDG_RUNTIME_DIR"], exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        D.stop()
        subprocess.run(["rm", "-rf", WORK, D.data_dir])

    def creds(self):
        return "AWS:" + password()

    def test_1_login(self):
        ok = podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", D.registry,
                    input=password())
        self.assertIn("Login Succeeded", ok.stdout + ok.stderr)
        bad = podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", D.registry,
                     input=password()[:-4] + "AAAA", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertNotIn("Login Succeeded", bad.stdout)

    def test_2_push_pull_and_api(self):
        out = json.loads(aws("ecr", "create-repository", "--repository-name", "hello/app").stdout)
        uri = out["repository"]["repositoryUri"]
        self.assertEqual(uri, D.registry + "/hello/app")
        layout = os.path.join(WORK, "layout-v1")
        digest = make_oci_layout(layout, "v1", "hello v1\n")
        # skopeo push (OCI manifest kept as is)
        run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", self.creds(),
             "oci:%s:v1" % layout, "docker://%s:v1" % uri])
        raw = run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", self.creds(),
                   "docker://%s:v1" % uri]).stdout
        self.assertEqual("sha256:" + hashlib.sha256(raw.encode()).hexdigest(), digest)
        # skopeo pull back: identical blobs
        pulled = os.path.join(WORK, "pulled")
        run(["skopeo", "copy", "-q", "--src-tls-verify=false", "--src-creds", self.creds(),
             "docker://%s:v1" % uri, "oci:%s:v1" % pulled])
        self.assertEqual(sorted(os.listdir(os.path.join(layout, "blobs", "sha256"))),
                         sorted(os.listdir(os.path.join(pulled, "blobs", "sha256"))))
        # podman push (of the same image under another tag) and podman pull
        podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", D.registry, input=password())
        podman("pull", "oci:%s:v1" % layout)
        images = podman("images", "--format", "{{.ID}}").stdout.split()
        podman("tag", images[0], uri + ":podman")
        podman("push", "--tls-verify=false", uri + ":podman")
        podman("rmi", "-a", "-f")
        podman("pull", "--tls-verify=false", uri + ":podman")
        pushed = json.loads(aws("ecr", "batch-get-image", "--repository-name", "hello/app", "--image-ids",
                                "imageTag=podman").stdout)["images"][0]
        inspected = json.loads(podman("image", "inspect", uri + ":podman").stdout)[0]
        self.assertEqual(inspected["Digest"], pushed["imageId"]["imageDigest"])
        # The ECR API lists both tags
        described = json.loads(aws("ecr", "describe-images", "--repository-name", "hello/app").stdout)
        tags = sorted(t for d in described["imageDetails"] for t in d.get("imageTags", []))
        self.assertEqual(tags, ["podman", "v1"])
        for d in described["imageDetails"]:
            self.assertGreater(d["imageSizeInBytes"], 0)
            self.assertIn("imagePushedAt", d)
        listed = json.loads(aws("ecr", "list-images", "--repository-name", "hello/app").stdout)["imageIds"]
        self.assertEqual(len(listed), 2)

    def test_3_immutability_and_deletes(self):
        aws("ecr", "create-repository", "--repository-name", "frozen", "--image-tag-mutability", "IMMUTABLE")
        uri = D.registry + "/frozen"
        a, b = os.path.join(WORK, "img-a"), os.path.join(WORK, "img-b")
        make_oci_layout(a, "t", "a\n")
        make_oci_layout(b, "t", "b\n")
        run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", self.creds(), "oci:%s:t" % a,
             "docker://%s:v1" % uri])
        moved = run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", self.creds(),
                     "oci:%s:t" % b, "docker://%s:v1" % uri], check=False)
        self.assertNotEqual(moved.returncode, 0)
        self.assertIn("tag invalid", moved.stderr)
        with open(os.path.join(b, "index.json")) as f:
            b_digest = json.load(f)["manifests"][0]["digest"]
        with open(os.path.join(b, "blobs", "sha256", b_digest[7:])) as f:
            manifest = f.read()
        refused = aws("ecr", "put-image", "--repository-name", "frozen", "--image-tag", "v1", "--image-manifest",
                      manifest, check=False)
        self.assertIn(refused.returncode, (254, 255))  # aws CLI v2 / v1
        self.assertIn("ImageTagAlreadyExistsException", refused.stderr)
        not_empty = aws("ecr", "delete-repository", "--repository-name", "frozen", check=False)
        self.assertIn("RepositoryNotEmptyException", not_empty.stderr)
        deleted = json.loads(aws("ecr", "batch-delete-image", "--repository-name", "frozen", "--image-ids",
                                 "imageTag=v1").stdout)
        self.assertEqual(len(deleted["imageIds"]), 1)
        gone = run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", self.creds(),
                    "docker://%s:v1" % uri], check=False)
        self.assertNotEqual(gone.returncode, 0)
        aws("ecr", "create-repository", "--repository-name", "doomed")
        run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", self.creds(), "oci:%s:t" % a,
             "docker://%s/doomed:x" % D.registry])
        aws("ecr", "delete-repository", "--repository-name", "doomed", "--force")
        missing = aws("ecr", "describe-repositories", "--repository-names", "doomed", check=False)
        self.assertIn("RepositoryNotFoundException", missing.stderr)

    def test_4_interrupted_chunked_upload_resumes(self):
        aws("ecr", "create-repository", "--repository-name", "resume")
        auth = "Basic " + base64.b64encode(self.creds().encode()).decode()
        data = os.urandom(3 * 1024 * 1024)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()

        def request(method, target, body=b"", headers=None):
            c = http.client.HTTPConnection(D.address, D.port, timeout=30)
            h = {"Authorization": auth}
            h.update(headers or {})
            c.request(method, target, body=body, headers=h)
            r = c.getresponse()
            r.read()
            c.close()
            return r

        start = request("POST", "/v2/resume/blobs/uploads/")
        self.assertEqual(start.status, 202)
        location = start.getheader("Location")
        # A client that dies after 1 MiB of a 3 MiB PATCH.
        s = socket.create_connection((D.address, D.port))
        s.sendall(("PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n"
                   % (location, D.registry, auth, len(data))).encode() + data[:1024 * 1024])
        time.sleep(0.2)
        s.close()
        got = None
        for _ in range(50):
            status = request("GET", location)
            if status.status == 204:
                got = status.getheader("Range")
                if got == "0-%d" % (1024 * 1024 - 1):
                    break
            time.sleep(0.05)
        self.assertEqual(got, "0-%d" % (1024 * 1024 - 1))
        done_upto = int(got.split("-")[1]) + 1
        patch = request("PATCH", location, data[done_upto:],
                        {"Content-Range": "%d-%d" % (done_upto, len(data) - 1)})
        self.assertEqual(patch.status, 202)
        put = request("PUT", location + "?digest=" + digest)
        self.assertEqual(put.status, 201)
        head = request("HEAD", "/v2/resume/blobs/" + digest)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.getheader("Content-Length"), str(len(data)))


if __name__ == "__main__":
    BERTH = sys.argv.pop(1)
    unittest.main()
