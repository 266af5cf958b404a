#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end capture of one QEMU guest into S3 (moto), two ways.

  agent      forensics-agent in the guest: the project's module (pinned,
             from a module store in the initramfs), SHA-256 + zstd -1,
             multipart straight into moto through slirp.
  reference  the reference deployment's flow on the same guest: upstream
             LiME dumping over TCP on the guest's loopback, and in the guest
             `nc | tee (gzip) (md5sum) | sha256sum` (busybox, FIFOs for the
             process substitutions), the gzip stream sent to the host where
             the aws CLI uploads it (`aws s3 cp - s3://…`), since the guest
             has no aws CLI. Hashing and compression run in the guest in
             both flows; only the reference's upload client runs on the
             host.

Each flow boots the guest afresh (same kernel, memory and initramfs apart
from the flow's script), waits until it is idle, then times from the
flow's start line to the object complete in S3. Ground truth is the
hypervisor's copy of guest RAM taken the moment the image is complete
(agent: its `image` log event; reference: LiME's insmod returns), and
identical pages are counted as in the tests (tests/qemu/groundtruth.py).

    python3 bench/e2e.py [--series 6.1] [--mem 512] [--flows agent,reference]

Prints a markdown table for docs/PERFORMANCE.md. Needs `make agent modules`
and the cached kernel and LiME (tests/qemu/fetch-kernel.sh, fetch-lime.sh).
"""
import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
QEMU = os.path.join(REPO, "tests", "qemu")
sys.path.insert(0, QEMU)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import groundtruth  # noqa: E402
from test_capture_kcore import sha256_file  # noqa: E402
from guest import Guest  # noqa: E402
from s3env import MotoServer  # noqa: E402

BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
AGENT = os.path.join(BUILD, "forensics-agent")
BUCKET = "forensics-evidence"

# Both scripts park on the barrier first: the host starts its clock when
# the guest is booted and idle, not while it is still unpacking modules.
AGENT_SCRIPT = r"""#!/bin/sh
export AWS_ACCESS_KEY_ID=@KEY@ AWS_SECRET_ACCESS_KEY=@SECRET@ AWS_REGION=@REGION@
export AWS_ENDPOINT_URL_S3=http://10.0.2.2:@PORT@
nc 10.0.2.2 @BARRIER@ </dev/null
echo "FLOW-START"
mkfifo /run/agent.err
cat /run/agent.err >/dev/console &
/bin/forensics-agent acquire --case IR-BENCH --path-style --no-bundle \
	--module-store /modstore --module-sha256 @PIN@ \
	--output s3://@BUCKET@/bench/agent/ 2>/run/agent.err
rc=$?
wait
echo "FLOW-DONE rc=$rc"
exec sleep 100000
"""

REFERENCE_SCRIPT = r"""#!/bin/sh
nc 10.0.2.2 @BARRIER@ </dev/null
echo "FLOW-START"
mkfifo /run/gz /run/md5
gzip -6 < /run/gz | nc 10.0.2.2 @DATA@ &
gz=$!
md5sum < /run/md5 > /run/md5.out &
md5=$!
insmod /lime.ko "path=tcp:4444 format=lime timeout=0" &
lime=$!
# Connect once LiME listens (port 4444 = 0x115C in state 0A, LISTEN).
tries=0
until grep -q ':115C 00000000:0000 0A' /proc/net/tcp; do
	tries=$((tries + 1))
	[ $tries -le 600 ] || { echo "FLOW-DONE rc=99"; exec sleep 100000; }
	usleep 100000
done
nc 127.0.0.1 4444 </dev/null | tee /run/gz /run/md5 | sha256sum > /run/sha256.out
wait $lime
echo "LIME-DONE rc=$?"
wait $gz $md5
echo "HASHES sha256=$(cut -d' ' -f1 /run/sha256.out) md5=$(cut -d' ' -f1 /run/md5.out)"
echo "FLOW-DONE rc=0"
exec sleep 100000
"""


class Barrier:
    """The guest's `nc 10.0.2.2 PORT` blocks until the host hangs up."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]

    def wait_and_release(self, timeout):
        self.listener.settimeout(timeout)
        conn, _ = self.listener.accept()
        conn.close()
        self.listener.close()


class AwsCliUpload:
    """Accept the guest's gzip stream and hand it to `aws s3 cp -`."""

    def __init__(self, s3, key):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        env = dict(os.environ, AWS_ACCESS_KEY_ID=s3.access_key,
                   AWS_SECRET_ACCESS_KEY=s3.secret_key, AWS_DEFAULT_REGION=s3.region)
        self.cmd = ["aws", "--endpoint-url", s3.endpoint, "s3", "cp", "-",
                    "s3://%s/%s" % (BUCKET, key)]
        self.env = env
        self.rc = None
        self.done_at = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.listener.settimeout(1800)
        conn, _ = self.listener.accept()
        with conn:
            proc = subprocess.run(self.cmd, stdin=conn.fileno(), env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.rc = proc.returncode
        self.stderr = proc.stderr.decode(errors="replace")
        self.done_at = time.monotonic()


def build_initrd(work, kernel_dir, script_text, extra):
    script = os.path.join(work, "test.sh")
    with open(script, "w") as f:
        f.write(script_text)
    initrd = os.path.join(work, "initrd.gz")
    subprocess.run([os.path.join(QEMU, "build-initramfs.sh"), "--test", script, kernel_dir,
                    AGENT, initrd] + extra, check=True, stdout=subprocess.DEVNULL)
    return initrd


def run_flow(kernel_dir, initrd, mem, work, barrier, image_pattern, finish):
    """Boot, release the idle guest, time from FLOW-START; when image_pattern
    shows, freeze the guest for the hypervisor's copy of RAM (the pause is not
    counted), then finish(guest) waits for the flow's end and returns the
    monotonic time it ended. Returns (seconds, image match, console, dump)."""
    dump = os.path.join(work, "pmem.bin")
    with Guest(kernel_dir, initrd, mem_mib=mem, workdir=work) as guest:
        guest.start()
        barrier.wait_and_release(600)
        guest.wait_for(r"FLOW-START", timeout=60)
        start = time.monotonic()
        image = guest.wait_for(image_pattern, timeout=3600,
                               fail_pattern=r"INIT-FAIL|Kernel panic|FLOW-DONE")
        image_at = time.monotonic()
        guest.qmp.stop()
        guest.qmp.pmemsave(dump, guest.mem_bytes)
        guest.qmp.cont()
        paused = time.monotonic() - image_at
        end = finish(guest)
        lines = list(guest.lines)
    return end - paused - start, image, lines, dump


def run_agent(s3, kernel_dir, release, mem, work):
    module = os.path.join(BUILD, "modules", release, "forensics_mem.ko")
    barrier = Barrier()
    text = (AGENT_SCRIPT.replace("@KEY@", s3.access_key).replace("@SECRET@", s3.secret_key)
            .replace("@REGION@", s3.region).replace("@PORT@", s3.endpoint.rsplit(":", 1)[1])
            .replace("@BUCKET@", BUCKET).replace("@BARRIER@", str(barrier.port))
            .replace("@PIN@", sha256_file(module)))
    initrd = build_initrd(work, kernel_dir, text,
                          ["%s:/modstore/%s/forensics_mem.ko" % (module, release)])
    done = []

    def finish(guest):
        done.append(guest.wait_for(r"FLOW-DONE rc=(\d+)", timeout=900))
        return time.monotonic()
    seconds, _, lines, dump = run_flow(kernel_dir, initrd, mem, work, barrier,
                                       r'"event":"image"', finish)
    if int(done[0].group(1)) != 0:
        raise RuntimeError("agent exited %s: %s" % (done[0].group(1), lines[-10:]))
    manifest = None
    for line in lines:
        if '"event":"manifest"' in line:
            manifest = json.loads(line[line.find("{"):])["manifest"]
    key = manifest["image"]["s3"]["key"]
    image = os.path.join(work, "image.lime.zst")
    with open(image, "wb") as f:
        f.write(s3.get(BUCKET, key))
    if sha256_file(image) != manifest["image"]["sha256_compressed"]:
        raise RuntimeError("stored object does not match the agent's manifest")
    report = groundtruth.compare(image, dump, lines)
    return {"flow": "agent: forensics_mem, SHA-256 + zstd -%d, multipart PUT"
                    % manifest["image"]["zstd_level"],
            "seconds": seconds, "stored": os.path.getsize(image),
            "ram": manifest["image"]["ram_bytes"],
            "identical": report["identical_fraction"],
            "hashes": "sha256 (stream and object), per-part SHA-256 checked by S3"}


def run_reference(s3, kernel_dir, release, mem, work):
    lime = os.path.join(subprocess.run([os.path.join(QEMU, "fetch-lime.sh"), series_of(release)],
                                       check=True, stdout=subprocess.PIPE,
                                       text=True).stdout.strip(),
                        "debian", release, "lime-%s.ko" % release)
    barrier = Barrier()
    upload = AwsCliUpload(s3, "bench/reference/memory.lime.gz")
    text = (REFERENCE_SCRIPT.replace("@BARRIER@", str(barrier.port))
            .replace("@DATA@", str(upload.port)))
    initrd = build_initrd(work, kernel_dir, text, ["%s:/lime.ko" % lime])
    found = []

    def finish(guest):
        found.append(guest.wait_for(r"HASHES sha256=(\w+) md5=(\w+)", timeout=1800))
        hashed_at = time.monotonic()
        guest.wait_for(r"FLOW-DONE rc=0", timeout=60)
        upload.thread.join(1800)
        if upload.done_at is None:
            raise RuntimeError("aws s3 cp did not finish")
        return max(upload.done_at, hashed_at)
    seconds, lime_done, lines, dump = run_flow(kernel_dir, initrd, mem, work, barrier,
                                               r"LIME-DONE rc=(\d+)", finish)
    hashes = found[0]
    if int(lime_done.group(1)) != 0 or upload.rc != 0:
        raise RuntimeError("reference flow failed: insmod %s, aws %s %s"
                           % (lime_done.group(1), upload.rc, upload.stderr[-300:]))
    image = os.path.join(work, "image.lime.gz")
    with open(image, "wb") as f:
        f.write(s3.get(BUCKET, "bench/reference/memory.lime.gz"))
    plain = subprocess.run(["gzip", "-dc", image], check=True, stdout=subprocess.PIPE).stdout
    if hashlib.sha256(plain).hexdigest() != hashes.group(1):
        raise RuntimeError("stored object does not match the guest's sha256sum")
    del plain
    report = groundtruth.compare(image, dump, lines)
    return {"flow": "reference: LiME tcp | tee (gzip -6 | aws s3 cp) (md5sum) | sha256sum",
            "seconds": seconds, "stored": os.path.getsize(image),
            "ram": report["captured_bytes"], "identical": report["identical_fraction"],
            "hashes": "sha256 + md5 of the stream in the guest, none on the object"}


def series_of(release):
    for series in ("5.10", "6.12", "6.1"):
        if release.startswith(series + "."):
            return series
    raise ValueError(release)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", default="6.1", choices=("5.10", "6.1", "6.12"))
    parser.add_argument("--mem", type=int, default=512, help="guest RAM in MiB")
    parser.add_argument("--flows", default="agent,reference")
    args = parser.parse_args()
    kernel_dir = subprocess.run([os.path.join(QEMU, "fetch-kernel.sh"), args.series],
                                check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    release = open(os.path.join(kernel_dir, "release")).read().strip()
    runners = {"agent": run_agent, "reference": run_reference}
    rows = []
    with MotoServer(auth=True) as s3:
        s3.create_bucket(BUCKET)
        for flow in args.flows.split(","):
            work = tempfile.mkdtemp(prefix="bench-e2e-%s-" % flow)
            rows.append(runners[flow](s3, kernel_dir, release, args.mem, work))
            subprocess.run(["rm", "-rf", work])
    print("guest: Debian %s (%s), %d MiB, 1 vCPU under QEMU TCG; S3: moto with SigV4 checking"
          % (args.series, release, args.mem))
    print()
    print("| flow | capture to object, s | MB/s of RAM | stored bytes | identical pages | hashes |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print("| %s | %.1f | %.1f | %d | %.2f%% | %s |"
              % (r["flow"], r["seconds"], r["ram"] / 1e6 / r["seconds"], r["stored"],
                 100 * r["identical"], r["hashes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
