#!/usr/bin/python3
"""Summarizes the wrk outputs of bench/outyet/run.sh: medians over rounds.

usage: summarize.py RESULT_DIR   (files r<round>-<target>-c<conns>.txt, and
r<round>-<target>-p64.txt for the paced runs: 64 connections at an offered
load both targets can serve, shown as conns "p64")
"""
import os
import re
import statistics
import sys

SCALE_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def latency_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * SCALE_MS[m.group(2)]


def read_run(path):
    with open(path) as f:
        text = f.read()
    run = {"rps": None, "p50": None, "p99": None, "errors": 0}
    m = re.search(r"Requests/sec:\s*([\d.]+)", text)
    if m:
        run["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(r"^\s*%s(?:\.0+)?%%\s+(\S+)" % pct, text, re.M)
        if m:
            run["p" + pct] = latency_ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    if m:
        run["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        run["errors"] += sum(int(x) for x in m.groups())
    return run


def main(directory):
    runs = {}
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"r(\d+)-(\w+)-([cp]\d+)\.txt", name)
        if m:
            runs.setdefault((m.group(2), m.group(3)), []).append(read_run(os.path.join(directory, name)))
    if not runs:
        sys.exit("no wrk outputs in " + directory)
    medians = {}
    print("%-6s %6s %12s %10s %10s %8s %7s" % ("target", "conns", "req/s", "p50 ms", "p99 ms", "errors", "rounds"))
    def order(conns):  # c64, c256, then p64
        return (conns[0] == "p", int(conns[1:]))

    for (target, conns), rs in sorted(runs.items(), key=lambda kv: (order(kv[0][1]), kv[0][0])):
        ok = [r for r in rs if r["rps"] is not None and r["p99"] is not None]
        if not ok:
            print("%-6s %6s  no valid run" % (target, conns))
            continue
        med = {k: statistics.median(r[k] for r in ok) for k in ("rps", "p50", "p99")}
        med["errors"] = sum(r["errors"] for r in rs)
        medians[(target, conns)] = med
        print("%-6s %6s %12.0f %10.3f %10.3f %8d %7d" % (target, conns, med["rps"], med["p50"], med["p99"],
                                                       med["errors"], len(ok)))
    for conns in sorted({c for _, c in medians}, key=order):
        b, p = medians.get(("berth", conns)), medians.get(("peer", conns))
        if b and p:
            print("%-5s berth/peer: req/s x%.2f, p50 x%.2f, p99 x%.2f (lower latency ratio is better)"
                  % (conns, b["rps"] / p["rps"], b["p50"] / p["p50"], b["p99"] / p["p99"]))


if __name__ == "__main__":
    main(sys.argv[1])
