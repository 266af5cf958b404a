#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# pin-module.sh KERNELVER [INSTALL_TREE]
#
# DKMS's POST_INSTALL: record the SHA-256 of the forensics_mem module just
# installed for KERNELVER in the list the agent checks before loading a
# module (FORENSICS_MEM_PINS, default /var/lib/forensics-mem/SHA256SUMS).
# A golden-AMI pipeline that installs the module through DKMS thus leaves
# the agent a pin for every kernel it built for; the line for a release is
# replaced when DKMS rebuilds it.
set -eu

kver=$1
tree=${2:-/lib/modules}
pins=${FORENSICS_MEM_PINS:-/var/lib/forensics-mem/SHA256SUMS}

ko=$(find "$tree/$kver" -type f -name 'forensics_mem.ko*' 2>/dev/null | head -n 1)
if [ -z "$ko" ]; then
	echo "pin-module: no forensics_mem.ko under $tree/$kver" >&2
	exit 1
fi
sum=$(sha256sum "$ko" | cut -d' ' -f1)
mkdir -p "$(dirname "$pins")"
tmp=$pins.tmp.$$
{
	grep -v "  $kver/" "$pins" 2>/dev/null || true
	echo "$sum  $kver/$(basename "$ko")"
} >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$pins"
echo "pin-module: $sum  $kver/$(basename "$ko") -> $pins"
