#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make install DESTDIR=T`: exactly the expected files and directories with
# their modes (agent 0755 in $(PREFIX)/sbin, the DKMS tree in /usr/src, docs
# 0644), the installed agent runs; PREFIX=/usr gives the Debian package's
# file list (one layout, scripts/install-tree.sh); the installed DKMS tree is
# a copy of the sources; a relative PREFIX is refused.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

version=$(bash scripts/install-kmod-source.sh --version)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What the tree should hold, from the sources: kmod's sources and Kbuild files
# (tracked or new, not ignored build products), the docs.
expected() {
	local prefix=$1 src=/usr/src/forensics-mem-$version doc=$1/share/doc/forensics-agent
	{
		echo "755 $prefix/sbin/forensics-agent"
		echo "644 $src/Kbuild"
		echo "644 $src/dkms.conf"
		echo "755 $src/pin-module.sh"
		git ls-files -co --exclude-standard kmod |
			grep -E '(\.c|\.h|\.S|/Kbuild[^/]*|/Makefile|\.include)$' |
			grep -v '\.mod\.c$' | sed "s|^|644 $src/|"
		for f in README.md README.dkms.md README.delivery.md; do echo "644 $doc/$f"; done
		for f in docs/*.md; do echo "644 $doc/${f#docs/}"; done
	} | LC_ALL=C sort -k2
}
# Every directory on the way is 0755.
expected_dirs() {
	awk '{print $2}' | while read -r f; do
		d=$(dirname "$f")
		while [ "$d" != / ]; do echo "755 $d"; d=$(dirname "$d"); done
	done | LC_ALL=C sort -u -k2
}
listing() {	# mode and path of every file (type f) or directory (type d) under $1
	(cd "$1" && find . -mindepth 1 -type "$2" -printf '%m /%P\n') | LC_ALL=C sort -k2
}

make -s agent BUILD="$BUILD" >/dev/null 2>&1 || fail "make agent failed"
make -s install BUILD="$BUILD" DESTDIR="$tmp/a" >/dev/null || fail "make install failed"
want=$(expected /usr/local)
got=$(listing "$tmp/a" f)
[ "$got" = "$want" ] || fail "files differ from the expected list:
$(diff <(echo "$want") <(echo "$got") || true)"
[ "$(listing "$tmp/a" d)" = "$(expected_dirs <<<"$want")" ] ||
	fail "directories differ: $(diff <(expected_dirs <<<"$want") <(listing "$tmp/a" d) || true)"
others=$(cd "$tmp/a" && find . ! -type f ! -type d)
[ -z "$others" ] || fail "neither file nor directory: $others"
ok "make install DESTDIR: $(wc -l <<<"$want") files, exactly the expected ones, modes 0755/0644, directories 0755"

agent=$tmp/a/usr/local/sbin/forensics-agent
cmp -s "$agent" "$BUILD/forensics-agent" || fail "installed agent differs from $BUILD/forensics-agent"
out=$("$agent" --version) || fail "installed agent --version failed"
[ "$out" = "forensics-agent $version" ] || fail "--version said: $out"
src=$tmp/a/usr/src/forensics-mem-$version
grep -qx "PACKAGE_VERSION=\"$version\"" "$src/dkms.conf" || fail "dkms.conf not stamped with $version"
while read -r f; do
	cmp -s "$f" "$src/$f" || fail "$src/$f is not a copy of $f"
done < <(cd "$src" && find kmod -type f)
cmp -s "$tmp/a/usr/local/share/doc/forensics-agent/README.dkms.md" dkms/README.md ||
	fail "README.dkms.md is not dkms/README.md"
ok "installed agent runs: $out; DKMS tree and docs are copies of the sources"

make -s install BUILD="$BUILD" DESTDIR="$tmp/b" PREFIX=/usr >/dev/null || fail "PREFIX=/usr failed"
[ "$(listing "$tmp/b" f)" = "$(expected /usr)" ] || fail "PREFIX=/usr: files differ"
make -s deb BUILD="$BUILD" >/dev/null || fail "make deb failed"
deb=$BUILD/forensics-agent_${version}_amd64.deb
# dpkg-deb lists "-rwxr-xr-x root/root size date time ./path"; the deb adds copyright.
from_deb=$(dpkg-deb --contents "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' |
	grep -vx /usr/share/doc/forensics-agent/copyright | LC_ALL=C sort)
from_make=$(listing "$tmp/b" f | awk '{print $2}')
[ "$from_deb" = "$from_make" ] || fail "the deb and make install PREFIX=/usr differ:
$(diff <(echo "$from_make") <(echo "$from_deb") || true)"
ok "make install PREFIX=/usr installs the Debian package's files (copyright aside)"

if make -s install BUILD="$BUILD" DESTDIR="$tmp/c" PREFIX=usr >/dev/null 2>"$tmp/err"; then
	fail "a relative PREFIX was accepted"
fi
grep -q "PREFIX must be absolute" "$tmp/err" || fail "relative PREFIX: $(cat "$tmp/err")"
[ ! -e "$tmp/c" ] || fail "a relative PREFIX installed something"
ok "a relative PREFIX is refused before anything is installed"
echo "test_install: passed"
