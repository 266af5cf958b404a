#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The build on a fresh machine, with nothing cached: a fresh clone of HEAD,
# an empty cache (so empty private apt lists: zstd and curl are fetched from
# Debian and built from source), `scripts/setup-deps.sh`, `make agent`; the
# agent must run and be static. Then the Debian-source fetch once more with
# an undownloadable newest version put in front: it must fall back to one
# that downloads and say so. `make check-cold`; several minutes, needs the
# network. Not part of `make check` (which builds from the cache).
#
# Environment: COLD_KEEP=1 keeps the temporary directory.
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
tmp=$(mktemp -d)
cleanup() {
	if [ "${COLD_KEEP:-0}" = 1 ]; then echo "cold: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() { echo "cold: FAIL: $*" >&2; exit 1; }
stage() { # <name> <seconds>
	printf 'cold: %-28s %4d s\n' "$1" "$2" | tee -a "$tmp/times.txt"
}
export FORENSICS_CACHE=$tmp/cache
mkdir -p "$FORENSICS_CACHE"

t0=$SECONDS
git clone -q --no-checkout "$repo" "$tmp/src"
git -C "$tmp/src" checkout -q --detach "$head"
echo "cold: clone of $head in $tmp/src, cache $FORENSICS_CACHE"

t=$SECONDS
bash "$tmp/src/scripts/setup-deps.sh" >"$tmp/setup.log" 2>&1 ||
	{ tail -n 20 "$tmp/setup.log" >&2; fail "scripts/setup-deps.sh"; }
stage "setup-deps.sh" $((SECONDS - t))

t=$SECONDS
make -C "$tmp/src" -j"${COLD_JOBS:-2}" agent >"$tmp/make.log" 2>&1 ||
	{ tail -n 40 "$tmp/make.log" >&2; fail "make agent"; }
stage "make agent (zstd, curl, agent)" $((SECONDS - t))
grep -E '^(fetch-debian-source|build-curl|build-zstd):' "$tmp/make.log" | sed 's/^/  /'

agent=$tmp/src/build/forensics-agent
version=$("$agent" --version) || fail "forensics-agent --version"
echo "cold: $version"
readelf -lW "$agent" | grep -q 'Requesting program interpreter' && fail "the agent has an interpreter"
readelf -dW "$agent" 2>/dev/null | grep -q NEEDED && fail "the agent needs shared libraries"
file "$agent" | grep -q 'statically linked' || fail "file(1) does not call the agent static"
echo "cold: the agent runs and is static"

# The fallback: a newest version no suite serves, then the real ones.
t=$SECONDS
fake=99:9.9.9-1
dest=$(DEBIAN_SOURCE_INJECT=$fake bash "$tmp/src/scripts/fetch-debian-source.sh" \
	--prefer-installed libzstd-dev libzstd 2>"$tmp/fallback.log") ||
	{ cat "$tmp/fallback.log" >&2; fail "the fetch did not fall back"; }
sed 's/^/  /' "$tmp/fallback.log"
grep -q "skipped libzstd $fake from " "$tmp/fallback.log" || fail "no word of skipping $fake"
grep -q "took libzstd .*skipped: $fake" "$tmp/fallback.log" || fail "no word of the version taken"
case $dest in
*/libzstd-"$fake" | "") fail "took $dest" ;;
esac
[ -f "$dest/lib/zstd.h" ] || fail "$dest is not an unpacked libzstd"
stage "fallback fetch" $((SECONDS - t))
stage "total" $((SECONDS - t0))
echo "cold: PASS"
