#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A seeded, randomized fault campaign across the whole pipeline.

Each trial runs the real agent (`acquire` from the file source, or `upload
--zstd`) into moto's S3 (signature checking on) through the fault proxy, with
one or more faults drawn from these kinds:

    s3-error      503 SlowDown, 500, 503 ServiceUnavailable or a 200 with an
                  <Error> body, on any S3 call, before or after moto acted
    reset         TCP reset or close at head, mid-body, after moto acted, or
                  mid-response
    stall         no answer for longer than --stall-timeout
    persistent    one part, Complete after moto completed it, or the manifest's
                  PutObject fails on every try
    denied        AccessDenied on a part
    expired       instance-role credentials (fake IMDS, moto STS) declared
                  expired by the proxy at a random moment: ExpiredToken
    sigterm       SIGTERM after a random delay
    pipe          the input pipe stalls (SIGTERM while the agent waits), or
                  ends early; or the image goes to a stdout pipe whose reader
                  stops reading (a full pipe) and then closes
    unreadable    the source is /proc/PID/mem of a process with unmapped
                  holes: reads there fail with EIO
    late          a request (Create, a part, Complete, PutObject) held with no answer
                  and delivered to S3 seconds after the agent gave up on it
    lost-reply    Complete, PutObject or AbortMultipartUpload applied by S3 and its
                  reply lost (an abort follows a refused part)
    corrupt       a part or PutObject rejected for its checksum (BadDigest,
                  XAmzContentSHA256Mismatch), as a body corrupted on the way is
    silent        S3 accepts connections and never answers, with the default
                  --max-attempts and --stall-timeout; SIGTERM after a moment

After each trial, with boto3 alone: either the image object exists, its
bytes hash to the manifest's (or the upload log's) SHA-256, they decompress
(zstd CLI) to the LiME stream's SHA-256 and sizes, and the manifest is
complete; or no object exists under the trial's prefix and
list_multipart_uploads shows none left. The exit code is 0 or the documented
code for the cause, and a failure's last log line is one error naming it.
With unreadable holes, the manifest's `unreadable` spans are exactly the holes
and the image holds zeros there.

    python3 tests/integration/test_faults.py               # CI: about 80 s
    FAULTS=1000 python3 tests/integration/test_faults.py   # at least 1000 injected faults
    FAULT_SEED=7 FAULT_SECONDS=300 python3 ...             # another seed, longer

Outcomes are counted per fault kind; a trial's seed is printed with any
violation, and FAULT_TRIAL=N repeats trial N of a seed alone.
"""
import collections
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from common import AGENT, Failure, Suite, check, log_records
from faultproxy import FaultProxy, Rule
from imds_fake import FakeIMDS
from s3env import MotoServer

MIB = 1 << 20
PART = 5 * MIB
BUCKET = "evidence"
SEED = int(os.environ.get("FAULT_SEED", "1"))
TARGET_FAULTS = int(os.environ.get("FAULTS", "0"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "0" if TARGET_FAULTS else "60"))
ONLY_TRIAL = os.environ.get("FAULT_TRIAL")
# A signal must end the agent promptly whatever it is waiting for.
SIGNAL_GRACE_S = 10.0
S3_OPS = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject",
          "PutObjectTagging", "HeadObject", "AbortMultipartUpload")
KINDS = ("s3-error", "reset", "stall", "persistent", "denied", "expired", "sigterm", "pipe",
         "unreadable", "late", "lost-reply", "corrupt", "silent")
# Exit codes a trial may end with, and words its last (error) log line must hold.
CAUSES = {4: ("Broken pipe", "exists", "never overwritten"), 5: ("signal",),
          11: ("upload", "failed", "refused", "HTTP", "transport", "abort", "cannot check"),
          12: ("AccessDenied",)}
# Kinds a trial's first kind can be combined with.
EXTRA = {"s3-error": ("reset", "sigterm", "unreadable", "expired"),
         "reset": ("s3-error", "sigterm", "unreadable"),
         "stall": ("s3-error", "sigterm"),
         "persistent": ("s3-error", "unreadable"),
         "denied": ("s3-error",),
         "expired": ("s3-error", "reset", "sigterm"),
         "sigterm": ("s3-error", "reset", "unreadable"),
         "pipe": (),
         "unreadable": ("s3-error", "reset", "sigterm"),
         "late": ("s3-error", "sigterm"),
         "lost-reply": ("s3-error", "sigterm"),
         "corrupt": ("s3-error", "reset", "sigterm"),
         "silent": ()}

IOMEM = "00001000-0009fbff : System RAM\n000a0000-000fffff : Reserved\n" \
        "00100000-00dfffff : System RAM\n"
RAM = [(0x1000, 0x9FBFF), (0x100000, 0xDFFFFF)]
HOLDER_BASE = 0x200000000
HOLDER_SIZE = 13 * MIB

# Holds memory at a fixed address with holes unmapped, for /proc/PID/mem.
HOLDER = r"""
import ctypes, random, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
base, size, seed = int(sys.argv[1], 0), int(sys.argv[2], 0), int(sys.argv[3])
MAP_PRIVATE_ANON_FIXED_NOREPLACE = 0x02 | 0x20 | 0x100000
if libc.mmap(base, size, 3, MAP_PRIVATE_ANON_FIXED_NOREPLACE, -1, 0) != base:
    sys.exit("mmap at %#x failed: errno %d" % (base, ctypes.get_errno()))
data = random.Random(seed).randbytes(size)
ctypes.memmove(base, data, size)
for hole in sys.argv[4:]:
    start, length = (int(x, 0) for x in hole.split("+"))
    if libc.munmap(start, length):
        sys.exit("munmap failed")
print("ready", flush=True)
sys.stdin.read()
"""


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def unzstd(data):
    p = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True)
    if p.returncode:
        raise Failure(f"stored object is not a valid zstd stream: {p.stderr.decode()[:200]}")
    return p.stdout


class Trial:
    """One trial's plan (drawn from its own seeded generator) and what came of it."""

    def __init__(self, number, rng):
        self.number = number
        self.rng = rng
        first = KINDS[number % len(KINDS)]
        self.kinds = [first]
        if EXTRA[first] and rng.random() < 0.35:
            self.kinds.append(rng.choice(EXTRA[first]))
        self.command = "acquire"
        if "unreadable" not in self.kinds and "expired" not in self.kinds and \
                rng.random() < 0.3:
            self.command = "upload"
        self.pipe_mode = None
        if "pipe" in self.kinds:
            self.pipe_mode = rng.choice(("stdin-stall", "stdin-eof", "stdout-closed"))
            self.command = "acquire" if self.pipe_mode == "stdout-closed" else "upload"
        self.prefix = f"s{SEED}/t{number}/"
        self.key = self.prefix + ("img.lime.zst" if self.command == "acquire" else "disk.zst")
        self.rules = []
        self.injected = collections.Counter()  # kind -> faults that struck
        self.sigterm_at = None
        self.expire_after = None
        self.default_timeouts = False
        self.holes = []

    def describe(self):
        return (f"trial {self.number} (seed {SEED}): {self.command} {'+'.join(self.kinds)}"
                f"{' ' + self.pipe_mode if self.pipe_mode else ''}")


class Campaign:
    def __init__(self, s3, tmp, role_arn):
        self.s3 = s3
        self.tmp = tmp
        self.role_arn = role_arn
        self.sts = s3.client("sts")
        self.outcomes = collections.defaultdict(collections.Counter)  # kind -> outcome -> n
        self.injected = collections.Counter()
        self.exits = collections.Counter()
        self.violations = []
        self.trials = 0
        self.memory = os.path.join(tmp, "memory.raw")
        rng = random.Random(SEED)
        # Incompressible, so the stored image needs several 5 MiB parts.
        self.memory_bytes = rng.randbytes(RAM[-1][1] + 1)
        with open(self.memory, "wb") as f:
            f.write(self.memory_bytes)
        self.iomem = os.path.join(tmp, "iomem")
        with open(self.iomem, "w") as f:
            f.write(IOMEM)
        self.disk = os.path.join(tmp, "disk.raw")
        with open(self.disk, "wb") as f:
            f.write(rng.randbytes(14 * MIB))

    # -- planning

    def s3_fault(self, trial, kind):
        rng = trial.rng
        ops = ["UploadPart", "UploadPart", "CreateMultipartUpload", "CompleteMultipartUpload"]
        if trial.command == "acquire":
            ops += ["PutObject", "PutObjectTagging", "HeadObject"]
        op = rng.choice(ops)
        nth = rng.randint(1, 3)
        count = rng.randint(1, 2)
        if kind == "s3-error":
            fault = rng.choice(("slowdown", "internal", "unavailable"))
            if op == "CompleteMultipartUpload" and rng.random() < 0.5:
                fault = "complete-error"
            fault += rng.choice(("", "@upstream", "@head"))
        elif kind == "reset":
            stage = rng.choice(("head", "mid-body", "upstream", "mid-response"))
            if stage == "mid-body" and op in ("HeadObject",):
                stage = "head"
            fault = f"{rng.choice(('reset', 'close'))}@{stage}"
        else:  # stall, past the agent's --stall-timeout
            fault = f"stall:{rng.choice((2, 3))}@{rng.choice(('body', 'upstream'))}"
            count = 1
        return Rule(fault, op=op, nth=nth, count=count, budget=count), kind

    def plan(self, trial):
        rng = trial.rng
        for kind in trial.kinds:
            if kind in ("s3-error", "reset", "stall"):
                trial.rules.append(self.s3_fault(trial, kind))
            elif kind == "persistent":
                if trial.command == "acquire" and rng.random() < 0.2:
                    # The image completes; its bundle and manifest cannot be stored.
                    rule = Rule(rng.choice(("slowdown", "reset@head")), op="PutObject",
                                count=None)
                elif rng.random() < 0.6:
                    part = str(rng.randint(1, 3))
                    fault = rng.choice(("slowdown", "internal", "reset@mid-body", "close@head"))
                    rule = Rule(fault, op="UploadPart", query={"partNumber": part}, count=None)
                else:
                    # Moto completes the upload; the agent never hears of it.
                    fault = rng.choice(("reset@upstream", "internal@upstream",
                                        "close@mid-response"))
                    rule = Rule(fault, op="CompleteMultipartUpload", count=None)
                trial.rules.append((rule, kind))
            elif kind == "denied":
                part = str(rng.randint(1, 3))
                trial.rules.append((Rule("denied", op="UploadPart", query={"partNumber": part},
                                         count=None), kind))
            elif kind == "late":
                ops = ["CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]
                if trial.command == "acquire":
                    ops.append("PutObject")
                rule = Rule(f"late:{rng.choice((2, 3))}", op=rng.choice(ops),
                            nth=rng.randint(1, 2), count=1, budget=1)
                trial.rules.append((rule, kind))
            elif kind == "lost-reply":
                op = rng.choice(("CompleteMultipartUpload", "AbortMultipartUpload") +
                                (("PutObject",) if trial.command == "acquire" else ()))
                fault = rng.choice(("reset@upstream", "close@upstream", "internal@upstream"))
                count = rng.choice((1, None))
                trial.rules.append((Rule(fault, op=op, count=count), kind))
                if op == "AbortMultipartUpload":
                    part = str(rng.randint(1, 2))
                    trial.rules.append((Rule("denied", op="UploadPart",
                                             query={"partNumber": part}, count=None), "denied"))
            elif kind == "corrupt":
                op = rng.choice(("UploadPart", "UploadPart") +
                                (("PutObject",) if trial.command == "acquire" else ()))
                fault = rng.choice(("bad-digest", "bad-digest", "sha256-mismatch"))
                trial.rules.append((Rule(fault, op=op, nth=rng.randint(1, 3),
                                         count=rng.randint(1, 2)), kind))
            elif kind == "silent":
                trial.rules.append((Rule("stall", op=S3_OPS + ("ListMultipartUploads",),
                                         nth=rng.randint(1, 4), count=None), kind))
                trial.default_timeouts = True
                trial.sigterm_at = rng.uniform(0.5, 4.0)
            elif kind == "expired":
                trial.expire_after = rng.uniform(0.0, 1.5)
            elif kind == "sigterm":
                trial.sigterm_at = rng.uniform(0.0, 2.5)
            elif kind == "unreadable":
                pages = HOLDER_SIZE // 4096
                starts = sorted(rng.sample(range(1, pages - 64), rng.randint(1, 4)))
                last_end = 0
                for s in starts:
                    if s <= last_end + 1:
                        continue
                    n = rng.randint(1, 48)
                    trial.holes.append((HOLDER_BASE + s * 4096, n * 4096))
                    last_end = s + n

    # -- running

    def agent_args(self, trial, source_path=None, iomem=None):
        common = ["--log-format", "json", "--path-style", "--part-size", str(PART)]
        if not trial.default_timeouts:
            common += ["--max-attempts", "4", "--stall-timeout", "1"]
        if trial.command == "acquire":
            out = "-" if trial.pipe_mode == "stdout-closed" else f"s3://{BUCKET}/{trial.key}"
            return ["acquire", "--source", "file", "--source-path", source_path or self.memory,
                    "--iomem", iomem or self.iomem, "--case", f"FAULTS-{SEED}",
                    *([] if out == "-" else common), "--output", out]
        src = "-" if trial.pipe_mode else self.disk
        return ["upload", "--zstd", *common, src, f"s3://{BUCKET}/{trial.key}"]

    def run_trial(self, trial, planned=False):
        if not planned:
            self.plan(trial)
        env = self.s3.env()
        holder = None
        imds = None
        source_path = iomem = None
        try:
            if trial.holes:
                holder, source_path, iomem = self.start_holder(trial)
            if "expired" in trial.kinds:
                imds, env = self.role_env(trial)
            with FaultProxy(self.s3.endpoint, [r for r, _ in trial.rules]) as proxy:
                if imds is not None:
                    trial.t0 = time.monotonic()
                    expiry = Rule("expired-token", count=None,
                                  when=lambda rec: self.token_expired(trial, imds, rec))
                    proxy.add_rule(expiry)
                    trial.rules.append((expiry, "expired"))
                env = dict(env, AWS_ENDPOINT_URL_S3=proxy.endpoint)
                p = self.execute(trial, env, source_path, iomem)
                # Late requests reach S3 only now: the bucket is judged after them.
                proxy.wait_idle(15)
                for rule, kind in trial.rules:
                    trial.injected[kind] += rule.applied
                trial.faults = proxy.faults()
        finally:
            if holder is not None:
                holder.stdin.close()
                holder.wait(timeout=10)
            if imds is not None:
                imds.close()
        if trial.holes:
            trial.injected["unreadable"] += len(trial.holes)
        return p

    def token_expired(self, trial, imds, rec):
        if not imds.issued or time.monotonic() - trial.t0 < trial.expire_after:
            return False
        return rec.headers.get("x-amz-security-token") == imds.issued[0][2]

    def role_env(self, trial):
        def issue():
            return self.sts.assume_role(RoleArn=self.role_arn,
                                        RoleSessionName=f"faults-{trial.number}")["Credentials"]
        # Valid for longer than the agent's refresh margin: only the proxy ends them early.
        now = int(time.time())
        imds = FakeIMDS(creds=[("ok", now + 900)], issue=issue)
        keyless = {k: v for k, v in self.s3.env().items()
                   if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        return imds, imds.env(keyless)

    def start_holder(self, trial):
        holes = [f"{s:#x}+{n:#x}" for s, n in trial.holes]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, hex(HOLDER_BASE),
                                   hex(HOLDER_SIZE), str(trial.number), *holes],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = holder.stdout.readline()
        if line.strip() != b"ready":
            raise Failure(f"memory holder did not start: {line!r}")
        iomem = os.path.join(self.tmp, f"iomem-{trial.number}")
        with open(iomem, "w") as f:
            f.write(f"{HOLDER_BASE:08x}-{HOLDER_BASE + HOLDER_SIZE - 1:08x} : System RAM\n")
        return holder, f"/proc/{holder.pid}/mem", iomem

    def execute(self, trial, env, source_path, iomem):
        rng = trial.rng
        args = [AGENT, *self.agent_args(trial, source_path, iomem)]
        stdin = subprocess.DEVNULL
        if trial.pipe_mode in ("stdin-stall", "stdin-eof"):
            stdin = subprocess.PIPE
        stdout = subprocess.PIPE if trial.pipe_mode == "stdout-closed" else subprocess.DEVNULL
        start = time.monotonic()
        proc = subprocess.Popen(args, env=env, stdin=stdin, stdout=stdout,
                                stderr=subprocess.PIPE)
        err = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
        reader.start()
        signalled = None
        if trial.pipe_mode in ("stdin-stall", "stdin-eof"):
            data = rng.randbytes(rng.randint(0, 12 * MIB))
            trial.fed = data
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
                if trial.pipe_mode == "stdin-eof":
                    proc.stdin.close()
                else:
                    time.sleep(rng.uniform(0.1, 0.8))  # the agent waits on an empty pipe
                    signalled = time.monotonic()
                    proc.send_signal(signal.SIGTERM)
                    trial.injected["pipe"] += 1
            except BrokenPipeError:
                pass
            if trial.pipe_mode == "stdin-eof":
                trial.injected["pipe"] += 1
        elif trial.pipe_mode == "stdout-closed":
            # Read a little, stop reading until the pipe is full, then go away.
            proc.stdout.read(rng.randint(0, 4 * MIB))
            time.sleep(rng.uniform(0.0, 0.6))
            proc.stdout.close()
            trial.injected["pipe"] += 1
        if trial.sigterm_at is not None:
            left = trial.sigterm_at - (time.monotonic() - start)
            try:
                proc.wait(timeout=max(0.0, left))
            except subprocess.TimeoutExpired:
                signalled = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                trial.injected["silent" if "silent" in trial.kinds else "sigterm"] += 1
        try:
            rc = proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise Failure(f"{trial.describe()}: the agent hung")
        reader.join(10)
        if trial.pipe_mode in ("stdin-stall", "stdin-eof"):
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        trial.elapsed = time.monotonic() - start
        trial.signal_to_exit = None if signalled is None else time.monotonic() - signalled
        return subprocess.CompletedProcess(args, rc, None, err[0] if err else b"")

    # -- the invariant

    def judge(self, trial, p):
        """'complete' or 'absent' if the invariant holds; raises Failure otherwise."""
        why = trial.describe()
        try:
            recs = log_records(p.stderr)
        except ValueError as e:
            raise Failure(f"{why}: log is not JSON lines ({e}): {p.stderr[-400:]!r}")
        rc = p.returncode
        if rc == -signal.SIGTERM and not recs:
            rc = None  # the signal came before the agent set its handlers: it did nothing
        elif rc not in (0, *CAUSES):
            raise Failure(f"{why}: exit {rc}: {p.stderr.decode()[-600:]}")
        errors = [r for r in recs if r["level"] == "error"]
        if rc not in (0, None):
            last = recs[-1] if recs else {}
            if last.get("level") != "error" or len(errors) != 1:
                raise Failure(f"{why}: exit {rc} but the last log line is {last} "
                              f"({len(errors)} errors)")
            if not any(w in last["msg"] for w in CAUSES[rc]):
                raise Failure(f"{why}: exit {rc}, last line does not name the cause: {last}")
        elif errors:
            raise Failure(f"{why}: exit 0 with errors logged: {errors}")
        if trial.signal_to_exit is not None and trial.signal_to_exit > SIGNAL_GRACE_S:
            raise Failure(f"{why}: exited {trial.signal_to_exit:.1f}s after SIGTERM")

        keys = self.s3.list_keys(BUCKET, trial.prefix)
        self.judge_words(trial, recs, keys)
        if trial.pipe_mode == "stdout-closed":
            if rc not in (4, 0, None) or keys:
                raise Failure(f"{why}: stdout closed: exit {rc}, objects {keys}")
            return "absent" if rc else "complete"
        if trial.key not in keys:
            if keys:
                raise Failure(f"{why}: no image but {keys}")
            if rc == 0:
                raise Failure(f"{why}: exit 0 and no object")
            return "absent"
        said = " ".join(r["msg"] for r in recs)
        if trial.command == "upload" and "may still store it" in said and \
                not any(r["event"] == "uploaded" for r in recs):
            # A PutObject delivered late stored it after the agent said so.
            if sha256(unzstd(self.s3.get(BUCKET, trial.key))) != self.disk_sha256:
                raise Failure(f"{why}: a late object differs from the input")
            return "complete"
        stored = self.s3.get(BUCKET, trial.key)
        plain = unzstd(stored)
        if trial.command == "upload":
            return self.judge_upload(trial, p, recs, stored, plain, keys)
        return self.judge_acquire(trial, p, recs, stored, plain, keys)

    def judge_words(self, trial, recs, keys):
        """What the log says is in the bucket is what is there."""
        why = trial.describe()
        said = " ".join(r["msg"] for r in recs if r["level"] in ("warning", "error"))
        s3 = self.s3.s3()
        uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=trial.prefix).get("Uploads", [])
        late_create = "CreateMultipartUpload whose answer was lost" in said
        for u in uploads:
            named = u["UploadId"] in said and "in progress" in said
            if not named and not late_create:
                raise Failure(f"{why}: multipart upload of {u['Key']} left, not named: {said!r}")
            s3.abort_multipart_upload(Bucket=BUCKET, Key=u["Key"], UploadId=u["UploadId"])
        def named(phrase, msg):
            """Keys the message says `phrase` of: "nothing is stored at s3://b/KEY"."""
            return re.findall(re.escape(phrase) + r"s3://" + BUCKET + r"/([^\s;]+)", msg)

        for r in recs:
            if r["level"] not in ("warning", "error"):
                continue
            msg = r["msg"]
            for k in named("nothing is stored at ", msg):
                if k in keys and "may still store it" not in msg:
                    raise Failure(f"{why}: said nothing is stored at {k}, it is there: {msg}")
            for k in re.findall(r"s3://" + BUCKET + r"/(\S+) is complete and correct", msg):
                if k not in keys:
                    raise Failure(f"{why}: said {k} is complete, it is not there: {msg}")
            aborted = re.findall(r"s3://" + BUCKET + r"/(\S+) \(its multipart upload was "
                                 r"aborted\)", msg)
            for k in aborted:
                if not late_create and any(u["Key"] == k for u in uploads):
                    raise Failure(f"{why}: said aborted, an upload of {k} is left: {msg}")

    def judge_upload(self, trial, p, recs, stored, plain, keys):
        why = trial.describe()
        done = [r for r in recs if r["event"] == "uploaded"]
        # Exit 5 with the object whole: stopped while its last request landed.
        if p.returncode not in (0, 5) or not done or keys != [trial.key]:
            raise Failure(f"{why}: object exists, exit {p.returncode}, uploaded {done}, {keys}")
        d = done[0]
        if d["sha256_stored"] != sha256(stored) or d["sha256_read"] != sha256(plain):
            raise Failure(f"{why}: stored object does not match the logged digests")
        sent = getattr(trial, "fed", None)
        if sent is not None and plain != sent:
            raise Failure(f"{why}: object holds {len(plain)} bytes, {len(sent)} were sent")
        if sent is None and sha256(plain) != self.disk_sha256:
            raise Failure(f"{why}: object differs from the input file")
        return "complete"

    def judge_acquire(self, trial, p, recs, stored, plain, keys):
        why = trial.describe()
        logged = [r["manifest"] for r in recs if "manifest" in r]
        mkey = trial.key + ".manifest.json"
        manifest = json.loads(self.s3.get(BUCKET, mkey)) if mkey in keys else None
        if manifest is None and not logged:
            raise Failure(f"{why}: image object exists with no manifest anywhere "
                          f"(exit {p.returncode})")
        if p.returncode == 0 and manifest is None:
            raise Failure(f"{why}: exit 0 but no manifest object")
        if manifest is not None and logged and logged[-1] != manifest:
            raise Failure(f"{why}: manifest object differs from the logged one")
        m = manifest or logged[-1]
        img = m["image"]
        checks = [
            (img["sha256_compressed"] == sha256(stored), "sha256_compressed"),
            (img["sha256_uncompressed"] == sha256(plain), "sha256_uncompressed"),
            (img["compressed_bytes"] == len(stored), "compressed_bytes"),
            (img["uncompressed_bytes"] == len(plain), "uncompressed_bytes"),
            (img["bytes_read"] + img["bytes_zero_filled"] == img["ram_bytes"], "bytes add up"),
            (img["s3"]["key"] == trial.key, "s3.key"),
            (bool(m.get("finished_at")), "finished_at"),
        ]
        bad = [what for ok, what in checks if not ok]
        if bad:
            raise Failure(f"{why}: image object does not match its manifest: {bad}")
        if self.s3.head(BUCKET, trial.key)["ETag"] != img["s3"]["etag"]:
            raise Failure(f"{why}: ETag differs from the manifest's")
        bundle = m.get("bundle")
        bkey = trial.key + ".bundle.tar.zst"
        # A bundle PutObject delivered after the agent said it may still land.
        late_bundle = not bundle and any(
            f"s3://{BUCKET}/{bkey}" in r["msg"] and "may still store it" in r["msg"]
            for r in recs)
        if bkey in keys and not late_bundle and \
                (not bundle or sha256(self.s3.get(BUCKET, bkey)) != bundle.get("sha256")):
            raise Failure(f"{why}: bundle object does not match the manifest")
        extra = set(keys) - {trial.key, mkey, bkey}
        if extra:
            raise Failure(f"{why}: unexpected objects {sorted(extra)}")
        self.check_content(trial, m, plain)
        return "complete"

    def check_content(self, trial, m, plain):
        why = trial.describe()
        if not trial.holes:
            off = 0
            for start, end in RAM:
                off += 32
                if plain[off:off + end - start + 1] != self.memory_bytes[start:end + 1]:
                    raise Failure(f"{why}: range {start:#x} differs from memory")
                off += end - start + 1
            if m["unreadable"]:
                raise Failure(f"{why}: unreadable spans on a readable file: {m['unreadable']}")
            return
        spans = [(int(u["start"], 16), int(u["end"], 16) - int(u["start"], 16) + 1)
                 for u in m["unreadable"]]
        if spans != trial.holes:
            raise Failure(f"{why}: unreadable {spans} != holes {trial.holes}")
        if any("Input/output error" not in u["reason"] for u in m["unreadable"]):
            raise Failure(f"{why}: unexpected reasons {m['unreadable']}")
        data = bytearray(random.Random(trial.number).randbytes(HOLDER_SIZE))
        for s, n in trial.holes:
            data[s - HOLDER_BASE:s - HOLDER_BASE + n] = bytes(n)
        if plain[32:] != data:
            raise Failure(f"{why}: image differs from the holder's memory with zeroed holes")

    # -- the campaign

    def one(self, number):
        trial = Trial(number, random.Random(SEED * 1000003 + number))
        p = self.run_trial(trial)
        self.trials += 1
        self.exits[p.returncode] += 1
        try:
            outcome = self.judge(trial, p)
        except Failure as e:
            outcome = "violation"
            self.violations.append(str(e))
            print(f"VIOLATION {e}; faults {getattr(trial, 'faults', [])}", flush=True)
            print("  log tail: " + p.stderr.decode()[-800:].replace("\n", "\n  "), flush=True)
        for kind in trial.kinds:
            self.outcomes[kind][outcome] += 1
        self.injected.update(trial.injected)
        print(f"{trial.describe()}: {outcome}, exit {p.returncode}, "
              f"{sum(trial.injected.values())} faults, {trial.elapsed:.1f}s", flush=True)

    def report(self, wall):
        total = sum(self.injected.values())
        print(f"\n{self.trials} trials, {total} injected faults, "
              f"{len(self.violations)} violations, "
              f"{wall:.0f}s, seed {SEED}")
        print(f"{'kind':<12} {'trials':>6} {'faults':>6} {'complete':>8} {'absent':>6} "
              f"{'violation':>9}")
        for kind in KINDS:
            o = self.outcomes[kind]
            print(f"{kind:<12} {sum(o.values()):>6} {self.injected[kind]:>6} "
                  f"{o['complete']:>8} {o['absent']:>6} "
                  f"{o['violation']:>9}")
        print("exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.exits.items())))
        return total


def regressions(suite, c):
    """Fixed bugs the campaign found, each once, deterministically."""
    def planned(number, command, rules, kind):
        trial = Trial(number, random.Random(number))
        trial.kinds, trial.command, trial.pipe_mode = [kind], command, None
        trial.prefix = f"regression/{number}/"
        trial.key = trial.prefix + ("img.lime.zst" if command == "acquire" else "disk.zst")
        trial.rules = [(r, kind) for r in rules]
        return trial

    def complete_answer_lost():
        # S3 completed the upload but its answer never arrived, on every try: the
        # agent used to abort (a no-op by then), exit 11 and write no manifest.
        for n, command in ((900001, "acquire"), (900002, "upload")):
            trial = planned(n, command, [Rule("reset@upstream", op="CompleteMultipartUpload",
                                              count=None)], "persistent")
            p = c.run_trial(trial, planned=True)
            check(p.returncode == 0, f"{command}: exit {p.returncode}: {p.stderr[-400:]!r}")
            check(c.judge(trial, p) == "complete", f"{command}: not complete")
            check(trial.injected["persistent"] >= 4, "Complete was not retried")
    suite.run("Complete applied but its answer lost on every try: the object is "
              "recognized by its ETag, manifest written, exit 0", complete_answer_lost)

    def create_answer_lost():
        # S3 created the upload but its answer was lost: the retry made a second
        # one, and the first stayed behind (found 5 times in 1001 faults).
        for n, command, count, want in ((900040, "acquire", 1, "complete"),
                                        (900041, "upload", 1, "complete"),
                                        (900042, "upload", None, "absent")):
            trial = planned(n, command, [Rule("reset@upstream", op="CreateMultipartUpload",
                                              count=count)], "reset")
            p = c.run_trial(trial, planned=True)
            check(c.judge(trial, p) == want, f"{command}: exit {p.returncode}: "
                  f"{p.stderr[-400:]!r}")
            check(trial.injected["reset"] >= 1, "no CreateMultipartUpload answer was lost")
    suite.run("CreateMultipartUpload applied but its answer lost (once, always): the extra "
              "uploads of the key are aborted, none left", create_answer_lost)

    def quiet_pipe_sigterm():
        # upload read its pipe after checking the stop flag: a SIGTERM landing
        # in between left it blocked in read() for as long as the writer stayed.
        for n in range(900010, 900016):
            trial = planned(n, "upload", [], "pipe")
            trial.pipe_mode = "stdin-stall"
            p = c.run_trial(trial, planned=True)
            check(c.judge(trial, p) == "absent" and p.returncode == 5,
                  f"exit {p.returncode}, {trial.signal_to_exit:.1f}s after SIGTERM")
    suite.run("SIGTERM while upload waits on a quiet pipe: exit 5 at once, upload aborted",
              quiet_pipe_sigterm)

    def existence_unknown():
        # HEAD of the image key failing is not "the object exists".
        trial = planned(900020, "acquire", [Rule("internal", op="HeadObject", count=None)],
                        "persistent")
        p = c.run_trial(trial, planned=True)
        check(p.returncode == 11, f"exit {p.returncode}")
        check("cannot check" in log_records(p.stderr)[-1]["msg"], "cause not named")
        check(c.judge(trial, p) == "absent", "objects left")
    suite.run("existence check fails: exit 11 naming it, not exit 4 'exists'", existence_unknown)

    def manifest_not_stored():
        # The manifest used to be logged after the error: the last line then
        # claimed "capture complete" for a run that exited 11.
        trial = planned(900030, "acquire", [Rule("slowdown", op="PutObject", count=None)],
                        "persistent")
        p = c.run_trial(trial, planned=True)
        recs = log_records(p.stderr)
        check(p.returncode == 11, f"exit {p.returncode}")
        check(recs[-1]["level"] == "error" and "manifest" in recs[-1]["msg"], recs[-1])
        check(any("manifest" in r for r in recs), "manifest not logged")
        check(c.judge(trial, p) == "complete", "image not complete")
    suite.run("image stored, manifest not: exit 11, manifest logged, the error last",
              manifest_not_stored)


def main():
    suite = Suite("faults")
    if not suite.require(AGENT, "make agent"):
        return suite.finish()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="faults.") as tmp, \
            MotoServer(auth=True) as s3:
        s3.create_bucket(BUCKET)
        iam = s3.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName="forensics-faults",
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="forensics-faults", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                     "Resource": "*"}]}))
        c = Campaign(s3, tmp, role)
        with open(c.disk, "rb") as f:
            c.disk_sha256 = sha256(f.read())
        if ONLY_TRIAL is None:
            regressions(suite, c)

        def campaign():
            if ONLY_TRIAL is not None:
                c.one(int(ONLY_TRIAL))
            else:
                n = 0
                while True:
                    c.one(n)
                    n += 1
                    done = sum(c.injected.values())
                    if TARGET_FAULTS and done >= TARGET_FAULTS:
                        break
                    if not TARGET_FAULTS and n >= len(KINDS) and \
                            time.monotonic() - start >= SECONDS:
                        break
            c.report(time.monotonic() - start)
            if c.violations:
                raise Failure(f"{len(c.violations)} violations, first: {c.violations[0]}")
        suite.run(f"seed {SEED}: every object complete and matching, or absent and aborted",
                  campaign)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
