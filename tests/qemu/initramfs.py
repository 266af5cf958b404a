#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for build-initramfs.sh that are awkward in shell.

  initramfs.py module-order MODULES_DIR NAME...
      Print, one per line, the .ko files (relative to MODULES_DIR) to insmod
      in that order so that every NAME ends up loaded.  Built-in modules are
      skipped.  Dependencies come from each module's own .modinfo section,
      so neither depmod output nor kmod tools are needed on the host (Debian
      kernel packages ship without modules.dep; their postinst makes it).

  initramfs.py pack STAGING_DIR OUT.cpio.gz
      Write a gzip'd newc cpio of STAGING_DIR with every entry owned by
      root and with /dev/console and /dev/null device nodes added, which an
      unprivileged or fakeroot-less build could not create on disk.
"""

import gzip
import lzma
import os
import stat
import struct
import subprocess
import sys

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")


def module_name(filename):
    for suffix in MODULE_SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)].replace("-", "_")
    return None


def read_module_bytes(path):
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def elf_section(image, wanted):
    """Return the bytes of section `wanted` of a 64-bit little-endian ELF."""
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF module")
    shoff, = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)

    def header(i):
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", image, base)
        offset, size = struct.unpack_from("<QQ", image, base + 0x18)
        return name, offset, size

    _, stroff, _ = header(shstrndx)
    for i in range(shnum):
        name, offset, size = header(i)
        end = image.index(b"\0", stroff + name)
        if image[stroff + name:end].decode() == wanted:
            return image[offset:offset + size]
    raise ValueError("no %s section" % wanted)


def modinfo(path):
    fields = {}
    for entry in elf_section(read_module_bytes(path), ".modinfo").split(b"\0"):
        key, sep, value = entry.decode(errors="replace").partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    return fields


def index_modules(modules_dir):
    index = {}
    for root, _, files in os.walk(os.path.join(modules_dir, "kernel")):
        for filename in files:
            name = module_name(filename)
            if name:
                index[name] = os.path.relpath(os.path.join(root, filename),
                                              modules_dir)
    return index


def builtin_modules(modules_dir):
    names = set()
    try:
        with open(os.path.join(modules_dir, "modules.builtin")) as f:
            for line in f:
                name = module_name(os.path.basename(line.strip()))
                if name:
                    names.add(name)
    except FileNotFoundError:
        pass
    return names


def pre_softdeps(fields):
    """Modules named in 'softdep=pre: a b post: c' that must come first."""
    names = []
    for value in fields.get("softdep", []):
        words = value.split()
        taking = False
        for word in words:
            if word.endswith(":"):
                taking = word == "pre:"
            elif taking:
                names.append(word.replace("-", "_"))
    return names


def module_order(modules_dir, wanted):
    index = index_modules(modules_dir)
    builtin = builtin_modules(modules_dir)
    order, state = [], {}

    def visit(name, required):
        name = name.replace("-", "_")
        if name in builtin or state.get(name) == "done":
            return
        if name not in index:
            if required:
                raise SystemExit("initramfs: module %s not found in %s"
                                 % (name, modules_dir))
            return
        if state.get(name) == "visiting":
            raise SystemExit("initramfs: dependency cycle at %s" % name)
        state[name] = "visiting"
        fields = modinfo(os.path.join(modules_dir, index[name]))
        for dep in pre_softdeps(fields):
            visit(dep, False)
        for deps in fields.get("depends", []):
            for dep in filter(None, deps.split(",")):
                visit(dep, True)
        state[name] = "done"
        order.append(index[name])

    for name in wanted:
        visit(name, True)
    return order


class CpioWriter:
    """newc ("070701") archive, the format the kernel unpacks."""

    def __init__(self, out):
        self.out = out
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), mtime=0):
        namez = name.encode() + b"\0"
        header = b"070701" + b"".join(b"%08X" % v for v in (
            self.ino, mode, 0, 0, 1, mtime, len(data), 0, 0,
            rdev[0], rdev[1], len(namez), 0))
        self.ino += 1
        self.out.write(header + namez)
        self.out.write(b"\0" * (-(len(header) + len(namez)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def add_tree(self, top):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(root, name)
                arc = os.path.relpath(path, top)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self._entry(arc, st.st_mode,
                                os.readlink(path).encode())
                elif stat.S_ISDIR(st.st_mode):
                    self._entry(arc, st.st_mode)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        self._entry(arc, st.st_mode, f.read())

    def add_char_device(self, name, perm, major, minor):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def add_dir(self, name, perm=0o755):
        self._entry(name, stat.S_IFDIR | perm)

    def finish(self):
        self._entry("TRAILER!!!", 0)


def pack(staging, out_path):
    tmp = out_path + ".tmp"
    # Level 1: the kernel unpacks it either way and speed matters more.
    with gzip.open(tmp, "wb", compresslevel=1) as out:
        writer = CpioWriter(out)
        writer.add_tree(staging)
        if not os.path.isdir(os.path.join(staging, "dev")):
            writer.add_dir("dev")
        writer.add_char_device("dev/console", 0o600, 5, 1)
        writer.add_char_device("dev/null", 0o666, 1, 3)
        writer.finish()
    os.replace(tmp, out_path)


def main(argv):
    if len(argv) >= 3 and argv[1] == "module-order":
        for path in module_order(argv[2], argv[3:]):
            print(path)
        return 0
    if len(argv) == 4 and argv[1] == "pack":
        pack(argv[2], argv[3])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
