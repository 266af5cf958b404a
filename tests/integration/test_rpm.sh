#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make rpm`, then the package without touching this machine's system:
# rpm -qp --info/--list/--scripts (metadata, the files `make install
# PREFIX=/usr` installs, owned by root, dated by the last commit, the shared
# DKMS scriptlets); two builds are byte-identical; installed into and
# erased from a throwaway rpm database (--root, --nodeps, --noscripts). The
# scriptlets themselves run in a chroot (dash, busybox) with a fake dkms, uname and
# rpm: dkms absent, headers absent, dkms add/build/install for the running
# kernel, dkms failing (the transaction never fails), preun on erase and on
# upgrade, postun. The deb's postinst runs the same code the same way.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
fail() { echo "test_rpm: FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (chroot)"
command -v rpmbuild >/dev/null || fail "rpmbuild is not installed (scripts/setup-deps.sh)"
busybox=$(command -v busybox) || fail "busybox is not installed (scripts/setup-deps.sh)"
version=$(bash scripts/install-kmod-source.sh --version)
rpm=$BUILD/forensics-agent-$version-1.x86_64.rpm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s agent BUILD="$BUILD" >/dev/null 2>&1 || fail "make agent failed"
make -s rpm BUILD="$BUILD" >/dev/null || fail "make rpm failed"
[ -f "$rpm" ] || fail "make rpm did not write $rpm"
epoch=$(git log -1 --format=%ct)
ok "make rpm: $rpm"

q() { rpm -qp "$@" "$rpm" 2>/dev/null; }
info=$(q --info)
for want in "Name *: forensics-agent" "Version *: $version" "Release *: 1" \
	"Architecture: x86_64" "License *: GPL-2.0-only" "Summary *: Memory acquisition agent"; do
	grep -q "^$want" <<<"$info" || fail "rpm -qp --info lacks $want"
done
[ "$(q --qf '%{BUILDTIME}')" = "$epoch" ] || fail "build time $(q --qf '%{BUILDTIME}') is not the last commit's ($epoch)"
grep -qx dkms <<<"$(q --recommends)" || fail "does not recommend dkms"
reqs=$(q --requires | grep -v '^rpmlib(' | sort -u)
[ "$reqs" = /bin/sh ] || fail "requires more than /bin/sh: $reqs"
ok "rpm -qp --info: name, version, release, x86_64, license; built at the last commit; recommends dkms; requires only /bin/sh"

# Files: exactly what make install PREFIX=/usr installs, root-owned, same modes.
make -s install BUILD="$BUILD" DESTDIR="$tmp/inst" PREFIX=/usr >/dev/null || fail "make install"
want=$(cd "$tmp/inst" && find . -mindepth 1 -printf '%M /%P\n' | LC_ALL=C sort -k2 |
	grep -v -e ' /usr$' -e ' /usr/src$' -e ' /usr/sbin$' -e ' /usr/share$' -e ' /usr/share/doc$')
got=$(q --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' | LC_ALL=C sort -k2)
[ "$got" = "$want" ] || fail "rpm's files differ from make install PREFIX=/usr:
$(diff <(echo "$want") <(echo "$got") || true)"
[ "$(q --list)" = "$(awk '{print $2}' <<<"$got")" ] || fail "rpm -qp --list differs from the file tags"
owners=$(q --qf '[%{FILEUSERNAME}:%{FILEGROUPNAME}\n]' | sort -u)
[ "$owners" = root:root ] || fail "files owned by $owners"
mtimes=$(q --qf '[%{FILEMTIMES}\n]' | sort -u)
[ "$mtimes" = "$epoch" ] || fail "file dates are not the last commit's: $(head -3 <<<"$mtimes")"
ok "rpm -qp --list: $(wc -l <<<"$got") entries, exactly make install PREFIX=/usr's, modes alike, root:root, dated $epoch"

scripts=$(q --scripts)
for s in "postinstall scriptlet (using /bin/sh)" "preuninstall scriptlet (using /bin/sh)" \
	"postuninstall scriptlet (using /bin/sh)"; do
	grep -qF "$s" <<<"$scripts" || fail "rpm -qp --scripts lacks $s"
done
for tag in POSTIN:post PREUN:preun POSTUN:postun; do
	q --qf "%{${tag%%:*}}" >"$tmp/${tag#*:}"
	bash delivery/render-script.sh "delivery/rpm/${tag#*:}" "$version" >"$tmp/want"
	# rpm keeps the scriptlet without its last newline.
	[ "$(cat "$tmp/${tag#*:}")" = "$(cat "$tmp/want")" ] || fail "the ${tag#*:} scriptlet is not delivery/rpm/${tag#*:} rendered"
	sh -n "$tmp/${tag#*:}" || fail "${tag#*:} does not parse"
done
grep -q "forensics_version=$version" "$tmp/post" || fail "version not rendered into post"
! grep -q '@VERSION@\|#include' "$tmp/post" "$tmp/preun" "$tmp/postun" || fail "template left unrendered"
ok "rpm -qp --scripts: post, preun, postun (/bin/sh) are delivery/rpm's templates with delivery/dkms-hooks.sh"

# Again from the same agent, elsewhere, at the same date.
mkdir -p "$tmp/again"
cp "$BUILD/forensics-agent" "$tmp/again/"
SOURCE_DATE_EPOCH=$epoch bash delivery/rpm/build-rpm.sh "$tmp/again" >/dev/null ||
	fail "build-rpm.sh again failed"
cmp -s "$tmp/again/${rpm##*/}" "$rpm" || fail "a second build differs: not reproducible"
ok "built again in another directory: byte-identical"

# A throwaway rpm database: install, verify, run, erase.
r=$tmp/rpmroot
R() { rpm --root "$r" --dbpath /var/lib/rpm "$@" 2>"$tmp/rpm.err"; }
mkdir -p "$r"
R --initdb || fail "rpm --initdb: $(cat "$tmp/rpm.err")"
R -i --nodeps --noscripts "$root/$rpm" || fail "rpm -i: $(cat "$tmp/rpm.err")"
[ "$(R -q forensics-agent)" = "forensics-agent-$version-1.x86_64" ] || fail "rpm -q after -i"
R -V --nodeps forensics-agent || fail "rpm -V: $(cat "$tmp/rpm.err")"
out=$("$r/usr/sbin/forensics-agent" --version) || fail "installed agent --version failed"
[ "$out" = "forensics-agent $version" ] || fail "--version said: $out"
cmp -s "$r/usr/sbin/forensics-agent" "$BUILD/forensics-agent" || fail "installed agent differs from the build's"
[ -f "$r/usr/src/forensics-mem-$version/dkms.conf" ] || fail "no DKMS tree installed"
R -e --noscripts forensics-agent || fail "rpm -e: $(cat "$tmp/rpm.err")"
R -q forensics-agent >/dev/null && fail "still installed after rpm -e"
left=$(cd "$r" && find . -mindepth 1 ! -path './var*' ! -path ./usr ! -path ./usr/src \
	! -path ./usr/sbin ! -path ./usr/share ! -path ./usr/share/doc)
[ -z "$left" ] || fail "left after rpm -e: $left"
ok "rpm --root: -i, -q, -V, the agent runs ($out), -e leaves only the shared directories"

# The scriptlets in a chroot: dash, busybox's tools; dkms, uname and rpm are
# fakes that log to /calls.
c=$tmp/chroot
mkdir -p "$c/bin" "$c/dev" "$c/usr/bin" "$c/usr/sbin" "$c/lib/modules" "$c/var/lib/forensics-mem"
mknod -m 0666 "$c/dev/null" c 1 3
# dash as /bin/sh (busybox's shell would run its own uname before ours), with
# the libraries it links.
cp "$busybox" "$c/bin/busybox"
for t in grep rm rmdir cat touch; do ln -s busybox "$c/bin/$t"; done
cp /bin/dash "$c/bin/sh"
for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do
	mkdir -p "$c$(dirname "$lib")"
	cp -L "$lib" "$c$lib"
done
cat >"$c/bin/uname" <<'EOF'
#!/bin/sh
echo 6.1.0-fake
EOF
cat >"$c/dkms" <<'EOF'
#!/bin/sh
echo "dkms $*" >>/calls
case $1 in
status) [ -f /registered ] && echo "forensics-mem/@V@: added" ;;
add) touch /registered; exit ${FAIL_ADD:-0} ;;
build) exit ${FAIL_BUILD:-0} ;;
remove) rm -f /registered; exit ${FAIL_REMOVE:-0} ;;
esac
exit 0
EOF
sed -i "s/@V@/$version/" "$c/dkms"
cat >"$c/usr/bin/rpm" <<'EOF'
#!/bin/sh
echo "rpm $*" >>/calls
printf '%b' "$RPM_Q"
EOF
chmod 0755 "$c/bin/uname" "$c/dkms" "$c/usr/bin/rpm"
cp "$tmp/post" "$tmp/preun" "$tmp/postun" "$c/"

# scriptlet NAME ARG [VAR=value ...]: runs it in the chroot; output in $out, calls in $calls.
scriptlet() {
	local s=$1 arg=$2
	shift 2
	rm -f "$c/calls"
	out=$(env -i PATH=/usr/sbin:/usr/bin:/bin "$@" chroot "$c" /bin/sh "/$s" "$arg" 2>&1) ||
		fail "$s $arg exited $? (must never fail): $out"
	calls=$(cat "$c/calls" 2>/dev/null || true)
}
m="-m forensics-mem -v $version"

scriptlet post 1
grep -q "dkms is not installed" <<<"$out" || fail "post without dkms: $out"
[ -z "$calls" ] || fail "post without dkms called: $calls"
ok "post, dkms absent: exit 0, says so"

cp "$c/dkms" "$c/usr/sbin/dkms"
scriptlet post 1
grep -q "no kernel headers for 6.1.0-fake" <<<"$out" || fail "post without headers: $out"
[ -z "$calls" ] || fail "post without headers called: $calls"
ok "post, dkms but no headers for the running kernel: exit 0, says so, DKMS untouched"

mkdir -p "$c/lib/modules/6.1.0-fake/build"
scriptlet post 1
[ "$calls" = "dkms status $m
dkms add $m
dkms build $m -k 6.1.0-fake
dkms install $m -k 6.1.0-fake" ] || fail "post with headers called: $calls"
scriptlet post 2
[ "$calls" = "dkms status $m
dkms build $m -k 6.1.0-fake
dkms install $m -k 6.1.0-fake" ] || fail "post on upgrade, already added, called: $calls"
ok "post, dkms and headers: dkms add (once), build and install for the running kernel"

rm -f "$c/registered"
scriptlet post 1 FAIL_BUILD=10
grep -q "did not build for 6.1.0-fake" <<<"$out" || fail "post, build failing: $out"
grep -q "dkms install" <<<"$calls" && fail "installed after a failed build: $calls"
rm -f "$c/registered"
scriptlet post 1 FAIL_ADD=3 FAIL_BUILD=3
grep -q "dkms add failed" <<<"$out" || fail "post, add failing: $out"
ok "post, dkms add or build failing: exit 0 all the same, says so"

touch "$c/registered"
scriptlet preun 0
grep -qx "dkms remove $m --all" <<<"$calls" || fail "preun on erase: $calls"
touch "$c/registered"
scriptlet preun 0 FAIL_REMOVE=1
grep -q "dkms remove failed" <<<"$out" || fail "preun, remove failing: $out"
scriptlet preun 0
grep -q "dkms remove" <<<"$calls" && fail "preun removed an unregistered module: $calls"
ok "preun on erase: dkms remove --all when registered, exit 0 when it fails"

touch "$c/registered"
scriptlet preun 1 "RPM_Q=forensics-agent-$version-1.x86_64\nforensics-agent-$version-2.x86_64\n"
grep -q "dkms remove" <<<"$calls" && fail "upgrade to a release of the same version removed the module: $calls"
scriptlet preun 1 "RPM_Q=forensics-agent-$version-1.x86_64\nforensics-agent-99.0.0-1.x86_64\n"
grep -qx "dkms remove $m --all" <<<"$calls" || fail "upgrade to another version kept the old module: $calls"
ok "preun on upgrade: the old version leaves DKMS, the same version (new release) stays"

echo "pins" >"$c/var/lib/forensics-mem/SHA256SUMS"
scriptlet postun 1
[ -f "$c/var/lib/forensics-mem/SHA256SUMS" ] || fail "postun on upgrade removed the pins"
scriptlet postun 0
[ ! -e "$c/var/lib/forensics-mem" ] || fail "postun on erase left /var/lib/forensics-mem"
ok "postun: pins kept on upgrade, removed on erase"

# The Debian package's postinst (rendered as build-deb.sh does; test_deb
# builds and installs the package) is the same code.
mkdir -p "$tmp/DEBIAN"
bash delivery/render-script.sh delivery/deb/postinst "$version" >"$tmp/DEBIAN/postinst"
hooks=$(awk 'body; !body && $0 == "" {body = 1}' delivery/dkms-hooks.sh | sed "s/@VERSION@/$version/")
for f in "$tmp/DEBIAN/postinst" "$tmp/post" "$tmp/preun" "$tmp/postun"; do
	[ "$(grep -c '^forensics_dkms_build() {$' "$f")" = 1 ] ||
		fail "$(basename "$f") defines forensics_dkms_build other than once"
	python3 -c 'import sys; a, b = open(sys.argv[1]).read(), sys.argv[2]; sys.exit(b not in a)' "$f" "$hooks" ||
		fail "$(basename "$f") does not carry delivery/dkms-hooks.sh verbatim"
done
cp "$tmp/DEBIAN/postinst" "$c/postinst"
rm -f "$c/registered"
scriptlet postinst configure
[ "$(grep -c '^dkms \(add\|build\|install\)' <<<"$calls")" = 3 ] || fail "deb postinst called: $calls"
ok "the deb's postinst carries the same functions and runs DKMS the same way"
echo "test_rpm: passed"
