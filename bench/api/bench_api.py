#!/usr/bin/env python3
"""bench/api: berth vs moto_server, same machine, same run.

Measures, for signed STS GetCallerIdentity and EC2 DescribeSecurityGroups
(the latter only if berth answers it), calls/s and p50/p99 with 1 and 4
concurrent keep-alive clients; plus berth's start-to-ready time and idle RSS.

Two clients, each run against both servers: "python" = processes (not
threads: the GIL would be the bottleneck), each (not threads: the GIL would be the bottleneck), each
with one keep-alive http.client connection that reconnects when the server
closes it (moto closes every connection). Requests are SigV4-signed with
botocore; a signed request is reused for up to --resign seconds (default 1 s,
well inside the 5 minute window) so the client's signing cost does not cap
the server. Latency = send .. body read. "wrk" = the same signed request
replayed by wrk with 1 or 4 keep-alive connections: what the server can do
when the client is not the bottleneck. Every loop is bounded by --duration.

usage: bench_api.py --berth build/berth --moto moto_server [--duration 5] [--rounds 1]
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
import shutil
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

OPS = {
    "sts:GetCallerIdentity": ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
    "ec2:DescribeSecurityGroups": ("ec2", "Action=DescribeSecurityGroups&Version=2016-11-15"),
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sign(endpoint, service, body, creds):
    req = AWSRequest(method="POST", url=endpoint + "/", data=body.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(*creds), service, "us-east-1").add_auth(req)
    return body.encode(), dict(req.headers.items())


def call(endpoint, service, body, creds):
    b, h = sign(endpoint, service, body, creds)
    u = urllib.parse.urlparse(endpoint)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("POST", "/", body=b, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def worker(endpoint, service, body, creds, start_at, deadline, resign, q):
    u = urllib.parse.urlparse(endpoint)
    conn, connects, lat, errors = None, 0, [], 0
    signed_at, signed = 0.0, None
    while time.time() < start_at:
        time.sleep(0.001)
    while True:
        now = time.perf_counter()
        if time.time() >= deadline:
            break
        if signed is None or now - signed_at > resign:
            signed, signed_at = sign(endpoint, service, body, creds), now
        if conn is None:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            connects += 1
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/", body=signed[0], headers=signed[1])
            r = conn.getresponse()
            r.read()
            t1 = time.perf_counter()
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = None
            errors += 1
            continue
        if r.status != 200:
            errors += 1
            continue
        lat.append(t1 - t0)
    q.put((lat, errors, connects))


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


def load(endpoint, op, creds, clients, duration, resign):
    service, body = OPS[op]
    q = mp.Queue()
    start_at = time.time() + 0.3
    deadline = start_at + duration
    procs = [mp.Process(target=worker, args=(endpoint, service, body, creds, start_at, deadline, resign, q))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [q.get(timeout=duration + 60) for _ in procs]
    for p in procs:
        p.join(10)
    lat = [x for r in results for x in r[0]]
    return {"calls_per_s": len(lat) / duration, "p50_ms": pct(lat, 50) * 1e3, "p99_ms": pct(lat, 99) * 1e3,
            "errors": sum(r[1] for r in results), "connects": sum(r[2] for r in results), "calls": len(lat)}


def wrk_load(endpoint, op, creds, clients, duration, work):
    """The same signed request replayed by wrk (C, keep-alive): the server's capacity, not the client's."""
    service, body = OPS[op]
    b, headers = sign(endpoint, service, body, creds)
    lua = ["wrk.method = \"POST\"", "wrk.body = %s" % json.dumps(body)]
    for k, v in headers.items():
        lua.append("wrk.headers[%s] = %s" % (json.dumps(k), json.dumps(v)))
    path = os.path.join(work, "req.lua")
    with open(path, "w") as f:
        f.write("\n".join(lua) + "\n")
    threads = 1 if clients == 1 else 2
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % clients, "-d%ds" % int(duration), "--latency",
                          "-s", path, endpoint + "/"], capture_output=True, text=True,
                         timeout=duration + 30).stdout
    def ms(text):
        for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
            if text.endswith(unit):
                return float(text[:-len(unit)]) * f
        return float("nan")
    r = {"calls_per_s": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "errors": 0}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            r["calls_per_s"] = float(parts[1])
        elif len(parts) == 2 and parts[0] == "50%":
            r["p50_ms"] = ms(parts[1])
        elif len(parts) == 2 and parts[0] == "99%":
            r["p99_ms"] = ms(parts[1])
        elif "Non-2xx" in line:
            r["errors"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            r["socket_errors"] = line.strip()
    return r


class Berth:
    def __init__(self, binary, data_dir):
        self.binary, self.data_dir = binary, data_dir

    def start(self):
        ep = os.path.join(self.data_dir, "endpoint")
        if os.path.exists(ep):
            os.unlink(ep)
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([self.binary, "serve", "--data-dir", self.data_dir, "--bind", "127.0.0.1",
                                      "--port", str(free_port())], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.data_dir, "daemon.log"), "ab"))
        deadline = t0 + 10
        while time.perf_counter() < deadline:
            if os.path.exists(ep):
                with open(ep) as f:
                    self.endpoint = f.read().strip()
                u = urllib.parse.urlparse(self.endpoint)
                try:
                    c = http.client.HTTPConnection(u.hostname, u.port, timeout=1)
                    c.request("GET", "/_berth/health")
                    ok = c.getresponse().status == 200
                    c.close()
                    if ok:
                        self.ready_ms = (time.perf_counter() - t0) * 1e3
                        return self
                except OSError:
                    pass
            time.sleep(0.0002)
        raise RuntimeError("berth did not start")

    def creds(self):
        out = subprocess.run([self.binary, "env", "--data-dir", self.data_dir], capture_output=True, text=True,
                             check=True).stdout
        env = {k: shlex.split(v)[0] for k, v in re.findall(r"^export (AWS_\w+)=(.*)$", out, re.M)}
        return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--moto", default=shutil.which("moto_server"))
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--resign", type=float, default=1.0)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    assert a.duration <= 60, "bounded runs only"
    work = tempfile.mkdtemp(prefix="berth-bench-api-")
    report = {"startup": {}, "runs": []}
    moto = None
    try:
        # start to ready: first start (creates account, migrations) and warm restarts
        b = Berth(a.berth, work).start()
        first = b.ready_ms
        b.stop()
        warm = []
        for _ in range(5):
            b = Berth(a.berth, work).start()
            warm.append(b.ready_ms)
            if len(warm) < 5:
                b.stop()
        time.sleep(1.0)
        idle_rss = b.rss_kib()
        report["startup"] = {"first_start_ready_ms": round(first, 2), "warm_ready_ms_min": round(min(warm), 2),
                             "warm_ready_ms_median": round(sorted(warm)[2], 2), "idle_rss_kib": idle_rss}
        berth_creds = b.creds()
        ops = ["sts:GetCallerIdentity"]
        status, _ = call(b.endpoint, "ec2", OPS["ec2:DescribeSecurityGroups"][1], berth_creds)
        if status == 200:
            ops.append("ec2:DescribeSecurityGroups")
        else:
            print("berth does not answer ec2:DescribeSecurityGroups (HTTP %d): skipped" % status)

        moto_port = free_port()
        moto_log = open(os.path.join(work, "moto.log"), "wb")
        moto = subprocess.Popen([a.moto, "-H", "127.0.0.1", "-p", str(moto_port)], stdout=moto_log,
                                stderr=moto_log)
        moto_ep = "http://127.0.0.1:%d" % moto_port
        moto_creds = ("AKIDBENCH0000000000", "bench-secret-not-real")
        for _ in range(300):
            try:
                if call(moto_ep, "sts", OPS["sts:GetCallerIdentity"][1], moto_creds)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        for op in ops:
            for clients in (1, 4):
                rb = load(b.endpoint, op, berth_creds, clients, a.duration, a.resign)
                rm = load(moto_ep, op, moto_creds, clients, a.duration, a.resign)
                report["runs"].append({"client": "python", "op": op, "clients": clients, "berth": rb, "moto": rm})
                if shutil.which("wrk"):
                    rb = wrk_load(b.endpoint, op, berth_creds, clients, a.duration, work)
                    rm = wrk_load(moto_ep, op, moto_creds, clients, a.duration, work)
                    report["runs"].append({"client": "wrk", "op": op, "clients": clients, "berth": rb, "moto": rm})
        report["startup"]["rss_after_load_kib"] = b.rss_kib()
        b.stop()
    finally:
        if moto is not None:
            moto.send_signal(signal.SIGTERM)
            try:
                moto.wait(10)
            except subprocess.TimeoutExpired:
                moto.kill()
        shutil.rmtree(work, ignore_errors=True)

    s = report["startup"]
    print("berth start to ready: first start %.1f ms, warm restart min %.1f / median %.1f ms (target < 25 ms)"
          % (s["first_start_ready_ms"], s["warm_ready_ms_min"], s["warm_ready_ms_median"]))
    print("berth idle RSS: %.1f MiB (target < 12 MiB); after load %.1f MiB"
          % (s["idle_rss_kib"] / 1024, s["rss_after_load_kib"] / 1024))
    print("%-6s %-28s %7s | %10s %8s %8s | %10s %8s %8s | %7s" % ("client", "operation", "clients", "berth c/s", "p50 ms",
                                                                "p99 ms", "moto c/s", "p50 ms", "p99 ms", "ratio"))
    for r in report["runs"]:
        rb, rm = r["berth"], r["moto"]
        ratio = rb["calls_per_s"] / rm["calls_per_s"] if rm["calls_per_s"] else float("inf")
        r["ratio"] = ratio
        print("%-6s %-28s %7d | %10.0f %8.3f %8.3f | %10.0f %8.3f %8.3f | %6.1fx%s"
              % (r["client"], r["op"], r["clients"], rb["calls_per_s"], rb["p50_ms"], rb["p99_ms"], rm["calls_per_s"],
                 rm["p50_ms"], rm["p99_ms"], ratio,
                 "" if rb["errors"] == 0 and rm["errors"] == 0 else "  (errors b=%d m=%d)"
                 % (rb["errors"], rm["errors"])))
    if a.json_out:
        with open(a.json_out, "a") as f:
            f.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
