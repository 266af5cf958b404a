# SPDX-License-Identifier: GPL-2.0-only
"""What the integration tests share: where the build is, one way to run cases
and report them, and reading the agent's JSON log.

    suite = Suite("acquire")

    @suite.case("file image: LiME ranges equal memory")
    def test_file_image():
        assert ...

    suite.run_all()
    sys.exit(suite.finish())

Each case prints `ok   <title>` or `FAIL <title>: <why>`; finish() prints
`<suite>: N passed, M failed`, the line tests/run.sh reads, and returns the
exit code (1 on any failure). Any exception fails a case; a Failure (from
check()) is reported by its message alone, anything else by its repr.
"""
import json
import os
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
AGENT = os.path.join(BUILD, "forensics-agent")


class Failure(Exception):
    """A check that did not hold."""


def check(cond, what):
    if not cond:
        raise Failure(what)


class Suite:
    """Cases run one after another; a failure is reported and the next one runs.

    timed: each passing case says how long it took; tracebacks: each failure
    prints its traceback too (for suites whose failures are hard to place).
    """

    def __init__(self, name, timed=False, tracebacks=False):
        self.name = name
        self.timed = timed
        self.tracebacks = tracebacks
        self.cases = []
        self.results = []  # (title, exception or None)

    def case(self, title):
        """Decorator: registers fn to be run by run_all()."""
        def register(fn):
            self.cases.append((title, fn))
            return fn
        return register

    def run(self, title, fn, *args):
        """Runs one case now: fn(*args)."""
        start = time.monotonic()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            self.fail(title, e)
            if self.tracebacks:
                traceback.print_exc()
            return
        self.results.append((title, None))
        took = f" ({time.monotonic() - start:.1f}s)" if self.timed else ""
        print(f"ok   {title}{took}", flush=True)

    def run_all(self):
        for title, fn in self.cases:
            self.run(title, fn)

    def fail(self, title, e):
        """Records a failure, of a case or of what the cases need."""
        self.results.append((title, e))
        print(f"FAIL {title}: {e if isinstance(e, Failure) else repr(e)}", flush=True)

    def require(self, program, how):
        """False, with a failure recorded, when program is not built."""
        if os.access(program, os.X_OK):
            return True
        self.fail(program, Failure(f"missing: build it with `{how}`"))
        return False

    @property
    def failed(self):
        return sum(1 for _, e in self.results if e is not None)

    def finish(self):
        """Prints the summary line; the process's exit code."""
        failed = self.failed
        print(f"{self.name}: {len(self.results) - failed} passed, {failed} failed", flush=True)
        return 1 if failed else 0


def run_cases(name, cases, fixture):
    """A whole suite of case_* functions sharing fixture(tmp), built once in a
    temporary directory; each case is titled by its name. The exit code."""
    suite = Suite(name)
    if suite.require(AGENT, "make agent"):
        with tempfile.TemporaryDirectory(prefix=f"test_{name}.", ignore_cleanup_errors=True) as tmp:
            shared = fixture(tmp)
            for case in cases:
                suite.run(case.__name__.removeprefix("case_"), case, shared)
    return suite.finish()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def log_records(stderr):
    """The agent's log lines (--log-format json), parsed."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode()
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def error_records(stderr):
    return [r for r in log_records(stderr) if r["level"] == "error"]


def one_error(p, code, *words):
    """p exited with code having logged exactly one error, which names every word."""
    errors = error_records(p.stderr)
    assert p.returncode == code, f"exit {p.returncode} != {code}: {p.stderr.decode()[-2000:]}"
    assert len(errors) == 1, f"want one error line, got {errors}"
    for w in words:
        assert w in errors[0]["msg"], f"{w!r} not in {errors[0]['msg']!r}"
    return errors[0]
