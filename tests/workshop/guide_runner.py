"""Runs a markdown guide's shell blocks as written, so the guide cannot rot.

Extraction rules (docs/workshop.md states them for its readers too):
- A fenced block opens with ``` and a language. ```sh blocks are commands,
  run in file order. ```text (output berth gave) and ```console
  (alternatives) are shown, not run. Any other fence is an error, so that
  a command block cannot be skipped silently by a typo in its language.
- A heading (any level) outside a fence starts a section; a block belongs
  to the section of the nearest heading above it.
- Every block runs in ONE bash process that starts with
  `set -euo pipefail`: a variable set in one block is there in the next,
  and the first failing command ends the run (GuideShell.run raises).
"""
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field

FENCE = re.compile(r"^```\s*([A-Za-z0-9_+-]*)\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
RUN = "sh"
SHOWN = ("text", "console")


@dataclass
class Block:
    section: str
    line: int  # where its code starts in the markdown file, 1-based
    code: str


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)


def sections(markdown):
    """The guide's sections in order, each with its ```sh blocks."""
    out = [Section("(before the first heading)")]
    fence, start, lines = None, 0, []
    for number, line in enumerate(markdown.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None:
            heading = HEADING.match(line)
            if m:
                fence, start, lines = m.group(1), number + 1, []
                if fence != RUN and fence not in SHOWN:
                    raise ValueError("line %d: a ```%s block: only ```%s runs, ```%s are shown; say which"
                                     % (number, fence, RUN, "/```".join(SHOWN)))
            elif heading:
                out.append(Section(heading.group(2)))
        elif m and m.group(1) == "":
            if fence == RUN:
                out[-1].blocks.append(Block(out[-1].title, start, "\n".join(lines) + "\n"))
            fence = None
        else:
            lines.append(line)
    if fence is not None:
        raise ValueError("line %d: the ```%s block is not closed" % (start - 1, fence))
    return [s for s in out if s.blocks]


class BlockFailed(AssertionError):
    pass


@dataclass
class BlockResult:
    block: Block
    stdout: str
    stderr: str
    seconds: float


def tail(text, lines=40):
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


class GuideShell:
    """One bash, fed one block at a time: each block is written to a file
    and sourced with its stdout and stderr in files of their own; a marker
    file says it finished. The bash is a session leader, so close() ends
    it together with whatever a block left in the background."""

    def __init__(self, cwd, env, work_dir):
        self.work_dir = work_dir
        self.count = 0
        self.log = open(os.path.join(work_dir, "bash.log"), "wb")
        self.proc = subprocess.Popen(["/bin/bash", "--noprofile", "--norc"], stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                     start_new_session=True)
        self.send("set -euo pipefail")

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def run(self, block, timeout):
        """Runs the block; returns its BlockResult or raises BlockFailed saying why."""
        self.count += 1
        base = os.path.join(self.work_dir, "block-%02d" % self.count)
        for stale in (".out", ".err", ".done"):  # a kept work dir may hold an earlier run's
            if os.path.exists(base + stale):
                os.unlink(base + stale)
        with open(base + ".sh", "w") as f:
            f.write(block.code)
        q = shlex.quote
        self.send("source %s </dev/null >%s 2>%s; : >%s" % (q(base + ".sh"), q(base + ".out"), q(base + ".err"),
                                                          q(base + ".done")))
        started = time.monotonic()
        why = None
        while not os.path.exists(base + ".done"):
            if self.proc.poll() is not None:
                why = "exited with status %d" % self.proc.returncode
                break
            if time.monotonic() - started > timeout:
                why = "did not finish in %d s" % timeout
                self.close()
                break
            time.sleep(0.05)
        result = BlockResult(block, self.read(base + ".out"), self.read(base + ".err"), time.monotonic() - started)
        if why:
            raise BlockFailed("the block at line %d of the guide (section %r) %s:\n%s\n--- its stdout (tail):\n%s\n"
                              "--- its stderr (tail):\n%s" % (block.line, block.section, why, block.code.rstrip(),
                                                              tail(result.stdout), tail(result.stderr)))
        return result

    def value(self, expression, timeout=30):
        """What `printf %s "EXPRESSION"` prints in the guide's shell, e.g. value('$tg_arn')."""
        block = Block("(the test asks)", 0, 'printf %%s "%s"\n' % expression)
        return self.run(block, timeout).stdout

    @staticmethod
    def read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        """Ends the bash and its background jobs (SIGTERM, then SIGKILL for what is left)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.2)
        self.proc.stdin.close()
        self.log.close()
