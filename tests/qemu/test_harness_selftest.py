#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Quick checks of the QEMU harness pieces that need no guest (seconds).

An oracle that accepts anything would make every capture test pass, so
this feeds groundtruth.py good and deliberately broken captures, checks
that its pattern generator agrees with plant.c byte for byte, and that the
manifest parsing of test_capture_kcore.py finds the hashes.  Exit 0 when
all pass; prints "N passed, N failed".
"""

import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import groundtruth  # noqa: E402
import initramfs  # noqa: E402
import test_capture_kcore  # noqa: E402

PAGE = 4096
SEED = 0x0123456789ABCDEF
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print("%s %s%s" % ("ok  " if condition else "FAIL", name,
                       "" if condition else ": %s" % (detail,)))


def lime(ranges):
    """ranges: [(start, bytes)] -> LiME stream."""
    out = b""
    for start, data in ranges:
        out += struct.pack("<IIQQ8s", 0x4C694D45, 1, start,
                           start + len(data) - 1, bytes(8)) + data
    return out


def make_dump(tmp, pages, planted):
    """A fake pmemsave: pseudo-random pages, planted ones at their pfn."""
    dump = bytearray(os.urandom(pages * PAGE))
    for index, pfn in planted.items():
        dump[pfn * PAGE:(pfn + 1) * PAGE] = groundtruth.expected_plant_page(SEED, index)
    path = os.path.join(tmp, "dump.bin")
    with open(path, "wb") as f:
        f.write(dump)
    return path, bytes(dump)


def console_for(planted, ram):
    lines = ["PLANT-CONFIG seed=0x%016x pages=%d page_size=4096" % (SEED, len(planted))]
    lines += ["PLANT %d %x" % kv for kv in sorted(planted.items())]
    lines.append("PLANT-READY %d" % len(planted))
    lines += ["IOMEM %08x-%08x : System RAM" % r for r in ram]
    return lines


def judge(tmp, stream, dump, console, name="capture.lime"):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(stream)
    report = groundtruth.compare(path, dump, console)
    return groundtruth.judge(report, 0.99, 0.99, need_plant=True), report


def test_oracle(tmp):
    pages = 512
    planted = {0: 7, 1: 300, 2: 500}
    ram = [(0x1000, 0x9FFFF), (0x100000, pages * PAGE - 1)]
    dump_path, dump = make_dump(tmp, pages, planted)
    console = console_for(planted, ram)
    good = [(0x1000, dump[0x1000:0xA0000]), (0x100000, dump[0x100000:])]

    ok, report = judge(tmp, lime(good), dump_path, console)
    check("exact capture passes", ok, report["failures"])
    check("exact capture: all pages identical",
          report["identical"] == report["pages"] == 159 + 256)
    check("exact capture: planted pages found", report["plant_found"] == 3,
          report["plant_found"])

    with open(os.path.join(tmp, "c.zst"), "wb") as f:
        f.write(subprocess.run(["zstd", "-q", "-c"], input=lime(good),
                               stdout=subprocess.PIPE, check=True).stdout)
    report = groundtruth.compare(os.path.join(tmp, "c.zst"), dump_path, console)
    check("zstd capture passes", groundtruth.judge(report, need_plant=True),
          report["failures"])
    check("zstd capture hash is of the uncompressed stream",
          report["sha256_uncompressed"] ==
          __import__("hashlib").sha256(lime(good)).hexdigest())
    ok, report = judge(tmp, gzip.compress(lime(good)), dump_path, console,
                       "c.gz")
    check("gzip capture passes", ok, report["failures"])

    # A planted page shifted by one page: right bytes, wrong address.
    moved = bytearray(dump)
    moved[301 * PAGE:302 * PAGE] = dump[300 * PAGE:301 * PAGE]
    moved[300 * PAGE:301 * PAGE] = bytes(PAGE)
    bad = [(0x1000, dump[0x1000:0xA0000]), (0x100000, bytes(moved[0x100000:]))]
    ok, report = judge(tmp, lime(bad), dump_path, console)
    check("planted page at wrong address fails",
          not ok and report["plant_bad"] == [(1, 300)], report["plant_bad"])

    # Too many changed pages.
    churned = bytearray(dump)
    for pfn in range(0x100, 0x100 + 5):
        churned[pfn * PAGE] ^= 0xFF
    bad = [(0x1000, dump[0x1000:0xA0000]), (0x100000, bytes(churned[0x100000:]))]
    ok, report = judge(tmp, lime(bad), dump_path, console)
    check("1.2% changed pages fails", not ok and report["identical"] == 410,
          report["identical"])

    # Leaving memory out must not pass on the identical ratio alone.
    ok, report = judge(tmp, lime(good[1:]), dump_path, console)
    check("missing low RAM range fails coverage",
          not ok and any("coverage" in f for f in report["failures"]),
          report["failures"])

    for label, stream in (
            ("bad magic", b"XXXX" + lime(good)[4:]),
            ("truncated data", lime(good)[:-10]),
            ("truncated header", lime(good) + b"\x45\x4d"),
            ("overlapping ranges", lime([good[1], (0x100000, dump[0x100000:0x101000])])),
            ("descending ranges", lime([good[1], good[0]])),
            ("end before start", struct.pack("<IIQQ8s", 0x4C694D45, 1, 0x2000,
                                             0x1000, bytes(8)))):
        ok, report = judge(tmp, stream, dump_path, console)
        check("malformed LiME rejected: " + label,
              not ok and any("malformed" in f for f in report["failures"]),
              report["failures"])

    # Pages that changed during the capture do not count against the
    # stable-page figure; a stable page captured wrong does.
    start_path = os.path.join(tmp, "start.bin")
    before = bytearray(dump)
    for pfn in range(0x110, 0x110 + 10):
        before[pfn * PAGE:(pfn + 1) * PAGE] = os.urandom(PAGE)
    with open(start_path, "wb") as f:
        f.write(before)
    midway = bytearray(dump)
    for pfn in range(0x110, 0x110 + 10):
        midway[pfn * PAGE + 8] ^= 1    # neither the start nor the end value
    capture = os.path.join(tmp, "midway.lime")
    with open(capture, "wb") as f:
        f.write(lime([(0x1000, dump[0x1000:0xA0000]),
                      (0x100000, bytes(midway[0x100000:]))]))
    report = groundtruth.compare(capture, dump_path, console, start_path)
    check("churned pages leave the stable figure at 100%",
          report["stable"] == 405 and report["stable_fraction"] == 1.0,
          (report["stable"], report.get("stable_fraction")))
    check("churned pages still count against the identical figure",
          report["identical"] == 405 and not groundtruth.judge(
              report, need_plant=True), report["identical"])
    midway[0x120 * PAGE] ^= 1
    with open(capture, "wb") as f:
        f.write(lime([(0x1000, dump[0x1000:0xA0000]),
                      (0x100000, bytes(midway[0x100000:]))]))
    report = groundtruth.compare(capture, dump_path, console, start_path)
    check("a wrong stable page lowers the stable figure",
          report["stable_identical"] == 404
          and report["stable_bad_ranges"] == [[0x120000, 0x120fff]],
          report["stable_bad_ranges"])

    lossy = console_for(planted, ram)
    del lossy[2]
    ok, report = judge(tmp, lime(good), dump_path, lossy)
    check("lost PLANT console line fails", not ok, report["failures"])


def test_plant_pattern(tmp):
    """plant.c run on this host writes what groundtruth regenerates."""
    binary = os.path.join(tmp, "plant")
    subprocess.run([os.environ.get("CC", "gcc"), "-static", "-O2", "-Wall",
                    "-Wextra", "-Werror", "-o", binary,
                    os.path.join(HERE, "plant.c")], check=True)
    ready = os.path.join(tmp, "ready")
    proc = subprocess.Popen([binary, "-s", hex(SEED), "-r", ready, "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(ready) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            # Without CAP_SYS_ADMIN pagemap hides PFNs and plant refuses.
            check("plant runs (needs root)", False, proc.stderr.read().decode())
            return
        with open("/proc/%d/maps" % proc.pid) as f:
            maps = f.read().splitlines()
        data = None
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if hi - lo == 4 * PAGE and " rw-p " in line:
                with open("/proc/%d/mem" % proc.pid, "rb") as mem:
                    mem.seek(lo)
                    data = mem.read(4 * PAGE)
        check("plant mapping found", data is not None)
        if data is not None:
            check("plant pages match the oracle's regeneration",
                  all(data[i * PAGE:(i + 1) * PAGE] ==
                      groundtruth.expected_plant_page(SEED, i) for i in range(4)))
    finally:
        proc.kill()
        out = proc.communicate()[0].decode()
    lines = out.splitlines()
    check("plant prints config, 4 pages, ready",
          lines[0].startswith("PLANT-CONFIG seed=0x0123456789abcdef pages=4")
          and len([l for l in lines if l.startswith("PLANT ")]) == 4
          and lines[-1] == "PLANT-READY 4", out)


def test_manifest_parsing():
    lines = [
        '{"event":"start"}',
        '[   12.3] noise {"event":"manifest","sha256_compressed":"AB"}',
        '{"event":"manifest","manifest":{"sha256_uncompressed":"cd"}}',
    ]
    manifest = test_capture_kcore.agent_manifest(lines)
    check("last manifest line wins", manifest and "manifest" in manifest)
    check("nested hash found",
          test_capture_kcore.find_hash(manifest, "sha256_uncompressed") == "cd")
    check("absent hash is None",
          test_capture_kcore.find_hash(manifest, "sha256_compressed") is None)
    agent_style = test_capture_kcore.agent_manifest([
        '{"ts":"x","level":"info","event":"manifest","msg":"capture complete",'
        '"manifest":{"image":{"sha256_uncompressed":"EF","sha256_compressed":null}}}'])
    check("hash two levels down found",
          test_capture_kcore.find_hash(agent_style, "sha256_uncompressed") == "ef")
    check("null hash is absent",
          test_capture_kcore.find_hash(agent_style, "sha256_compressed") is None)
    check("flat hash found, lower-cased", test_capture_kcore.find_hash(
        test_capture_kcore.agent_manifest(lines[:2]), "sha256_compressed") == "ab")


def test_cpio(tmp):
    """The initramfs writer produces something cpio can list."""
    staging = os.path.join(tmp, "staging")
    os.makedirs(os.path.join(staging, "bin"))
    with open(os.path.join(staging, "bin", "x"), "w") as f:
        f.write("hello")
    os.symlink("x", os.path.join(staging, "bin", "y"))
    out = os.path.join(tmp, "i.gz")
    initramfs.pack(staging, out)
    busybox = shutil.which("busybox")
    if not busybox:
        check("busybox present to list the cpio", False)
        return
    listing = subprocess.run([busybox, "cpio", "-t"], input=gzip.open(out).read(),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
    check("cpio lists files, symlink and device nodes",
          all(n in listing.split() for n in ("bin/x", "bin/y", "dev/console", "dev/null")),
          listing)


def main():
    tmp = tempfile.mkdtemp(prefix="qemu-harness-selftest-")
    try:
        test_oracle(tmp)
        test_plant_pattern(tmp)
        test_manifest_parsing()
        test_cpio(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
