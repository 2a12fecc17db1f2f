#!/usr/bin/python3
"""ECR and the OCI registry through `berth serve`, with /usr/bin/aws, podman and skopeo.

Usage: BERTH_BIN=<path to berth> ecr_integration_test.py [unittest args]
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402
from oci_images import make_text_layout  # noqa: E402

D = None  # the daemon
ENV = None  # environment of every client: the daemon's credentials, podman's auth file
REGISTRY = None  # host:port
WORK = None


def run(args, check=True, input=None):
    p = subprocess.run(args, env=ENV, capture_output=True, text=True, input=input, timeout=180)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def aws(*args, check=True):
    return run(["/usr/bin/aws", "--endpoint-url", D.endpoint, "--region", "us-east-1", "--output",
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
        global D, ENV, REGISTRY, WORK
        D = Daemon().start()
        REGISTRY = "%s:%d" % (D.host, D.bound_port)
        WORK = tempfile.mkdtemp(prefix="berth-ecr-work-")
        ENV = D.aws_env()
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            ENV.pop(k, None)
        ENV["REGISTRY_AUTH_FILE"] = os.path.join(WORK, "auth.json")
        ENV["XDG_RUNTIME_DIR"] = os.path.join(WORK, "xdg")
        os.makedirs(ENV["XDG_RUNTIME_DIR"], exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        D.cleanup()
        shutil.rmtree(WORK, ignore_errors=True)

    def creds(self):
        return "AWS:" + password()

    def test_1_login(self):
        ok = podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", REGISTRY,
                    input=password())
        self.assertIn("Login Succeeded", ok.stdout + ok.stderr)
        bad = podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", REGISTRY,
                     input=password()[:-4] + "AAAA", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertNotIn("Login Succeeded", bad.stdout)

    def test_2_push_pull_and_api(self):
        out = json.loads(aws("ecr", "create-repository", "--repository-name", "hello/app").stdout)
        uri = out["repository"]["repositoryUri"]
        self.assertEqual(uri, REGISTRY + "/hello/app")
        layout = os.path.join(WORK, "layout-v1")
        digest = make_text_layout(layout, "v1", "hello v1\n")
        # skopeo push (OCI manifest kept as is)
        D.push_layout(layout, uri + ":v1", timeout=180)
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
        podman("login", "--username", "AWS", "--password-stdin", "--tls-verify=false", REGISTRY, input=password())
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
        uri = REGISTRY + "/frozen"
        a, b = os.path.join(WORK, "img-a"), os.path.join(WORK, "img-b")
        make_text_layout(a, "t", "a\n")
        make_text_layout(b, "t", "b\n")
        D.push_layout(a, uri + ":v1", layout_tag="t", timeout=180)
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
        D.push_layout(a, REGISTRY + "/doomed:x", layout_tag="t", timeout=180)
        aws("ecr", "delete-repository", "--repository-name", "doomed", "--force")
        missing = aws("ecr", "describe-repositories", "--repository-names", "doomed", check=False)
        self.assertIn("RepositoryNotFoundException", missing.stderr)

    def test_4_interrupted_chunked_upload_resumes(self):
        aws("ecr", "create-repository", "--repository-name", "resume")
        auth = "Basic " + base64.b64encode(self.creds().encode()).decode()
        data = os.urandom(3 * 1024 * 1024)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()

        def request(method, target, body=b"", headers=None):
            c = http.client.HTTPConnection(D.host, D.bound_port, timeout=30)
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
        s = socket.create_connection((D.host, D.bound_port))
        s.sendall(("PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n"
                   % (location, REGISTRY, auth, len(data))).encode() + data[:1024 * 1024])
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

    def test_5_malformed_manifests_are_refused(self):
        """Manifests the distribution spec refuses get 400 MANIFEST_INVALID
        (issue 16: one without descriptor media types was stored and later
        aborted the daemon), by hand over HTTP with the ECR token and through
        PutImage; nothing is stored and the daemon goes on."""
        aws("ecr", "create-repository", "--repository-name", "strict")
        auth = "Basic " + base64.b64encode(self.creds().encode()).decode()

        def request(method, target, body=b"", headers=None):
            c = http.client.HTTPConnection(D.host, D.bound_port, timeout=30)
            h = {"Authorization": auth}
            h.update(headers or {})
            c.request(method, target, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            c.close()
            return r.status, data, r

        def upload(data):
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            status, _, start = request("POST", "/v2/strict/blobs/uploads/")
            self.assertEqual(status, 202)
            status, body, _ = request("PUT", start.getheader("Location") + "?digest=" + digest, data)
            self.assertEqual(status, 201, body)
            return {"digest": digest, "size": len(data)}

        config = dict(upload(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
                      mediaType="application/vnd.docker.container.image.v1+json")
        layer = dict(upload(os.urandom(512)), mediaType="application/vnd.docker.image.rootfs.diff.tar.gzip")
        docker = "application/vnd.docker.distribution.manifest.v2+json"

        def manifest(config=config, layers=(layer,), **top):
            m = {"schemaVersion": 2, "mediaType": docker, "config": config, "layers": list(layers)}
            m.update(top)
            return json.dumps(m).encode()

        def without(d, key):
            return {k: v for k, v in d.items() if k != key}

        refused = {
            "layer without mediaType": manifest(layers=[without(layer, "mediaType")]),
            "config without mediaType": manifest(config=without(config, "mediaType")),
            "layer mediaType a number": manifest(layers=[dict(layer, mediaType=1)]),
            "layer with a negative size": manifest(layers=[dict(layer, size=-1)]),
            "layer with a fractional size": manifest(layers=[dict(layer, size=1.5)]),
            "layer with a bad digest": manifest(layers=[dict(layer, digest="sha256:xyz")]),
            "schemaVersion 1": manifest(schemaVersion=1),
            "not JSON": b'{"schemaVersion": 2,',
        }
        for name, body in refused.items():
            status, answer, _ = request("PUT", "/v2/strict/manifests/bad", body, {"Content-Type": docker})
            self.assertEqual(status, 400, "%s: %s" % (name, answer))
            errors = json.loads(answer)["errors"]
            self.assertEqual(errors[0]["code"], "MANIFEST_INVALID", "%s: %s" % (name, answer))
            self.assertEqual(errors[0]["message"], "manifest invalid", "%s: %s" % (name, answer))
            self.assertTrue(errors[0].get("detail"), "%s: the reason is missing: %s" % (name, answer))
        status, answer, _ = request("PUT", "/v2/strict/manifests/bad", refused["layer without mediaType"],
                                    {"Content-Type": docker})
        self.assertIn("mediaType", json.loads(answer)["errors"][0]["detail"], answer)

        # A layer the registry does not hold; an oversize manifest.
        missing = dict(layer, digest="sha256:" + hashlib.sha256(b"never uploaded").hexdigest())
        status, answer, _ = request("PUT", "/v2/strict/manifests/bad", manifest(layers=[missing]),
                                    {"Content-Type": docker})
        self.assertEqual(status, 400, answer)
        self.assertEqual(json.loads(answer)["errors"][0]["code"], "MANIFEST_BLOB_UNKNOWN", answer)
        huge = manifest(annotations={"x": "y" * (4 * 1024 * 1024)})
        status, answer, _ = request("PUT", "/v2/strict/manifests/bad", huge, {"Content-Type": docker})
        self.assertEqual(status, 413, answer)
        self.assertEqual(json.loads(answer)["errors"][0]["code"], "MANIFEST_INVALID", answer)

        # The same through the ECR API's PutImage, with ECR's exceptions.
        def put_image(body, *extra):
            return aws("ecr", "put-image", "--repository-name", "strict", "--image-tag", "api",
                       "--image-manifest", body.decode(), *extra, check=False)

        p = put_image(refused["layer without mediaType"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidParameterException", p.stderr)
        self.assertIn("Invalid parameter at 'ImageManifest'", p.stderr)
        p = put_image(refused["not JSON"])
        self.assertIn("InvalidParameterException", p.stderr)
        self.assertIn("Invalid JSON syntax", p.stderr)
        p = put_image(manifest(layers=[missing]))
        self.assertIn("LayersNotFoundException", p.stderr)
        good = manifest()
        p = put_image(good, "--image-digest", "sha256:" + "0" * 64)
        self.assertIn("ImageDigestDoesNotMatchException", p.stderr)
        p = put_image(json.dumps(without(json.loads(good), "mediaType")).encode())
        self.assertIn("InvalidParameterException", p.stderr)

        # Nothing of it was stored; a valid manifest still goes in, and reads back.
        self.assertEqual(json.loads(aws("ecr", "list-images", "--repository-name", "strict").stdout)["imageIds"], [])
        status, answer, _ = request("PUT", "/v2/strict/manifests/good", good, {"Content-Type": docker})
        self.assertEqual(status, 201, answer)
        status, answer, _ = request("GET", "/v2/strict/manifests/good", headers={"Accept": docker})
        self.assertEqual((status, answer), (200, good))
        self.assertTrue(D.alive())


if __name__ == "__main__":
    unittest.main()
