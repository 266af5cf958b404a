#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-modules.sh [TREE...]
#
# The module factory: builds forensics_mem.ko against each kernel build
# tree and lays the results out as the store the agent pins:
#
#   $BUILD/modules/<release>/forensics_mem.ko
#   $BUILD/modules/SHA256SUMS       "<sha256>  <release>/forensics_mem.ko"
#
# A TREE is a kernel build directory (what `make -C` takes, such as
# /lib/modules/<release>/build) or a directory printed by
# `tests/qemu/fetch-kernel.sh --headers` (its build/ is used).  With no TREE
# the cached Debian headers of 5.10, 6.1 and 6.12 are used, fetched if
# missing.
#
# Each release builds in its own copy of the sources,
# $BUILD/kmod-build/<release>, so kernels never share objects and kmod/
# itself stays clean; that copy keeps the unstripped module for debugging.
# The store holds the modules stripped of debug info, byte for byte the same
# wherever they are built from the same sources, headers and tools (gcc,
# pahole; see kbuild-args.sh).  It is replaced as a whole, and only when
# every tree built: SHA256SUMS lists exactly the modules of one run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
store=$build/modules
module=forensics_mem

log() { echo "build-modules: $*" >&2; }
die() { log "$*"; exit 1; }

trees=("$@")
if [ ${#trees[@]} -eq 0 ]; then
	for series in 5.10 6.1 6.12; do
		trees+=("$(bash "$root/tests/qemu/fetch-kernel.sh" --headers "$series")") ||
			die "could not fetch the $series headers"
	done
fi

mkdir -p "$build"
exec 9>"$build/.modules.lock"
flock 9

new=$build/modules.new
rm -rf "$new"
mkdir -p "$new"
declare -A seen=()

for tree in "${trees[@]}"; do
	[ -f "$tree/build/Makefile" ] && tree=$tree/build
	tree=$(readlink -f "$tree")
	[ -f "$tree/Makefile" ] || die "$tree is not a kernel build tree (no Makefile)"
	release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$tree/include/generated/utsrelease.h" 2>/dev/null || true)
	[ -n "$release" ] || die "$tree: no UTS_RELEASE in include/generated/utsrelease.h"
	[ -z "${seen[$release]:-}" ] || die "$release given twice (${seen[$release]} and $tree)"
	seen[$release]=$tree

	work=$build/kmod-build/$release
	rm -rf "$work"
	bash "$root/scripts/install-kmod-source.sh" "$work"
	# The host's compiler when the kernel's is missing, relative paths.
	args=$(bash "$root/scripts/kbuild-args.sh" "$tree" "$work") || die "$release: kbuild-args.sh failed"
	mapfile -t make_args <<<"$args"
	log "$release: make -C $tree M=$work modules"
	start=$(date +%s)
	if ! make -C "$tree" M="$work" "${make_args[@]}" -j"$(nproc)" modules \
		>"$work/build.log" 2>&1; then
		tail -n 40 "$work/build.log" >&2
		die "$release: build failed (full log: $work/build.log)"
	fi
	ko=$work/kmod/$module.ko
	[ -f "$ko" ] || die "$release: no kmod/$module.ko was built (does kmod/Kbuild list the module's objects?)"
	vermagic=$(modinfo -F vermagic "$ko")
	[ "${vermagic%% *}" = "$release" ] ||
		die "$release: module vermagic is '$vermagic'"
	mkdir -p "$new/$release"
	strip --strip-debug -o "$new/$release/$module.ko" "$ko"
	log "$release: ok in $(( $(date +%s) - start ))s, vermagic $vermagic"
done

(cd "$new" && LC_ALL=C sha256sum -- */"$module.ko") >"$new/SHA256SUMS"
rm -rf "$store.old"
[ -d "$store" ] && mv "$store" "$store.old"
mv "$new" "$store"
rm -rf "$store.old"
cat "$store/SHA256SUMS"
