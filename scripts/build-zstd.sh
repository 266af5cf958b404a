#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-zstd.sh BUILD_DIR
#
# Debian's libzstd.a is built without ZSTD_MULTITHREAD (only the shared
# library has worker threads), and the agent is a static binary that
# compresses with ZSTD_c_nbWorkers. Build libzstd.a-mt from Debian's own
# source package; the result is cached by version.
set -euo pipefail

build=${1:?usage: build-zstd.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
install=$build/zstd/install
src=$("$here/fetch-debian-source.sh" --prefer-installed libzstd-dev libzstd)
stamp="$(basename "$src") mt nolegacy"
if [ -f "$install/.stamp" ] && [ "$(cat "$install/.stamp")" = "$stamp" ]; then
	exit 0
fi
# A fresh clone on the same machine reuses the library built for another.
cached=${FORENSICS_CACHE:-$HOME/.cache/ec2-forensics}/built/$(basename "$src")-mt
if [ ! -f "$cached/.stamp" ] || [ "$(cat "$cached/.stamp")" != "$stamp" ]; then
	echo "build-zstd: building static multithreaded libzstd from $(basename "$src")" >&2
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp -a "$src/." "$work"
	make -C "$work/lib" -j"$(nproc)" libzstd.a-mt ZSTD_LEGACY_SUPPORT=0 >/dev/null
	rm -rf "$cached"
	mkdir -p "$cached/lib" "$cached/include"
	cp "$work/lib/libzstd.a" "$cached/lib/"
	cp "$work/lib/zstd.h" "$work/lib/zstd_errors.h" "$work/lib/zdict.h" "$cached/include/"
	echo "$stamp" > "$cached/.stamp"
fi
rm -rf "$install"
mkdir -p "$build/zstd"
cp -a "$cached" "$install"
