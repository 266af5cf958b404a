#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Kernel-module sources on this host: finding a module (a directory, an S3
store in moto with signature checking on), checking it (pinned SHA-256 from
flags, a file or S3; vermagic against this kernel) and falling through with
the reason, in order module -> lime -> ebpf -> kcore -> crash -> devmem.

This host's kernel loads no modules, so every case ends before
finit_module(); loading itself is proven in the guests
(tests/qemu/test_module_sources.py). The store's modules come from
`make modules` (built for the Debian kernels, never for this one).
"""
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import AGENT, BUILD, Suite, check, log_records  # noqa: E402
from s3env import MotoServer  # noqa: E402

STORE = os.path.join(BUILD, "modules")
RELEASE = os.uname().release
BUCKET = "forensics-modules"


# The ebpf source works on this host; automatic selection is made to fall
# through it by dropping the capabilities BPF needs (CAP_SYS_ADMIN too, so
# the RAM map comes from a file: /proc/iomem hides addresses without it).
NO_BPF = ["setpriv", "--bounding-set", "-bpf,-perfmon,-sys_admin", "--inh-caps", "-all"]


def acquire(env, tmp, *args, no_bpf=False):
    out = os.path.join(tmp, "image.lime")
    prefix = NO_BPF if no_bpf else []
    if no_bpf:
        iomem = os.path.join(tmp, "iomem")
        with open(iomem, "w") as f:
            f.write("00100000-001fffff : System RAM\n")
        args = ("--iomem", iomem, *args)
    p = subprocess.run([*prefix, AGENT, "acquire", "--log-format", "json", "--no-bundle",
                        "--path-style", "--output", out, *args], env=env, capture_output=True,
                       timeout=120)
    check(not os.path.exists(out), "an image was written although no source could open")
    return p


def reasons(p):
    """{source name: reason} from the 'source X unavailable: why' warnings, in order."""
    found = {}
    for r in log_records(p.stderr):
        msg = r.get("msg", "")
        if r.get("event") == "source" and msg.startswith("source ") and " unavailable: " in msg:
            name, why = msg[len("source "):].split(" unavailable: ", 1)
            found[name] = why
    return found


def refused(p, source, *words):
    """Exit 3 (no source), and source's reason holds every word."""
    check(p.returncode == 3, f"exit {p.returncode} != 3: {p.stderr.decode()[-500:]}")
    why = reasons(p).get(source)
    check(why is not None, f"no reason logged for {source}: {p.stderr.decode()[-500:]}")
    for w in words:
        check(w in why, f"{source}: {w!r} not in {why!r}")
    return why


def main():
    suite = Suite("modsource")
    sums = os.path.join(STORE, "SHA256SUMS")
    if not suite.require(AGENT, "make agent"):
        return suite.finish()
    if not os.path.exists(sums):
        suite.fail("module store", FileNotFoundError(f"{sums}: run `make modules`"))
        return suite.finish()
    pins = dict(line.split()[::-1] for line in open(sums).read().splitlines())
    foreign_rel = sorted(r.split("/")[0] for r in pins)[0]
    foreign = os.path.join(STORE, foreign_rel, "forensics_mem.ko")
    foreign_sha = pins[f"{foreign_rel}/forensics_mem.ko"]
    ko = open(foreign, "rb").read()
    check(hashlib.sha256(ko).hexdigest() == foreign_sha, "SHA256SUMS does not match the store")

    with MotoServer(auth=True) as s3:
        s3.create_bucket(BUCKET)
        env = dict(s3.env(), AWS_EC2_METADATA_DISABLED="true")
        tmp = tempfile.mkdtemp(prefix="test_modsource.")
        # A store keyed by this host's release holding a module built for
        # another kernel: what a mislabelled upload looks like.
        s3.put(BUCKET, f"modules/{RELEASE}/forensics_mem.ko", ko)
        s3.put(BUCKET, "modules/SHA256SUMS", f"{foreign_sha}  {RELEASE}/forensics_mem.ko\n".encode())
        s3.put(BUCKET, "other/SHA256SUMS", ("0" * 64 + "  x/forensics_mem.ko\n").encode())
        store = f"s3://{BUCKET}/modules/"

        @suite.case("S3 store, no pins at all: refused before parsing, reason says how to pin")
        def no_pins():
            p = acquire(env, tmp, "--source", "module", "--module-store", store)
            refused(p, "module", "no pinned SHA-256", "--module-pins")

        @suite.case("S3 store, its module not in the pinned list (pins from S3)")
        def not_pinned():
            p = acquire(env, tmp, "--source", "module", "--module-store", store,
                        "--module-pins", f"s3://{BUCKET}/other/SHA256SUMS")
            refused(p, "module", foreign_sha, "is not pinned")

        @suite.case("S3 store, pinned from S3: vermagic names another kernel")
        def wrong_kernel_from_s3():
            p = acquire(env, tmp, "--source", "module", "--module-store", store,
                        "--module-pins", f"s3://{BUCKET}/modules/SHA256SUMS")
            refused(p, "module", f"built for kernel {foreign_rel}", f"this is {RELEASE}",
                    f"{store}{RELEASE}/forensics_mem.ko")

        @suite.case("local store directory, pinned by flag: vermagic names another kernel")
        def wrong_kernel_local():
            d = os.path.join(tmp, "store", RELEASE)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "forensics_mem.ko"), "wb") as f:
                f.write(ko)
            p = acquire(env, tmp, "--source", "module", "--module-store",
                        os.path.join(tmp, "store"), "--module-sha256", foreign_sha.upper())
            refused(p, "module", f"built for kernel {foreign_rel}")

        @suite.case("a pinned file that is not a module: refused with the parser's reason")
        def garbage():
            bad = os.path.join(tmp, "garbage.ko")
            data = b"\x7fELF" + os.urandom(4000)
            with open(bad, "wb") as f:
                f.write(data)
            p = acquire(env, tmp, "--source", "module", "--module", bad, "--module-sha256",
                        hashlib.sha256(data).hexdigest())
            refused(p, "module", bad, "not an x86-64 kernel module")

        @suite.case("no module for this release in the store: says where it looked")
        def missing():
            p = acquire(env, tmp, "--source", "module", "--module-store", f"s3://{BUCKET}/none/")
            refused(p, "module", f"no module for kernel {RELEASE}",
                    f"s3://{BUCKET}/none/{RELEASE}/forensics_mem.ko",
                    f"/lib/modules/{RELEASE}/updates/dkms/forensics_mem.ko")

        @suite.case("pins that cannot be read: refused, the pins' location named")
        def pins_unreadable():
            p = acquire(env, tmp, "--source", "module", "--module", foreign, "--module-pins",
                        os.path.join(tmp, "no-such-pins"))
            refused(p, "module", "cannot read the pinned hashes", "no-such-pins")

        @suite.case("upstream LiME: no store given, and a store without this release")
        def lime_missing():
            p = acquire(env, tmp, "--source", "lime")
            refused(p, "lime", "no LiME store given")
            p = acquire(env, tmp, "--source", "lime", "--lime-store", f"s3://{BUCKET}/lime/")
            refused(p, "lime", f"lime/", f"/{RELEASE}/lime-{RELEASE}.ko")

        @suite.case("automatic order: module, lime, then ebpf, kcore, crash, devmem, each with a reason")
        def order():
            p = acquire(env, tmp, "--module-store", store, "--module-pins",
                        f"s3://{BUCKET}/modules/SHA256SUMS", no_bpf=True)
            check(p.returncode == 3, f"exit {p.returncode}")
            got = reasons(p)
            check(list(got)[:3] == ["module", "lime", "ebpf"], f"order {list(got)}")
            check("built for kernel" in got["module"], got["module"])
            errors = [r for r in log_records(p.stderr) if r["level"] == "error"]
            check(len(errors) == 1 and "no memory source" in errors[0]["msg"], errors)

        @suite.case("--no-modules skips both; flags that contradict or are malformed: exit 2")
        def flags():
            p = acquire(env, tmp, "--no-modules", "--module-store", store, no_bpf=True)
            check(p.returncode == 3 and "module" not in reasons(p), reasons(p))
            for args in (("--module-sha256", "xyz"), ("--no-modules", "--source", "module"),
                         ("--source", "lime", "--source-path", "/dev/mem"),
                         ("--source", "nonsense")):
                p = acquire(env, tmp, *args)
                check(p.returncode == 2, f"{args}: exit {p.returncode}")
                errors = [r for r in log_records(p.stderr) if r["level"] == "error"]
                check(len(errors) == 1, f"{args}: {errors}")

        @suite.case("--lime-params may not set what the agent sets or what changes the stream")
        def lime_params():
            for params, name in (("localhostonly=0", "localhostonly"),
                                 ("timeout=0 path=/tmp/dump", "path"),
                                 ('"path=/tmp/x y"', "path"), ("format=raw", "format"),
                                 ("dio=1", "dio"), ("digest=sha1", "digest"),
                                 ("compress=1", "compress")):
                p = acquire(env, tmp, "--source", "lime", "--lime-store", store,
                            "--lime-params", params)
                check(p.returncode == 2, f"{params}: exit {p.returncode}")
                errors = [r for r in log_records(p.stderr) if r["level"] == "error"]
                check(len(errors) == 1 and f"may not set {name}" in errors[0]["msg"],
                      f"{params}: {errors}")
            # What it may set still reaches the source (refused later, for the store).
            p = acquire(env, tmp, "--source", "lime", "--lime-store", f"s3://{BUCKET}/lime/",
                        "--lime-params", "timeout=0 pathological=1")
            refused(p, "lime", f"/{RELEASE}/lime-{RELEASE}.ko")

        suite.run_all()
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
