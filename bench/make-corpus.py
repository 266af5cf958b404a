#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Build a memory-like corpus for the pipeline benchmark.

Physical memory of a server is a mix: free pages (zeros), page cache of real
files (shared libraries, text), heap (small integers, pointers, strings) and
incompressible data (encrypted or already compressed). The corpus interleaves
those in 2 MiB runs, in a deterministic order, so every tool in one benchmark
run reads the same bytes. Writes PATH (padded: offset = physical address) and
PATH.iomem.
"""
import os
import random
import struct
import sys

RUN = 2 << 20


def file_pages(roots):
    """Yield 4 KiB chunks of real files (the host's libraries and docs)."""
    while True:
        for root in roots:
            for dirpath, _, names in sorted(os.walk(root)):
                for name in sorted(names):
                    path = os.path.join(dirpath, name)
                    try:
                        if os.path.islink(path) or not os.path.isfile(path):
                            continue
                        with open(path, "rb") as f:
                            while True:
                                chunk = f.read(RUN)
                                if not chunk:
                                    break
                                yield chunk
                    except OSError:
                        continue


def heap_run(rng):
    out = bytearray()
    base = 0xFFFF888000000000 + rng.randrange(1 << 30) * 4096
    while len(out) < RUN:
        kind = rng.randrange(4)
        if kind == 0:
            out += struct.pack("<QQ", base + rng.randrange(1 << 20) * 64, rng.randrange(256))
        elif kind == 1:
            out += struct.pack("<IIII", *(rng.randrange(1000) for _ in range(4)))
        elif kind == 2:
            out += b"user%05d@example.com\0" % rng.randrange(100000)
        else:
            out += bytes(16)
    return bytes(out[:RUN])


def main():
    path, size = sys.argv[1], int(sys.argv[2]) << 20
    rng = random.Random(20261128)
    files = file_pages(["/usr/lib/x86_64-linux-gnu", "/usr/share/doc"])
    with open(path, "wb") as out:
        written = 0
        pending = b""
        while written < size:
            kind = rng.choices(["zero", "file", "heap", "random"], [30, 35, 20, 15])[0]
            if kind == "zero":
                run = bytes(RUN)
            elif kind == "file":
                while len(pending) < RUN:
                    pending += next(files)
                run, pending = pending[:RUN], pending[RUN:]
            elif kind == "heap":
                run = heap_run(rng)
            else:
                run = rng.randbytes(RUN)
            out.write(run)
            written += RUN
    with open(path + ".iomem", "w") as f:
        # Leave the first MiB out, as firmware does, so the agent splits ranges.
        f.write("00000000-00000fff : Reserved\n")
        f.write("00001000-0009ffff : System RAM\n")
        f.write("000a0000-000fffff : Reserved\n")
        f.write("00100000-%08x : System RAM\n" % (size - 1))


if __name__ == "__main__":
    main()
