#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: the main job on an embedded default. Boots a Debian 6.1 kernel
# under QEMU, captures the guest's memory from inside with the static agent
# (streamed to the host over the guest's network, never to a guest disk),
# verifies the image against its manifest with `forensics-agent verify`,
# and compares it page by page with the hypervisor's own copy of guest RAM.
# The image, its manifest and the console log stay in $BUILD/demo.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/${BUILD:-build}
out=$build/demo
rm -rf "$out"
mkdir -p "$out"
python3 "$root/tests/qemu/test_capture_kcore.py" --agent "$build/forensics-agent" \
	--workdir "$out" --keep "$@"
echo
# The harness names the image by its content: .lime.zst for compressed LiME.
image=$out/capture.lime.zst
echo "image:    $image (zstd-compressed LiME)"
echo "manifest: $image.manifest.json"
echo "verify:   $build/forensics-agent verify --manifest $image.manifest.json $image"
