#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kbuild-args.sh TREE WORKDIR
#
# Prints, one per line, the extra arguments for
#   make -C TREE M=WORKDIR <args> modules
# that build an out-of-tree module against the kernel build tree TREE on
# this host:
#
# * the compiler.  Kbuild uses the one the kernel was built with, by the
#   name the headers give it (Debian's 5.10 headers say gcc-10, which
#   Debian 12 does not have).  When that name is not on this host, build
#   with the host's gcc: the module ABI does not depend on the gcc version,
#   and the kernel's compiler-dependent flags are probed again at build
#   time.  Clang-built kernels get LLVM=1.
# * KCFLAGS mapping WORKDIR and TREE's parent to relative paths, so that
#   __FILE__ (WARN_ON) and the debug info that feeds the build-id do not
#   depend on where the sources and headers lie: the same sources, headers
#   and compiler give the same module bytes on any machine.  The parent
#   covers Debian's split linux-headers-<release>/-common trees.
# * KBUILD_BUILD_TIMESTAMP, which asks Kbuild for a reproducible build: on
#   6.x kernels with module BTF it then runs pahole without -j, whose
#   parallel output is in a different order every time (pahole < 1.27).
set -euo pipefail

tree=${1:?usage: kbuild-args.sh TREE WORKDIR}
work=${2:?usage: kbuild-args.sh TREE WORKDIR}
tree=$(readlink -f "$tree")
work=$(readlink -f "$work")
config=$tree/.config

if grep -q '^CONFIG_CC_IS_CLANG=y' "$config" 2>/dev/null; then
	echo "LLVM=1"
else
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$config" 2>/dev/null || true)
	if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
		echo "kbuild-args: $(basename "$tree"): kernel built with $cc, not on this host;" \
			"using gcc $(gcc -dumpfullversion)" >&2
		echo "CC=gcc"
	fi
fi
echo "KCFLAGS=-ffile-prefix-map=$work/= -ffile-prefix-map=${tree%/*}/="
echo "KBUILD_BUILD_TIMESTAMP=@0"
