#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install-kmod-source.sh DEST
# install-kmod-source.sh --version
#
# Copies the capture module's source tree into DEST: the top-level Kbuild,
# kmod/'s Kbuild files, Makefile, sources and headers (uapi/ included), and
# dkms/dkms.conf with PACKAGE_VERSION set to the agent's version.  DEST is
# then what `dkms add` expects as /usr/src/forensics-mem-<version>, and what
# `make -C <kernel build dir> M=DEST modules` builds.  Build products lying
# in kmod/ (objects, .ko, .mod.c, .cmd files) are not copied.
#
# --version prints the version the module is packaged as.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "install-kmod-source: $*" >&2; exit 1; }

# The module ships with the agent that loads it; one version for both.
version=$(sed -n 's/^#define FORENSICS_VERSION "\(.*\)"$/\1/p' "$root/lib/base/command.h")
[ -n "$version" ] || die "no FORENSICS_VERSION in lib/base/command.h"

case "${1:-}" in
--version) echo "$version"; exit 0 ;;
''|-*) die "usage: $0 DEST | --version" ;;
esac
dest=$1

cd "$root"
mapfile -t files < <(find kmod -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name 'Kbuild*' \
	   -o -name 'Makefile' -o -name '*.include' \) \
	! -name '*.mod.c' | LC_ALL=C sort)
mkdir -p "$dest"
install -m 0644 Kbuild "$dest/Kbuild"
for f in "${files[@]}"; do
	install -m 0644 -D "$f" "$dest/$f"
done
sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$version\"/" dkms/dkms.conf >"$dest/dkms.conf"
install -m 0755 dkms/pin-module.sh "$dest/pin-module.sh"
grep -qx "PACKAGE_VERSION=\"$version\"" "$dest/dkms.conf" ||
	die "dkms/dkms.conf has no PACKAGE_VERSION line"
