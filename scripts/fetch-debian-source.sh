#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-debian-source.sh [--version VERSION] [--prefer-installed BINARY] PACKAGE
#
# Fetch and unpack a Debian source package (with Debian's patches applied)
# into the cache, without touching the system's apt configuration: a private
# deb-src list, lists and archive directories under the cache. Prints the
# unpacked source directory, named PACKAGE-VERSION. Used to build static
# libraries that Debian ships only as shared or without threads (libcurl,
# libzstd): scripts/build-zstd.sh and scripts/build-curl.sh.
#
# Which version: --version pins one. Otherwise the version of the installed
# BINARY package (--prefer-installed, e.g. libzstd-dev) when a suite lists
# it, then every listed version from the newest down. A suite can list a
# source whose files its pool does not serve (bookworm-security answered 404
# for libzstd 1.5.4+dfsg2-5+deb12u1), so each (version, suite) pair is tried
# in turn until one downloads; stderr says which was taken and why the others
# were skipped.
#
# Environment:
#   FORENSICS_CACHE          cache directory (default ~/.cache/ec2-forensics)
#   DEBIAN_SOURCE_SUITE      release to fetch from (default bookworm), with
#                            its -updates and -security suites
#   DEBIAN_SOURCE_REFRESH=1  refresh the private index now (otherwise at most
#                            once a day)
#   DEBIAN_SOURCE_INJECT     test hook: a version put first in the candidate
#                            list, which no suite serves (tests/cold/)
set -euo pipefail

say() { echo "fetch-debian-source: $*" >&2; }
die() { say "error: $*"; exit 1; }

pin='' prefer=''
while [ $# -gt 1 ]; do
	case $1 in
	--version) pin=$2; shift 2 ;;
	--prefer-installed) prefer=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: fetch-debian-source.sh [--version V] [--prefer-installed BINARY] PACKAGE"
pkg=$1
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
cache=${FORENSICS_CACHE:-$home/.cache/ec2-forensics}/debian-source
release=${DEBIAN_SOURCE_SUITE:-bookworm}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/src" "$cache/suites"

# Clones on one machine share the cache: one fetch at a time.
exec 9>"$cache/.lock"
flock 9

# One list per suite as well as the whole: a download through a one-suite
# list can only come from that suite's pool.
suites=("$release" "$release-updates" "$release-security")
: >"$cache/sources.list.new"
for s in "${suites[@]}"; do
	uri=http://deb.debian.org/debian
	[ "$s" = "$release-security" ] && uri=http://deb.debian.org/debian-security
	echo "deb-src [signed-by=$keyring] $uri $s main" | tee "$cache/suites/$s.list" \
		>>"$cache/sources.list.new"
done
mv "$cache/sources.list.new" "$cache/sources.list"
apt_opts() { # <sources.list>
	echo "-o Dir::Etc::sourcelist=$1 -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$cache/lists"
	echo "-o Dir::Cache=$cache/apt -o APT::Sandbox::User=root"
}
# shellcheck disable=SC2046
apt_all() { "$1" $(apt_opts "$cache/sources.list") "${@:2}"; }

command -v dpkg-source >/dev/null || apt-get install -y --no-install-recommends dpkg-dev >&2
have_lists() { [ -n "$(find "$cache/lists" -maxdepth 1 -name '*Sources*' 2>/dev/null)" ]; }
if [ "${DEBIAN_SOURCE_REFRESH:-0}" = 1 ] ||
	[ -z "$(find "$cache/lists" -maxdepth 1 -name '*Sources*' -mtime -1 2>/dev/null)" ]; then
	if ! apt_all apt-get -qq update >&2; then
		have_lists || {
			# Offline with nothing listed: the newest source already unpacked.
			dest=$(find "$cache/src" -maxdepth 2 -path "*/$pkg-*/.unpacked" -printf '%h\n' |
			       sort -Vr | head -n1)
			[ -n "$dest" ] || die "Debian's archive not reachable and no $pkg source cached"
			say "warning: Debian's archive not reachable; using cached ${dest##*/}"
			echo "$dest"
			exit 0
		}
		say "warning: could not refresh the index; using the lists from before"
	fi
fi

# "VERSION SUITE" pairs: the preferred version first, then newest first,
# suites in the order above.
pairs=$(for s in "${suites[@]}"; do
		# shellcheck disable=SC2046
		apt-cache $(apt_opts "$cache/suites/$s.list") showsrc --only-source "$pkg" 2>/dev/null |
			awk -v s="$s" '/^Version:/ {print $2, s}' || true
	done | sort -s -k1,1Vr | awk '!seen[$0]++')
[ -n "$pairs" ] || die "no source package $pkg in ${suites[*]}"
if [ -n "$pin" ]; then
	pairs=$(awk -v v="$pin" '$1 == v' <<<"$pairs")
	[ -n "$pairs" ] || die "$pkg $pin is not listed in ${suites[*]}"
elif [ -n "$prefer" ]; then
	want=$(dpkg-query -W -f='${Version}' "$prefer" 2>/dev/null || true)
	if [ -n "$want" ] && awk -v v="$want" '$1 == v {f=1} END {exit !f}' <<<"$pairs"; then
		pairs=$(awk -v v="$want" '$1 == v' <<<"$pairs"; awk -v v="$want" '$1 != v' <<<"$pairs")
		why="the installed $prefer's version"
	fi
fi
if [ -n "${DEBIAN_SOURCE_INJECT:-}" ]; then
	pairs=$(printf '%s %s\n%s' "$DEBIAN_SOURCE_INJECT" "${suites[0]}" "$pairs")
fi
why=${why:-the newest listed}
[ -n "$pin" ] && why="pinned"

skipped=() dest=''
while read -r version suite; do
	if [ -f "$cache/src/$pkg-$version/.unpacked" ]; then
		dest=$cache/src/$pkg-$version
		say "$pkg $version: already unpacked in the cache"
		break
	fi
	# A pool that refused a file today is not asked again until tomorrow.
	failed=$cache/src/.failed-$pkg-$version-$suite
	if [ -n "$(find "$failed" -mtime -1 2>/dev/null)" ]; then
		reason="$(cat "$failed") (within the last day)"
		skipped+=("$version from $suite: $reason")
		say "skipped $pkg $version from $suite: $reason; trying the next"
		continue
	fi
	work=$(mktemp -d "$cache/src/.fetch.XXXXXX")
	# shellcheck disable=SC2046
	if (cd "$work" && apt-get $(apt_opts "$cache/suites/$suite.list") -qq source \
		--download-only "$pkg=$version") >"$work/.log" 2>&1; then
		dest=$cache/src/$pkg-$version
		rm -rf "$dest"
		dpkg-source -x --no-check "$work"/*.dsc "$dest" >/dev/null
		rm -rf "$work"
		touch "$dest/.unpacked"
		say "$pkg $version: downloaded from $suite"
		break
	fi
	reason=$(grep -E '^(E|W):' "$work/.log" | head -n1 | sed -E 's/ *\[IP:.*//; s/  +/ /g' |
		 cut -c1-200)
	rm -rf "$work"
	reason=${reason:-download failed}
	[ "$version" = "${DEBIAN_SOURCE_INJECT:-}" ] || echo "$reason" >"$failed"
	skipped+=("$version from $suite: $reason")
	say "skipped $pkg $version from $suite: $reason; trying the next"
done <<<"$pairs"
[ -n "$dest" ] || die "no version of $pkg could be downloaded: $(tr '\n' ' ' <<<"$pairs")"
if [ ${#skipped[@]} -gt 0 ]; then
	say "took $pkg ${dest##*/"$pkg"-}, the newest available (skipped: $(printf '%s; ' "${skipped[@]}" | sed 's/; $//'))"
else
	say "took $pkg ${dest##*/"$pkg"-} ($why)"
fi
echo "$dest"
