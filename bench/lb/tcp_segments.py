#!/usr/bin/python3
"""Per side of a proxied request, the TCP segments sent and how many carried
no data (pure ACKs), from `ss -tinH state established` taken while wrk runs.
Each pure ACK on loopback costs a trip through the sender's and receiver's
TCP stacks, like a data segment.

usage: ss -tinH state established | tcp_segments.py <berth addr:port> <backend addr:port>...
"""
import re
import sys


def main():
    lb = sys.argv[1]
    backends = set(sys.argv[2:])
    sides = {}
    lines = sys.stdin.read().splitlines()
    # ss prints the socket line, then its info line (indented).
    for i in range(0, len(lines) - 1):
        head = lines[i].split()
        if len(head) < 4 or not re.match(r"\d", head[0]):
            continue
        local, peer = head[2], head[3]
        info = lines[i + 1]
        segs = re.search(r"segs_out:(\d+)", info)
        data = re.search(r"data_segs_out:(\d+)", info)
        if not segs:
            continue
        s, d = int(segs.group(1)), int(data.group(1)) if data else 0
        if local == lb:
            side = "berth -> client"
        elif peer == lb:
            side = "client (wrk) -> berth"
        elif peer in backends:
            side = "berth -> target"
        elif local in backends:
            side = "target -> berth"
        else:
            continue
        t = sides.setdefault(side, [0, 0, 0])
        t[0] += 1
        t[1] += s
        t[2] += d
    for side in ("client (wrk) -> berth", "berth -> target", "target -> berth", "berth -> client"):
        if side in sides:
            n, s, d = sides[side]
            print("%-22s %4d sockets  %9d segments  %9d with data  %.2f pure ACKs per data segment"
                  % (side, n, s, d, (s - d) / d if d else float("nan")))


if __name__ == "__main__":
    main()
