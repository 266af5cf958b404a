#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make deb`, then the package on this machine: dpkg-deb --info/--contents,
# dpkg -i (as root), the installed agent runs, dpkg -r removes every file,
# dpkg -P purges.  Where the running kernel has no headers (this host) the
# postinst must skip DKMS, say so, and still succeed.  The system is left as
# found: the package is purged on any failure, and the test refuses to run
# over an installed forensics-agent.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
pkg=forensics-agent
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed"
version=$(bash scripts/install-kmod-source.sh --version)
deb=$BUILD/${pkg}_${version}_amd64.deb
src=/usr/src/forensics-mem-$version

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
	fail "$pkg is already installed here; not touching it"
fi
[ ! -e /usr/sbin/forensics-agent ] && [ ! -e "$src" ] ||
	fail "/usr/sbin/forensics-agent or $src exists already; not touching it"
dkms_before=$(dkms status 2>/dev/null || true)
installed=
cleanup() { [ -z "$installed" ] || dpkg -P "$pkg" >/dev/null 2>&1 || true; }
trap cleanup EXIT

make -s deb BUILD="$BUILD" >/dev/null
[ -f "$deb" ] || fail "make deb did not write $deb"
ok "make deb: $deb"

info=$(dpkg-deb --info "$deb")
for want in "Package: $pkg" "Version: $version" "Architecture: amd64" postinst prerm postrm; do
	grep -q "$want" <<<"$info" || fail "dpkg-deb --info lacks $want"
done
contents=$(dpkg-deb --contents "$deb")
for want in ./usr/sbin/forensics-agent "./usr/src/forensics-mem-$version/dkms.conf" \
	"./usr/src/forensics-mem-$version/Kbuild" "./usr/src/forensics-mem-$version/kmod/main.c" \
	"./usr/src/forensics-mem-$version/pin-module.sh" ./usr/share/doc/$pkg/README.md \
	./usr/share/doc/$pkg/copyright; do
	grep -q " $want\$" <<<"$contents" || fail "dpkg-deb --contents lacks $want"
done
if awk '{print $2}' <<<"$contents" | grep -qv '^root/root$'; then
	fail "files not owned by root/root"
fi
ok "dpkg-deb --info/--contents: control fields, agent, DKMS tree, docs"

installed=1
out=$(dpkg -i "$deb" 2>&1) || fail "dpkg -i failed: $out"
echo "$out" | sed 's/^/    /'
kver=$(uname -r)
if [ ! -e "/lib/modules/$kver/build" ]; then
	grep -q "no kernel headers for $kver" <<<"$out" ||
		fail "postinst did not say it skipped DKMS for lack of headers"
	[ "$(dkms status 2>/dev/null || true)" = "$dkms_before" ] ||
		fail "dkms state changed although the module was not built"
	ok "dpkg -i: no headers for $kver, DKMS skipped and said so"
else
	ok "dpkg -i (headers for $kver present: DKMS ran)"
fi
dpkg-query -W -f='${Status}' "$pkg" | grep -q "install ok installed" || fail "not installed"
[ -x /usr/sbin/forensics-agent ] || fail "/usr/sbin/forensics-agent missing"
cmp /usr/sbin/forensics-agent "$BUILD/forensics-agent" || fail "installed agent differs"
grep -qx "PACKAGE_VERSION=\"$version\"" "$src/dkms.conf" || fail "$src/dkms.conf"
[ -f /usr/share/doc/$pkg/README.md ] || fail "docs missing"
got=$(/usr/sbin/forensics-agent --version) || fail "forensics-agent --version failed"
[ "$got" = "forensics-agent $version" ] || fail "--version said: $got"
ok "installed: $got, $src, /usr/share/doc/$pkg"

files=$(dpkg-query -L "$pkg" | grep -v '^/\.$')
dpkg -r "$pkg" >/dev/null 2>&1 || fail "dpkg -r failed"
for f in /usr/sbin/forensics-agent "$src" /usr/share/doc/$pkg; do
	[ ! -e "$f" ] || fail "$f left after dpkg -r"
done
while read -r f; do
	[ -d "$f" ] && continue	# shared directories (/usr/sbin ...) stay
	[ ! -e "$f" ] || fail "$f left after dpkg -r"
done <<<"$files"
dpkg-query -W -f='${Status}' "$pkg" | grep -q "config-files\|not-installed" ||
	fail "status after dpkg -r: $(dpkg-query -W -f='${Status}' "$pkg")"
ok "dpkg -r: every file gone"

dpkg -P "$pkg" >/dev/null 2>&1 || fail "dpkg -P failed"
installed=
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed\|config-files"; then
	fail "still known to dpkg after purge"
fi
[ "$(dkms status 2>/dev/null || true)" = "$dkms_before" ] || fail "dkms state changed"
ok "dpkg -P: purged, dkms state as before"
echo "test_deb: passed"
