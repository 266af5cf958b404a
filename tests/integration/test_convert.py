#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end checks of `forensics-agent convert` on small synthetic images.

Round trips between LiME, padded and raw, zstd and plain, checked byte for
byte against what python builds and against the zstd CLI. Prints one line
per case and `convert: N passed, N failed`; exits non-zero on any failure.
The agent is $BUILD/forensics-agent (BUILD defaults to "build", relative to
the repository root).
"""
import gzip
import hashlib
import json
import os
import random
import struct
import subprocess
import sys

from common import AGENT, Failure, check, read, run_cases, write

LIME_MAGIC = 0x4C694D45
SCHEMA = "forensics-agent/manifest/v1"
EXIT_OK, EXIT_USAGE, EXIT_OUTPUT, EXIT_MISMATCH, EXIT_MALFORMED, EXIT_INPUT = 0, 2, 4, 6, 7, 8

# Gaps before, between and after (up to 0x200000) the ranges, one touching pair.
RANGES = [(0x1000, 0x4FFF), (0x5000, 0x5FFF), (0x20000, 0x3FFFF), (0x100000, 0x1001FF)]


def range_data(start, end, seed):
    rng = random.Random(seed)
    size = end - start + 1
    noise = rng.randbytes(size // 2)
    return noise + bytes((i * 13 + seed) & 0xFF for i in range(size - len(noise)))


def build_lime(ranges):
    out, datas = bytearray(), []
    for i, (start, end) in enumerate(ranges):
        data = range_data(start, end, i + 1)
        out += struct.pack("<IIQQQ", LIME_MAGIC, 1, start, end, 0) + data
        datas.append(data)
    return bytes(out), datas


def build_padded(ranges, datas, size=None):
    out = bytearray(size if size is not None else ranges[-1][1] + 1)
    for (start, end), data in zip(ranges, datas):
        out[start:end + 1] = data
    return bytes(out)


def manifest(lime_bytes, ranges):
    return {
        "schema": SCHEMA,
        "image": {
            "path": "case.lime", "format": "lime", "compression": "none",
            "ranges": [{"start": hex(s), "end": hex(e), "bytes": e - s + 1} for s, e in ranges],
            "uncompressed_bytes": len(lime_bytes), "compressed_bytes": None,
            "sha256_uncompressed": hashlib.sha256(lime_bytes).hexdigest(),
            "sha256_compressed": None,
        },
        "unreadable": [],
    }


def run(args, code, cause=None, stdin=None):
    """Runs convert; asserts the exit code, and one error naming cause or one summary."""
    p = subprocess.run([AGENT, "convert"] + args, input=stdin, capture_output=True, timeout=120)
    records = []
    for line in p.stderr.decode(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            raise Failure("stderr line is not JSON: %r" % line)
    errors = [r for r in records if r.get("level") == "error"]
    check(p.returncode == code, "exit %d, wanted %d; stderr: %s" %
          (p.returncode, code, p.stderr.decode(errors="replace").strip()))
    if code == EXIT_OK:
        check(not errors, "errors on success: %s" % errors)
        summaries = [r for r in records if r.get("event") == "converted"]
        check(len(summaries) == 1, "wanted one summary, got %s" % records)
        return p, summaries[0]
    check(len(errors) == 1, "wanted exactly one error record, got %d: %s" % (len(errors), errors))
    check(cause in errors[0]["msg"], "error %r does not name %r" % (errors[0]["msg"], cause))
    return p, errors[0]


class Setup:
    def __init__(self, tmp):
        self.tmp = tmp
        self.lime, self.datas = build_lime(RANGES)
        self.raw = b"".join(self.datas)
        self.padded = build_padded(RANGES, self.datas)
        self.lime_path = write(self.path("case.lime"), self.lime)
        self.manifest = self.path("case.lime.manifest.json")
        with open(self.manifest, "w") as f:
            json.dump(manifest(self.lime, RANGES), f)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def no_partials(self):
        left = [n for n in os.listdir(self.tmp) if n.endswith(".partial")]
        check(not left, "left behind: %s" % left)


# ---- cases ----

def case_lime_padded_lime(s):
    padded = s.path("a.padded")
    run(["--to", "padded", s.lime_path, padded], EXIT_OK)
    check(read(padded) == s.padded, "padded image differs from the one built here")
    back = s.path("a.lime")
    _, summary = run(["--from", "padded", "--ranges-from", s.manifest, "--to", "lime", padded,
                      back], EXIT_OK)
    check(read(back) == s.lime, "LiME -> padded -> LiME is not identical")
    check(summary["matches_manifest_sha256"] is True, summary)
    check("matches the manifest" in summary["msg"], summary["msg"])
    check(summary["skipped_bytes"] == len(s.padded) - len(s.raw), summary)
    s.no_partials()


def case_zstd_round_trip(s):
    subprocess.run(["zstd", "-q", "--check", "-f", s.lime_path, "-o", s.path("b.lime.zst")],
                   check=True)
    plain = s.path("b.lime")
    _, summary = run(["--to", "lime", s.path("b.lime.zst"), plain], EXIT_OK)
    check(read(plain) == s.lime, "zstd -> plain LiME differs")
    check(summary["input_compression"] == "zstd" and summary["output_compression"] == "none",
          summary)
    again = s.path("b2.lime.zst")
    _, summary = run(["--to", "lime", "--level", "5", plain, again], EXIT_OK)
    check(summary["output_compression"] == "zstd", "a .zst name must default to zstd")
    check(read(again)[:4] == b"\x28\xb5\x2f\xfd", "output is not zstd")
    # zstd itself, not the agent, reads the result back; -t checks the frame checksum.
    subprocess.run(["zstd", "-q", "-t", again], check=True)
    decoded = subprocess.run(["zstd", "-q", "-d", "-c", again], check=True,
                             capture_output=True).stdout
    check(decoded == s.lime, "zstd -d of the agent's output differs")
    check(summary["output_bytes"] == len(read(again)), summary)
    check(summary["sha256_output_uncompressed"] == hashlib.sha256(s.lime).hexdigest(), summary)


def case_lime_raw(s):
    raw = s.path("c.raw")
    run(["--to", "raw", s.lime_path, raw], EXIT_OK)
    check(read(raw) == s.raw, "raw differs from the concatenated range data")


def case_raw_lime_with_ranges(s):
    raw = write(s.path("d.raw"), s.raw)
    back = s.path("d.lime.zst")
    run(["--ranges-from", s.manifest, "--to", "lime", raw, back], EXIT_OK)
    decoded = subprocess.run(["zstd", "-q", "-d", "-c", back], check=True,
                             capture_output=True).stdout
    check(decoded == s.lime, "raw + ranges -> LiME differs")


def case_raw_lime_without_ranges(s):
    raw = write(s.path("e.raw"), s.raw)
    out = s.path("e.lime")
    run(["--to", "lime", raw, out], EXIT_USAGE, "has no addresses")
    check(not os.path.exists(out), "output written on a usage error")
    s.no_partials()


def case_raw_explicit_without_ranges(s):
    raw = write(s.path("e2.raw"), s.raw)
    out = s.path("e2.padded")
    run(["--from", "raw", "--to", "padded", raw, out], EXIT_USAGE, "--ranges-from")
    check(not os.path.exists(out), "output written on a usage error")


def case_refuse_overwrite(s):
    out = write(s.path("f.raw"), b"evidence")
    run(["--to", "raw", s.lime_path, out], EXIT_OUTPUT, "refusing to overwrite")
    check(read(out) == b"evidence", "existing output changed")
    s.no_partials()


def case_refuse_partial(s):
    # Someone else's unfinished output: neither replaced nor deleted.
    partial = write(s.path("g.raw.partial"), b"in progress")
    run(["--to", "raw", s.lime_path, s.path("g.raw")], EXIT_OUTPUT, "refusing to overwrite")
    check(read(partial) == b"in progress", "another run's .partial was touched")
    os.unlink(partial)


def case_padded_lime_whole(s):
    padded = write(s.path("h.padded"), s.padded)
    out = s.path("h.lime")
    run(["--from", "padded", "--to", "lime", padded, out], EXIT_OK)
    want = struct.pack("<IIQQQ", LIME_MAGIC, 1, 0, len(s.padded) - 1, 0) + s.padded
    check(read(out) == want, "padded -> LiME is not one range from 0")


def case_padded_zstd_lime_whole(s):
    padded = write(s.path("i.padded"), s.padded)
    subprocess.run(["zstd", "-q", "--check", "-f", padded, "-o", padded + ".zst"], check=True)
    out = s.path("i.lime")
    run(["--from", "padded", "--to", "lime", padded + ".zst", out], EXIT_OK)
    check(read(out)[32:] == s.padded and len(read(out)) == 32 + len(s.padded),
          "zstd padded -> LiME differs")


def case_padded_stdin_needs_size(s):
    run(["--from", "padded", "--to", "lime", "-", s.path("j.lime")], EXIT_USAGE, "stdin",
        stdin=s.padded)


def case_pipes(s):
    compressed = subprocess.run(["zstd", "-q", "--check", "-c", s.lime_path], check=True,
                                capture_output=True).stdout
    p, _ = run(["--to", "raw", "-", "-"], EXIT_OK, stdin=compressed)
    check(p.stdout == s.raw, "stdin -> stdout raw differs")
    p, _ = run(["--to", "padded", "--compress", "zstd", "-", "-"], EXIT_OK, stdin=s.lime)
    decoded = subprocess.run(["zstd", "-q", "-d", "-c"], input=p.stdout, check=True,
                             capture_output=True).stdout
    check(decoded == s.padded, "stdin -> zstd padded on stdout differs")


def case_padded_too_short(s):
    padded = write(s.path("k.padded"), s.padded[:-10])
    out = s.path("k.lime")
    run(["--from", "padded", "--ranges-from", s.manifest, "--to", "lime", padded, out],
        EXIT_MISMATCH, "input ends after")
    check(not os.path.exists(out), "output left after a failure")
    s.no_partials()


def case_raw_too_long(s):
    raw = write(s.path("l.raw"), s.raw + b"extra")
    run(["--ranges-from", s.manifest, "--to", "lime", raw, s.path("l.lime")], EXIT_MISMATCH,
        "5 bytes more than the ranges")
    s.no_partials()


def case_malformed_lime(s):
    data = bytearray(s.lime)
    data[32 + len(s.datas[0])] ^= 0xFF
    bad = write(s.path("m.lime"), bytes(data))
    out = s.path("m.padded")
    run(["--to", "padded", bad, out], EXIT_MALFORMED,
        "malformed LiME stream at byte %d: bad magic" % (32 + len(s.datas[0])))
    check(not os.path.exists(out), "output left after a failure")
    s.no_partials()


def case_malformed_zstd(s):
    compressed = bytearray(subprocess.run(["zstd", "-q", "--check", "-c", s.lime_path], check=True,
                                          capture_output=True).stdout)
    bad = write(s.path("n.lime.zst"), bytes(compressed[:-20]))
    run(["--to", "raw", bad, s.path("n.raw")], EXIT_MALFORMED, "truncated zstd stream")
    s.no_partials()


def case_lime_with_ranges_from(s):
    run(["--ranges-from", s.manifest, "--to", "raw", s.lime_path, s.path("o.raw")], EXIT_USAGE,
        "carries its own ranges")
    s.no_partials()


def case_missing_input(s):
    run(["--to", "raw", s.path("nothing.lime"), s.path("p.raw")], EXIT_INPUT, "cannot open")
    check(not os.path.exists(s.path("p.raw.partial")), "partial created for a missing input")


def case_unknown_flag(s):
    run(["--to", "raw", "--bogus", s.lime_path, s.path("q.raw")], EXIT_USAGE,
        "unknown option '--bogus'")


def case_missing_to(s):
    run([s.lime_path, s.path("r.raw")], EXIT_USAGE, "--to")


def case_level_without_zstd(s):
    run(["--to", "raw", "--level", "3", s.lime_path, s.path("s.raw")], EXIT_USAGE, "--level")


def case_help(s):
    p = subprocess.run([AGENT, "convert", "--help"], capture_output=True, timeout=30)
    check(p.returncode == 0 and p.stdout.startswith(b"Usage: forensics-agent convert"), p)

def zstd_bytes(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, check=True, capture_output=True).stdout


# Compression or format that the name or --from contradicts: what was found,
# what to do. (input name, content, extra options, --to, exit code, words in
# the error, or for a readable input in its warning)
NAME_CASES = [
    ("zstd-named.lime", lambda s: zstd_bytes(s.lime), [], "raw", EXIT_OK,
     ["zstd-compressed but named", "rename it", "zstd-named.lime.zst"]),
    ("plain-named.lime.zst", lambda s: s.lime, [], "raw", EXIT_OK,
     ["uncompressed LiME but named", "rename it without .zst"]),
    ("gzip.lime.zst", lambda s: gzip.compress(s.lime), [], "raw", EXIT_MALFORMED,
     ["gzip-compressed", "gzip -dc", ".lime.zst"]),
    ("gzip-from-lime.lime", lambda s: gzip.compress(s.lime), ["--from", "lime"], "raw",
     EXIT_MALFORMED, ["bad magic", "gzip-compressed"]),
    ("junk.lime.zst", lambda s: s.raw, [], "lime", EXIT_USAGE,
     ["is raw", "is not zstd-compressed", "starts with"]),
    ("raw-from-lime.raw", lambda s: s.raw, ["--from", "lime"], "padded", EXIT_MALFORMED,
     ["bad magic", "--from lime was given", "--from raw or --from padded"]),
    ("lime-from-raw.lime", lambda s: s.lime, ["--from", "raw"], "raw", EXIT_USAGE,
     ["starts with the LiME magic but --from raw", "pass --from lime"]),
    ("lime-zst-from-padded.lime.zst", lambda s: zstd_bytes(s.lime), ["--from", "padded"], "raw",
     EXIT_USAGE, ["starts with the LiME magic but --from padded"]),
]


def case_compression_names(s):
    for i, (name, content, opts, to, code, words) in enumerate(NAME_CASES):
        src = write(s.path(name), content(s))
        out = s.path("names-%d.out" % i)
        p = subprocess.run([AGENT, "convert", "--to", to] + opts + [src, out],
                           capture_output=True, timeout=120)
        check(p.returncode == code, "%s: exit %d, wanted %d; %s" %
              (name, p.returncode, code, p.stderr.decode(errors="replace")))
        level = "error" if code != EXIT_OK else "warning"
        said = [r["msg"] for r in map(json.loads, p.stderr.decode().splitlines())
                if r.get("level") == level]
        check(len(said) == 1, "%s: wanted one %s, got %s" % (name, level, said))
        for word in words:
            check(word in said[0], "%s: %r does not say %r" % (name, said[0], word))
        check(os.path.exists(out) == (code == EXIT_OK), "%s: output %s" % (name, out))
    s.no_partials()


def case_compress_contradicts_name(s):
    out = s.path("plain-but.lime.zst")
    p = subprocess.run([AGENT, "convert", "--to", "lime", "--compress", "none", s.lime_path, out],
                       capture_output=True, timeout=120)
    check(p.returncode == EXIT_OK, p.stderr)
    check(read(out) == s.lime, "--compress none output is not the plain LiME")
    warnings = [r["msg"] for r in map(json.loads, p.stderr.decode().splitlines())
                if r.get("level") == "warning"]
    check(len(warnings) == 1 and "--compress none contradicts the name" in warnings[0] and
          "rename it without .zst" in warnings[0], warnings)


CASES = [
    case_lime_padded_lime, case_zstd_round_trip, case_lime_raw, case_raw_lime_with_ranges,
    case_raw_lime_without_ranges, case_raw_explicit_without_ranges, case_refuse_overwrite,
    case_refuse_partial, case_padded_lime_whole, case_padded_zstd_lime_whole,
    case_padded_stdin_needs_size, case_pipes, case_padded_too_short, case_raw_too_long,
    case_malformed_lime, case_malformed_zstd, case_lime_with_ranges_from, case_missing_input,
    case_unknown_flag, case_missing_to, case_level_without_zstd, case_compression_names,
    case_compress_contradicts_name, case_help,
]


if __name__ == "__main__":
    sys.exit(run_cases("convert", CASES, Setup))
