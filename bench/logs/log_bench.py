"""The awslogs log path, as a user's task sees it, against the same
container without it, in one run of one daemon:

  awslogs-blocking      ECS task, logDriver awslogs, mode blocking
  awslogs-non-blocking   the same, mode non-blocking (max-buffer-size 1m, Docker's default)
  file                  ECS task without logConfiguration: stdout only to its log file
  in-container          the writer writes to /tmp/out inside the container (no log path at all)

The writer (logwriter.c, static, bind-mounted at /bench) writes LINES lines
of 100 bytes, one write(2) each, unpaced (as fast as it can) and paced at
RATE lines/s, and records its own wall and CPU time in /bench. For the
awslogs cases the last line is looked for in the daemon's CloudWatch Logs
store (logs/logs.db, read-only, so polling costs the daemon nothing) to time
delivery; the daemon's CPU (utime+stime of /proc/<pid>/stat, all threads)
is taken from RunTask to the last line shipped (file cases: to the writer's
end). Then every line is checked: blocking, each of 0..LINES-1 exactly once
and in order (the store), first and last also through GetLogEvents;
non-blocking, how many were dropped or repeated.

usage: log_bench.py BERTH_BIN WRITER OUT_DIR [LINES=2000000] [REPS=3] [RATE=100000] [PACED_LINES=1000000]
Appends one JSON object per run to OUT_DIR/runs.jsonl and prints them.
PERF=1 in the environment: `perf record --call-graph dwarf` of the daemon
during rep 0's unpaced blocking run, reports of the daemon's threads in
OUT_DIR/perf-blocking*.txt. perf also counts the container (a child of the
daemon) and slows that run: use it in a run of its own (REPS=1).
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
GROUP = "/bench/logs"
LINE_BYTES = 100
CASES = ["awslogs-blocking", "file", "awslogs-non-blocking", "in-container"]


def daemon_cpu_s(pid):
    """utime+stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def expected(i):
    return "L%09d " % i + "x" * (LINE_BYTES - 12)


def wait_for(what, predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise RuntimeError("%s: not within %.0f s" % (what, timeout))
        time.sleep(step)


class Store:
    """Read-only look at the daemon's CloudWatch Logs database."""

    def __init__(self, path):
        self.path = path

    def _query(self, sql, *args):
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def stream_id(self, name):
        rows = self._query("SELECT s.id FROM log_streams s JOIN log_groups g ON g.id = s.group_id "
                           "WHERE g.name = ? AND s.name = ?", GROUP, name)
        return rows[0][0] if rows else None

    def last_message(self, stream_id):
        rows = self._query("SELECT message FROM log_events WHERE stream_id = ? ORDER BY id DESC LIMIT 1", stream_id)
        return rows[0][0] if rows else None

    def check(self, stream_id, lines):
        """(events, distinct lines seen, repeated, out of order, foreign) of the stream, in id order."""
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
        seen = bytearray(lines)
        events = repeated = out_of_order = foreign = 0
        previous = -1
        try:
            for (message,) in db.execute("SELECT message FROM log_events WHERE stream_id = ? ORDER BY ts, id",
                                         (stream_id,)):
                events += 1
                try:
                    i = int(message[1:10])
                except ValueError:
                    i = -1
                if i < 0 or i >= lines or message != expected(i):
                    foreign += 1
                    continue
                if seen[i]:
                    repeated += 1
                seen[i] = 1
                if i < previous:
                    out_of_order += 1
                previous = i
        finally:
            db.close()
        return events, sum(seen), repeated, out_of_order, foreign


def main():
    berth, writer, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    lines = int(sys.argv[4]) if len(sys.argv) > 4 else 2_000_000
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    rate = int(sys.argv[6]) if len(sys.argv) > 6 else 100_000
    paced_lines = int(sys.argv[7]) if len(sys.argv) > 7 else 1_000_000
    os.environ.setdefault("BERTH_BIN", berth)
    from berth_harness import Daemon, missing_task_prerequisites
    from ecs_setup import join_instances, push_busybox

    missing = missing_task_prerequisites()
    if missing:
        raise SystemExit(missing)
    work = tempfile.mkdtemp(prefix="berth-log-bench-")
    volume = os.path.join(work, "vol")
    os.makedirs(volume)
    shutil.copy(writer, os.path.join(volume, "logwriter"))
    os.chmod(volume, 0o777)
    d = Daemon().start()
    ecs, logs = d.client("ecs"), d.client("logs")
    store = Store(os.path.join(d.data_dir, "logs", "logs.db"))
    runs_path = os.path.join(out_dir, "runs.jsonl")
    perf_wanted = os.environ.get("PERF") == "1"
    task_ids = []
    perf_procs = []  # killed at the end if a failed run left one recording
    try:
        image = push_busybox(d, "busybox", work)
        ecs.create_cluster(clusterName="bench")
        join_instances(d, "bench")
        for case in CASES:
            container = {"name": "app", "image": image, "memory": 128, "essential": True, "stopTimeout": 2,
                         "mountPoints": [{"sourceVolume": "bench", "containerPath": "/bench"}]}
            if case.startswith("awslogs"):
                container["logConfiguration"] = {"logDriver": "awslogs", "options": {
                    "awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "bench",
                    "mode": case.split("-", 1)[1]}}
            ecs.register_task_definition(family=case, networkMode="bridge", containerDefinitions=[container],
                                         volumes=[{"name": "bench", "host": {"sourcePath": volume}}])

        def one_run(case, n, pace, rep, perf):
            tag = "%s-%d-%d" % (case, pace, rep)
            result_file = os.path.join(volume, tag + ".json")
            shell = "/bench/logwriter %d %d %d /bench/%s.json%s; exec sleep 3600" % (
                n, LINE_BYTES, pace, tag, " /tmp/out" if case == "in-container" else "")
            awslogs = case.startswith("awslogs")
            if awslogs:
                logs.create_log_group(logGroupName=GROUP)
            load_before = loadavg()
            perf_proc = None
            if perf:
                perf_proc = subprocess.Popen(["perf", "record", "--call-graph", "dwarf", "-F", "250", "-q", "-o",
                                              os.path.join(work, "perf.data"), "-p", str(d.proc.pid)],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                perf_procs.append(perf_proc)
                time.sleep(0.5)
            cpu0, t0 = daemon_cpu_s(d.proc.pid), time.monotonic()
            out = ecs.run_task(cluster="bench", taskDefinition=case, overrides={"containerOverrides": [
                {"name": "app", "command": ["/bin/sh", "-c", shell]}]})
            if not out["tasks"]:
                raise RuntimeError("not placed: %s" % out["failures"])
            arn = out["tasks"][0]["taskArn"]
            task_id = arn.rsplit("/", 1)[-1]
            task_ids.append(task_id)

            def written():
                if os.path.exists(result_file):
                    return True
                task = ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]
                if task["lastStatus"] == "STOPPED":
                    raise RuntimeError("%s stopped: %s\n%s" % (tag, task.get("stoppedReason"), d.log()[-2000:]))
                return False

            # DescribeTasks only every half second: the daemon's CPU is being measured.
            wait_for(tag + " writer's end", written, 60 + n / 10_000, 0.5)
            with open(result_file) as f:
                w = json.load(f)
            row = {"case": case, "rate": pace, "rep": rep, "lines": n, "line_bytes": LINE_BYTES,
                   "writer_wall_s": w["wall_ns"] / 1e9, "writer_cpu_s": w["cpu_us"] / 1e6,
                   "writer_lines_per_s": round(n / (w["wall_ns"] / 1e9)), "writer_late_s": w["late_ns"] / 1e9}
            if awslogs:
                stream = "bench/app/" + task_id
                sid = wait_for("stream " + stream, lambda: store.stream_id(stream), 10)
                last = expected(n - 1)
                wait_for(tag + " last line in the store", lambda: store.last_message(sid) == last, 120 + n / 5_000)
                shipped_ns = time.time_ns()
                cpu1 = daemon_cpu_s(d.proc.pid)
                row["last_line_after_writer_s"] = round((shipped_ns - w["end_ns"]) / 1e9, 3)
            else:
                cpu1 = daemon_cpu_s(d.proc.pid)
            if perf_proc:
                perf_proc.send_signal(2)
                perf_proc.wait(60)
            row["daemon_cpu_s"] = round(cpu1 - cpu0, 3)
            row["window_s"] = round(time.monotonic() - t0, 3)
            row["daemon_cpu_us_per_line"] = round((cpu1 - cpu0) * 1e6 / n, 2)
            if awslogs:
                events, distinct, repeated, disorder, foreign = store.check(sid, n)
                row.update({"events": events, "distinct": distinct, "dropped": n - distinct, "repeated": repeated,
                            "out_of_order": disorder, "foreign": foreign,
                            "shipped_lines_per_s": round(distinct / ((shipped_ns - w["start_ns"]) / 1e9))})
                # The user's view of the ends: GetLogEvents from the head and from the tail.
                head = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True,
                                           limit=1)["events"]
                tail = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=False,
                                           limit=1)["events"]
                row["api_first"] = head[0]["message"][:10] if head else None
                row["api_last"] = tail[0]["message"][:10] if tail else None
                if case == "awslogs-blocking":
                    row["complete"] = (events == n and distinct == n and repeated == 0 and disorder == 0
                                       and foreign == 0 and row["api_first"] == expected(0)[:10]
                                       and row["api_last"] == last[:10])
            row["load_before"] = load_before
            row["load_after"] = loadavg()
            ecs.stop_task(cluster="bench", task=arn, reason="bench run done")
            wait_for(tag + " stopped", lambda: ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0][
                "lastStatus"] == "STOPPED", 60, 0.2)
            if awslogs:
                logs.delete_log_group(logGroupName=GROUP)  # keeps logs.db from growing run after run
            os.unlink(result_file)
            if perf_proc:
                by_dso = subprocess.run(["perf", "report", "-i", os.path.join(work, "perf.data"), "--stdio",
                                         "--comms", "berth", "--no-children", "--sort", "dso", "-g", "none"],
                                        capture_output=True, text=True)
                report = subprocess.run(["perf", "report", "-i", os.path.join(work, "perf.data"), "--stdio",
                                         "--comms", "berth", "--no-children", "--percent-limit", "0.5", "-g", "none"],
                                        capture_output=True, text=True)
                with open(os.path.join(out_dir, "perf-blocking.txt"), "w") as f:
                    f.write(by_dso.stdout + report.stdout)
                callers = subprocess.run(["perf", "report", "-i", os.path.join(work, "perf.data"), "--stdio",
                                          "--comms", "berth", "--children", "--percent-limit", "2", "-g",
                                          "caller,0.5,callee,function,percent", "--sort", "sym"],
                                         capture_output=True, text=True)
                with open(os.path.join(out_dir, "perf-blocking-callers.txt"), "w") as f:
                    f.write(callers.stdout)
                os.unlink(os.path.join(work, "perf.data"))
            print(json.dumps(row), flush=True)
            with open(runs_path, "a") as f:
                f.write(json.dumps(row) + "\n")

        # Each rep runs every case, in an order that turns, so the machine's
        # other load falls on all of them alike.
        for rep in range(reps):
            order = CASES[rep % len(CASES):] + CASES[:rep % len(CASES)]
            for pace, n in ((0, lines), (rate, paced_lines)):
                for case in order:
                    perf = perf_wanted and rep == 0 and pace == 0 and case == "awslogs-blocking"
                    one_run(case, n, pace, rep, perf)
    finally:
        for p in perf_procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        # Containers outlive a stopped daemon: stop every task first.
        try:
            if d.alive():
                d.stop_all_tasks(timeout=120)
        finally:
            d.cleanup()
            shutil.rmtree(work, ignore_errors=True)
        # Nothing of any task stays on the machine.
        with open("/proc/self/mountinfo") as f:
            mounts = f.read()
        left = ["netns berth-" + t for t in task_ids if os.path.exists("/run/netns/berth-" + t)]
        left += ["mount of " + t for t in task_ids if t in mounts]
        if left:
            print("warning: left behind: %s" % left, file=sys.stderr)


if __name__ == "__main__":
    main()
