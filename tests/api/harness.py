"""Start and stop `berth serve` for integration tests, and talk to it raw.

Each Daemon gets a temp data dir and a private 127.x address with port 0;
the daemon writes its endpoint into the data dir, the harness waits for
GET /_berth/health. `sign()` is an independent SigV4 signer (so tests can
sign with a skewed clock or a wrong secret); `raw()` sends exact bytes.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

BERTH = os.environ.get("BERTH_BIN") or os.path.join(os.path.dirname(__file__), "../../build/berth")
AWS = "/usr/bin/aws"


def private_address():
    """A 127.x.y.z address unlikely to be used by another test run."""
    return "127.%d.%d.%d" % (random.randint(1, 250), random.randint(0, 255), random.randint(2, 254))


class Daemon:
    def __init__(self, address=None, data_dir=None, port=0):
        self.address = address or private_address()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="berth-api-test-")
        self.port = port
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "daemon.log")

    def start(self, timeout=10.0):
        endpoint_file = os.path.join(self.data_dir, "endpoint")
        if os.path.exists(endpoint_file):
            os.unlink(endpoint_file)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BERTH, "serve", "--data-dir", self.data_dir, "--bind", self.address, "--port", str(self.port)],
            stdout=log, stderr=log)
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
            assert line.startswith("export "), line
            k, v = line[len("export "):].split("=", 1)
            env[k] = v
        return env

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

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- clients ----

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
        env["AWS_MAX_ATTEMPTS"] = "1"
        return env

    def cli(self, *args, access_key=None, secret=None):
        """Runs the Debian aws CLI; returns (exit code, parsed JSON or None, stderr)."""
        p = subprocess.run([AWS, *args, "--endpoint-url", self.endpoint, "--output", "json"],
                           env=self.aws_env(access_key, secret), capture_output=True, text=True, timeout=60)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def client(self, service, access_key=None, secret=None):
        import boto3
        from botocore.config import Config
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
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


def sign(method, host, service, body, headers, access_key, secret, when=None, region="us-east-1", query=""):
    """Returns headers (incl. Host, X-Amz-Date, Authorization) for a SigV4 header-signed request."""
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
    creq = "\n".join([method, "/", cq, canonical_headers, signed, hashlib.sha256(body).hexdigest()])
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
