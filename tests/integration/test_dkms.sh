#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The DKMS package end to end, against Debian's 6.1 headers from the cache:
# `make dkms-install` lays out the source tree, then dkms adds, builds,
# installs and removes the module.  Everything dkms touches lives in a
# private tree (--dkmstree, --sourcetree, --installtree, --kernelsourcedir,
# --no-depmod, and signing variables pointing at a throwaway key), so the
# host's /var/lib/dkms, /usr/src and /lib/modules stay as they were; the
# test checks that too.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
series=6.1
excluded_release=4.19.0-27-amd64	# older than BUILD_EXCLUSIVE_KERNEL allows

fail() { echo "test_dkms: FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($(( $(date +%s) - start ))s)"; }
start=$(date +%s)

command -v dkms >/dev/null || fail "dkms is not installed (bash scripts/setup-deps.sh)"
dkms --version

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=$(bash tests/qemu/fetch-kernel.sh --headers "$series") ||
	fail "could not fetch the $series headers"
release=$(cat "$headers/release")
kdir=$(readlink -f "$headers/build")
[ -f "$kdir/Makefile" ] || fail "no kernel build tree at $headers/build"

# What "untouched" means: the listings dkms would change, before and after.
system_state() {
	ls -la --time-style=+%s /var/lib/dkms /usr/src 2>&1 || true
	ls -ld --time-style=+%s "/lib/modules/$release" 2>&1 || true
}
before=$(system_state)

version=$(bash scripts/install-kmod-source.sh --version)
src_tree=$tmp/root/usr/src
src=$src_tree/forensics-mem-$version

step "make dkms-install DESTDIR=<tmp>/root"
make -s dkms-install DESTDIR="$tmp/root"
for f in dkms.conf Kbuild kmod/Kbuild kmod/uapi/forensics_mem.h; do
	[ -f "$src/$f" ] || fail "dkms-install did not install $f into $src"
done
grep -qx "PACKAGE_VERSION=\"$version\"" "$src/dkms.conf" ||
	fail "installed dkms.conf does not carry version $version"
grep -qx "PACKAGE_VERSION=\"$version\"" dkms/dkms.conf ||
	fail "dkms/dkms.conf's PACKAGE_VERSION differs from the agent's $version"
if find "$src" -name '*.o' -o -name '*.ko' -o -name '*.mod.c' -o -name '.*.cmd' | grep -q .; then
	fail "build products were copied into the DKMS source tree"
fi

step "BUILD_EXCLUSIVE_KERNEL against a table of releases"
# dkms.conf is plain assignments; MAKE, CLEAN and POST_INSTALL name these.
# shellcheck disable=SC1091,SC2034
regex=$(kernel_source_dir=/k dkms_tree=/d kernelver=/v install_tree=/i; . "$src/dkms.conf"; echo "$BUILD_EXCLUSIVE_KERNEL")
for k in 5.10.0-46-amd64 6.1.0-57-amd64 6.12.95+deb12-amd64 5.15.0-1051-aws \
	5.10.217-205.860.amzn2.x86_64 6.1.94-99.176.amzn2023.x86_64 6.8.0-1009-aws; do
	[[ $k =~ $regex ]] || fail "BUILD_EXCLUSIVE_KERNEL rejects supported kernel $k"
done
for k in 4.14.343-261.564.amzn2.x86_64 4.19.0-27-amd64 5.4.0-1103-aws 5.1.0 5.9.16; do
	[[ $k =~ $regex ]] && fail "BUILD_EXCLUSIVE_KERNEL accepts unsupported kernel $k"
done

# dkms signs what it builds when it finds the kernel's sign-file (Debian:
# /usr/lib/linux-kbuild-<x.y>/scripts/sign-file) and otherwise falls back to
# keys in /var/lib/dkms.  Point it at the cached kbuild's sign-file and a
# throwaway key: the host keeps its keys and the signing path is exercised
# as on a Secure Boot host.
sign_file=$(find "$headers"/headers/usr/lib -path '*/linux-kbuild-*/scripts/sign-file' | head -n1)
[ -x "$sign_file" ] || fail "no sign-file in the cached linux-kbuild package"
openssl req -new -x509 -nodes -days 1 -subj "/CN=forensics-mem test key" \
	-newkey rsa:2048 -keyout "$tmp/mok.key" -outform DER -out "$tmp/mok.der" \
	>/dev/null 2>&1 || fail "openssl could not make a signing key"
export sign_file mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.der
# POST_INSTALL pins what it installed; here, in the private tree.
export FORENSICS_MEM_PINS=$tmp/pins/SHA256SUMS

mkdir -p "$tmp/dkms" "$tmp/lib/modules/$release" "$tmp/lib/modules/$excluded_release"
dkms_opts=(--dkmstree "$tmp/dkms" --sourcetree "$src_tree"
	--installtree "$tmp/lib/modules" --kernelsourcedir "$kdir" --no-depmod)
mv=(-m forensics-mem -v "$version")

step "dkms add"
dkms add "${mv[@]}" "${dkms_opts[@]}" || fail "dkms add"
step "dkms build -k $release"
if ! dkms build "${mv[@]}" -k "$release" "${dkms_opts[@]}"; then
	cat "$tmp/dkms/forensics-mem/$version/build/make.log" 2>/dev/null || true
	fail "dkms build for $release"
fi
step "dkms install -k $release"
dkms install "${mv[@]}" -k "$release" "${dkms_opts[@]}" || fail "dkms install for $release"

ko=$(find "$tmp/lib/modules/$release" -name 'forensics_mem.ko*' | head -n1)
[ -n "$ko" ] || fail "no forensics_mem.ko under the install tree for $release"
echo "installed: ${ko#"$tmp"/}"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$release" ] ||
	fail "vermagic '$vermagic' does not start with release $release"
echo "vermagic: $vermagic"
signer=$(modinfo -F signer "$ko")
[ "$signer" = "forensics-mem test key" ] ||
	fail "module not signed with the test key (signer '$signer')"
pin="$(sha256sum "$ko" | cut -d' ' -f1)  $release/$(basename "$ko")"
grep -qxF "$pin" "$FORENSICS_MEM_PINS" 2>/dev/null ||
	fail "POST_INSTALL did not pin the installed module ($pin) in the pins file"
echo "pinned: $pin"
status=$(dkms status "${mv[@]}" "${dkms_opts[@]}")
echo "status: $status"
grep -Eq "^forensics-mem/$version, $release, [^:]*: installed\$" <<<"$status" ||
	fail "dkms status does not show $release installed"

step "dkms build -k $excluded_release (excluded)"
rc=0
dkms build "${mv[@]}" -k "$excluded_release" "${dkms_opts[@]}" >"$tmp/excluded.log" 2>&1 || rc=$?
[ $rc -eq 77 ] || { cat "$tmp/excluded.log"; fail "expected exit 77 for $excluded_release, got $rc"; }

step "dkms remove --all"
dkms remove "${mv[@]}" --all "${dkms_opts[@]}" || fail "dkms remove"
[ -z "$(find "$tmp/lib/modules" -name 'forensics_mem.ko*')" ] ||
	fail "dkms remove left the module in the install tree"
[ -z "$(dkms status "${mv[@]}" "${dkms_opts[@]}")" ] || fail "dkms status still lists the module"
[ ! -e "$tmp/dkms/forensics-mem/$version" ] || fail "dkms remove left its tree behind"

after=$(system_state)
[ "$before" = "$after" ] || {
	diff <(echo "$before") <(echo "$after") || true
	fail "the host's /var/lib/dkms, /usr/src or /lib/modules/$release changed"
}
step "ok"
echo "test_dkms: 1 passed"
