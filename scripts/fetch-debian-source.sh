#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-debian-source.sh PACKAGE
#
# Fetch and unpack a Debian source package (with Debian's patches applied)
# into the cache, without touching the system's apt configuration: a private
# deb-src list, lists and archive directories under the cache. Prints the
# unpacked source directory. Used to build static libraries that Debian
# ships only as shared or without threads (libcurl, libzstd).
set -euo pipefail

pkg=${1:?usage: fetch-debian-source.sh PACKAGE}
cache=${FORENSICS_CACHE:-$HOME/.cache/ec2-forensics}/debian-source
suite=${DEBIAN_SOURCE_SUITE:-bookworm}
mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/src"

apt_opts=(-o "Dir::Etc::sourcelist=$cache/sources.list" -o Dir::Etc::sourceparts=-
	  -o "Dir::State::Lists=$cache/lists" -o "Dir::Cache=$cache/apt"
	  -o APT::Sandbox::User=root)
cat > "$cache/sources.list" <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $suite-security main
LIST

command -v dpkg-source >/dev/null || apt-get install -y --no-install-recommends dpkg-dev >&2
# Refresh the private index at most once a day.
if [ -z "$(find "$cache/lists" -maxdepth 1 -name '*Sources*' -mtime -1 2>/dev/null)" ]; then
	apt-get "${apt_opts[@]}" -qq update >&2
fi
# The newest version first; a suite can list a source whose files its pool
# does not serve (bookworm-security answers 404 for some), so fall back to
# the next version instead of failing the build.
versions=$(apt-cache "${apt_opts[@]}" showsrc "$pkg" |
	   awk '/^Version:/ {print $2}' | sort -uVr)
[ -n "$versions" ] || { echo "fetch-debian-source: no source package $pkg" >&2; exit 1; }
dest=
for version in $versions; do
	if [ -f "$cache/src/$pkg-$version/.unpacked" ]; then
		dest="$cache/src/$pkg-$version"
		break
	fi
	work=$(mktemp -d "$cache/src/.fetch.XXXXXX")
	if (cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only "$pkg=$version" >&2); then
		dest="$cache/src/$pkg-$version"
		rm -rf "$dest"
		dpkg-source -x --no-check "$work"/*.dsc "$dest" >&2
		rm -rf "$work"
		touch "$dest/.unpacked"
		break
	fi
	rm -rf "$work"
	echo "fetch-debian-source: $pkg $version could not be downloaded; trying the next version" >&2
done
[ -n "$dest" ] || { echo "fetch-debian-source: no version of $pkg could be downloaded: $(echo $versions)" >&2; exit 1; }
echo "$dest"
