"""The one harness every integration test uses to run `berth serve` and
drive it as users do.

A Daemon gets a temp data dir and a private 127.x address (port 4566 by
default, so a restarted daemon keeps its endpoint; port 0 lets the kernel
pick); the daemon writes its endpoint into the data dir and the harness
waits for GET /_berth/health. Clients: `aws()` runs the Debian aws CLI
with --endpoint-url (Debian's awscli ignores AWS_ENDPOINT_URL), `client()`
a boto3 client, `raw()` exact bytes, `push_layout()` an OCI layout into
its registry with skopeo. `sign()` is an independent SigV4 signer, so
tests can sign with a skewed clock or a wrong secret.

Tests import it with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
and find the binary in $BERTH_BIN (set by CMake).
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

BERTH = os.environ.get("BERTH_BIN") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../build/berth")
AWS = "/usr/bin/aws"


def missing_task_prerequisites():
    """Why this machine cannot run ECS tasks under berth's runc runtime with
    busybox test images, or None. scripts/install-deps.sh brings all of it,
    so task tests report a reason as a failure, not a skip."""
    if os.geteuid() != 0:
        return "needs root (runc, network namespaces)"
    for tool in ("runc", "umoci", "skopeo"):
        if not shutil.which(tool):
            return "needs " + tool
    if not os.path.exists("/bin/busybox") or not os.path.exists(AWS):
        return "needs /bin/busybox (busybox-static) and /usr/bin/aws"
    return None


def private_address():
    """A 127.x.y.z address unlikely to be used by another test run."""
    return "127.%d.%d.%d" % (random.randint(1, 250), random.randint(0, 255), random.randint(2, 254))


class AwsError(AssertionError):
    """An aws CLI call that failed; `code` is the AWS error code it printed."""

    def __init__(self, args, returncode, stderr):
        m = re.search(r"An error occurred \(([^)]+)\)", stderr)
        self.code = m.group(1) if m else None
        self.returncode, self.stderr = returncode, stderr
        super().__init__("aws %s failed (%d): %s" % (" ".join(args), returncode, stderr.strip()))


class PushError(AssertionError):
    """A skopeo push into berth's registry that failed; the message carries skopeo's stderr."""


class _Process:
    """The parts of subprocess.Popen that Daemon uses, for a process that is
    not this one's child (polled with signal 0)."""

    def __init__(self, pid):
        self.pid, self.returncode = pid, None

    def poll(self):
        try:
            os.kill(self.pid, 0)
            return None
        except ProcessLookupError:
            self.returncode = 0
            return 0

    def send_signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.05)
        return self.returncode


class Daemon:
    def __init__(self, address=None, data_dir=None, port=4566, env=None, args=None):
        """env: extra environment for `berth serve` (e.g. BERTH_TASK_RUNTIME=none); args: extra flags."""
        self.address = address or private_address()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="berth-it-")
        self.port = port
        self.env = dict(env or {})
        self.args = list(args or [])
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "daemon.log")

    def start(self, timeout=15.0):
        endpoint_file = os.path.join(self.data_dir, "endpoint")
        if os.path.exists(endpoint_file):
            os.unlink(endpoint_file)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BERTH, "serve", "--data-dir", self.data_dir, "--bind", self.address, "--port", str(self.port)]
            + self.args,
            stdout=log, stderr=log, env=dict(os.environ, **self.env))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("berth exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if os.path.exists(endpoint_file):
                with open(endpoint_file) as f:
                    self.endpoint = f.read().strip()
                u = urllib.parse.urlparse(self.endpoint)
                self.host, self.bound_port = u.hostname, u.port
                try:
                    status, body, _ = self.get("/_berth/health")
                    if status == 200:
                        self.creds = self.read_env()
                        return self
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError("berth did not become ready:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def read_env(self):
        out = subprocess.run([BERTH, "env", "--data-dir", self.data_dir], check=True, capture_output=True,
                             text=True).stdout
        env = {}
        for line in out.splitlines():
            m = re.match(r"export (AWS_[A-Z_]+)=(.*)$", line)
            if m:
                env[m.group(1)] = shlex.split(m.group(2))[0]
        assert set(env) >= {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, out
        return env

    def adopt(self, pid):
        """Takes over a `berth serve` started elsewhere (scripts/workshop.sh)
        with this data dir: its endpoint and key, and its process for
        cleanup()."""
        with open(os.path.join(self.data_dir, "endpoint")) as f:
            self.endpoint = f.read().strip()
        u = urllib.parse.urlparse(self.endpoint)
        self.host, self.bound_port = u.hostname, u.port
        self.creds = self.read_env()
        self.proc = _Process(pid)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("berth did not stop on %s" % sig)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill(self):
        """SIGKILL, as a crash: nothing of the daemon's shutdown runs."""
        return self.stop(signal.SIGKILL)

    def stop_all_tasks(self, timeout=30.0):
        """Deletes every ECS service (force), stops every ECS task and waits (bounded) until they are STOPPED.
        A daemon's SIGTERM leaves task containers running for the next one
        to adopt, so a test that ends early would otherwise leak them
        (containers, mounts, namespaces) once the data dir is gone."""
        ecs = self.client("ecs")
        # Paginated: ListTasks gives 100 a page, and a bench runs more.
        clusters = [arn for page in ecs.get_paginator("list_clusters").paginate() for arn in page["clusterArns"]]
        # Services first: their scheduler would replace the tasks stopped below.
        for cluster in clusters:
            for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
                for arn in page["serviceArns"]:
                    ecs.delete_service(cluster=cluster, service=arn, force=True)
        running = []
        for cluster in clusters:
            pages = ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus="RUNNING")
            for arn in [arn for page in pages for arn in page["taskArns"]]:
                ecs.stop_task(cluster=cluster, task=arn, reason="test clean-up")
                running.append((cluster, arn))
            # Tasks already stopping (a deleted service's, draining from their
            # target groups) are waited for too.
            pages = ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus="STOPPED")
            running += [(cluster, arn) for page in pages for arn in page["taskArns"]]
        deadline = time.monotonic() + timeout
        for cluster, arn in running:
            while time.monotonic() < deadline:
                tasks = ecs.describe_tasks(cluster=cluster, tasks=[arn]).get("tasks", [])
                if not tasks or tasks[0]["lastStatus"] == "STOPPED":
                    break
                time.sleep(0.2)

    def cleanup(self):
        """Stops the daemon's ECS tasks, then the daemon (SIGTERM, then SIGKILL
        after 10 s: graceful stop is asserted by tests/api, here a hung
        daemon must not disturb later tests) and removes a data dir the
        harness made."""
        if self.alive() and hasattr(self, "creds") and self.env.get("BERTH_TASK_RUNTIME") != "none":
            try:
                self.stop_all_tasks()
            except Exception as e:  # a broken daemon must not hide the test's own failure
                print("warning: stopping the daemon's tasks failed: %s" % e, file=sys.stderr)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                print("warning: berth serve ignored SIGTERM for 10 s; killing it", file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- clients ----

    def registry(self, password, method, path, body=b"", headers=None, timeout=30):
        """A registry (/v2/) request with ECR's token as basic auth, as
        docker and podman send it; returns (status, body bytes, response)."""
        import base64
        auth = "Basic " + base64.b64encode(("AWS:" + password).encode()).decode()
        c = http.client.HTTPConnection(self.host, self.bound_port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=dict({"Authorization": auth}, **(headers or {})))
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            c.close()

    def ecr_password(self):
        """The registry password for user AWS, as users get it: `aws ecr get-login-password`."""
        return self.aws("ecr", "get-login-password")

    def push_layout(self, layout_dir, image, layout_tag=None, timeout=120):
        """Pushes the image tagged layout_tag (default: image's tag) of the OCI
        layout at layout_dir to berth's registry as image ("<repositoryUri>:<tag>")
        with `skopeo copy`, logged in with ECR's password; raises PushError with
        skopeo's stderr if it fails or takes longer than timeout seconds."""
        name = image.rsplit("/", 1)[-1]
        if ":" not in name:
            raise ValueError("push_layout needs an image with a tag, got " + image)
        tag = layout_tag or name.rsplit(":", 1)[1]
        args = ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", "AWS:" + self.ecr_password(),
                "oci:%s:%s" % (layout_dir, tag), "docker://" + image]
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PushError("skopeo push of %s to %s took over %s s" % (layout_dir, image, timeout)) from None
        if p.returncode != 0:
            raise PushError("skopeo push of %s to %s failed (%d): %s"
                            % (layout_dir, image, p.returncode, p.stderr.strip()))

    def aws_env(self, access_key=None, secret=None):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        env.update(self.creds)
        if access_key:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = access_key, secret
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_PAGER"] = ""
        # The aws CLI is Python: into a pipe it writes in 8 KiB blocks, so a
        # test reading `aws logs tail --follow` as it goes would see nothing.
        # (Set here, not left to the environment: a fresh machine has none.)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def aws_result(self, *args, access_key=None, secret=None, timeout=120):
        """Runs the Debian aws CLI: `aws_result("ecs", "list-clusters")`;
        returns (exit code, parsed JSON or None, stderr)."""
        p = subprocess.run([AWS, *args, "--endpoint-url", self.endpoint, "--output", "json"],
                           env=self.aws_env(access_key, secret), capture_output=True, text=True, timeout=timeout)
        out = None
        if p.returncode == 0 and p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:  # text output, e.g. `ecr get-login-password`
                out = p.stdout.strip()
        return p.returncode, out, p.stderr

    def aws(self, *args, access_key=None, secret=None, timeout=120):
        """Like aws_result, but returns the parsed JSON ({} for no output) and
        raises AwsError when the call fails."""
        rc, out, err = self.aws_result(*args, access_key=access_key, secret=secret, timeout=timeout)
        if rc != 0:
            raise AwsError(args, rc, err)
        return {} if out is None else out

    def client(self, service, access_key=None, secret=None):
        import boto3
        from botocore.config import Config
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=self.creds.get("AWS_DEFAULT_REGION", "us-east-1"),
            aws_access_key_id=access_key or self.creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret or self.creds["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}))

    def get(self, path):
        c = http.client.HTTPConnection(self.host, self.bound_port, timeout=5)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            c.close()

    def request(self, method, path, body=b"", headers=None, conn=None):
        c = conn or http.client.HTTPConnection(self.host, self.bound_port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
        finally:
            if conn is None:
                c.close()

    def signed_get(self, path, method="GET", access_key=None, secret=None):
        """A SigV4-signed GET (or HEAD) of one of berth's own endpoints (/_berth/metrics), as a
        scraper with the API's credentials sends it; returns (status, body bytes, headers)."""
        h = sign(method, "%s:%d" % (self.host, self.bound_port), "monitoring", b"", {},
                 access_key or self.creds["AWS_ACCESS_KEY_ID"], secret or self.creds["AWS_SECRET_ACCESS_KEY"],
                 path=path)
        return self.request(method, path, headers=h)

    def account_id(self):
        """The account's id, as a user learns it: sts get-caller-identity."""
        return self.client("sts").get_caller_identity()["Account"]

    def raw(self, data, timeout=5.0):
        """Sends bytes on a fresh connection; returns everything read until close or timeout."""
        s = socket.create_connection((self.host, self.bound_port), timeout=timeout)
        try:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may answer and close before everything is sent
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        finally:
            s.close()


# ---- an independent SigV4 signer ----

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, host, service, body, headers, access_key, secret, when=None, region="us-east-1", query="",
         path="/", payload_hash=None):
    """Returns headers (incl. Host, X-Amz-Date, Authorization) for a SigV4 header-signed request.
    path: the request's path, already percent-encoded (signed as non-S3 services do);
    payload_hash: what the canonical request says the body hashes to (default: its real sha256)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    if isinstance(body, str):
        body = body.encode()
    h = {"host": host, "x-amz-date": amz_date}
    for k, v in headers.items():
        h[k.lower()] = v
    names = sorted(h)
    canonical_headers = "".join("%s:%s\n" % (n, " ".join(str(h[n]).split())) for n in names)
    signed = ";".join(names)
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    cq = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                  for k, v in pairs)
    creq = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), cq, canonical_headers, signed,
                      payload_hash or hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    out = {"Host": host, "X-Amz-Date": amz_date}
    out.update(headers)
    out["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, signed, sig)
    return out


FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON11 = "application/x-amz-json-1.1"


def call_query(daemon, service, body, access_key=None, secret=None, when=None, conn=None, extra_headers=None):
    """A signed query/EC2-protocol POST with a form body; returns (status, body bytes, headers)."""
    access_key = access_key or daemon.creds["AWS_ACCESS_KEY_ID"]
    secret = secret or daemon.creds["AWS_SECRET_ACCESS_KEY"]
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": FORM}
    hdrs.update(extra_headers or {})
    h = sign("POST", "%s:%d" % (daemon.host, daemon.bound_port), service, body, hdrs, access_key, secret, when)
    return daemon.request("POST", "/", body, h, conn)


def call_json(daemon, target, body, service="ecs", access_key=None, secret=None, conn=None):
    access_key = access_key or daemon.creds["AWS_ACCESS_KEY_ID"]
    secret = secret or daemon.creds["AWS_SECRET_ACCESS_KEY"]
    if isinstance(body, str):
        body = body.encode()
    h = sign("POST", "%s:%d" % (daemon.host, daemon.bound_port), service, body,
             {"Content-Type": JSON11, "X-Amz-Target": target}, access_key, secret)
    return daemon.request("POST", "/", body, h, conn)


def xml_code(body):
    """The <Code> of an XML error body, or None."""
    import re
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None
