#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-kernel.sh [--headers] [--refresh] SERIES
#
# Downloads the newest Debian amd64 kernel of SERIES (6.1, 5.10, 6.12) and
# unpacks it into the cache, then prints the directory holding:
#   vmlinuz   the bootable image
#   modules   -> lib/modules/<release> of the unpacked package
#   release   the release string (uname -r of the guest)
#   headers/  (with --headers) the unpacked linux-headers, -common and
#             linux-kbuild packages, for building out-of-tree modules
#   build     (with --headers) -> the tree to pass as "make -C build M=..."
#
# The packages are fetched with a private apt configuration and only ever
# unpacked, so the host's own package state is never touched.  Once a series
# has been fetched the cached copy is reused without any network access; pass
# --refresh to look for a newer package.
set -euo pipefail

CACHE=${FORENSICS_CACHE:-$HOME/.cache/ec2-forensics}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

want_headers=0
refresh=0
series=
while [ $# -gt 0 ]; do
	case "$1" in
	--headers) want_headers=1 ;;
	--refresh) refresh=1 ;;
	-h|--help)
		sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	-*) echo "fetch-kernel: unknown option $1" >&2; exit 2 ;;
	*) series=$1 ;;
	esac
	shift
done

# Each series is the default kernel of exactly one Debian suite; the
# security suite is added where it exists because point fixes land there
# first and "newest" should include them.
case "$series" in
5.10) suites="bullseye bullseye-security" ;;
6.1) suites="bookworm bookworm-security" ;;
6.12) suites="bookworm-backports" ;;
*) echo "fetch-kernel: usage: $0 [--headers] [--refresh] 5.10|6.1|6.12" >&2
   exit 2 ;;
esac

log() { echo "fetch-kernel: $*" >&2; }

series_dir=$CACHE/kernels/$series
current=$series_dir/current
mkdir -p "$series_dir"

# Serialise concurrent runs (two tests starting at once) on the same series.
exec 9>"$series_dir/.lock"
flock 9

have_complete() {
	[ -f "$1/.complete" ] && { [ $want_headers = 0 ] || [ -f "$1/.headers-complete" ]; }
}

if [ $refresh = 0 ] && [ -L "$current" ] && have_complete "$current"; then
	readlink -f "$current"
	exit 0
fi

apt_root=$CACHE/apt/$series
mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial"
sources=$apt_root/sources.list
: >"$sources"
for suite in $suites; do
	case "$suite" in
	*-security) echo "deb [signed-by=$KEYRING] $SECURITY_MIRROR $suite main" ;;
	*) echo "deb [signed-by=$KEYRING] $MIRROR $suite main" ;;
	esac >>"$sources"
done

apt_opts=(
	-o "Dir::Etc::sourcelist=$sources"
	-o "Dir::Etc::sourceparts=-"
	-o "Dir::State::Lists=$apt_root/lists"
	-o "Dir::Cache=$apt_root/cache"
	-o "Dir::Cache::archives=$apt_root/cache/archives"
	-o "APT::Architecture=amd64"
	-o "APT::Get::List-Cleanup=0"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)

log "updating package lists for: $suites"
apt-get -q "${apt_opts[@]}" update >&2

# The generic amd64 flavour is what a stock EC2 Debian AMI-like guest boots
# when not using the cloud flavour; it carries virtio as modules, which is
# the case the agent has to cope with.  The -unsigned package holds the same
# image as the signed one without the EFI signature, so accept either.
prefix="linux-image-${series//./\\.}\\."
# pkgnames also lists names that are only mentioned in relations (a signed
# package announced before it is built), so ask search, which lists only
# packages that really exist in the index.
real=$(apt-cache "${apt_opts[@]}" search --names-only "^${prefix}" |
	awk '{ print $1 }' |
	grep -E "^${prefix}[0-9][-.+0-9a-z]*-amd64(-unsigned)?\$" |
	grep -Ev -- '-(rt|cloud|dbg)-' || true)
release=$(sed -E 's/^linux-image-//; s/-unsigned$//' <<<"$real" |
	sort -uV | tail -n1)
if [ -z "$release" ]; then
	log "no linux-image package for series $series in $suites"
	exit 1
fi
if grep -qx "linux-image-$release-unsigned" <<<"$real"; then
	pkg=linux-image-$release-unsigned
else
	pkg=linux-image-$release
fi
version=$(apt-cache "${apt_opts[@]}" policy "$pkg" |
	awk '/Candidate:/ { print $2; exit }')
log "newest: $pkg ($version), release $release"

dest=$series_dir/$release
if ! [ -f "$dest/.complete" ]; then
	rm -rf "$dest"
	mkdir -p "$dest/root"
	# Start empty so the one .deb there is the one just fetched.
	dl=$apt_root/debs
	rm -rf "$dl"
	mkdir -p "$dl"
	(cd "$dl" && apt-get -q "${apt_opts[@]}" download "$pkg=$version") >&2
	debs=("$dl/"*.deb)
	deb=${debs[0]}
	log "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$dest/root"
	cp "$dest/root/boot/vmlinuz-$release" "$dest/vmlinuz"
	ln -sfn "root/lib/modules/$release" "$dest/modules"
	echo "$release" >"$dest/release"
	echo "$pkg=$version" >"$dest/package"
	# Fetched packages are not needed once unpacked.
	rm -f "$deb"
	touch "$dest/.complete"
fi

if [ $want_headers = 1 ] && ! [ -f "$dest/.headers-complete" ]; then
	hpkg=linux-headers-$release
	# Headers depend on their -common sibling and linux-kbuild-*; take
	# the exact versions the archive pairs them with.
	deps=$(apt-cache "${apt_opts[@]}" show "$hpkg=$version" |
		awk -F': ' '/^Depends:/ { print $2; exit }' | tr ',' '\n' |
		sed -E 's/^ *//; s/ .*//' | grep -E '^linux-(headers|kbuild)-' || true)
	want=("$hpkg=$version")
	for d in $deps; do
		dver=$(apt-cache "${apt_opts[@]}" policy "$d" |
			awk '/Candidate:/ { print $2; exit }')
		want+=("$d=$dver")
	done
	log "fetching ${want[*]}"
	dl=$apt_root/debs-headers
	rm -rf "$dl"
	mkdir -p "$dl"
	(cd "$dl" && apt-get -q "${apt_opts[@]}" download "${want[@]}") >&2
	rm -rf "$dest/headers"
	mkdir -p "$dest/headers"
	for deb in "$dl"/*.deb; do
		dpkg-deb -x "$deb" "$dest/headers"
	done
	rm -rf "$dl"
	# The arch Makefile includes its -common sibling by absolute path
	# under /usr/src; point it at the unpacked copy, relative to itself,
	# so "make -C $dir/build M=..." works from the cache wherever it is.
	hdir=$dest/headers/usr/src/$hpkg
	# shellcheck disable=SC2016 # $(...) is make syntax, for make.
	sed -i -E 's|^include /usr/src/(.*)$|include $(dir $(lastword $(MAKEFILE_LIST)))../\1|' \
		"$hdir/Makefile"
	ln -sfn "headers/usr/src/$hpkg" "$dest/build"
	printf '%s\n' "${want[@]}" >"$dest/headers-packages"
	touch "$dest/.headers-complete"
fi

ln -sfn "$release" "$current"
readlink -f "$current"
