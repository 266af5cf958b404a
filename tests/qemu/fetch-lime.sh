#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-lime.sh [--refresh] SERIES...
#
# Upstream LiME as a peer: downloads Debian's lime-forensics-dkms (bookworm)
# into the cache, builds lime.ko against the Debian headers of each SERIES
# (5.10, 6.1, 6.12; fetched with fetch-kernel.sh --headers) and lays the
# modules out as the reference deployment's LiME store, which is also what
# the agent's LiME fallback looks for:
#
#   <store>/debian/<release>/lime-<release>.ko
#
# then prints <store>.  The package is only unpacked (dpkg-deb -x), never
# installed; apt runs under a private configuration as in fetch-kernel.sh.
# Later runs reuse the unpacked source and the built modules without network
# access; --refresh looks for a newer package.
#
# LiME 1.9.1 defines init_module() itself instead of using module_init(), so
# on kernels built with CONFIG_X86_KERNEL_IBT (Debian's 6.12) objtool warns
# "init_module(): not an indirect call target": a CPU that enforces IBT
# stops the load with "Missing ENDBR".  QEMU's TCG does not, so it loads in
# the test guests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${FORENSICS_CACHE:-$HOME/.cache/ec2-forensics}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
PACKAGE=lime-forensics-dkms
OS=debian	# the store's <os>: /etc/os-release ID of the hosts these kernels run

log() { echo "fetch-lime: $*" >&2; }
die() { log "$*"; exit 1; }

refresh=0
series=()
while [ $# -gt 0 ]; do
	case "$1" in
	--refresh) refresh=1 ;;
	-h|--help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	5.10|6.1|6.12) series+=("$1") ;;
	*) die "usage: $0 [--refresh] 5.10|6.1|6.12..." ;;
	esac
	shift
done
[ ${#series[@]} -gt 0 ] || die "usage: $0 [--refresh] 5.10|6.1|6.12..."

top=$CACHE/lime
store=$top/store
mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

# ---- the source package, once ----
src_current=$top/src/current
if [ $refresh = 1 ] || ! [ -f "$src_current/.complete" ]; then
	apt_root=$CACHE/apt/lime
	mkdir -p "$apt_root/lists/partial" "$apt_root/cache/archives/partial"
	echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$apt_root/sources.list"
	apt_opts=(
		-o "Dir::Etc::sourcelist=$apt_root/sources.list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::State::Lists=$apt_root/lists"
		-o "Dir::Cache=$apt_root/cache"
		-o "Dir::Cache::archives=$apt_root/cache/archives"
		-o "APT::Architecture=amd64"
		-o "APT::Get::List-Cleanup=0"
		-o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root"
	)
	log "updating package lists for $SUITE"
	apt-get -q "${apt_opts[@]}" update >&2
	version=$(apt-cache "${apt_opts[@]}" policy "$PACKAGE" |
		awk '/Candidate:/ { print $2; exit }')
	if [ -z "$version" ] || [ "$version" = "(none)" ]; then
		die "no $PACKAGE in $SUITE"
	fi
	dest=$top/src/$version
	if ! [ -f "$dest/.complete" ]; then
		dl=$apt_root/debs
		rm -rf "$dl" "$dest"
		mkdir -p "$dl" "$dest/root"
		log "downloading $PACKAGE=$version"
		(cd "$dl" && apt-get -q "${apt_opts[@]}" download "$PACKAGE=$version") >&2
		dpkg-deb -x "$dl"/*.deb "$dest/root"
		rm -rf "$dl"
		echo "$PACKAGE=$version" >"$dest/package"
		touch "$dest/.complete"
	fi
	ln -sfn "$version" "$src_current"
fi
src_dir=$(readlink -f "$src_current")
package=$(cat "$src_dir/package")
# The dkms package keeps the module source in usr/src/lime-forensics-<ver>/.
lime_src=$(find "$src_dir/root/usr/src" -mindepth 1 -maxdepth 1 -type d -name 'lime-forensics-*' | head -n1)
[ -f "$lime_src/main.c" ] || die "no LiME source in $package"

# ---- one module per series ----
for s in "${series[@]}"; do
	headers=$(bash "$here/fetch-kernel.sh" --headers "$s") || die "no $s headers"
	release=$(cat "$headers/release")
	out=$store/$OS/$release/lime-$release.ko
	work=$top/build/$release
	stamp="$package $(readlink -f "$headers/build")"
	if [ -f "$out" ] && [ "$(cat "$work/.stamp" 2>/dev/null)" = "$stamp" ]; then
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work"
	cp -a "$lime_src/." "$work/src"
	args=$(bash "$root/scripts/kbuild-args.sh" "$headers/build" "$work/src") ||
		die "kbuild-args.sh failed for $release"
	mapfile -t make_args <<<"$args"
	log "$release: building LiME from $package"
	if ! make -C "$headers/build" M="$work/src" "${make_args[@]}" -j"$(nproc)" modules \
		>"$work/build.log" 2>&1; then
		tail -n 30 "$work/build.log" >&2
		die "$release: LiME build failed (log: $work/build.log)"
	fi
	vermagic=$(modinfo -F vermagic "$work/src/lime.ko")
	[ "${vermagic%% *}" = "$release" ] || die "$release: lime.ko vermagic is '$vermagic'"
	mkdir -p "$(dirname "$out")"
	strip --strip-debug -o "$out" "$work/src/lime.ko"
	echo "$stamp" >"$work/.stamp"
	log "$release: $out (vermagic $vermagic)"
done
echo "$store"
