#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The agent's full pipeline under valgrind's memcheck: no errors, no leaks.

valgrind cannot replace malloc in a static binary, so this runs the
dynamically linked build (`make dynamic`: $BUILD/dynamic/forensics-agent).
Each case runs the agent under

    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
             --error-exitcode=99

against moto's S3 (signature checking on) and asserts the agent's own exit
code, zero errors in valgrind's summary and no definitely or indirectly lost
bytes: acquire from the file source (capture, both SHA-256s, zstd worker
threads, multipart upload, tags, bundle, manifest), verify of that object
(ranged GETs streamed through the checks), upload --zstd of a pipe, and the
failure paths a part reset (retried) and AccessDenied (upload aborted) take.
"""
import os
import re
import subprocess
import sys
import tempfile

from common import BUILD, Suite, check, log_records
from faultproxy import FaultProxy, Rule
from s3env import MotoServer, payload

AGENT = os.path.join(BUILD, "dynamic", "forensics-agent")
BUCKET = "evidence"
MIB = 1 << 20
PART = 5 * MIB
VALGRIND_ERROR = 99
IOMEM = "00001000-0009fbff : System RAM\n00100000-00bfffff : System RAM\n"

suite = Suite("valgrind", timed=True)


def grind(args, env, log, stdin=None, timeout=600):
    """The agent under memcheck; (completed process, valgrind's log text)."""
    cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
           "--show-leak-kinds=definite,indirect", f"--error-exitcode={VALGRIND_ERROR}",
           "--num-callers=30", f"--log-file={log}", AGENT, *args]
    p = subprocess.run(cmd, env=env, input=stdin, capture_output=True, timeout=timeout)
    with open(log) as f:
        return p, f.read()


def clean(p, text, code=0):
    """Exit `code` from the agent itself, and valgrind found nothing."""
    check(p.returncode != VALGRIND_ERROR, "valgrind reported errors:\n" + text[-3000:])
    check(p.returncode == code, f"exit {p.returncode}, want {code}: {p.stderr.decode()[-800:]}")
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    check(summary and summary.group(1) == "0", "errors:\n" + text[-3000:])
    for kind in ("definitely", "indirectly"):
        lost = re.search(kind + r" lost: ([\d,]+) bytes", text)
        check(lost is None or lost.group(1) == "0", f"{kind} lost:\n" + text[-3000:])


def main():
    if not suite.require(AGENT, "make dynamic"):
        return suite.finish()
    if subprocess.run(["valgrind", "--version"], capture_output=True).returncode:
        suite.fail("valgrind", RuntimeError("valgrind is not installed (scripts/setup-deps.sh)"))
        return suite.finish()
    with tempfile.TemporaryDirectory(prefix="valgrind.") as tmp, MotoServer(auth=True) as s3:
        s3.create_bucket(BUCKET)
        env = dict(s3.env(), AWS_EC2_METADATA_DISABLED="true")
        memory = os.path.join(tmp, "memory.raw")
        with open(memory, "wb") as f:
            f.write(payload(12 * MIB, seed=5))  # incompressible: the image takes 3 parts
        iomem = os.path.join(tmp, "iomem")
        with open(iomem, "w") as f:
            f.write(IOMEM)
        key = "valgrind/img.lime.zst"
        acquire = ["acquire", "--source", "file", "--source-path", memory, "--iomem", iomem,
                   "--log-format", "json", "--path-style", "--part-size", str(PART),
                   "--threads", "2", "--case", "VG-1"]

        def acquire_into_s3():
            p, text = grind([*acquire, "--output", f"s3://{BUCKET}/{key}"], env,
                            os.path.join(tmp, "acquire.vg"))
            clean(p, text)
            m = [r["manifest"] for r in log_records(p.stderr) if "manifest" in r][-1]
            check(m["image"]["s3"]["parts"] == 3, m["image"]["s3"])
            check(s3.exists(BUCKET, key + ".manifest.json"), "no manifest object")
        suite.run("acquire: file source, SHA-256, zstd threads, multipart S3, bundle, manifest",
                  acquire_into_s3)

        def verify_in_s3():
            p, text = grind(["verify", "--path-style", "--log-format", "json",
                             f"s3://{BUCKET}/{key}"], env, os.path.join(tmp, "verify.vg"))
            clean(p, text)
        suite.run("verify s3://: ranged GETs, decompression, both hashes", verify_in_s3)

        def upload_pipe():
            p, text = grind(["upload", "--zstd", "--path-style", "--log-format", "json",
                             "--part-size", str(PART), "-", f"s3://{BUCKET}/valgrind/disk.zst"],
                            env, os.path.join(tmp, "upload.vg"), stdin=payload(11 * MIB, 6))
            clean(p, text)
        suite.run("upload --zstd from a pipe", upload_pipe)

        def faults():
            rules = [Rule("reset@mid-body", op="UploadPart", query={"partNumber": "2"}),
                     Rule("internal", op="CompleteMultipartUpload")]
            with FaultProxy(s3.endpoint, rules) as proxy:
                penv = dict(env, AWS_ENDPOINT_URL_S3=proxy.endpoint)
                p, text = grind([*acquire, "--stall-timeout", "5", "--output",
                                 f"s3://{BUCKET}/valgrind/retried.lime.zst"],
                                penv, os.path.join(tmp, "retried.vg"))
                clean(p, text)
                check(len(proxy.records(fault=True)) == 2, proxy.faults())
                proxy.set_rules([Rule("denied", op="UploadPart", count=None)])
                p, text = grind([*acquire, "--output", f"s3://{BUCKET}/valgrind/denied.lime.zst"],
                                penv, os.path.join(tmp, "denied.vg"))
                clean(p, text, code=12)
            check(s3.list_multipart_uploads(BUCKET) == [], "upload not aborted")
        suite.run("a part reset and a 500 on Complete (retried); AccessDenied (aborted, exit 12)",
                  faults)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
