#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""End-to-end checks of `forensics-agent verify` on small synthetic images.

Each case builds an image (LiME written here with struct, compressed with the
zstd CLI, manifest hashed with hashlib), runs the agent, and asserts the exit
code and the one error line on stderr (JSON lines: stderr is not a terminal).
Prints one line per case and `verify: N passed, N failed`; exits non-zero on
any failure. The agent is $BUILD/forensics-agent (BUILD defaults to "build",
relative to the repository root).
"""
import gzip
import hashlib
import json
import lzma
import os
import random
import shutil
import struct
import subprocess
import sys

from common import AGENT, Failure, check, read, run_cases, write

LIME_MAGIC = 0x4C694D45
LIME_HEADER = "<IIQQQ"
SCHEMA = "forensics-agent/manifest/v1"

EXIT_OK, EXIT_USAGE, EXIT_MISMATCH, EXIT_MALFORMED, EXIT_INPUT = 0, 2, 6, 7, 8

# Three ranges: low RAM, a touching one, one above a gap. Big enough for
# several zstd blocks, small enough to run in moments.
RANGES = [(0x1000, 0x10FFF), (0x11000, 0x11FFF), (0x100000, 0x13FFFF)]


def range_data(start, end, seed):
    rng = random.Random(seed)
    size = end - start + 1
    # Half noise, half a repeating pattern: realistic enough for zstd.
    noise = rng.randbytes(size // 2)
    pattern = bytes((i * 7 + seed) & 0xFF for i in range(size - len(noise)))
    return noise + pattern


def header(start, end, magic=LIME_MAGIC, version=1, reserved=0):
    return struct.pack(LIME_HEADER, magic, version, start, end, reserved)


def lime(ranges):
    """ranges: [(start, end)] -> (LiME bytes, [data per range])"""
    out, datas = bytearray(), []
    for i, (start, end) in enumerate(ranges):
        data = range_data(start, end, i)
        out += header(start, end) + data
        datas.append(data)
    return bytes(out), datas


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def zstd(path):
    subprocess.run(["zstd", "-q", "--check", "-f", path, "-o", path + ".zst"], check=True)
    return path + ".zst"


def manifest(image_path, lime_bytes, ranges, compressed=None):
    """The manifest acquire writes; compressed: the .zst bytes or None."""
    return {
        "schema": SCHEMA,
        "image": {
            "path": os.path.basename(image_path),
            "format": "lime",
            "compression": "zstd" if compressed is not None else "none",
            "ranges": [{"start": hex(s), "end": hex(e), "bytes": e - s + 1} for s, e in ranges],
            "uncompressed_bytes": len(lime_bytes),
            "compressed_bytes": len(compressed) if compressed is not None else None,
            "sha256_uncompressed": sha256(lime_bytes),
            "sha256_compressed": sha256(compressed) if compressed is not None else None,
        },
        "unreadable": [{"start": "0x11800", "end": "0x11fff", "bytes": 2048, "reason": "EIO"}],
    }


def write_manifest(path, m):
    with open(path, "w") as f:
        json.dump(m, f)
    return path


def run(args, stdin=None):
    p = subprocess.run([AGENT] + args, input=stdin, capture_output=True, timeout=120)
    records = []
    for line in p.stderr.decode(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            raise Failure("stderr line is not JSON: %r" % line)
    return p, records


def expect(args, code, cause=None, stdin=None):
    """Runs the agent; asserts the exit code and, for failures, one error naming cause."""
    p, records = run(args, stdin)
    errors = [r for r in records if r.get("level") == "error"]
    check(p.returncode == code, "exit %d, wanted %d; stderr: %s" %
          (p.returncode, code, p.stderr.decode(errors="replace").strip()))
    if code == EXIT_OK:
        check(not errors, "error records on success: %s" % errors)
    else:
        check(len(errors) == 1, "wanted exactly one error record, got %d: %s" % (len(errors), errors))
        check(cause in errors[0]["msg"], "error %r does not name %r" % (errors[0]["msg"], cause))
        check(errors[0]["msg"].startswith("verify: "), "error not prefixed: %r" % errors[0]["msg"])
    return p, errors


class Images:
    """The standard images, built once per run."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.lime, self.datas = lime(RANGES)
        self.plain = write(os.path.join(tmp, "good.lime"), self.lime)
        write_manifest(self.plain + ".manifest.json", manifest(self.plain, self.lime, RANGES))
        src = write(os.path.join(tmp, "case.lime"), self.lime)
        self.zst = zstd(src)
        os.unlink(src)
        self.compressed = read(self.zst)
        self.zst_manifest = write_manifest(self.zst + ".manifest.json",
                                           manifest(self.zst, self.lime, RANGES, self.compressed))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def variant(self, name, data, manifest_of=None, ranges=RANGES, compressed=None):
        """Writes data as an image, with a manifest describing manifest_of if given."""
        path = write(self.path(name), data)
        if manifest_of is not None:
            write_manifest(path + ".manifest.json", manifest(path, manifest_of, ranges, compressed))
        return path


# ---- cases: each takes Images and raises Failure ----

def case_good_zstd(im):
    p, _ = expect(["verify", im.zst], EXIT_OK)
    out = p.stdout.decode()
    check("Result:      OK: well-formed LiME, matches the manifest" in out, "summary: " + out)
    rows = [l for l in out.splitlines() if l.startswith("  0x")]
    check(len(rows) == 3 and all(l.endswith("  match") for l in rows),
          "three matching ranges expected: " + out)
    check(sha256(im.compressed) in out and sha256(im.lime) in out, "hashes not shown")


def case_good_zstd_json(im):
    p, _ = expect(["verify", "--json", im.zst], EXIT_OK)
    report = json.loads(p.stdout)
    check(report["result"] == "ok" and report["manifest_compared"], report)
    check(all(v == "match" for v in report["checks"].values()), report["checks"])
    check([(int(r["start"], 16), int(r["end"], 16)) for r in report["ranges"]] == RANGES,
          report["ranges"])
    check(all(r["manifest"] == "match" for r in report["ranges"]), report["ranges"])
    check(report["sha256_compressed"] == sha256(im.compressed), "compressed hash")
    check(report["sha256_uncompressed"] == sha256(im.lime), "LiME hash")
    check(report["manifest_unreadable"] == {"count": 1, "bytes": 2048}, report)


def case_good_plain(im):
    p, _ = expect(["verify", im.plain], EXIT_OK)
    check("matches the manifest" in p.stdout.decode(), p.stdout)


def case_explicit_manifest(im):
    copy = im.variant("renamed.zst", im.compressed)
    expect(["verify", "--manifest", im.zst_manifest, copy], EXIT_OK)


def case_no_manifest(im):
    path = im.variant("lonely.lime", im.lime)
    p, _ = expect(["verify", path], EXIT_OK)
    out = p.stdout.decode()
    check("NO MANIFEST COMPARED" in out and "no manifest was compared" in out, out)
    check(sha256(im.lime) in out, "computed hash not printed")


def case_stdin(im):
    p, _ = expect(["verify", "--json", "-"], EXIT_OK, stdin=im.compressed)
    report = json.loads(p.stdout)
    check(report["manifest"] is None and not report["manifest_compared"], report)
    check(report["sha256_uncompressed"] == sha256(im.lime), report)
    check(report["checks"]["sha256_uncompressed"] == "not_compared", report)


def case_stdin_malformed(im):
    data = bytearray(im.compressed)
    data[len(data) // 3] ^= 0x04
    expect(["verify", "-"], EXIT_MALFORMED, "verify: stdin: malformed zstd stream", stdin=bytes(data))


def case_decompressed_copy(im):
    # A copy decompressed with zstd -d, checked against the .zst's manifest.
    path = im.variant("copy.lime", im.lime)
    p, _ = expect(["verify", "--manifest", im.zst_manifest, path], EXIT_OK)
    check("only the LiME stream is compared" in p.stdout.decode(), p.stdout)


def case_flipped_compressed(im):
    data = bytearray(im.compressed)
    data[len(data) // 2] ^= 0x10
    path = im.variant("flipped.lime.zst", bytes(data))
    shutil.copy(im.zst_manifest, path + ".manifest.json")
    # The frame's content checksum catches it before any hash is compared.
    expect(["verify", path], EXIT_MALFORMED, "malformed zstd stream")


def case_flipped_data(im):
    data = bytearray(im.lime)
    data[32 + 100] ^= 0x01
    path = im.variant("flipped.lime", bytes(data), manifest_of=im.lime)
    _, errors = expect(["verify", path], EXIT_MISMATCH, "sha256 of the LiME stream")
    check(errors[0].get("mismatches") == ["sha256_uncompressed"], errors[0])


def case_truncated_compressed(im):
    path = im.variant("short.lime.zst", im.compressed[:len(im.compressed) // 2])
    shutil.copy(im.zst_manifest, path + ".manifest.json")
    expect(["verify", path], EXIT_MALFORMED, "truncated zstd stream")


def case_truncated_lime(im):
    path = im.variant("short.lime", im.lime[:-100], manifest_of=im.lime)
    expect(["verify", path], EXIT_MALFORMED, "truncated inside a range")


def case_cut_between_ranges(im):
    # A whole range missing still parses; only the manifest can tell.
    cut = len(im.lime) - 32 - len(im.datas[2])
    path = im.variant("cut.lime", im.lime[:cut], manifest_of=im.lime)
    _, errors = expect(["verify", path], EXIT_MISMATCH, "1 missing from the image")
    check("uncompressed_bytes" in errors[0]["mismatches"], errors[0])


def case_trailing_garbage(im):
    path = im.variant("trailing.lime", im.lime + b"garbage")
    expect(["verify", path], EXIT_MALFORMED, "at byte %d: truncated inside a range header"
           % (len(im.lime) + 7))


def bad_stream(im, name, ranges, cause):
    data = b"".join(header(s, e) + range_data(s, e, 0) for s, e in ranges)
    path = im.variant(name, data)
    expect(["verify", path], EXIT_MALFORMED, cause)


def case_overlapping(im):
    bad_stream(im, "overlap.lime", [(0x1000, 0x1FFF), (0x1800, 0x2FFF)], "ranges overlap or descend")


def case_descending(im):
    bad_stream(im, "descend.lime", [(0x5000, 0x5FFF), (0x1000, 0x1FFF)],
               "at byte 4128: ranges overlap or descend")


def case_bad_magic(im):
    data = bytearray(im.lime)
    data[0] ^= 0xFF
    path = im.variant("magic.lime", bytes(data), manifest_of=im.lime)
    expect(["verify", path], EXIT_MALFORMED, "malformed LiME stream at byte 0: bad magic")


def case_bad_magic_second_range(im):
    data = bytearray(im.lime)
    off = 32 + len(im.datas[0])
    data[off:off + 4] = b"LiME"
    path = im.variant("magic2.lime", bytes(data))
    expect(["verify", path], EXIT_MALFORMED, "at byte %d: bad magic" % off)


def case_bad_version(im):
    data = header(0x1000, 0x1FFF, version=2) + bytes(0x1000)
    expect(["verify", im.variant("version.lime", data)], EXIT_MALFORMED, "unsupported version")


def case_reserved(im):
    data = header(0x1000, 0x1FFF, reserved=1) + bytes(0x1000)
    expect(["verify", im.variant("reserved.lime", data)], EXIT_MALFORMED, "reserved bytes not zero")


def case_end_before_start(im):
    data = header(0x2000, 0x1FFF) + bytes(16)
    expect(["verify", im.variant("backwards.lime", data)], EXIT_MALFORMED, "range end before start")


def case_empty(im):
    expect(["verify", im.variant("empty.lime", b"")], EXIT_MALFORMED, "no ranges")


def case_different_ranges(im):
    other = [(0x1000, 0x10FFF), (0x11000, 0x11FFF), (0x100000, 0x12FFFF), (0x130000, 0x13FFFF)]
    path = im.variant("ranges.lime", im.lime)
    m = manifest(path, im.lime, other)
    write_manifest(path + ".manifest.json", m)
    p, errors = expect(["verify", "--json", path], EXIT_MISMATCH, "range list differs")
    check(errors[0]["mismatches"] == ["ranges"], errors[0])
    report = json.loads(p.stdout)
    check(report["result"] == "mismatch" and report["exit_code"] == EXIT_MISMATCH, report)
    statuses = [(r["start"], r["manifest"]) for r in report["ranges"]]
    check(statuses == [("0x1000", "match"), ("0x11000", "match"), ("0x100000", "differs"),
                       ("0x130000", "missing_from_image")], statuses)


def case_wrong_hash(im):
    path = im.variant("hash.lime.zst", im.compressed)
    m = manifest(path, im.lime, RANGES, im.compressed)
    m["image"]["sha256_uncompressed"] = sha256(b"something else")
    write_manifest(path + ".manifest.json", m)
    expect(["verify", path], EXIT_MISMATCH, "sha256 of the LiME stream")


def case_wrong_compressed_hash(im):
    path = im.variant("zhash.lime.zst", im.compressed)
    m = manifest(path, im.lime, RANGES, im.compressed)
    m["image"]["sha256_compressed"] = m["image"]["sha256_compressed"][::-1]
    m["image"]["compressed_bytes"] += 1
    write_manifest(path + ".manifest.json", m)
    _, errors = expect(["verify", path], EXIT_MISMATCH, "sha256 of the compressed file")
    check(errors[0]["mismatches"] == ["compressed_bytes", "sha256_compressed"], errors[0])


def case_missing_image(im):
    expect(["verify", im.path("nothing.lime.zst")], EXIT_INPUT, "cannot open: No such file")


def case_missing_manifest(im):
    expect(["verify", "--manifest", im.path("nothing.json"), im.zst], EXIT_INPUT,
           "nothing.json: cannot read manifest: No such file")


def case_malformed_manifest(im):
    path = im.variant("badjson.lime", im.lime)
    with open(path + ".manifest.json", "w") as f:
        f.write('{"schema": "forensics-agent/manifest/v1", "image": {')
    expect(["verify", path], EXIT_MALFORMED, "malformed manifest: not JSON")


def case_wrong_schema(im):
    path = im.variant("schema.lime", im.lime)
    m = manifest(path, im.lime, RANGES)
    m["schema"] = "forensics-agent/manifest/v9"
    write_manifest(path + ".manifest.json", m)
    expect(["verify", path], EXIT_MALFORMED, "schema is not")


def case_unknown_flag(im):
    p, errors = expect(["verify", "--frobnicate", im.zst], EXIT_USAGE, "unknown option '--frobnicate'")
    check(errors[0]["event"] == "usage", errors[0])
    check(not p.stdout, "stdout on a usage error")


def case_no_image(im):
    expect(["verify"], EXIT_USAGE, "missing IMAGE")


# A name, or bytes, that say otherwise about compression: the one line says
# what was found and what to do; a readable image still verifies, with a warning.
# (file name, content, exit code, words in the error or warning)
NAME_CASES = [
    ("zstd-named-plain.lime", lambda im: im.compressed, EXIT_OK,
     ["zstd-compressed but named", "rename it", "zstd-named-plain.lime.zst"]),
    ("plain-named.lime.zst", lambda im: im.lime, EXIT_OK,
     ["uncompressed LiME but named", "rename it without .zst"]),
    ("gzip.lime.zst", lambda im: gzip.compress(im.lime), EXIT_MALFORMED,
     ["gzip-compressed", "gzip -dc", "recompress it with zstd", ".lime.zst"]),
    ("xz.lime", lambda im: lzma.compress(im.lime), EXIT_MALFORMED, ["xz-compressed", "xz -dc"]),
    ("junk.lime.zst", lambda im: b"\x05\x11\xe3\xcd" + bytes(60), EXIT_MALFORMED,
     ["bad magic", "named", "is not zstd-compressed", "starts with 05 11 e3 cd"]),
    ("stdin-gzip", lambda im: gzip.compress(im.lime), EXIT_MALFORMED, ["stdin", "gzip-compressed"]),
]


def case_compression_names(im):
    for name, content, code, words in NAME_CASES:
        data = content(im)
        if name.startswith("stdin"):
            p, records = run(["verify", "-"], stdin=data)
        else:
            p, records = run(["verify", im.variant(name, data)])
        check(p.returncode == code, "%s: exit %d, wanted %d; %s" %
              (name, p.returncode, code, p.stderr.decode(errors="replace")))
        level = "error" if code != EXIT_OK else "warning"
        said = [r["msg"] for r in records if r.get("level") == level]
        check(len(said) == 1, "%s: wanted one %s, got %s" % (name, level, said))
        for word in words:
            check(word in said[0], "%s: %r does not say %r" % (name, said[0], word))


def case_help(im):
    p, _ = expect(["verify", "--help"], EXIT_OK)
    check(p.stdout.decode().startswith("Usage: forensics-agent verify"), p.stdout)


CASES = [
    case_good_zstd, case_good_zstd_json, case_good_plain, case_explicit_manifest,
    case_no_manifest, case_stdin, case_stdin_malformed, case_decompressed_copy,
    case_flipped_compressed, case_flipped_data, case_truncated_compressed, case_truncated_lime,
    case_cut_between_ranges, case_trailing_garbage, case_overlapping, case_descending,
    case_bad_magic, case_bad_magic_second_range, case_bad_version, case_reserved,
    case_end_before_start, case_empty, case_different_ranges, case_wrong_hash,
    case_wrong_compressed_hash, case_missing_image, case_missing_manifest,
    case_malformed_manifest, case_wrong_schema, case_unknown_flag, case_no_image,
    case_compression_names, case_help,
]


if __name__ == "__main__":
    sys.exit(run_cases("verify", CASES, Images))
