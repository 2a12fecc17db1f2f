#!/usr/bin/python3
"""The outyet image: built by podman from the repository's Dockerfile, run by runc.

usage: image_test.py SOURCE_DIR ROOTFS_DIR [unittest args...]

SOURCE_DIR is the repository root (the Dockerfile and the build context);
ROOTFS_DIR the root filesystem the build staged (<build>/image/rootfs).
Needs root (runc, podman's chroot isolation). All state lives in one
temporary directory: podman's --root/--runroot, the OCI layout, the
unpacked bundle and runc's --root; it is removed at the end.
"""
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SOURCE_DIR = ROOTFS_DIR = None
TAG = "outyet-image:test"
MAX_IMAGE_BYTES = 30 * 1000 * 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 300), **kw)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(argv), r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def wait_until(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def get(port, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def try_get(port, path="/"):
    try:
        return get(port, path)
    except OSError:
        return None


class HttpsTagServer:
    """HEAD /go<version> over TLS with a throwaway CA: 404 until tagged, then 200."""

    def __init__(self, workdir, hostname):
        self.tagged = threading.Event()
        self.heads = 0
        ca_key, ca_crt = os.path.join(workdir, "ca.key"), os.path.join(workdir, "ca.crt")
        key, csr, crt = (os.path.join(workdir, n) for n in ("srv.key", "srv.csr", "srv.crt"))
        ext = os.path.join(workdir, "srv.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % hostname)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=outyet test CA",
             "-keyout", ca_key, "-out", ca_crt])
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + hostname, "-keyout", key, "-out", csr])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-days", "1",
             "-extfile", ext, "-out", crt])
        self.ca_file = ca_crt
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self):
                outer.heads += 1
                self.send_response(200 if outer.tagged.is_set() else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(crt, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class OutyetImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise AssertionError("this test needs root (runc and podman --isolation=chroot)")
        cls.tmp = tempfile.mkdtemp(prefix="outyet-image-test.")
        try:
            cls.build_and_unpack()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def podman(cls, *args):
        return run(["podman", "--root", os.path.join(cls.tmp, "root"), "--runroot", os.path.join(cls.tmp, "run"),
                    "--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--events-backend=none"] + list(args),
                   env=dict(os.environ, TMPDIR=cls.tmp))

    @classmethod
    def build_and_unpack(cls):
        source = os.path.realpath(SOURCE_DIR)
        rootfs = os.path.realpath(ROOTFS_DIR)
        if os.path.commonpath([source, rootfs]) == source:
            context = source
        else:
            # A build directory outside the repository: a context of the same shape.
            context = os.path.join(cls.tmp, "context")
            os.makedirs(context)
            for name in ("Dockerfile", ".dockerignore"):
                shutil.copy(os.path.join(source, name), context)
            shutil.copytree(rootfs, os.path.join(context, "build", "image", "rootfs"), symlinks=True)
            rootfs = os.path.join(context, "build", "image", "rootfs")
        cls.podman("build", "--isolation=chroot", "--build-arg",
                   "ROOTFS=" + os.path.relpath(rootfs, context), "-t", TAG, "-f",
                   os.path.join(context, "Dockerfile"), context)
        cls.layout = os.path.join(cls.tmp, "oci")
        cls.podman("push", "-q", TAG, "oci:%s:test" % cls.layout)
        cls.bundle = os.path.join(cls.tmp, "bundle")
        run(["umoci", "unpack", "--image", "%s:test" % cls.layout, cls.bundle])
        with open(os.path.join(cls.bundle, "config.json")) as f:
            cls.base_config = json.load(f)

    def blob(self, digest):
        algo, hexd = digest.split(":")
        with open(os.path.join(self.layout, "blobs", algo, hexd), "rb") as f:
            data = f.read()
        self.assertEqual(hashlib.sha256(data).hexdigest(), hexd)
        return data

    def manifest_and_config(self):
        with open(os.path.join(self.layout, "index.json")) as f:
            index = json.load(f)
        self.assertEqual(len(index["manifests"]), 1)
        manifest = json.loads(self.blob(index["manifests"][0]["digest"]))
        config = json.loads(self.blob(manifest["config"]["digest"]))
        return manifest, config

    # --- the image ---

    def test_config(self):
        _, config = self.manifest_and_config()
        c = config["config"]
        self.assertEqual(c["Entrypoint"], ["/outyet"])
        self.assertFalse(c.get("Cmd"))
        self.assertIn("8080/tcp", c["ExposedPorts"])
        self.assertEqual(len(c["ExposedPorts"]), 1)
        user = c.get("User", "")
        self.assertNotIn(user.split(":")[0], ("", "0", "root"))
        self.assertIn("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", c["Env"])
        self.assertEqual(config["os"], "linux")
        self.assertEqual(config["architecture"], "amd64")

    def test_user_resolves_to_non_root_uid(self):
        process = self.base_config["process"]
        self.assertEqual(process["user"]["uid"], 65532)
        self.assertEqual(process["user"]["gid"], 65532)
        self.assertEqual(process["args"], ["/outyet"])

    def test_size(self):
        manifest, _ = self.manifest_and_config()
        compressed = sum(layer["size"] for layer in manifest["layers"])
        unpacked = 0
        for dirpath, _, files in os.walk(os.path.join(self.bundle, "rootfs")):
            for name in files:
                unpacked += os.lstat(os.path.join(dirpath, name)).st_size
        self.assertLess(compressed, MAX_IMAGE_BYTES)
        self.assertLess(unpacked, MAX_IMAGE_BYTES)
        print("\nimage: %d layer(s), %.2f MB compressed, %.2f MB unpacked"
              % (len(manifest["layers"]), compressed / 1e6, unpacked / 1e6), file=sys.stderr)

    def test_contents_are_only_what_outyet_needs(self):
        root = os.path.join(self.bundle, "rootfs")
        files = set()
        for dirpath, _, names in os.walk(root):
            for name in names:
                files.add(os.path.relpath(os.path.join(dirpath, name), root))
        self.assertEqual(files, {"outyet", "etc/passwd", "etc/group", "etc/nsswitch.conf",
                                 "etc/ssl/certs/ca-certificates.crt"})
        with open(os.path.join(root, "outyet"), "rb") as f:
            elf = f.read()
        self.assertTrue(elf.startswith(b"\x7fELF"))
        self.assertNotIn(b"\x00.interp\x00", elf, "outyet in the image is dynamically linked")
        with open(os.path.join(root, "etc/passwd")) as f:
            self.assertIn("outyet:x:65532:65532:", f.read())
        with open(os.path.join(root, "etc/nsswitch.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^hosts:\s+files dns$")
        with open(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")) as f:
            self.assertGreater(f.read().count("BEGIN CERTIFICATE"), 50)

    # --- running it with runc ---

    def run_container(self, name, args, extra_mounts=(), env=()):
        """Starts the image's rootfs under runc, in the host network namespace.

        runc reads <bundle>/config.json, so each run rewrites it from the
        one umoci generated (tests run one after the other)."""
        config = json.loads(json.dumps(self.base_config))
        config["process"]["args"] = ["/outyet"] + args
        config["process"]["terminal"] = False
        config["process"]["env"] = config["process"]["env"] + list(env)
        config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]
        config["mounts"] += [{"destination": dst, "type": "bind", "source": src, "options": ["rbind", "ro"]}
                             for src, dst in extra_mounts]
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config, f)
        runc_root = os.path.join(self.tmp, "runc")
        container = "outyet-test-%s-%d" % (name, os.getpid())
        log = open(os.path.join(self.tmp, "%s.log" % name), "w+")
        proc = subprocess.Popen(["runc", "--root", runc_root, "run", "--bundle", self.bundle, container],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)

        def cleanup():
            if proc.poll() is None:
                subprocess.run(["runc", "--root", runc_root, "kill", container, "KILL"], capture_output=True)
                proc.wait(10)
            subprocess.run(["runc", "--root", runc_root, "delete", "--force", container], capture_output=True)
            log.close()
        self.addCleanup(cleanup)
        return proc, container, runc_root, log

    def test_runs_serves_and_stops_on_sigterm(self):
        port, closed = free_port(), free_port()
        proc, container, runc_root, log = self.run_start(
            "plain", ["-http", "127.0.0.1:%d" % port, "-poll", "200ms",
                      "-change-url-base", "http://127.0.0.1:%d/" % closed])
        status, body = get(port)
        self.assertEqual(status, 200)
        self.assertIn("<h2>Is Go 1.4 out yet?</h2>", body)
        self.assertIn("No. :-(", body)
        self.assertTrue(wait_until(lambda: json.loads(get(port, "/debug/vars")[1])["pollErrorCount"] >= 2, 10))
        state = json.loads(run(["runc", "--root", runc_root, "state", container]))
        self.assertEqual(state["status"], "running")
        with open("/proc/%d/status" % state["pid"]) as f:
            uids = [line for line in f if line.startswith("Uid:")][0].split()[1:]
        self.assertEqual(set(uids), {"65532"})
        run(["runc", "--root", runc_root, "kill", container, "TERM"])
        self.assertEqual(proc.wait(15), 0, self.read_log(log))
        self.assertIsNone(try_get(port))

    def test_polls_over_https_inside(self):
        hostname = "tags.outyet.test"
        tags = HttpsTagServer(self.tmp, hostname)
        self.addCleanup(tags.close)
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 %s\n" % hostname)
        port = free_port()
        proc, container, runc_root, log = self.run_start(
            "https", ["-http", "127.0.0.1:%d" % port, "-poll", "200ms", "-version", "1.99",
                      "-change-url-base", "https://%s:%d/" % (hostname, tags.port)],
            extra_mounts=[(hosts, "/etc/hosts"), (tags.ca_file, "/etc/ssl/certs/test-ca.pem")],
            env=["SSL_CERT_FILE=/etc/ssl/certs/test-ca.pem"])
        self.assertTrue(wait_until(lambda: tags.heads >= 2, 10), self.read_log(log))
        self.assertIn("No. :-(", get(port)[1])
        v = json.loads(get(port, "/debug/vars")[1])
        self.assertEqual(v["pollErrorCount"], 0, v)
        tags.tagged.set()
        self.assertTrue(wait_until(lambda: "YES!" in get(port)[1], 10))
        self.assertIn('<a href="https://%s:%d/go1.99">YES!</a>' % (hostname, tags.port), get(port)[1])
        run(["runc", "--root", runc_root, "kill", container, "TERM"])
        self.assertEqual(proc.wait(15), 0, self.read_log(log))

    def run_start(self, name, args, **kw):
        port = int(args[args.index("-http") + 1].rsplit(":", 1)[1])
        proc, container, runc_root, log = self.run_container(name, args, **kw)
        if not wait_until(lambda: proc.poll() is not None or try_get(port) is not None, 20):
            self.fail("the container did not serve on port %d: %s" % (port, self.read_log(log)))
        self.assertIsNone(proc.poll(), self.read_log(log))
        return proc, container, runc_root, log

    @staticmethod
    def read_log(log):
        log.flush()
        log.seek(0)
        return log.read()[-3000:]


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: %s SOURCE_DIR ROOTFS_DIR [unittest args]" % sys.argv[0])
    SOURCE_DIR, ROOTFS_DIR = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
