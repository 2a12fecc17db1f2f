"""Dump the envelopes api_test writes and feed them to botocore's own parsers
(src/api/testdata/check_envelopes.py), with the Debian python3 and botocore.

usage: envelopes_botocore.py API_TEST_BINARY
"""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
checker = os.path.join(here, "..", "..", "src", "api", "testdata", "check_envelopes.py")
with tempfile.TemporaryDirectory(prefix="berth-envelopes-") as d:
    env = dict(os.environ, BERTH_API_ENVELOPE_DIR=d)
    dump = subprocess.run([sys.argv[1], "--gtest_filter=Envelope.DumpForBotocoreCheck"], env=env,
                          capture_output=True, text=True)
    print(dump.stdout[-2000:], dump.stderr[-2000:])
    if dump.returncode != 0 or "[  PASSED  ] 1 test" not in dump.stdout:
        sys.exit("api_test did not dump the envelopes")
    files = sorted(os.listdir(d))
    if len(files) != 5:
        sys.exit("expected 5 envelope files, got %s" % files)
    sys.exit(subprocess.run(["/usr/bin/python3", checker, d]).returncode)
