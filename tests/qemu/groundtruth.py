#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Judge a LiME capture against the hypervisor's copy of guest memory.

    groundtruth.py CAPTURE DUMP [--start-dump DUMP0] [--console LOG]
                   [--min-identical 0.99] [--min-coverage 0.99]
                   [--min-stable 0.995] [--json OUT]

CAPTURE is a LiME file, uncompressed or zstd-compressed (.zst, or anything
starting with the zstd magic: it is piped through `zstd -dc`); gzip is also
accepted, for the harness's stand-in agent.  DUMP is the
output of QMP pmemsave from address 0, so file offset == physical address.

DUMP0, if given, is a pmemsave taken just before the capture started.  A
page equal in DUMP0 and DUMP mostly did not change while the capture ran,
so the capture should match it: those "stable" pages measure correctness
apart from the guest's own churn (kernel bookkeeping, the capturing
process's buffers), which no capture of a running system avoids and which
the plain identical ratio mixes in.  Not all: a page can go A-B-A, e.g. a
free zeroed page used as a page table or buffer during the capture and
zeroed again on release (seen: ~0.1% of pages), hence a threshold below 1.

The LiME parser here is written from the format description on purpose and
shares nothing with the agent, so the two cannot be wrong the same way.

Checks, each a failure if not met:
  * the stream is well-formed LiME: every range a 32-byte header (u32 magic
    0x4C694D45, u32 version 1, u64 start, u64 end inclusive, 8 zero bytes)
    followed by exactly end-start+1 bytes; ranges ascending, disjoint;
  * identical 4 KiB pages (captured vs dump) >= --min-identical overall;
  * with DUMP0: identical stable pages >= --min-stable of stable pages;
  * with --console: the captured ranges cover >= --min-coverage of the
    guest's System RAM (from "IOMEM <start>-<end> : System RAM" lines), so
    a capture cannot pass by leaving memory out;
  * with --console: every page plant announced ("PLANT <index> <pfn>") is
    in the capture at exactly pfn*4096 with the expected bytes, and in the
    dump too (otherwise the harness, not the capture, is broken).
Exit status 0 when all hold, 1 otherwise.
"""

import argparse
import gzip
import hashlib
import json
import mmap
import os
import re
import struct
import subprocess
import sys

PAGE = 4096
LIME_MAGIC = 0x4C694D45
LIME_HEADER = struct.Struct("<IIQQ8s")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
PLANT_GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
ZERO_PAGE = bytes(PAGE)


class LimeError(Exception):
    pass


def open_capture(path):
    """A readable binary stream of the uncompressed LiME bytes, and the
    process to reap (None when no decompression)."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if path.endswith(".zst") or magic == ZSTD_MAGIC:
        proc = subprocess.Popen(["zstd", "-dc", path], stdout=subprocess.PIPE)
        return proc.stdout, proc
    if magic[:2] == GZIP_MAGIC:
        return gzip.open(path, "rb"), None
    return open(path, "rb"), None


def read_exact(stream, n):
    parts, left = [], n
    while left:
        chunk = stream.read(min(left, 1 << 22))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


_expected_cache = {}


def expected_plant_page(seed, index):
    """The bytes plant.c writes to page `index` (see its layout comment)."""
    key = (seed, index)
    if key not in _expected_cache:
        _expected_cache[key] = _generate_plant_page(seed, index)
    return _expected_cache[key]


def _generate_plant_page(seed, index):
    state = (seed ^ (index * PLANT_GOLDEN)) & MASK64
    if not state:
        state = PLANT_GOLDEN
    words = []
    for _ in range(PAGE // 8 - 2):
        state ^= (state << 13) & MASK64
        state ^= state >> 7
        state ^= (state << 17) & MASK64
        words.append(state)
    return b"PLANTPAT" + struct.pack("<Q", index) + struct.pack(
        "<%dQ" % len(words), *words)


def parse_console(lines):
    """Plant announcements and System RAM ranges from console lines."""
    plant = {"seed": None, "pages": None, "ready": None, "pfns": {},
             "moved": []}
    ram = []
    cfg = re.compile(r"PLANT-CONFIG seed=(0x[0-9a-fA-F]+) pages=(\d+)")
    page = re.compile(r"PLANT (\d+) ([0-9a-fA-F]+)\s*$")
    ready = re.compile(r"PLANT-READY (\d+)")
    moved = re.compile(r"PLANT-MOVED (\d+) ([0-9a-fA-F]+) ([0-9a-fA-F]+)")
    iomem = re.compile(r"IOMEM ([0-9a-fA-F]+)-([0-9a-fA-F]+) : System RAM")
    for line in lines:
        m = cfg.search(line)
        if m:
            plant["seed"], plant["pages"] = int(m.group(1), 16), int(m.group(2))
            continue
        m = ready.search(line)
        if m:
            plant["ready"] = int(m.group(1))
            continue
        m = moved.search(line)
        if m:
            plant["moved"].append(m.groups())
            continue
        m = page.search(line)
        if m:
            plant["pfns"][int(m.group(1))] = int(m.group(2), 16)
            continue
        m = iomem.search(line)
        if m:
            ram.append((int(m.group(1), 16), int(m.group(2), 16)))
    return plant, ram


def overlap_bytes(ranges_a, ranges_b):
    """Bytes in both lists of inclusive (start, end) ranges."""
    total = 0
    for a0, a1 in ranges_a:
        for b0, b1 in ranges_b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo <= hi:
                total += hi - lo + 1
    return total


def note_bad(runs, addr, n):
    """Collect wrong stable bytes as [start, end] address runs."""
    if runs and runs[-1][1] + 1 == addr:
        runs[-1][1] = addr + n - 1
    elif len(runs) < 1000:
        runs.append([addr, addr + n - 1])


def compare(capture_path, dump_path, console_lines=None, start_dump_path=None):
    plant, ram = parse_console(console_lines or [])
    planted_at = {pfn: index for index, pfn in plant["pfns"].items()}
    report = {
        "capture": capture_path, "dump": dump_path, "ranges": [],
        "pages": 0, "identical": 0, "zero_in_capture_only": 0,
        "beyond_dump_bytes": 0, "captured_bytes": 0,
        "stable": 0, "stable_identical": 0, "matches_start_only": 0,
        "stable_bad_ranges": [],
        "plant_expected": len(planted_at), "plant_found": 0,
        "plant_bad": [], "plant_missing_in_dump": [],
        "failures": [],
    }
    seen_plant = set()
    sha = hashlib.sha256()
    stream, proc = open_capture(capture_path)
    before_capture = None
    if start_dump_path:
        with open(start_dump_path, "rb") as sf:
            before_capture = mmap.mmap(sf.fileno(), 0, access=mmap.ACCESS_READ)
    with open(dump_path, "rb") as df:
        dump_size = os.fstat(df.fileno()).st_size
        dump = mmap.mmap(df.fileno(), 0, access=mmap.ACCESS_READ)
        if before_capture is not None and len(before_capture) != dump_size:
            raise ValueError("start and end dumps differ in size")
        prev_end = -1
        try:
            while True:
                raw = read_exact(stream, LIME_HEADER.size)
                if not raw:
                    break
                sha.update(raw)
                if len(raw) != LIME_HEADER.size:
                    raise LimeError("truncated header after %d ranges"
                                    % len(report["ranges"]))
                magic, version, start, end, reserved = LIME_HEADER.unpack(raw)
                where = "range %d" % len(report["ranges"])
                if magic != LIME_MAGIC:
                    raise LimeError("%s: bad magic %#x" % (where, magic))
                if version != 1:
                    raise LimeError("%s: version %d" % (where, version))
                if reserved != bytes(8):
                    raise LimeError("%s: reserved bytes not zero" % where)
                if end < start:
                    raise LimeError("%s: end %#x < start %#x" % (where, end, start))
                if start <= prev_end:
                    raise LimeError("%s: start %#x not above previous end %#x"
                                    % (where, start, prev_end))
                prev_end = end
                r = {"start": start, "end": end, "pages": 0, "identical": 0}
                addr = start
                left = end - start + 1
                while left:
                    # Walk physical pages: a range may start or end mid-page.
                    n = min(left, PAGE - addr % PAGE)
                    data = read_exact(stream, n)
                    if len(data) != n:
                        raise LimeError("%s: truncated at %#x" % (where, addr))
                    sha.update(data)
                    r["pages"] += 1
                    if addr + n <= dump_size:
                        truth = dump[addr:addr + n]
                        same = data == truth
                        if same:
                            r["identical"] += 1
                        elif n == PAGE and data == ZERO_PAGE:
                            report["zero_in_capture_only"] += 1
                        if before_capture is not None:
                            before = before_capture[addr:addr + n]
                            if before == truth:
                                report["stable"] += 1
                                if same:
                                    report["stable_identical"] += 1
                                else:
                                    note_bad(report["stable_bad_ranges"], addr, n)
                            elif data == before:
                                report["matches_start_only"] += 1
                    else:
                        report["beyond_dump_bytes"] += n
                    pfn = addr // PAGE
                    if n == PAGE and pfn in planted_at:
                        seen_plant.add(pfn)
                        index = planted_at[pfn]
                        if data == expected_plant_page(plant["seed"], index):
                            report["plant_found"] += 1
                        else:
                            report["plant_bad"].append((index, pfn))
                    addr += n
                    left -= n
                report["ranges"].append(r)
                report["pages"] += r["pages"]
                report["identical"] += r["identical"]
                report["captured_bytes"] += end - start + 1
        except LimeError as exc:
            report["failures"].append("malformed LiME: %s" % exc)
        finally:
            stream.close()
            if proc is not None and proc.wait() != 0:
                report["failures"].append("zstd -dc failed (rc=%d)" % proc.returncode)

        for pfn, index in sorted(planted_at.items(), key=lambda kv: kv[1]):
            if pfn not in seen_plant:
                report["plant_bad"].append((index, pfn))
            off = pfn * PAGE
            if dump[off:off + PAGE] != expected_plant_page(plant["seed"], index):
                report["plant_missing_in_dump"].append((index, pfn))
        dump.close()
    if before_capture is not None:
        before_capture.close()

    report["sha256_uncompressed"] = sha.hexdigest()
    report["identical_fraction"] = (report["identical"] / report["pages"]
                                    if report["pages"] else 0.0)
    if start_dump_path:
        report["stable_fraction"] = (report["stable_identical"] / report["stable"]
                                     if report["stable"] else 0.0)
        report["start_or_end_fraction"] = (
            (report["identical"] + report["matches_start_only"]) / report["pages"]
            if report["pages"] else 0.0)
    if ram:
        ram_bytes = sum(e - s + 1 for s, e in ram)
        covered = overlap_bytes(ram, [(r["start"], r["end"])
                                      for r in report["ranges"]])
        report["system_ram_bytes"] = ram_bytes
        report["ram_coverage"] = covered / ram_bytes
        report["captured_outside_ram_bytes"] = report["captured_bytes"] - covered
    report["plant"] = {k: plant[k] for k in ("seed", "pages", "ready", "moved")}
    return report


def judge(report, min_identical=0.99, min_coverage=0.99, need_plant=False,
          min_stable=0.995):
    """Append a failure for every unmet requirement; True when none."""
    fail = report["failures"]
    if not report["ranges"]:
        fail.append("capture holds no ranges")
    if report["identical_fraction"] < min_identical:
        fail.append("identical pages %.4f < %.4f"
                    % (report["identical_fraction"], min_identical))
    if "stable_fraction" in report and report["stable_fraction"] < min_stable:
        fail.append("identical stable pages %.5f < %.5f, first wrong runs %s"
                    % (report["stable_fraction"], min_stable,
                       ["%#x-%#x" % tuple(r) for r in report["stable_bad_ranges"][:5]]))
    if "ram_coverage" in report and report["ram_coverage"] < min_coverage:
        fail.append("System RAM coverage %.4f < %.4f"
                    % (report["ram_coverage"], min_coverage))
    plant = report["plant"]
    if need_plant and not report["plant_expected"]:
        fail.append("no PLANT lines to check")
    if plant["pages"] is not None and plant["ready"] != plant["pages"]:
        fail.append("plant announced %s pages but PLANT-READY said %s"
                    % (plant["pages"], plant["ready"]))
    if plant["pages"] is not None and report["plant_expected"] != plant["pages"]:
        fail.append("saw %d PLANT lines, expected %d (console lost lines?)"
                    % (report["plant_expected"], plant["pages"]))
    if plant["moved"]:
        fail.append("%d planted pages migrated during the test (harness)"
                    % len(plant["moved"]))
    if report["plant_missing_in_dump"]:
        fail.append("%d planted pages not in the pmemsave dump either "
                    "(harness bug), first %s"
                    % (len(report["plant_missing_in_dump"]),
                       report["plant_missing_in_dump"][:3]))
    if report["plant_bad"]:
        fail.append("%d planted pages missing or wrong in the capture, "
                    "first (index, pfn) %s"
                    % (len(report["plant_bad"]), report["plant_bad"][:3]))
    return not fail


def summary_lines(report):
    out = []
    for r in report["ranges"]:
        out.append("  range %#012x-%#012x  %7d/%7d pages identical (%.2f%%)"
                   % (r["start"], r["end"], r["identical"], r["pages"],
                      100.0 * r["identical"] / r["pages"] if r["pages"] else 0))
    out.append("  overall %d/%d pages identical = %.4f%%"
               % (report["identical"], report["pages"],
                  100.0 * report["identical_fraction"]))
    if "stable_fraction" in report:
        out.append("  pages unchanged during the capture: %d/%d identical = %.4f%%"
                   % (report["stable_identical"], report["stable"],
                      100.0 * report["stable_fraction"]))
        out.append("  identical to the start or the end snapshot: %.4f%%"
                   % (100.0 * report["start_or_end_fraction"]))
    if report["zero_in_capture_only"]:
        out.append("  %d differing pages are zero in the capture only"
                   % report["zero_in_capture_only"])
    if report["beyond_dump_bytes"]:
        out.append("  %d captured bytes lie beyond the dump"
                   % report["beyond_dump_bytes"])
    if "ram_coverage" in report:
        out.append("  System RAM covered %.4f%% (%d of %d bytes; %d captured "
                   "outside System RAM)"
                   % (100.0 * report["ram_coverage"],
                      round(report["ram_coverage"] * report["system_ram_bytes"]),
                      report["system_ram_bytes"],
                      report["captured_outside_ram_bytes"]))
    if report["plant_expected"]:
        out.append("  planted pages found at pfn*4096: %d/%d"
                   % (report["plant_found"], report["plant_expected"]))
    return out


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("capture")
    parser.add_argument("dump")
    parser.add_argument("--start-dump", help="pmemsave taken before the capture")
    parser.add_argument("--min-stable", type=float, default=0.995)
    parser.add_argument("--console", help="guest console log (PLANT/IOMEM lines)")
    parser.add_argument("--min-identical", type=float, default=0.99)
    parser.add_argument("--min-coverage", type=float, default=0.99)
    parser.add_argument("--json", help="write the full report here")
    args = parser.parse_args(argv[1:])

    lines = []
    if args.console:
        with open(args.console, errors="replace") as f:
            lines = f.read().splitlines()
    report = compare(args.capture, args.dump, lines, args.start_dump)
    ok = judge(report, args.min_identical, args.min_coverage,
               min_stable=args.min_stable)
    print("\n".join(summary_lines(report)))
    for failure in report["failures"]:
        print("FAIL: " + failure)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print("%s: %.4f%% identical, %d/%d planted pages"
          % ("PASS" if ok else "FAIL", 100.0 * report["identical_fraction"],
             report["plant_found"], report["plant_expected"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
