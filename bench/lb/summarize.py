#!/usr/bin/python3
"""Medians over rounds of wrk runs in a bench/lb results dir, and ratios to direct and to HAProxy.

usage: summarize.py <results dir>
"""
import glob
import os
import re
import statistics
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse(path):
    text = open(path).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not rps:
        return None
    out = {"rps": float(rps.group(1))}
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([\d.]+)(us|ms|s)" % pct, text, re.M)
        out["p" + pct] = float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")
    requests = re.search(r"(\d+) requests in", text)
    cpu = re.search(r"CPU ms: (\d+)", text)
    # Target CPU per request (us): less moved by a shared machine than req/s.
    out["cpu_us"] = (int(cpu.group(1)) * 1000.0 / int(requests.group(1))
                     if cpu and requests and int(requests.group(1)) else float("nan"))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["errors"] = (int(errors.group(1)) if errors else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return out


def main():
    d = sys.argv[1]
    runs = {}
    for f in glob.glob(os.path.join(d, "r*-*-c*.txt")):
        m = re.match(r"r(\d+)-(\w+)-c(\d+)\.txt", os.path.basename(f))
        res = parse(f)
        if m and res:
            runs.setdefault((m.group(2), int(m.group(3))), []).append(res)
    conns = sorted({c for _, c in runs})
    targets = [t for t in ("direct", "berth", "haproxy", "nginx") if any((t, c) in runs for c in conns)]
    print("%-8s %5s %10s %9s %9s %7s %9s %10s %12s" % ("target", "conns", "req/s", "p50 ms", "p99 ms", "errors",
                                                         "/direct", "/haproxy", "cpu us/req"))
    for c in conns:
        med = {}
        for t in targets:
            rs = runs.get((t, c), [])
            if rs:
                med[t] = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50", "p99", "cpu_us")}
                med[t]["errors"] = sum(r["errors"] for r in rs)
        for t in targets:
            if t not in med:
                continue
            m = med[t]
            to_direct = m["rps"] / med["direct"]["rps"] if "direct" in med else float("nan")
            to_haproxy = m["rps"] / med["haproxy"]["rps"] if "haproxy" in med else float("nan")
            print("%-8s %5d %10.0f %9.2f %9.2f %7d %9.2f %10.2f %12.1f" % (t, c, m["rps"], m["p50"], m["p99"],
                                                                           m["errors"], to_direct, to_haproxy,
                                                                           m["cpu_us"]))


if __name__ == "__main__":
    main()
