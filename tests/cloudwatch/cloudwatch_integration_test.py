#!/usr/bin/python3
"""CloudWatch metrics and alarms through `berth serve`, spoken in each of the
three protocols of the model (smithy-rpc-v2-cbor, json, query):

- query: Debian's aws CLI 2.9 (/usr/bin/aws) and Debian's boto3 1.26;
- smithy-rpc-v2-cbor: the pyenv aws CLI v1 and boto3 on botocore 1.43
  (BERTH_TEST_PYENV, default ~/.pyenv/versions/3.11.7; those tests are
  skipped, saying so, where it is not installed);
- JSON 1.0: requests signed with botocore's SigV4Auth.

The daemon runs with BERTH_TIME_SCALE=20, so an alarm of 60-second periods
is evaluated over 3-second buckets.

Usage: BERTH_BIN=<path to berth> cloudwatch_integration_test.py [unittest args]
"""
import datetime
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402

DEBIAN_AWS = "/usr/bin/aws"
PYENV = os.environ.get("BERTH_TEST_PYENV", os.path.expanduser("~/.pyenv/versions/3.11.7"))
PYENV_AWS = os.path.join(PYENV, "bin", "aws")
PYENV_PYTHON = os.path.join(PYENV, "bin", "python")
TARGET = "GraniteServiceVersion20100801"
D = None


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def aws(cli, *args):
    """(exit code, parsed JSON or None, stderr) of one aws CLI call."""
    p = subprocess.run([cli, *args, "--endpoint-url", D.endpoint, "--region", "us-east-1", "--output", "json"],
                       env=D.aws_env(), capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def signed(path, body, headers):
    """A POST signed with botocore's SigV4Auth (any path: JSON 1.0 and CBOR);
    returns (status, body bytes, headers with lower-case names)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials(D.creds["AWS_ACCESS_KEY_ID"], D.creds["AWS_SECRET_ACCESS_KEY"])
    req = AWSRequest(method="POST", url=D.endpoint + path, data=body, headers=headers)
    SigV4Auth(creds, "monitoring", "us-east-1").add_auth(req)
    c = http.client.HTTPConnection(D.host, D.bound_port, timeout=10)
    try:
        c.request("POST", path, body=body, headers=dict(req.headers.items()))
        r = c.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def json10(op, doc):
    return signed("/", json.dumps(doc).encode(),
                  {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "%s.%s" % (TARGET, op)})


def query(params):
    import urllib.parse
    body = urllib.parse.urlencode(dict(params, Version="2010-08-01")).encode()
    return signed("/", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def cbor_text(s):
    b = s.encode()
    assert len(b) < 24
    return bytes([0x60 | len(b)]) + b


def pyenv_boto3(script):
    """Runs a Python snippet with pyenv's boto3 (botocore 1.43, CBOR); `cw` is
    a CloudWatch client; the snippet sets `result`, printed back as JSON."""
    prelude = (
        "import boto3, json, datetime, botocore.exceptions\n"
        "cw = boto3.client('cloudwatch', endpoint_url=%r, region_name='us-east-1',"
        " aws_access_key_id=%r, aws_secret_access_key=%r)\n"
        "result = None\n" % (D.endpoint, D.creds["AWS_ACCESS_KEY_ID"], D.creds["AWS_SECRET_ACCESS_KEY"]))
    epilogue = "\nprint(json.dumps(result, default=str))\n"
    p = subprocess.run([PYENV_PYTHON, "-c", prelude + script + epilogue], capture_output=True, text=True,
                       timeout=120, env=D.aws_env())
    if p.returncode != 0:
        raise AssertionError("pyenv boto3 script failed: %s" % p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def needs_pyenv(test):
    present = os.path.exists(PYENV_AWS) and os.path.exists(PYENV_PYTHON)
    return unittest.skipUnless(present, "the CBOR clients need pyenv's botocore 1.43 at %s" % PYENV)(test)


class CloudWatch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global D
        D = Daemon(env={"BERTH_TASK_RUNTIME": "none", "BERTH_TIME_SCALE": "20"}).start()

    @classmethod
    def tearDownClass(cls):
        D.cleanup()

    def ok(self, cli, *args):
        rc, out, err = aws(cli, *args)
        self.assertEqual(rc, 0, "aws %s failed: %s" % (" ".join(args), err))
        return out if out is not None else {}

    def fails(self, cli, code, *args):
        rc, out, err = aws(cli, *args)
        self.assertNotEqual(rc, 0, "aws %s should fail with %s, answered %s" % (" ".join(args), code, out))
        self.assertIn("(%s)" % code, err, "aws %s: expected %s, got: %s" % (" ".join(args), code, err))
        return err

    def put_and_read_back(self, cli, namespace):
        t = now()
        for v in (10, 20, 30):
            self.ok(cli, "cloudwatch", "put-metric-data", "--namespace", namespace, "--metric-name", "Latency",
                    "--dimensions", "Service=web", "--value", str(v), "--unit", "Milliseconds")
        stats = self.ok(cli, "cloudwatch", "get-metric-statistics", "--namespace", namespace, "--metric-name",
                        "Latency", "--dimensions", "Name=Service,Value=web", "--start-time",
                        iso(t - datetime.timedelta(minutes=5)), "--end-time", iso(t + datetime.timedelta(minutes=5)),
                        "--period", "600", "--statistics", "Average", "Maximum", "SampleCount")
        self.assertEqual(stats["Label"], "Latency")
        self.assertEqual(len(stats["Datapoints"]), 1, stats)
        p = stats["Datapoints"][0]
        self.assertEqual((p["Average"], p["Maximum"], p["SampleCount"]), (20.0, 30.0, 3.0), p)
        self.assertEqual(p["Unit"], "Milliseconds")
        listed = self.ok(cli, "cloudwatch", "list-metrics", "--namespace", namespace)
        self.assertEqual(listed["Metrics"], [{"Namespace": namespace, "MetricName": "Latency",
                                              "Dimensions": [{"Name": "Service", "Value": "web"}]}])
        queries = json.dumps([
            {"Id": "lat", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Latency",
                                                    "Dimensions": [{"Name": "Service", "Value": "web"}]},
                                         "Period": 600, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "doubled", "Expression": "lat * 2", "Label": "twice"}])
        data = self.ok(cli, "cloudwatch", "get-metric-data", "--metric-data-queries", queries, "--start-time",
                       iso(t - datetime.timedelta(minutes=5)), "--end-time", iso(t + datetime.timedelta(minutes=5)))
        results = data["MetricDataResults"]
        self.assertEqual([r["Id"] for r in results], ["doubled"])
        self.assertEqual(results[0]["Values"], [120.0])
        self.assertEqual(results[0]["Label"], "twice")
        self.assertEqual(results[0]["StatusCode"], "Complete")

    # ---- query ----

    def test_query_with_debian_cli(self):
        self.put_and_read_back(DEBIAN_AWS, "Berth/Query")

    def test_query_with_debian_boto3(self):
        import boto3
        cw = D.client("cloudwatch")
        t = now()
        cw.put_metric_data(Namespace="Berth/Boto3", MetricData=[
            {"MetricName": "Size", "StatisticValues": {"SampleCount": 4, "Sum": 40, "Minimum": 1, "Maximum": 19},
             "Unit": "Bytes"},
            {"MetricName": "Hist", "Values": [1, 1000], "Counts": [99, 1], "StorageResolution": 1}])
        out = cw.get_metric_statistics(Namespace="Berth/Boto3", MetricName="Size",
                                       StartTime=t - datetime.timedelta(minutes=1),
                                       EndTime=t + datetime.timedelta(minutes=1), Period=60, Statistics=["Average"])
        self.assertEqual([p["Average"] for p in out["Datapoints"]], [10.0], out)
        hist = cw.get_metric_statistics(Namespace="Berth/Boto3", MetricName="Hist",
                                        StartTime=t - datetime.timedelta(minutes=1),
                                        EndTime=t + datetime.timedelta(minutes=1), Period=60,
                                        ExtendedStatistics=["p99", "p100"])
        ext = hist["Datapoints"][0]["ExtendedStatistics"]
        self.assertEqual(ext, {"p99": 1.0, "p100": 1000.0}, "Values weighted by Counts")
        self.assertIsInstance(hist["Datapoints"][0]["Timestamp"], datetime.datetime)
        self.assertTrue(boto3.__version__.startswith("1.26"), "Debian's boto3 speaks query: %s" % boto3.__version__)

    # ---- smithy-rpc-v2-cbor ----

    @needs_pyenv
    def test_cbor_with_pyenv_cli(self):
        self.put_and_read_back(PYENV_AWS, "Berth/Cbor")

    @needs_pyenv
    def test_cbor_with_pyenv_boto3(self):
        out = pyenv_boto3(
            "t = datetime.datetime.now(datetime.timezone.utc)\n"
            "cw.put_metric_data(Namespace='Berth/CborBoto3', MetricData=[{'MetricName': 'Hits', 'Value': 5,"
            " 'Dimensions': [{'Name': 'Host', 'Value': 'h1'}]}])\n"
            "s = cw.get_metric_statistics(Namespace='Berth/CborBoto3', MetricName='Hits',"
            " Dimensions=[{'Name': 'Host', 'Value': 'h1'}], StartTime=t - datetime.timedelta(minutes=1),"
            " EndTime=t + datetime.timedelta(minutes=1), Period=60, Statistics=['Sum'])\n"
            "try:\n"
            "    cw.set_alarm_state(AlarmName='nope', StateValue='OK', StateReason='x')\n"
            "    code = None\n"
            "except botocore.exceptions.ClientError as e:\n"
            "    code = e.response['Error']['Code']\n"
            "result = {'protocol': cw.meta.service_model.protocol, 'sum': [p['Sum'] for p in s['Datapoints']],"
            " 'ts': type(s['Datapoints'][0]['Timestamp']).__name__, 'error': code,"
            " 'modeled': type(cw.exceptions.ResourceNotFound).__name__}\n")
        self.assertEqual(out["protocol"], "smithy-rpc-v2-cbor", "pyenv's botocore should pick CBOR first")
        self.assertEqual(out["sum"], [5.0])
        self.assertEqual(out["ts"], "datetime")
        self.assertEqual(out["error"], "ResourceNotFound", "the query code from x-amzn-query-error")

    # ---- JSON 1.0 ----

    def test_json10(self):
        t = time.time()
        status, body, headers = json10("PutMetricData", {"Namespace": "Berth/Json", "MetricData": [
            {"MetricName": "Q", "Value": 7, "Timestamp": t}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        status, body, _ = json10("GetMetricStatistics", {"Namespace": "Berth/Json", "MetricName": "Q",
                                                        "StartTime": t - 60, "EndTime": t + 60, "Period": 60,
                                                        "Statistics": ["Maximum"]})
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        self.assertEqual([p["Maximum"] for p in doc["Datapoints"]], [7])
        self.assertIsInstance(doc["Datapoints"][0]["Timestamp"], (int, float), "epoch seconds in JSON")

    # ---- alarms ----

    def test_alarm_ok_to_alarm_to_ok(self):
        cli = DEBIAN_AWS
        ns = "Berth/Alarm"

        # A feeder puts the current value twice a second (boto3, in process), so
        # every 3-second period has data however slow the CLI calls are.
        value = {"now": 10.0}
        stop = threading.Event()
        cw = D.client("cloudwatch")

        def feed():
            while not stop.is_set():
                cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "CPU", "Value": value["now"]}])
                stop.wait(0.5)

        feeder = threading.Thread(target=feed)

        def put(v):
            value["now"] = v

        def wait_for(state, feed, limit=40.0):
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                feed()
                alarms = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-names", "cpu-high")["MetricAlarms"]
                if alarms and alarms[0]["StateValue"] == state:
                    return alarms[0]
                time.sleep(0.5)
            self.fail("alarm never reached %s: %s" % (state, alarms))

        self.ok(cli, "cloudwatch", "put-metric-alarm", "--alarm-name", "cpu-high", "--namespace", ns,
                "--metric-name", "CPU", "--statistic", "Average", "--period", "60", "--evaluation-periods", "2",
                "--threshold", "50", "--comparison-operator", "GreaterThanThreshold",
                "--alarm-actions", "arn:aws:sns:us-east-1:123456789012:nobody-listens")
        alarm = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "cpu-")["MetricAlarms"][0]
        self.assertEqual(alarm["StateValue"], "INSUFFICIENT_DATA")
        self.assertEqual(alarm["Period"], 60, "clients see AWS's numbers, not scaled ones")
        self.assertEqual(alarm["AlarmArn"].split(":")[:3], ["arn", "aws", "cloudwatch"])
        feeder.start()
        self.addCleanup(feeder.join)
        self.addCleanup(stop.set)

        wait_for("OK", lambda: put(10))
        alarm = wait_for("ALARM", lambda: put(90))
        # Both periods breach (the older may mix 10s and 90s: its average is
        # still above 50).
        point = r"\d+\.\d+ \(\d\d/\d\d/\d\d \d\d:\d\d:\d\d\)"
        self.assertRegex(alarm["StateReason"], r"^Threshold Crossed: 2 datapoints \[90\.0 \(\d\d/\d\d/\d\d "
                         r"\d\d:\d\d:\d\d\), %s\] were greater than the threshold \(50\.0\)\.$" % point)
        self.assertEqual(json.loads(alarm["StateReasonData"])["threshold"], 50.0)
        wait_for("OK", lambda: put(10))

        history = self.ok(cli, "cloudwatch", "describe-alarm-history", "--alarm-name", "cpu-high",
                          "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
        summaries = [h["HistorySummary"] for h in history]
        self.assertEqual(summaries[0], "Alarm updated from ALARM to OK", summaries)
        self.assertIn("Alarm updated from OK to ALARM", summaries)
        self.assertEqual(summaries[-1], "Alarm updated from INSUFFICIENT_DATA to OK", "oldest last: %s" % summaries)
        actions = self.ok(cli, "cloudwatch", "describe-alarm-history", "--alarm-name", "cpu-high",
                          "--history-item-type", "Action")["AlarmHistoryItems"]
        self.assertEqual(actions[0]["HistorySummary"],
                         "Failed to execute action arn:aws:sns:us-east-1:123456789012:nobody-listens. "
                         'Received error: "berth does not run actions of this service"')
        config = self.ok(cli, "cloudwatch", "describe-alarm-history", "--alarm-name", "cpu-high",
                         "--history-item-type", "ConfigurationUpdate")["AlarmHistoryItems"]
        self.assertEqual(config[0]["HistorySummary"], 'Alarm "cpu-high" created')
        for_metric = self.ok(cli, "cloudwatch", "describe-alarms-for-metric", "--namespace", ns, "--metric-name",
                             "CPU")["MetricAlarms"]
        self.assertEqual([a["AlarmName"] for a in for_metric], ["cpu-high"])
        self.ok(cli, "cloudwatch", "delete-alarms", "--alarm-names", "cpu-high")
        self.assertEqual(self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-names", "cpu-high")["MetricAlarms"],
                         [])

    def test_set_alarm_state_tags_and_paging(self):
        cli = DEBIAN_AWS
        for i in range(3):
            self.ok(cli, "cloudwatch", "put-metric-alarm", "--alarm-name", "page-%d" % i, "--namespace", "Berth/P",
                    "--metric-name", "M", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
                    "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold",
                    "--treat-missing-data", "ignore", "--tags", "Key=team,Value=a")
        first = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "page-", "--max-records", "2",
                        "--no-paginate")
        self.assertEqual(len(first["MetricAlarms"]), 2)
        self.assertIn("NextToken", first)
        rest = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "page-", "--max-records", "2",
                       "--next-token", first["NextToken"], "--no-paginate")
        self.assertEqual([a["AlarmName"] for a in rest["MetricAlarms"]], ["page-2"])
        self.ok(cli, "cloudwatch", "set-alarm-state", "--alarm-name", "page-1", "--state-value", "ALARM",
                "--state-reason", "testing")
        alarmed = self.ok(cli, "cloudwatch", "describe-alarms", "--state-value", "ALARM", "--alarm-name-prefix",
                          "page-")["MetricAlarms"]
        self.assertEqual([(a["AlarmName"], a["StateReason"]) for a in alarmed], [("page-1", "testing")])
        arn = alarmed[0]["AlarmArn"]
        self.assertEqual(self.ok(cli, "cloudwatch", "list-tags-for-resource", "--resource-arn", arn)["Tags"],
                         [{"Key": "team", "Value": "a"}])
        self.ok(cli, "cloudwatch", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=test")
        self.ok(cli, "cloudwatch", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        self.assertEqual(self.ok(cli, "cloudwatch", "list-tags-for-resource", "--resource-arn", arn)["Tags"],
                         [{"Key": "env", "Value": "test"}])
        self.ok(cli, "cloudwatch", "disable-alarm-actions", "--alarm-names", "page-0")
        disabled = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-names", "page-0")["MetricAlarms"][0]
        self.assertFalse(disabled["ActionsEnabled"])
        self.ok(cli, "cloudwatch", "delete-alarms", "--alarm-names", "page-0", "page-1", "page-2")

    # ---- errors ----

    def test_errors_in_query(self):
        dims = ",".join("D%d=v" % i for i in range(31))  # put-metric-data's own shorthand
        err = self.fails(DEBIAN_AWS, "InvalidParameterValue", "cloudwatch", "put-metric-data", "--namespace", "X",
                         "--metric-name", "M", "--value", "1", "--dimensions", dims)
        self.assertIn("The collection MetricData.member.1.Dimensions must not have a size greater than 30.", err)
        self.fails(DEBIAN_AWS, "ResourceNotFound", "cloudwatch", "set-alarm-state", "--alarm-name", "no-such-alarm",
                   "--state-value", "OK", "--state-reason", "x")
        self.fails(DEBIAN_AWS, "InvalidParameterValue", "cloudwatch", "put-metric-data", "--namespace", "AWS/EC2",
                   "--metric-name", "M", "--value", "1")
        status, body, _ = query({"Action": "GetMetricStatistics", "Namespace": "X", "MetricName": "M",
                                 "StartTime": "2026-01-01T00:00:00Z", "EndTime": "2026-01-01T01:00:00Z",
                                 "Period": "sixty", "Statistics.member.1": "Sum"})
        self.assertEqual(status, 400, body)
        self.assertIn(b"<Code>InvalidParameterValue</Code>", body)
        self.assertIn(b"<Type>Sender</Type>", body)

    def test_errors_in_json10(self):
        status, body, headers = json10("SetAlarmState", {"AlarmName": "no-such", "StateValue": "OK",
                                                          "StateReason": "x"})
        self.assertEqual(status, 404, body)
        self.assertEqual(headers.get("x-amzn-query-error"), "ResourceNotFound;Sender")
        self.assertEqual(json.loads(body)["__type"], "ResourceNotFound")
        status, body, headers = json10("GetMetricStatistics", {"Namespace": "X", "MetricName": "M", "Period": "sixty"})
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["__type"], "SerializationException")
        dims = [{"Name": "D%d" % i, "Value": "v"} for i in range(31)]
        status, body, headers = json10("PutMetricData", {"Namespace": "X", "MetricData": [
            {"MetricName": "M", "Value": 1, "Dimensions": dims}]})
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["__type"], "InvalidParameterValueException")
        self.assertEqual(headers.get("x-amzn-query-error"), "InvalidParameterValue;Sender")

    def test_cbor_by_hand(self):
        """smithy-rpc-v2-cbor with Debian's cbor2 and a hand-signed request: runs
        where no botocore that speaks it is installed (the pyenv tests need one)."""
        import datetime
        import cbor2
        headers = {"Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        put = cbor2.dumps({"Namespace": "Berth/ByHand", "MetricData": [
            {"MetricName": "Widgets", "Value": 7.0, "Unit": "Count", "Timestamp": now,
             "Dimensions": [{"Name": "Shop", "Value": "north"}]}]}, datetime_as_timestamp=True)
        status, answer, got = signed("/service/%s/operation/PutMetricData" % TARGET, put, headers)
        self.assertEqual(status, 200, answer)
        self.assertEqual(got.get("smithy-protocol"), "rpc-v2-cbor")
        stats = cbor2.dumps({"Namespace": "Berth/ByHand", "MetricName": "Widgets",
                             "Dimensions": [{"Name": "Shop", "Value": "north"}],
                             "StartTime": now - datetime.timedelta(minutes=5),
                             "EndTime": now + datetime.timedelta(minutes=5), "Period": 60, "Statistics": ["Sum"]},
                            datetime_as_timestamp=True)
        status, answer, got = signed("/service/%s/operation/GetMetricStatistics" % TARGET, stats, headers)
        self.assertEqual(status, 200, answer)
        self.assertEqual(got.get("content-type"), "application/cbor")
        result = cbor2.loads(answer)
        self.assertEqual(result["Label"], "Widgets")
        self.assertEqual(sum(p["Sum"] for p in result["Datapoints"]), 7.0, result)
        self.assertTrue(all(isinstance(p["Timestamp"], datetime.datetime) for p in result["Datapoints"]),
                        "timestamps as CBOR tag 1: %r" % result)

    def test_errors_in_cbor(self):
        path = "/service/%s/operation/GetMetricStatistics" % TARGET
        # {"Namespace": 5}: a number where the model has a string.
        body = bytes([0xa1]) + cbor_text("Namespace") + bytes([0x05])
        status, answer, headers = signed(path, body,
                                         {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        self.assertEqual(status, 400, answer)
        self.assertEqual(headers.get("smithy-protocol"), "rpc-v2-cbor")
        self.assertEqual(headers.get("content-type"), "application/cbor")
        self.assertIn(cbor_text("__type") + cbor_text("SerializationException"), answer)
        status, answer, headers = signed(path, b"\xa1\x61", {"Content-Type": "application/cbor",
                                                             "smithy-protocol": "rpc-v2-cbor"})
        self.assertEqual(status, 400, "a truncated CBOR body")
        self.assertIn(cbor_text("SerializationException"), answer)
        body = (bytes([0xa3]) + cbor_text("AlarmName") + cbor_text("nope") + cbor_text("StateValue") +
                cbor_text("OK") + cbor_text("StateReason") + cbor_text("x"))
        status, answer, headers = signed("/service/%s/operation/SetAlarmState" % TARGET, body,
                                         {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        self.assertEqual(status, 404, answer)
        self.assertEqual(headers.get("x-amzn-query-error"), "ResourceNotFound;Sender")

    @needs_pyenv
    def test_errors_with_pyenv_cli(self):
        self.fails(PYENV_AWS, "ResourceNotFound", "cloudwatch", "set-alarm-state", "--alarm-name", "no-such-alarm",
                   "--state-value", "OK", "--state-reason", "x")
        dims = ",".join("D%d=v" % i for i in range(31))
        self.fails(PYENV_AWS, "InvalidParameterValue", "cloudwatch", "put-metric-data", "--namespace", "X",
                   "--metric-name", "M", "--value", "1", "--dimensions", dims)

    # ---- restart ----

    def test_zz_datapoints_and_alarms_survive_a_restart(self):
        cli = DEBIAN_AWS
        t = now()
        self.ok(cli, "cloudwatch", "put-metric-data", "--namespace", "Berth/Restart", "--metric-name", "Kept",
                "--value", "42")
        self.ok(cli, "cloudwatch", "put-metric-alarm", "--alarm-name", "kept", "--namespace", "Berth/Restart",
                "--metric-name", "Kept", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
                "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold")
        D.stop()
        D.start()
        stats = self.ok(cli, "cloudwatch", "get-metric-statistics", "--namespace", "Berth/Restart", "--metric-name",
                        "Kept", "--start-time", iso(t - datetime.timedelta(minutes=1)), "--end-time",
                        iso(t + datetime.timedelta(minutes=1)), "--period", "60", "--statistics", "Sum")
        self.assertEqual([p["Sum"] for p in stats["Datapoints"]], [42.0], "datapoints are flushed on stop")
        alarms = self.ok(cli, "cloudwatch", "describe-alarms", "--alarm-names", "kept")["MetricAlarms"]
        self.assertEqual(len(alarms), 1)


if __name__ == "__main__":
    unittest.main()
