#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""acquire end to end on this host, reading a synthetic memory file.

The `file` source reads a padded image as if it were /dev/mem, so the whole
pipeline (iomem, capture, LiME, zstd, both hashes, manifest, bundle, exit
codes) runs for real without needing a kernel source this host lacks.
Checks use independent tools: python's hashlib, the zstd CLI, tarfile.
"""
import hashlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

from common import AGENT, Suite, error_records, one_error
from imds_fake import FakeIMDS

# Never reach a real metadata service from a test machine; the IMDS cases
# below point the agent at their own local server instead.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
LIME_MAGIC = 0x4C694D45

IOMEM = """00000000-00000fff : Reserved
00001000-0009fbff : System RAM
000a0000-000fffff : Reserved
00100000-03ffffff : System RAM
  01000000-01ffffff : Kernel code
04000000-04ffffff : PCI Bus 0000:00
"""
RAM = [(0x1000, 0x9FBFF), (0x100000, 0x3FFFFFF)]

suite = Suite("acquire")


def make_memory(path, size):
    """Pages of zeros, text, noise and a counter: each page's content says where it is."""
    with open(path, "wb") as f:
        for page in range(size // 4096):
            kind = page % 4
            if kind == 0:
                data = bytes(4096)
            elif kind == 1:
                data = (b"page %08x text text text\n" % page) * 140
                data += bytes(4096 - len(data))
            elif kind == 2:
                data = hashlib.sha256(b"%d" % page).digest() * 128
            else:
                data = struct.pack("<Q", page) * 512
            f.write(data)


def parse_lime(data):
    ranges, off = [], 0
    while off < len(data):
        magic, version, start, end, reserved = struct.unpack_from("<IIQQQ", data, off)
        assert magic == LIME_MAGIC and version == 1 and reserved == 0, f"bad header at {off}"
        off += 32
        ranges.append((start, end, data[off:off + end - start + 1]))
        off += end - start + 1
    assert off == len(data), "trailing bytes"
    return ranges


def run_agent(args, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([AGENT, *args], stderr=subprocess.PIPE, timeout=120, **kw)


tmp = tempfile.mkdtemp(prefix="acquire-test.")
memory = os.path.join(tmp, "memory.raw")
iomem = os.path.join(tmp, "iomem")
make_memory(memory, 0x4000000)
with open(iomem, "w") as f:
    f.write(IOMEM)
with open(memory, "rb") as f:
    MEMORY = f.read()
BASE = ["acquire", "--source", "file", "--source-path", memory, "--iomem", iomem,
        "--log-format", "json"]


@suite.case("file image: LiME ranges equal memory, hashes and manifest agree")
def test_file_image():
    out = os.path.join(tmp, "img1.lime.zst")
    p = run_agent(BASE + ["--output", out, "--case", "CASE-1", "--threads", "2", "--level", "1"])
    assert p.returncode == 0, p.stderr.decode()
    compressed = open(out, "rb").read()
    plain = subprocess.run(["zstd", "-dc", out], capture_output=True, check=True).stdout
    ranges = parse_lime(plain)
    assert [(s, e) for s, e, _ in ranges] == RAM
    for start, end, data in ranges:
        assert data == MEMORY[start:end + 1], f"range {start:#x} differs"
    m = json.load(open(out + ".manifest.json"))
    assert m["schema"] == "forensics-agent/manifest/v1"
    assert m["case_id"] == "CASE-1"
    img = m["image"]
    assert img["sha256_uncompressed"] == hashlib.sha256(plain).hexdigest()
    assert img["sha256_compressed"] == hashlib.sha256(compressed).hexdigest()
    assert img["uncompressed_bytes"] == len(plain)
    assert img["compressed_bytes"] == len(compressed)
    assert [(int(r["start"], 16), int(r["end"], 16)) for r in img["ranges"]] == RAM
    assert img["ram_bytes"] == sum(e - s + 1 for s, e in RAM)
    assert m["unreadable"] == []
    assert m["source"]["name"] == "file"
    assert any(e["name"] == "Kernel code" and e["depth"] == 1 for e in m["iomem"])
    for key in ("hostname", "uname", "kernel_banner", "boot_id"):
        assert m["host"][key], key
    assert m["host"]["ec2"] is None and "disabled" in m["host"]["ec2_error"]
    # The last log line carries the same manifest for log collectors (SSM).
    last = json.loads(p.stderr.decode().splitlines()[-1])
    assert last["event"] == "manifest"
    assert last["manifest"]["image"]["sha256_uncompressed"] == img["sha256_uncompressed"]


@suite.case("analysis bundle holds what the manifest lists, with matching hashes")
def test_bundle():
    out = os.path.join(tmp, "img1.lime.zst")
    m = json.load(open(out + ".manifest.json"))
    bundle = m["bundle"]
    raw = open(bundle["path"], "rb").read()
    assert hashlib.sha256(raw).hexdigest() == bundle["sha256"]
    tar = subprocess.run(["zstd", "-dc", bundle["path"]], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        names = {member.name: t.extractfile(member).read() for member in t.getmembers()}
    listed = [f for f in bundle["files"] if "sha256" in f]
    assert any(f["name"] == "proc/version" for f in listed)
    for f in listed:
        assert hashlib.sha256(names[f["name"]]).hexdigest() == f["sha256"], f["name"]
    kallsyms = [f for f in bundle["files"] if f["name"] == "proc/kallsyms"][0]
    if os.geteuid() == 0:
        # Root sees addresses at 0 and 1: kptr_restrict is left as found.
        want = {"found": int(KPTR_BEFORE)}
        if KPTR_BEFORE == "2":
            want = {"found": 2, "lowered_to": 1, "restored": True}
        assert kallsyms["kptr_restrict"] == want, kallsyms
    if "sha256" in kallsyms and os.geteuid() == 0:
        assert not names["proc/kallsyms"].startswith(b"0000000000000000"), "addresses hidden"
    with open(KPTR) as f:
        assert f.read().strip() == KPTR_BEFORE, "kptr_restrict changed"


@suite.case("kptr_restrict 2 (hides addresses from root): lowered to 1 for the read, restored")
def test_kptr_restrict_2():
    if os.geteuid() != 0 or not os.access(KPTR, os.W_OK):
        print("  skipped: kptr_restrict not writable here")
        return
    out = os.path.join(tmp, "kptr2.lime.zst")
    try:
        with open(KPTR, "w") as f:
            f.write("2\n")
        p = run_agent(BASE + ["--output", out])
        with open(KPTR) as f:
            after = f.read().strip()
    finally:
        with open(KPTR, "w") as f:
            f.write(KPTR_BEFORE + "\n")
    assert p.returncode == 0, p.stderr.decode()
    assert after == "2", f"kptr_restrict {after} after the agent, not put back to 2"
    m = json.load(open(out + ".manifest.json"))
    kallsyms = [f for f in m["bundle"]["files"] if f["name"] == "proc/kallsyms"][0]
    assert kallsyms["kptr_restrict"] == {"found": 2, "lowered_to": 1, "restored": True}, kallsyms
    tar = subprocess.run(["zstd", "-dc", m["bundle"]["path"]], capture_output=True,
                         check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        text = t.extractfile("proc/kallsyms").read()
    assert not text.startswith(b"0000000000000000"), "addresses hidden at 1"


@suite.case("uncompressed stdout stream equals memory; manifest only in the log")
def test_stdout_plain():
    p = run_agent(BASE + ["--no-compress"])
    assert p.returncode == 0, p.stderr.decode()
    ranges = parse_lime(p.stdout)
    assert [(s, e) for s, e, _ in ranges] == RAM
    last = json.loads(p.stderr.decode().splitlines()[-1])
    img = last["manifest"]["image"]
    assert img["sha256_uncompressed"] == hashlib.sha256(p.stdout).hexdigest()
    assert img["compression"] == "none" and img["sha256_compressed"] is None
    assert last["manifest"]["bundle"] is None


@suite.case("memory the source cannot read is zero-filled and reported")
def test_unreadable_zero_filled():
    short = os.path.join(tmp, "short.raw")
    with open(short, "wb") as f:
        f.write(MEMORY[:0x2000000])  # RAM goes to 0x3ffffff: the rest fails to read
    args = [a if a != memory else short for a in BASE]
    p = run_agent(args + ["--no-compress"])
    assert p.returncode == 0, p.stderr.decode()
    ranges = parse_lime(p.stdout)
    start, end, data = ranges[1]
    assert data[:0x2000000 - start] == MEMORY[start:0x2000000]
    assert data[0x2000000 - start:] == bytes(end - 0x2000000 + 1)
    m = json.loads(p.stderr.decode().splitlines()[-1])["manifest"]
    assert [(int(u["start"], 16), int(u["end"], 16)) for u in m["unreadable"]] == [(0x2000000, 0x3FFFFFF)]
    assert m["image"]["bytes_zero_filled"] == 0x2000000
    assert any(r["event"] == "unreadable" for r in map(json.loads, p.stderr.decode().splitlines()))


def expect_error(args, code, words, **kw):
    one_error(run_agent(args, **kw), code, *words)


@suite.case("bad flags: one error line, exit 2")
def test_usage():
    expect_error(["acquire", "--log-format", "json", "--bogus"], 2, ["--bogus"])
    expect_error(["acquire", "--log-format", "json", "--level", "99", "-o", "-"], 2, ["--level"])
    expect_error(["acquire", "--log-format", "json", "--source", "floppy"], 2, ["floppy"])
    expect_error(["acquire", "--log-format", "json", "--chunk-size", "1000"], 2, ["--chunk-size"])
    expect_error(["acquire", "--log-format", "json", "--output"], 2, ["needs a value"])
    p = run_agent(["frobnicate"])
    assert p.returncode == 2


@suite.case("unreadable source: exit 3 naming the source")
def test_no_source():
    args = ["acquire", "--source", "file", "--source-path", os.path.join(tmp, "absent"),
            "--iomem", iomem, "--log-format", "json", "-o", "-"]
    p = run_agent(args)
    assert p.returncode == 3, p.stderr.decode()
    recs = [json.loads(line) for line in p.stderr.decode().splitlines()]
    assert any("absent" in r["msg"] for r in recs if r["level"] == "warning")
    assert len(error_records(p.stderr)) == 1


@suite.case("iomem hidden or malformed: exit 9")
def test_bad_iomem():
    hidden = os.path.join(tmp, "hidden-iomem")
    with open(hidden, "w") as f:
        f.write("00000000-00000000 : System RAM\n")
    expect_error(["acquire", "--iomem", hidden, "--log-format", "json", "-o", "-"], 9, ["hidden"])
    with open(hidden, "w") as f:
        f.write("garbage\n")
    expect_error(["acquire", "--iomem", hidden, "--log-format", "json", "-o", "-"], 9, ["malformed"])


@suite.case("existing output is never overwritten: exit 4")
def test_no_overwrite():
    out = os.path.join(tmp, "img1.lime.zst")
    before = open(out, "rb").read()
    expect_error(BASE + ["--output", out], 4, ["exists"])
    assert open(out, "rb").read() == before


@suite.case("full disk: exit 4, only a .partial file")
def test_full_disk():
    mnt = os.path.join(tmp, "small")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
    try:
        out = os.path.join(mnt, "img.lime")
        expect_error(BASE + ["--no-compress", "--output", out], 4, ["No space left"])
        assert not os.path.exists(out) and not os.path.exists(out + ".manifest.json")
        assert os.path.exists(out + ".partial")
    finally:
        subprocess.run(["umount", mnt], check=True)


@suite.case("stdout on a full device: exit 4")
def test_dev_full():
    with open("/dev/full", "wb") as full:
        expect_error(BASE, 4, ["No space left"], stdout=full)


@suite.case("closed stdout (reader went away): exit 4")
def test_closed_pipe():
    p = subprocess.Popen([AGENT, *BASE, "--no-compress"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.read(1000)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == 4, err.decode()
    assert "Broken pipe" in error_records(err)[0]["msg"]


@suite.case("SIGTERM and SIGINT mid-capture: exit 5, nothing looks complete")
def test_signals():
    for sig in (signal.SIGTERM, signal.SIGINT):
        out = os.path.join(tmp, f"sig{int(sig)}.lime")
        # A stalled reader keeps the agent mid-capture when the signal lands.
        r, w = os.pipe()
        p = subprocess.Popen([AGENT, *BASE, "--no-compress", "--output", "-"], stdout=w,
                             stderr=subprocess.PIPE)
        os.close(w)
        os.read(r, 4096)
        time.sleep(0.3)
        p.send_signal(sig)
        err = p.stderr.read()
        rc = p.wait(timeout=30)
        os.close(r)
        assert rc == 5, f"{sig!r}: exit {rc}: {err.decode()}"
        errs = error_records(err)
        assert len(errs) == 1 and "signal" in errs[0]["msg"]
        # And to a file: the image keeps its .partial name.
        p = subprocess.Popen([AGENT, *BASE, "--no-compress", "--chunk-size", "4096",
                              "--output", out], stderr=subprocess.PIPE)
        p.stderr.readline()  # the handlers are in place once it logs (slower under ASan)
        p.send_signal(sig)
        p.stderr.read()
        rc = p.wait(timeout=30)
        if rc == 0:  # finished before the signal: nothing to check on this run
            continue
        assert rc == 5, rc
        assert not os.path.exists(out) and not os.path.exists(out + ".manifest.json")


def manifest_with_imds(imds):
    p = run_agent(BASE + ["--no-compress"], env=imds.env(os.environ))
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stderr.decode().splitlines()[-1])["manifest"]


@suite.case("EC2 identity from IMDSv2 (token first) lands in the manifest")
def test_imds_identity():
    with FakeIMDS() as imds:
        m = manifest_with_imds(imds)
    assert m["host"]["ec2"] == FakeIMDS.DOCUMENT, m["host"]
    assert "ec2_error" not in m["host"]
    assert [r[0] for r in imds.requests] == ["PUT", "GET"], imds.requests


@suite.case("IMDS that refuses a token: ec2 null, reason recorded, capture unaffected")
def test_imds_refused():
    with FakeIMDS(refuse_tokens=True) as imds:
        m = manifest_with_imds(imds)
    assert m["host"]["ec2"] is None
    assert "HTTP 403" in m["host"]["ec2_error"], m["host"]["ec2_error"]
    # Never falls back to IMDSv1 (a GET without a token).
    assert [r[0] for r in imds.requests] == ["PUT"], imds.requests


KPTR = "/proc/sys/kernel/kptr_restrict"
with open(KPTR) as f:
    KPTR_BEFORE = f.read().strip()
suite.run_all()
subprocess.run(["rm", "-rf", tmp])
sys.exit(suite.finish())
