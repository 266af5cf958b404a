#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The ebpf memory source on this host's own kernel, as root.

plant (tests/qemu/plant.c) pins pages of a pattern regenerable from a seed
and prints their physical addresses from /proc/self/pagemap. The agent then
captures, with `--source ebpf`, only the 2 MiB of RAM around each of them
(an --iomem file listing just those windows), and every pattern must sit at
exactly the physical address pagemap named. Also: how the direct map was
found is in the manifest; automatic selection picks ebpf first; RAM pages
the kernel took out of its direct map (memfd_secret) fail in the BPF read,
are retried page by page, zero-filled and reported while the rest of their
window is captured; memory past the end of RAM is zero-filled and reported,
never fatal; a BPF read of an unmapped kernel address comes back as an error
per page; without CAP_BPF and CAP_SYS_ADMIN the source says why and the
agent falls through.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

from common import AGENT, BUILD, ROOT, Failure, Suite, check, log_records

sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
import groundtruth  # noqa: E402

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
PAGE = 4096
WINDOW = 2 << 20
PLANT_PAGES = 64
LIME_HEADER = struct.Struct("<IIQQQ")
LIME_MAGIC = 0x4C694D45
EBPF_READ = os.path.join(BUILD, "tools", "ebpf-read")
SECRET_PAGES = os.path.join(BUILD, "tools", "secret-pages")
COMPACT_KNOB = "/proc/sys/vm/compact_unevictable_allowed"

suite = Suite("ebpf_source", timed=True)


def lime_ranges(path):
    """[(start, end, bytes)] of a (zstd-compressed) LiME image."""
    stream, proc = groundtruth.open_capture(path)
    ranges = []
    while True:
        header = groundtruth.read_exact(stream, LIME_HEADER.size)
        if not header:
            break
        magic, version, start, end, _ = LIME_HEADER.unpack(header)
        check(magic == LIME_MAGIC and version == 1, f"bad LiME header at range {len(ranges)}")
        data = groundtruth.read_exact(stream, end - start + 1)
        check(len(data) == end - start + 1, "truncated LiME range")
        ranges.append((start, end, data))
    if proc:
        proc.wait()
    return ranges


def at(ranges, phys, n=PAGE):
    for start, end, data in ranges:
        if start <= phys and phys + n - 1 <= end:
            return data[phys - start:phys - start + n]
    return None


def ram_ranges():
    out = []
    with open("/proc/iomem") as f:
        for line in f:
            m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : System RAM$", line.rstrip())
            if m:
                out.append((int(m.group(1), 16), int(m.group(2), 16)))
    return out


def write_iomem(path, windows):
    merged = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    with open(path, "w") as f:
        for start, end in merged:
            f.write("%08x-%08x : System RAM\n" % (start, end))
    return merged


def windows_around(phys_list, ram):
    """The 2 MiB-aligned window of each address, clipped to System RAM."""
    out = []
    for phys in phys_list:
        lo = phys - phys % WINDOW
        for start, end in ram:
            s, e = max(lo, start), min(lo + WINDOW - 1, end)
            if s <= phys <= e:
                out.append((s, e))
    return out


def run_agent(args, prefix=(), timeout=300):
    return subprocess.run([*prefix, AGENT, "acquire", "--no-bundle", "--log-format", "json",
                           *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def manifest_of(p):
    for rec in log_records(p.stderr):
        if rec.get("event") == "manifest":
            return rec["manifest"]
    raise Failure("no manifest in the log: %s" % p.stderr.decode()[-1500:])


class Plant:
    """plant running on this host, its pages pinned until stop()."""

    def __init__(self, tmp, pages):
        binary = os.path.join(tmp, "plant")
        subprocess.run([os.environ.get("CC", "gcc"), "-O2", "-Wall", "-o", binary,
                        os.path.join(ROOT, "tests", "qemu", "plant.c")], check=True)
        # plant stops compaction from moving its locked pages; put the knob back after.
        self.knob = open(COMPACT_KNOB).read() if os.path.exists(COMPACT_KNOB) else None
        self.seed = int.from_bytes(os.urandom(8), "little")
        self.proc = subprocess.Popen([binary, "-s", "0x%x" % self.seed, str(pages)],
                                     stdout=subprocess.PIPE, text=True)
        self.pfns = {}
        # plant either says PLANT-READY promptly or exits (PLANT-FAIL on stderr).
        for line in self.proc.stdout:
            m = re.match(r"PLANT (\d+) ([0-9a-f]+)$", line.strip())
            if m:
                self.pfns[int(m.group(1))] = int(m.group(2), 16)
            if line.startswith("PLANT-READY"):
                return
        self.stop()
        raise Failure("plant did not get ready")

    def expected(self, index):
        return groundtruth.expected_plant_page(self.seed, index)

    def phys(self, index):
        return self.pfns[index] * PAGE

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        if self.knob is not None:
            with open(COMPACT_KNOB, "w") as f:
                f.write(self.knob)


def main():
    if os.geteuid() != 0:
        print("ebpf_source: 0 passed, 1 failed (needs root: pagemap PFNs, BPF)")
        return 1
    if not all(suite.require(tool, how) for tool, how in (
            (AGENT, "make agent"), (EBPF_READ, "make unit"), (SECRET_PAGES, "make unit"))):
        return suite.finish()
    with open("/proc/kallsyms") as f:
        kallsyms_base = any(line.rstrip().endswith(" page_offset_base") for line in f)
    ram = ram_ranges()
    ram_end = ram[-1][1] + 1
    tmp = tempfile.mkdtemp(prefix="test_ebpf_source.")
    plant = Plant(tmp, PLANT_PAGES)
    state = {}
    try:
        def planted_pages_at_their_addresses():
            iomem = os.path.join(tmp, "iomem")
            windows = write_iomem(iomem, windows_around(
                [plant.phys(i) for i in range(PLANT_PAGES)], ram))
            image = os.path.join(tmp, "planted.lime.zst")
            p = run_agent(["--source", "ebpf", "--iomem", iomem, "--output", image])
            check(p.returncode == 0, "agent exit %d: %s" % (p.returncode,
                                                             p.stderr.decode()[-1500:]))
            manifest = manifest_of(p)
            state["manifest"] = manifest
            ranges = lime_ranges(image)
            check([(s, e) for s, e, _ in ranges] == windows,
                  "LiME ranges %s != the iomem windows %s" % (
                      [(hex(s), hex(e)) for s, e, _ in ranges[:4]], windows[:4]))
            missing = [i for i in range(PLANT_PAGES)
                       if at(ranges, plant.phys(i)) != plant.expected(i)]
            check(not missing, "%d of %d planted pages not at their pagemap address "
                  "(first: page %d at phys 0x%x)" % (len(missing), PLANT_PAGES, missing[0],
                                                     plant.phys(missing[0]))
                  if missing else "")
            check(manifest["image"]["bytes_zero_filled"] == 0 and not manifest["unreadable"],
                  "unreadable spans in RAM: %s" % manifest["unreadable"][:3])
            print("     %d pages found in %d windows (%.1f MiB)" % (
                PLANT_PAGES, len(windows), sum(e - s + 1 for s, e in windows) / 2**20))

        def manifest_says_how_the_base_was_found():
            source = state["manifest"]["source"]
            check(source["name"] == "ebpf", "source %s" % source["name"])
            detail = source["detail"]
            want = "kallsyms page_offset_base" if kallsyms_base else "probed: pattern page at phys"
            check(detail.startswith(want), "detail %r does not start with %r" % (detail, want))
            m = re.search(r"base (0x[0-9a-f]+)", detail)
            check(m and int(m.group(1), 16) % (1 << 30) == 0, "no aligned base in %r" % detail)
            state["base"] = int(m.group(1), 16)
            print("     detail: " + detail)

        def automatic_selection_tries_ebpf_first():
            iomem = os.path.join(tmp, "iomem-one")
            write_iomem(iomem, windows_around([plant.phys(0)], ram))
            p = run_agent(["--no-modules", "--iomem", iomem, "--output", "-"])
            check(p.returncode == 0, "agent exit %d" % p.returncode)
            attempts = manifest_of(p)["source"]["attempts"]
            names = [(a["name"], a["status"]) for a in attempts]
            check(names[0] == ("ebpf", "used") and names[1][0] == "kcore" and
                  all(s == "skipped" for _, s in names[1:]), "attempts %s" % names)

        def pages_out_of_the_direct_map_zero_filled_and_reported():
            proc = subprocess.Popen([SECRET_PAGES, "2"], stdout=subprocess.PIPE, text=True)
            try:
                secret = []
                for line in proc.stdout:
                    if line.startswith("SECRET "):
                        secret.append(int(line.split()[1], 16) * PAGE)
                    if line.startswith("SECRET-UNAVAILABLE"):
                        print("     skipped: " + line.strip())
                        return
                    if line.startswith("SECRET-READY"):
                        break
                check(len(secret) == 2, "secret-pages gave %s" % secret)
                iomem = os.path.join(tmp, "iomem-secret")
                windows = write_iomem(iomem, windows_around(secret, ram))
                image = os.path.join(tmp, "secret.lime.zst")
                # Reads of 64 KiB: a failing page sits inside a multi-page BPF run.
                p = run_agent(["--source", "ebpf", "--iomem", iomem, "--chunk-size", "65536",
                               "--output", image])
            finally:
                proc.kill()
                proc.wait()
            check(p.returncode == 0, "agent exit %d: %s" % (p.returncode,
                                                             p.stderr.decode()[-800:]))
            m = manifest_of(p)
            # Adjacent pages merge into one span: compare page by page.
            pages = {a for u in m["unreadable"]
                     for a in range(int(u["start"], 16), int(u["end"], 16) + 1, PAGE)}
            check(pages == set(secret), "unreadable %s, want the two secret pages %s" % (
                m["unreadable"], [hex(a) for a in secret]))
            check(m["image"]["bytes_zero_filled"] == 2 * PAGE,
                  "zero-filled %d bytes" % m["image"]["bytes_zero_filled"])
            total = sum(e - s + 1 for s, e in windows)
            check(m["image"]["bytes_read"] == total - 2 * PAGE,
                  "read %d of %d bytes" % (m["image"]["bytes_read"], total))
            ranges = lime_ranges(image)
            check(all(at(ranges, a) == bytes(PAGE) for a in secret), "secret pages not zeros")
            print("     unreadable: %s" % json.dumps(m["unreadable"]))

        def past_the_end_of_ram_zero_filled_and_reported():
            iomem = os.path.join(tmp, "iomem-beyond")
            window = windows_around([plant.phys(1)], ram)
            beyond = (ram_end, ram_end + WINDOW - 1)
            write_iomem(iomem, window + [beyond])
            image = os.path.join(tmp, "beyond.lime.zst")
            p = run_agent(["--source", "ebpf", "--iomem", iomem, "--output", image])
            check(p.returncode == 0, "agent exit %d: %s" % (p.returncode,
                                                             p.stderr.decode()[-800:]))
            m = manifest_of(p)
            ranges = lime_ranges(image)
            check(at(ranges, plant.phys(1)) == plant.expected(1), "planted page lost")
            check(at(ranges, beyond[0], WINDOW) == bytes(WINDOW), "beyond RAM not zeros")
            check(m["image"]["bytes_zero_filled"] == WINDOW,
                  "zero-filled %d, want %d" % (m["image"]["bytes_zero_filled"], WINDOW))
            spans = [(int(u["start"], 16), int(u["end"], 16)) for u in m["unreadable"]]
            check(spans == [beyond], "unreadable %s, want %s" % (m["unreadable"], beyond))
            print("     unreadable: %s" % json.dumps(m["unreadable"]))

        def bpf_read_of_unmapped_memory_is_an_error_per_page():
            base = state.get("base")
            check(base is not None, "no base from the first case")
            p = subprocess.run([EBPF_READ, "raw", hex(base), hex(ram_end), "4"],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode == 0, "ebpf-read raw: %s" % p.stderr)
            errs = [int(x) for x in re.findall(r"page \d+ err (-?\d+)", p.stdout)]
            check(len(errs) == 4 and all(e < 0 for e in errs), "page errors %s" % errs)
            # And the page before the end of RAM reads fine in the same way.
            p = subprocess.run([EBPF_READ, "raw", hex(base), hex(plant.phys(2)), "1"],
                               capture_output=True, text=True, timeout=60)
            check(p.stdout.strip() == "page 0 err 0", "planted page: %s" % p.stdout)

        def without_bpf_capabilities_says_why_and_falls_through():
            iomem = os.path.join(tmp, "iomem-one")
            p = run_agent(["--no-modules", "--iomem", iomem, "--output", "-"],
                          prefix=["setpriv", "--bounding-set", "-bpf,-perfmon,-sys_admin",
                                  "--inh-caps", "-all"])
            attempts = manifest_of(p)["source"]["attempts"] if p.returncode == 0 else None
            records = log_records(p.stderr)
            why = [r["msg"] for r in records if r["msg"].startswith("source ebpf unavailable")]
            check(why and "CAP_BPF" in why[0], "ebpf reason: %s" % (why or records[-3:]))
            check(any(r["msg"].startswith("source kcore") for r in records),
                  "no fall-through to kcore: %s" % attempts)

        for case in (planted_pages_at_their_addresses, manifest_says_how_the_base_was_found,
                     automatic_selection_tries_ebpf_first,
                     pages_out_of_the_direct_map_zero_filled_and_reported,
                     past_the_end_of_ram_zero_filled_and_reported,
                     bpf_read_of_unmapped_memory_is_an_error_per_page,
                     without_bpf_capabilities_says_why_and_falls_through):
            suite.run(case.__name__.replace("_", " "), case)
    finally:
        plant.stop()
        subprocess.run(["rm", "-rf", tmp])
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
