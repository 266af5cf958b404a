#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The layering check (scripts/check-layers.sh) passes on the tree, and fails,
# naming the file, for each kind of include that points up or sideways: a
# planted one in a copy of the tree each time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bash "$root/scripts/check-layers.sh" "$root" || fail "the tree itself breaks its layering"
echo "ok   the tree: every include points down"

# file, include line to plant, what it breaks
cases=(
	"lib/base/log.c|#include \"aws/s3.h\"|the base depends on nothing of ours"
	"lib/base/sink.h|#include \"capture/lime.h\"|the base depends on nothing of ours"
	"lib/aws/s3.c|#include \"capture/range.h\"|the AWS library depends only on the base"
	"lib/aws/sigv4.c|#include \"response/record.h\"|the AWS library depends only on the base"
	"lib/capture/lime.c|#include \"aws/s3.h\"|the capture library knows no network"
	"lib/capture/capture.c|#include \"response/ssm.h\"|capture is below the response"
	"lib/response/record.c|#include \"s3opts.h\"|no library includes a program's header"
	"lib/aws/multipart.c|#include \"subcommands.h\"|no library includes a program's header"
	"controller/main.c|#include \"../agent/s3opts.h\"|no program includes the other's headers"
	"agent/upload.c|#include \"response/store.h\"|the agent does not reach the controller's library"
	"ebpf/physread.c|#include \"base/log.h\"|ebpf's loader stands alone"
)
for c in "${cases[@]}"; do
	IFS='|' read -r file line why <<<"$c"
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree"
	cp -r "$root/lib" "$root/agent" "$root/controller" "$root/ebpf" "$tmp/tree/"
	sed -i "0,/^#include/s||$line\n#include|" "$tmp/tree/$file"
	grep -qF "$line" "$tmp/tree/$file" || fail "could not plant $line in $file"
	if out=$(bash "$root/scripts/check-layers.sh" "$tmp/tree" 2>&1); then
		fail "$file with $line passed ($why)"
	fi
	grep -q "$file includes" <<<"$out" || fail "the message does not name $file: $out"
	echo "ok   refused: $file $line ($why)"
done
echo "layers: all passed"
