#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-initramfs.sh [--test SCRIPT] [--modules "m1 m2"] \
#                    KERNEL_DIR AGENT_BINARY OUT.cpio.gz [SRC[:DEST]...]
#
# Builds a busybox-static initramfs for a test guest:
#   /init                 init.sh from this directory
#   /test.sh              SCRIPT (what the test wants the guest to do)
#   /bin/forensics-agent  AGENT_BINARY ("-" to leave it out)
#   /bin/plant            plant.c, compiled static here
#   /lib/modules/...      the virtio network modules of KERNEL_DIR (a
#                         directory printed by fetch-kernel.sh), in load order
# Each extra SRC is copied to DEST (default /bin/<basename of SRC>).
#
# Binaries must be static: the initramfs has no C library.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
test_script=
modules="virtio_pci virtio_net"

while [ $# -gt 0 ]; do
	case "$1" in
	--test) test_script=$2; shift 2 ;;
	--modules) modules="$modules $2"; shift 2 ;;
	-h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "build-initramfs: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -lt 3 ]; then
	echo "usage: $0 [--test SCRIPT] [--modules LIST] KERNEL_DIR AGENT OUT.cpio.gz [SRC[:DEST]...]" >&2
	exit 2
fi
kernel_dir=$1 agent=$2 out=$3
shift 3

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build-initramfs: busybox-static is not installed" >&2; exit 1; }

staging=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$staging"' EXIT

must_be_static() {
	# A dynamic binary would fail in the guest with a bare "not found";
	# catch it here where the reason is obvious.
	if LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		echo "build-initramfs: $1 is dynamically linked" >&2
		exit 1
	fi
}

mkdir -p "$staging"/{bin,dev,etc,proc,sys,tmp,run,lib/modules}
cp "$busybox" "$staging/bin/busybox"
must_be_static "$staging/bin/busybox"
ln -s busybox "$staging/bin/sh"
install -m 0755 "$here/init.sh" "$staging/init"

cc=${CC:-gcc}
$cc -static -O2 -Wall -Wextra -o "$staging/bin/plant" "$here/plant.c"

if [ "$agent" != "-" ]; then
	install -m 0755 "$agent" "$staging/bin/forensics-agent"
	must_be_static "$staging/bin/forensics-agent"
fi

if [ -n "$test_script" ]; then
	install -m 0755 "$test_script" "$staging/test.sh"
fi

for spec in "$@"; do
	src=${spec%%:*}
	if [ "$src" = "$spec" ]; then
		dest=/bin/$(basename "$src")
	else
		dest=${spec#*:}
	fi
	mkdir -p "$staging$(dirname "$dest")"
	cp -L "$src" "$staging$dest"
done

# Modules go in flat, decompressed (busybox insmod may lack xz/zstd
# support), listed in the order init must load them.
modules_dir=$kernel_dir/modules
: >"$staging/lib/modules/load-order"
# $modules is a list of names: split it on purpose.
# shellcheck disable=SC2086
for rel in $(python3 "$here/initramfs.py" module-order "$modules_dir" $modules); do
	base=$(basename "$rel")
	case "$base" in
	*.ko.xz) xz -dc "$modules_dir/$rel" >"$staging/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$modules_dir/$rel" >"$staging/lib/modules/${base%.zst}" ;;
	*.ko.gz) gzip -dc "$modules_dir/$rel" >"$staging/lib/modules/${base%.gz}" ;;
	*) cp "$modules_dir/$rel" "$staging/lib/modules/$base" ;;
	esac
	echo "${base%.ko*}.ko" >>"$staging/lib/modules/load-order"
done
cp "$kernel_dir/release" "$staging/etc/kernel-release"

python3 "$here/initramfs.py" pack "$staging" "$out"
