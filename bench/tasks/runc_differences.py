"""What makes `runc run -d` slower when berth runs it than the floor of
api_bench.py: the floor's bundle changed one difference at a time towards the
bundle berth made for a running task, each variant timed by hand, all of them
interleaved round by round (the order rotating) so that the machine's load
weighs on each alike.

Variants (each the floor plus one thing, then berth's whole bundle):
  floor     api_bench.py's floor: the task's config.json, root = the image's
            root read-only, a new network namespace, cgroup /berth-bench-floor,
            stdio /dev/null
  overlay   root = a fresh overlay on the image's root (as berth mounts one
            per container; mounted before the clock starts), writable
  netns     joins the task's existing network namespace (berth's)
  cgroup    cgroup nested as berth nests it (/berth/<task>/<container>)
  logfd     runc's stdout/stderr = an O_APPEND log file (berth's container log)
  unshare-m runc started in a new mount namespace, slave of this one: what
            berth-reroot run costs in a chroot (only there does berth use it;
            outside one its pivot_root fails, so `unshare -m` stands in)
  poller    the floor while a boto3 client polls DescribeTasks every 2 ms
            (what api_bench.py's client does while berth runs runc)
  berth     overlay + netns + cgroup + logfd: berth's own bundle, by hand
  berth+poller

usage: runc_differences.py BERTH_BIN [ROUNDS=20]
Prints one JSON object (medians in ms, ratio to the floor, load average).
Needs root, runc, umoci, skopeo, busybox-static.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))

POLLER = r"""
import boto3, sys, time, signal
c = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])
c.describe_tasks(cluster="bench", tasks=[sys.argv[2]])
print("ready", flush=True)
deadline = time.monotonic() + 900
while time.monotonic() < deadline:
    c.describe_tasks(cluster="bench", tasks=[sys.argv[2]])
    time.sleep(0.002)
"""


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    os.environ.setdefault("BERTH_BIN", os.path.abspath(sys.argv[1]))
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    from berth_harness import Daemon
    from ecs_setup import join_instances, push_busybox, unpacked_image_root

    work = tempfile.mkdtemp(prefix="berth-runc-diff-")
    runc_root = os.path.join(work, "runc")
    d = Daemon().start()
    ecs = d.client("ecs")
    arn = None
    poller = None
    result = {"rounds": rounds}
    try:
        image = push_busybox(d, "bench", work)
        ecs.create_cluster(clusterName="bench")
        join_instances(d, "bench")
        ecs.register_task_definition(family="web", networkMode="bridge", containerDefinitions=[{
            "name": "web", "image": image, "memory": 16, "essential": True, "stopTimeout": 1,
            "portMappings": [{"containerPort": 8080}]}])
        arn = ecs.run_task(cluster="bench", taskDefinition="web")["tasks"][0]["taskArn"]
        deadline = time.monotonic() + 60
        while ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]["lastStatus"] != "RUNNING":
            if time.monotonic() > deadline:
                raise RuntimeError("task not RUNNING")
            time.sleep(0.05)
        task_id = arn.rsplit("/", 1)[-1]
        with open(os.path.join(d.data_dir, "runtime", "tasks", task_id, "web", "config.json")) as f:
            berth_config = json.load(f)
        result["berth_config"] = {k: berth_config["linux"].get(k) for k in ("cgroupsPath", "namespaces")}
        result["berth_config"]["root"] = berth_config["root"]
        lowerdir = unpacked_image_root(d)
        netns = [n["path"] for n in berth_config["linux"]["namespaces"] if n["type"] == "network"][0]

        floor = json.loads(json.dumps(berth_config))
        floor["root"] = {"path": lowerdir, "readonly": True}
        floor["linux"]["namespaces"] = [n for n in floor["linux"]["namespaces"] if n["type"] != "network"] + [
            {"type": "network"}]
        floor["linux"]["cgroupsPath"] = "/berth-bench-floor"

        # berth nests each container under a task cgroup (/berth/<task>/<name>),
        # which it makes first only for a task-level memory or cpu; here runc
        # makes both levels, as for the bench's task; removed after each run.
        result["berth_task_cgroup_exists"] = os.path.isdir(os.path.join("/sys/fs/cgroup/memory/berth", task_id))

        def remove_cgroup_parent(cid):
            for h in os.listdir("/sys/fs/cgroup"):
                p = os.path.join("/sys/fs/cgroup", h, "berth", cid)
                if os.path.isdir(p):
                    os.rmdir(p)

        def variant(overlay=False, join=False, nested=False, logfd=False, wrap=False, poll=False):
            return dict(overlay=overlay, join=join, nested=nested, logfd=logfd, wrap=wrap, poll=poll)

        variants = {
            "floor": variant(), "overlay": variant(overlay=True), "netns": variant(join=True),
            "cgroup": variant(nested=True), "logfd": variant(logfd=True), "unshare-m": variant(wrap=True),
            "poller": variant(poll=True), "berth": variant(True, True, True, True),
            "berth+poller": variant(True, True, True, True, poll=True),
        }

        env = d.aws_env()
        poller = subprocess.Popen([sys.executable, "-c", POLLER, d.endpoint, arn, env["AWS_ACCESS_KEY_ID"],
                                   env["AWS_SECRET_ACCESS_KEY"]], stdout=subprocess.PIPE, text=True)
        if poller.stdout.readline().strip() != "ready":
            raise RuntimeError("poller did not start")
        poller.send_signal(signal.SIGSTOP)

        log_path = os.path.join(work, "container.log")
        times = {name: [] for name in variants}
        counter = [0]

        def one(name, v):
            counter[0] += 1
            cid = "diff-%d" % counter[0]
            bundle = os.path.join(work, "bundles", cid)
            os.makedirs(bundle)
            config = json.loads(json.dumps(floor))
            rootfs = None
            if v["overlay"]:
                for sub in ("upper", "work", "rootfs"):
                    os.makedirs(os.path.join(bundle, sub))
                os.chmod(os.path.join(bundle, "upper"), os.stat(lowerdir).st_mode & 0o7777)
                rootfs = os.path.join(bundle, "rootfs")
                subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (lowerdir, bundle, bundle),
                                rootfs], check=True)
                config["root"] = {"path": rootfs}
            if v["join"]:
                config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                                 if n["type"] != "network"] + [{"type": "network", "path": netns}]
            if v["nested"]:
                config["linux"]["cgroupsPath"] = "/berth/%s/web" % cid
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(config, f)
            argv = ["runc", "--root", runc_root, "run", "--detach", "--bundle", bundle, "--pid-file",
                    os.path.join(bundle, "pid"), cid]
            if v["wrap"]:
                argv = ["unshare", "--mount", "--propagation", "slave"] + argv
            out = open(log_path, "ab") if v["logfd"] else subprocess.DEVNULL
            if v["poll"]:
                poller.send_signal(signal.SIGCONT)
                time.sleep(0.02)  # the poller is under way, as the bench's client is
            t0 = time.monotonic()
            subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            ms = (time.monotonic() - t0) * 1000
            if v["poll"]:
                poller.send_signal(signal.SIGSTOP)
            if v["logfd"]:
                out.close()
            subprocess.run(["runc", "--root", runc_root, "delete", "-f", cid], check=True)
            if rootfs:
                subprocess.run(["umount", rootfs], check=True)
            shutil.rmtree(bundle, ignore_errors=True)
            if v["nested"]:
                remove_cgroup_parent(cid)
            times[name].append(ms)

        names = list(variants)
        for name in names:  # one untimed round: caches warm for everyone
            one(name, variants[name])
        for name in names:
            times[name].clear()
        load_before = loadavg()
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            if r % 2:
                order.reverse()
            for name in order:
                one(name, variants[name])
        result["loadavg"] = {"before": load_before, "after": loadavg()}
        base = statistics.median(times["floor"])
        result["median_ms"] = {n: round(statistics.median(t), 1) for n, t in times.items()}
        result["ratio_to_floor"] = {n: round(statistics.median(t) / base, 3) for n, t in times.items()}
    finally:
        if poller:
            poller.send_signal(signal.SIGCONT)
            poller.kill()
            poller.wait()
        for cid in subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True,
                                  text=True).stdout.split():
            subprocess.run(["runc", "--root", runc_root, "delete", "-f", cid])
        for m in [line.split()[4] for line in open("/proc/self/mountinfo") if work in line.split()[4]]:
            subprocess.run(["umount", "-l", m])
        if d.alive() and arn:
            d.stop_all_tasks(timeout=60)
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
