"""summary.md of a bench/logs run: per pace and case, medians (min-max) over
the reps, and each case's writer time as a ratio to the `file` case of the
same rep (the container without awslogs), the figure the target is about.
usage: summarize.py RESULTS_DIR"""
import json
import os
import statistics
import sys


def spread(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(values), min(values), max(values))


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "runs.jsonl")) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(out, "machine.txt")) as f:
        machine = f.read().strip()
    print("# awslogs log path, %s\n" % os.path.basename(out.rstrip("/")))
    print("```\n%s\n```\n" % machine)
    print("The machine is shared (2 cores, other builds and tests running): absolute times move with its load;\n"
          "the ratios compare cases of the same rep, run one after the other.\n")
    cases = []
    for r in runs:
        if r["case"] not in cases:
            cases.append(r["case"])
    for rate in sorted({r["rate"] for r in runs}):
        of_rate = [r for r in runs if r["rate"] == rate]
        lines = of_rate[0]["lines"]
        print("## %s, %d lines of %d bytes, one write(2) each\n" % (
            "unpaced (as fast as the container can)" if rate == 0 else "paced at %d lines/s" % rate, lines,
            of_rate[0]["line_bytes"]))
        base = {r["rep"]: r for r in of_rate if r["case"] == "file"}
        print("| case | reps | writer wall s | writer lines/s | wall / file | writer CPU s | CPU / file | "
              "late vs pace s | daemon CPU us/line | minus file's | last line after writer s | shipped lines/s | "
              "dropped | "
              "every line once | load 1m |")
        print("|" + "---|" * 15)
        for case in cases:
            rs = [r for r in of_rate if r["case"] == case]
            if not rs:
                continue
            wall_ratio = [r["writer_wall_s"] / base[r["rep"]]["writer_wall_s"] for r in rs if r["rep"] in base]
            cpu_ratio = [r["writer_cpu_s"] / base[r["rep"]]["writer_cpu_s"] for r in rs
                         if r["rep"] in base and base[r["rep"]]["writer_cpu_s"] > 0]
            complete = [r.get("complete") for r in rs]
            extra_cpu = [r["daemon_cpu_us_per_line"] - base[r["rep"]]["daemon_cpu_us_per_line"] for r in rs
                         if r["rep"] in base]
            print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case, len(rs), spread([r["writer_wall_s"] for r in rs], "%.2f"),
                spread([r["writer_lines_per_s"] for r in rs], "%.0f"), spread(wall_ratio, "%.2f"),
                spread([r["writer_cpu_s"] for r in rs], "%.2f"), spread(cpu_ratio, "%.2f"),
                spread([r["writer_late_s"] for r in rs], "%.2f") if rate else "-",
                spread([r["daemon_cpu_us_per_line"] for r in rs], "%.2f"), spread(extra_cpu, "%.2f"),
                spread([r.get("last_line_after_writer_s") for r in rs], "%.2f"),
                spread([r.get("shipped_lines_per_s") for r in rs], "%.0f"),
                spread([r.get("dropped") for r in rs], "%.0f"),
                "-" if complete[0] is None else ("yes" if all(complete) else "NO: %s" % complete),
                spread([r["load_before"][0] for r in rs], "%.1f")))
        print()
    print("Columns: writer times are the container's own (CLOCK_MONOTONIC from its first to its last write, and\n"
          "its user+system CPU); wall / file and CPU / file pair each rep with the `file` case of the same rep\n"
          "(no logConfiguration: output only to the task's log file). daemon CPU is `berth serve`'s utime+stime\n"
          "from RunTask to the last line in the store (file cases: to the writer's end), per line written; minus\n"
          "file's: less the `file` case's of the same rep (task start, the daemon's idle work), i.e. the shipping.\n"
          "last line after writer: from the container's last write to the line in CloudWatch Logs' store;\n"
          "shipped lines/s: lines in the store over the time from the container's first write to then.\n"
          "dropped: lines missing from the stream (non-blocking drops the oldest beyond max-buffer-size 1m).")


if __name__ == "__main__":
    main()
