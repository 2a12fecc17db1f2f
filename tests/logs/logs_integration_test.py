#!/usr/bin/python3
"""CloudWatch Logs through `berth serve`, as users drive it: the aws CLI
(describe-*, put/get/filter-log-events, retention, tags, errors, and v2's
`aws logs tail --follow`) and boto3 (paginators, token paging).

Usage: BERTH_BIN=<path to berth> [BERTH_TEST_AWS=<aws CLI>] logs_integration_test.py [unittest args]
The aws CLI defaults to Debian's /usr/bin/aws (2.9); the pyenv aws CLI v1 works as well
(it has no `logs tail`, so that test says it is skipped).
"""
import json
import os
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402

AWS = os.environ.get("BERTH_TEST_AWS", "/usr/bin/aws")
D = None  # the daemon
DAY_MS = 24 * 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


def aws(*args):
    """(exit code, parsed JSON or None, stderr) of one aws CLI call."""
    p = subprocess.run([AWS, *args, "--endpoint-url", D.endpoint, "--region", "us-east-1", "--output", "json"],
                       env=D.aws_env(), capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def cli_major_version():
    p = subprocess.run([AWS, "--version"], capture_output=True, text=True, timeout=60)
    return int((p.stdout + p.stderr).split("/")[1].split(".")[0])


def events_json(messages, first_ms, step_ms=1):
    return json.dumps([{"timestamp": first_ms + i * step_ms, "message": m} for i, m in enumerate(messages)])


class Logs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global D
        D = Daemon(env={"BERTH_TASK_RUNTIME": "none"}).start()

    @classmethod
    def tearDownClass(cls):
        D.cleanup()

    def ok(self, *args):
        rc, out, err = aws(*args)
        self.assertEqual(rc, 0, "aws %s failed: %s" % (" ".join(args), err))
        return out if out is not None else {}

    def fails(self, code, *args, message=None):
        rc, out, err = aws(*args)
        self.assertNotEqual(rc, 0, "aws %s should fail with %s, answered %s" % (" ".join(args), code, out))
        self.assertIn("(%s)" % code, err, "aws %s: expected %s, got: %s" % (" ".join(args), code, err))
        if message is not None:
            self.assertIn(message, err, "aws %s: expected the message %r, got: %s" % (" ".join(args), message, err))
        return err

    def stream(self, group, stream):
        self.ok("logs", "create-log-group", "--log-group-name", group)
        self.ok("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream)

    def put(self, group, stream, messages, first_ms, step_ms=1):
        return self.ok("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", stream,
                       "--log-events", events_json(messages, first_ms, step_ms))

    # ---- groups and streams ----

    def test_groups_streams_describe_and_errors(self):
        for name in ("/desc/app-a", "/desc/app-b", "/desc/other"):
            self.ok("logs", "create-log-group", "--log-group-name", name)
        self.fails("ResourceAlreadyExistsException", "logs", "create-log-group", "--log-group-name", "/desc/app-a",
                   message="The specified log group already exists")
        self.fails("InvalidParameterException", "logs", "create-log-group", "--log-group-name", "bad name!")
        out = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/desc/app")
        names = [g["logGroupName"] for g in out["logGroups"]]
        self.assertEqual(names, ["/desc/app-a", "/desc/app-b"], "the prefix selects, sorted by name")
        g = out["logGroups"][0]
        self.assertTrue(g["arn"].startswith("arn:aws:logs:us-east-1:") and g["arn"].endswith(":log-group:/desc/app-a:*"),
                        g["arn"])
        self.assertEqual(g["storedBytes"], 0)
        self.assertAlmostEqual(g["creationTime"], now_ms(), delta=120_000)
        # The CLI pages with nextToken until the end: one group per page still lists all three.
        out = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/desc/", "--page-size", "1")
        self.assertEqual([g["logGroupName"] for g in out["logGroups"]], ["/desc/app-a", "/desc/app-b", "/desc/other"])

        for s in ("web/1", "web/2", "db/1"):
            self.ok("logs", "create-log-stream", "--log-group-name", "/desc/app-a", "--log-stream-name", s)
        self.fails("ResourceAlreadyExistsException", "logs", "create-log-stream", "--log-group-name", "/desc/app-a",
                   "--log-stream-name", "web/1")
        self.fails("ResourceNotFoundException", "logs", "create-log-stream", "--log-group-name", "/desc/none",
                   "--log-stream-name", "x", message="The specified log group does not exist.")
        self.fails("InvalidParameterException", "logs", "create-log-stream", "--log-group-name", "/desc/app-a",
                   "--log-stream-name", "a:b")
        self.put("/desc/app-a", "db/1", ["x"], now_ms() - 5000)
        self.put("/desc/app-a", "web/2", ["y"], now_ms())
        out = self.ok("logs", "describe-log-streams", "--log-group-name", "/desc/app-a", "--log-stream-name-prefix", "web/")
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]], ["web/1", "web/2"])
        out = self.ok("logs", "describe-log-streams", "--log-group-name", "/desc/app-a", "--order-by", "LastEventTime",
                      "--descending", "--page-size", "1")
        streams = out["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams[:2]], ["web/2", "db/1"], "newest event first")
        self.assertEqual(len(streams), 3, "paging by LastEventTime reaches every stream")
        self.assertIn("lastEventTimestamp", streams[0])
        self.assertIn("uploadSequenceToken", streams[0])
        self.assertTrue(streams[0]["arn"].endswith(":log-group:/desc/app-a:log-stream:web/2"), streams[0]["arn"])
        self.fails("InvalidParameterException", "logs", "describe-log-streams", "--log-group-name", "/desc/app-a",
                   "--order-by", "LastEventTime", "--log-stream-name-prefix", "web")

        self.ok("logs", "delete-log-stream", "--log-group-name", "/desc/app-a", "--log-stream-name", "web/1")
        self.fails("ResourceNotFoundException", "logs", "delete-log-stream", "--log-group-name", "/desc/app-a",
                   "--log-stream-name", "web/1", message="The specified log stream does not exist.")
        self.ok("logs", "delete-log-group", "--log-group-name", "/desc/other")
        self.fails("ResourceNotFoundException", "logs", "delete-log-group", "--log-group-name", "/desc/other",
                   message="The specified log group does not exist.")

    # ---- events ----

    def test_put_and_get_log_events_paging(self):
        self.stream("/get/app", "s")
        t0 = now_ms() - 60_000
        out = self.put("/get/app", "s", ["e%d" % i for i in range(7)], t0)
        self.assertIn("nextSequenceToken", out)
        self.assertNotIn("rejectedLogEventsInfo", out)

        # Forward from the head, 3 at a time, until the same forward token comes back.
        seen, token, pages = [], None, 0
        while pages < 10:
            args = ["logs", "get-log-events", "--log-group-name", "/get/app", "--log-stream-name", "s", "--limit", "3"]
            args += ["--next-token", token] if token else ["--start-from-head"]
            out = self.ok(*args)
            pages += 1
            seen += [e["message"] for e in out["events"]]
            if out["nextForwardToken"] == token:
                self.assertEqual(out["events"], [], "the end: no events and the same token")
                break
            token = out["nextForwardToken"]
        self.assertEqual(seen, ["e%d" % i for i in range(7)])
        self.assertEqual(pages, 4, "3 + 3 + 1, then the empty page with the same token")

        # Without a token: the newest ones; backward from there.
        out = self.ok("logs", "get-log-events", "--log-group-name", "/get/app", "--log-stream-name", "s", "--limit", "2")
        self.assertEqual([e["message"] for e in out["events"]], ["e5", "e6"])
        self.assertEqual(out["events"][0]["timestamp"], t0 + 5)
        self.assertIn("ingestionTime", out["events"][0])
        back = self.ok("logs", "get-log-events", "--log-group-name", "/get/app", "--log-stream-name", "s", "--limit", "2",
                       "--next-token", out["nextBackwardToken"])
        self.assertEqual([e["message"] for e in back["events"]], ["e3", "e4"])
        # A time window: startTime inclusive, endTime exclusive.
        out = self.ok("logs", "get-log-events", "--log-group-name", "/get/app", "--log-stream-name", "s",
                      "--start-time", str(t0 + 2), "--end-time", str(t0 + 4), "--start-from-head")
        self.assertEqual([e["message"] for e in out["events"]], ["e2", "e3"])

        self.fails("InvalidParameterException", "logs", "put-log-events", "--log-group-name", "/get/app",
                   "--log-stream-name", "s", "--log-events",
                   json.dumps([{"timestamp": t0 + 10, "message": "b"}, {"timestamp": t0 + 9, "message": "a"}]),
                   message="Log events in a single PutLogEvents request must be in chronological order.")
        out = self.put("/get/app", "s", ["ok", "future"], now_ms(), step_ms=3 * 3600 * 1000)
        self.assertEqual(out.get("rejectedLogEventsInfo"), {"tooNewLogEventStartIndex": 1},
                         "an event more than 2 h ahead is reported, not stored")
        self.fails("ResourceNotFoundException", "logs", "get-log-events", "--log-group-name", "/get/app",
                   "--log-stream-name", "none", message="The specified log stream does not exist.")
        self.fails("ResourceNotFoundException", "logs", "put-log-events", "--log-group-name", "/get/none",
                   "--log-stream-name", "s", "--log-events", events_json(["x"], now_ms()),
                   message="The specified log group does not exist.")

    def test_filter_log_events_patterns(self):
        self.stream("/filter/app", "web")
        self.ok("logs", "create-log-stream", "--log-group-name", "/filter/app", "--log-stream-name", "worker")
        t0 = now_ms() - 30_000
        self.put("/filter/app", "web", [
            "ERROR disk full",
            "WARN slow request",
            "ERROR timeout talking to db",
            '{"status": 503, "user": "ann", "path": "/api"}',
            '{"status": 200, "user": "ann", "path": "/"}',
            '10.0.0.1 - bob [04/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 502 120',
        ], t0, step_ms=2)
        self.put("/filter/app", "worker", ["INFO job done", "ERROR job failed"], t0 + 1, step_ms=2)

        def messages(*extra):
            out = self.ok("logs", "filter-log-events", "--log-group-name", "/filter/app", *extra)
            return [e["message"] for e in out["events"]]

        self.assertEqual(messages("--filter-pattern", "ERROR"),
                         ["ERROR disk full", "ERROR job failed", "ERROR timeout talking to db"],
                         "both streams, interleaved by time")
        self.assertEqual(messages("--filter-pattern", "?WARN ?INFO"), ["INFO job done", "WARN slow request"])
        self.assertEqual(messages("--filter-pattern", "ERROR -timeout -job"), ["ERROR disk full"])
        self.assertEqual(messages("--filter-pattern", '"job failed"'), ["ERROR job failed"])
        self.assertEqual(messages("--filter-pattern", "{ $.status >= 500 }"),
                         ['{"status": 503, "user": "ann", "path": "/api"}'])
        self.assertEqual(len(messages("--filter-pattern", '{ $.user = "ann" && ($.status = 200 || $.path = "/a*") }')), 2)
        self.assertEqual(messages("--filter-pattern", "[ip, ident, user, time, request, status = 5*, bytes]"),
                         ['10.0.0.1 - bob [04/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 502 120'])
        self.assertEqual(messages("--filter-pattern", "ERROR", "--log-stream-names", "worker"), ["ERROR job failed"])
        self.assertEqual(messages("--log-stream-name-prefix", "wor"), ["INFO job done", "ERROR job failed"])
        self.assertEqual(len(messages("--start-time", str(t0 + 3), "--end-time", str(t0 + 6))), 3,
                         "startTime and endTime both inclusive")
        # The CLI pages with nextToken: one event per page still gives all eight.
        self.assertEqual(len(messages("--page-size", "1")), 8)
        out = self.ok("logs", "filter-log-events", "--log-group-name", "/filter/app", "--filter-pattern", "ERROR")
        ids = [e["eventId"] for e in out["events"]]
        self.assertEqual(len(set(ids)), 3, "event ids are unique")
        self.assertEqual({e["logStreamName"] for e in out["events"]}, {"web", "worker"})

        self.fails("InvalidParameterException", "logs", "filter-log-events", "--log-group-name", "/filter/app",
                   "--filter-pattern", "{ $.status = 5", message="If a filter pattern starts with '{' it must end with '}'")
        self.fails("InvalidParameterException", "logs", "filter-log-events", "--log-group-name", "/filter/app",
                   "--filter-pattern", "{ $.status > abc }", message="Invalid filter pattern")
        self.fails("ResourceNotFoundException", "logs", "filter-log-events", "--log-group-name", "/filter/none",
                   message="The specified log group does not exist.")

    def test_retention_removes_old_events(self):
        self.stream("/retention/app", "s")
        two_days_ago = now_ms() - 2 * DAY_MS
        self.put("/retention/app", "s", ["old-1", "old-2"], two_days_ago)
        self.put("/retention/app", "s", ["new-1"], now_ms())
        group = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/retention/app")["logGroups"][0]
        self.assertEqual(group["storedBytes"], len("old-1old-2new-1"))
        self.assertNotIn("retentionInDays", group)

        self.fails("InvalidParameterException", "logs", "put-retention-policy", "--log-group-name", "/retention/app",
                   "--retention-in-days", "2")
        self.ok("logs", "put-retention-policy", "--log-group-name", "/retention/app", "--retention-in-days", "1")
        group = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/retention/app")["logGroups"][0]
        self.assertEqual(group["retentionInDays"], 1)
        self.assertEqual(group["storedBytes"], len("new-1"), "the old events are deleted, not only hidden")
        out = self.ok("logs", "get-log-events", "--log-group-name", "/retention/app", "--log-stream-name", "s",
                      "--start-from-head")
        self.assertEqual([e["message"] for e in out["events"]], ["new-1"])
        out = self.ok("logs", "filter-log-events", "--log-group-name", "/retention/app")
        self.assertEqual([e["message"] for e in out["events"]], ["new-1"])
        # Past the retention now: reported as expired and not stored.
        out = self.put("/retention/app", "s", ["late-old"], now_ms() - 2 * DAY_MS)
        self.assertEqual(out.get("rejectedLogEventsInfo"), {"expiredLogEventEndIndex": 0})

        self.ok("logs", "delete-retention-policy", "--log-group-name", "/retention/app")
        group = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/retention/app")["logGroups"][0]
        self.assertNotIn("retentionInDays", group)

    def test_tags(self):
        self.ok("logs", "create-log-group", "--log-group-name", "/tags/app", "--tags", "team=web")
        arn = self.ok("logs", "describe-log-groups", "--log-group-name-prefix", "/tags/app")["logGroups"][0]["arn"]
        self.assertTrue(arn.endswith(":*"))
        arn = arn[:-2]  # TagResource names the group without ":*"
        self.ok("logs", "tag-resource", "--resource-arn", arn, "--tags", "env=dev")
        self.assertEqual(self.ok("logs", "list-tags-for-resource", "--resource-arn", arn)["tags"],
                         {"team": "web", "env": "dev"})
        self.ok("logs", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        self.ok("logs", "tag-log-group", "--log-group-name", "/tags/app", "--tags", "owner=ann")
        self.assertEqual(self.ok("logs", "list-tags-log-group", "--log-group-name", "/tags/app")["tags"],
                         {"env": "dev", "owner": "ann"})
        self.ok("logs", "untag-log-group", "--log-group-name", "/tags/app", "--tags", "env", "owner")
        self.assertEqual(self.ok("logs", "list-tags-log-group", "--log-group-name", "/tags/app").get("tags"), {})
        self.fails("ResourceNotFoundException", "logs", "list-tags-log-group", "--log-group-name", "/tags/none")

    # ---- boto3 ----

    def test_boto3_paginators_and_tokens(self):
        import botocore.exceptions
        logs = D.client("logs")
        logs.create_log_group(logGroupName="/boto/app")
        for i in range(5):
            logs.create_log_stream(logGroupName="/boto/app", logStreamName="s%d" % i)
        pages = list(logs.get_paginator("describe_log_streams").paginate(
            logGroupName="/boto/app", PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        self.assertEqual([s["logStreamName"] for p in pages for s in p["logStreams"]], ["s%d" % i for i in range(5)])

        t0 = now_ms() - 10_000
        logs.put_log_events(logGroupName="/boto/app", logStreamName="s0",
                            logEvents=[{"timestamp": t0 + i, "message": "line %d" % i} for i in range(25)])
        events = [e["message"] for p in logs.get_paginator("filter_log_events").paginate(
            logGroupName="/boto/app", PaginationConfig={"PageSize": 10}) for e in p["events"]]
        self.assertEqual(events, ["line %d" % i for i in range(25)])

        # GetLogEvents has no paginator: loop on nextForwardToken until it repeats.
        seen, token = [], None
        for _ in range(10):
            kw = {"nextToken": token} if token else {"startFromHead": True}
            r = logs.get_log_events(logGroupName="/boto/app", logStreamName="s0", limit=10, **kw)
            seen += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == token:
                break
            token = r["nextForwardToken"]
        self.assertEqual(seen, ["line %d" % i for i in range(25)])

        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            logs.get_log_events(logGroupName="/boto/none", logStreamName="s0")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["Error"]["Message"], "The specified log group does not exist.")
        with self.assertRaises(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName="/boto/app")

    def test_events_survive_a_killed_daemon(self):
        logs = D.client("logs")
        logs.create_log_group(logGroupName="/crash/app")
        logs.create_log_stream(logGroupName="/crash/app", logStreamName="s")
        t0 = now_ms()
        logs.put_log_events(logGroupName="/crash/app", logStreamName="s",
                            logEvents=[{"timestamp": t0 + i, "message": "kept %d" % i} for i in range(3)])
        D.kill()  # SIGKILL: an acknowledged batch must already be on disk
        D.start()
        logs = D.client("logs")
        r = logs.get_log_events(logGroupName="/crash/app", logStreamName="s", startFromHead=True)
        self.assertEqual([e["message"] for e in r["events"]], ["kept 0", "kept 1", "kept 2"])

    # ---- aws logs tail ----

    def test_tail_follow_sees_new_events(self):
        if cli_major_version() < 2:
            self.skipTest("aws CLI v1 has no `logs tail`")
        self.stream("/tail/app", "s")
        self.put("/tail/app", "s", ["before-tail"], now_ms() - 1000)
        p = subprocess.Popen([AWS, "logs", "tail", "/tail/app", "--follow", "--since", "5m", "--format", "short",
                              "--endpoint-url", D.endpoint, "--region", "us-east-1"],
                             env=D.aws_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            lines = []

            def read_until(needle, timeout):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if any(needle in line for line in lines):
                        return True
                    ready, _, _ = select.select([p.stdout], [], [], 0.5)
                    if ready:
                        line = p.stdout.readline()
                        if not line and p.poll() is not None:
                            return False
                        lines.append(line)
                return any(needle in line for line in lines)

            self.assertTrue(read_until("before-tail", 60), "tail shows the recent event: %r (stderr %r)" %
                            (lines, p.stderr.read() if p.poll() is not None else ""))
            self.put("/tail/app", "s", ["after-tail-started"], now_ms())
            self.assertTrue(read_until("after-tail-started", 30), "tail --follow shows a new event: %r" % lines)
            self.assertEqual(sum("before-tail" in line for line in lines), 1, "each event shown once: %r" % lines)
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()


if __name__ == "__main__":
    unittest.main()
