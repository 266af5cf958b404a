#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The module factory (scripts/build-modules.sh, `make modules`) against the
# cached Debian 5.10, 6.1 and 6.12 headers, into a temporary BUILD: one
# stripped forensics_mem.ko per release whose vermagic names that release,
# a SHA256SUMS in the form the agent pins, and the same bytes when built
# again somewhere else.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
fail() { echo "test_modules: FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trees=() releases=()
for series in 5.10 6.1 6.12; do
	dir=$(bash tests/qemu/fetch-kernel.sh --headers "$series") ||
		fail "could not fetch the $series headers"
	trees+=("$dir")
	releases+=("$(cat "$dir/release")")
done

start=$(date +%s)
BUILD=$tmp/build bash scripts/build-modules.sh "${trees[@]}" || fail "build-modules.sh"
echo "built ${#trees[@]} modules in $(( $(date +%s) - start ))s"

store=$tmp/build/modules
sums=$store/SHA256SUMS
[ -f "$sums" ] || fail "no SHA256SUMS in the store"
[ "$(wc -l <"$sums")" -eq ${#releases[@]} ] || fail "SHA256SUMS does not have one line per release"
grep -Evq '^[0-9a-f]{64}  [^/ ]+/forensics_mem\.ko$' "$sums" && fail "malformed line in SHA256SUMS"
(cd "$store" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the store"
for release in "${releases[@]}"; do
	ko=$store/$release/forensics_mem.ko
	[ -f "$ko" ] || fail "no $release/forensics_mem.ko in the store"
	grep -q "  $release/forensics_mem.ko\$" "$sums" || fail "$release missing from SHA256SUMS"
	vermagic=$(modinfo -F vermagic "$ko")
	[ "${vermagic%% *}" = "$release" ] || fail "$release: vermagic '$vermagic'"
	readelf -S "$ko" | grep -q '\.debug_' && fail "$release: module in the store has debug info"
	echo "$release: $vermagic"
done

# Reproducible: 6.12 (module BTF from pahole) built again elsewhere, same bytes.
again=$(BUILD=$tmp/again bash scripts/build-modules.sh "${trees[2]}" 2>/dev/null) ||
	fail "second build of ${releases[2]}"
grep -qxF "$again" "$sums" || fail "${releases[2]}: a second build gave different bytes"
echo "${releases[2]}: rebuilt byte for byte"
echo "test_modules: 1 passed"
