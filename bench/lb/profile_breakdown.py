#!/usr/bin/python3
"""Groups a flat `perf report --no-children --sort dso,symbol` of berth into
where a proxied request's time goes (bench/lb/run.sh PROFILE=1).

usage: perf report ... | profile_breakdown.py
"""
import re
import sys

# First match wins; patterns are searched in "dso symbol".
GROUPS = [
    ("kernel: TCP/IP, syscalls, scheduling", r"\[kernel"),
    ("libc syscall wrappers (recv/send/epoll)", r"libc\.so.*\b(__libc_recv|__libc_sendmsg|__libc_send|epoll_wait|__libc_read|__libc_write|recvfrom|sendmsg)\b"),
    ("allocation (malloc/free/new/delete)", r"(malloc|free|_int_|operator new|operator delete|cfree|tcache)"),
    ("locking (mutex/futex)", r"(pthread_mutex|futex|__lll_lock|lll_unlock|spin)"),
    ("HTTP parsing (beast parser, http_heads)", r"(basic_parser|parse_field|http_heads|RequestParser|ResponseParser|ForwardingParser|find_eol|find_fast|parse_|detail::basic_parser)"),
    ("routing (rules, host)", r"(routing|match_rule|pick_load_balancer|pick_target|pick_group|tolower|RouteRule|LbRoute)"),
    ("security groups", r"(ec2::|SecurityGroup|connection_allowed|admitted)"),
    ("metrics", r"(Metrics|Cells|OwnedCounter|observe)"),
    ("logging", r"(log::|berth::log)"),
    ("Asio event loop, coroutines", r"(boost::asio|awaitable|co_spawn|epoll_reactor|scheduler)"),
    ("proxy logic (serve_client, forward, send_all)", r"berth::elb::dp"),
    ("libc other (memcpy, strings)", r"libc\.so"),
    ("libstdc++", r"libstdc\+\+"),
]


def main():
    totals = {name: 0.0 for name, _ in GROUPS}
    other = 0.0
    for line in sys.stdin:
        m = re.match(r"\s*([\d.]+)%\s+(.*)$", line)
        if not m:
            continue
        pct, rest = float(m.group(1)), m.group(2)
        for name, pattern in GROUPS:
            if re.search(pattern, rest):
                totals[name] += pct
                break
        else:
            other += pct
    for name, _ in GROUPS:
        print("%6.2f%%  %s" % (totals[name], name))
    print("%6.2f%%  other" % other)


if __name__ == "__main__":
    main()
