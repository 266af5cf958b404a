#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: the agent's hash + compress pipeline against zstd alone and
# against the reference deployment's `tee >(gzip) >(md5sum) | sha256sum`, on
# the same corpus in one run. Prints a table for docs/PERFORMANCE.md.
#   BENCH_MIB   corpus size in MiB (default 2048)
#   BENCH_LEVEL zstd level for the like-for-like comparison (default 1)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/${BUILD:-build}
agent=$build/forensics-agent
mib=${BENCH_MIB:-2048}
level=${BENCH_LEVEL:-1}
dir=$build/bench
corpus=$dir/corpus-$mib.raw
mkdir -p "$dir"
export AWS_EC2_METADATA_DISABLED=true

[ -f "$corpus" ] || python3 "$root/bench/make-corpus.py" "$corpus" "$mib"
# Warm the page cache so every contender reads from memory, as from RAM.
cat "$corpus" > /dev/null

run() {  # name, output size file, command...
	local name=$1 sizefile=$2
	shift 2
	local stats
	stats=$(mktemp)
	/usr/bin/time -f '%e %U %S %M' -o "$stats" "$@"
	read -r wall user sys rss < "$stats"
	rm -f "$stats"
	local bytes
	bytes=$(cat "$sizefile")
	awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$bytes" -v m="$mib" \
		'BEGIN { gib = m / 1024; printf "| %-44s | %8.1f | %6.2f | %7.2f | %12d | %7.1f |\n",
			 n, m * 1.048576 / w, w, (u + s) / gib, b, r / 1024 }'
}

sizeof() { wc -c | tr -d ' '; }

echo "corpus: $mib MiB ($(basename "$corpus")), $(nproc) CPUs, $(uname -r)"
echo "| pipeline | MB/s | wall s | CPU s/GiB | output bytes | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
agent_cmd=("$agent" acquire --source file --source-path "$corpus" --iomem "$corpus.iomem"
	   --no-bundle --log-format json --output -)
run "forensics-agent -l $level -T$(nproc) (sha256 x2 + zstd)" "$dir/out.size" \
	bash -c '"$@" 2>/dev/null | wc -c > '"$dir/out.size" _ "${agent_cmd[@]}" --level "$level" --threads "$(nproc)"
run "zstd -$level -T0 alone" "$dir/out.size" \
	bash -c 'zstd -q -'"$level"' -T0 -c "$1" | wc -c > '"$dir/out.size" _ "$corpus"
run "forensics-agent -l 3 -T$(nproc)" "$dir/out.size" \
	bash -c '"$@" 2>/dev/null | wc -c > '"$dir/out.size" _ "${agent_cmd[@]}" --level 3 --threads "$(nproc)"
run "zstd -3 -T0 alone" "$dir/out.size" \
	bash -c 'zstd -q -3 -T0 -c "$1" | wc -c > '"$dir/out.size" _ "$corpus"
run "forensics-agent defaults (-l 1, half the CPUs)" "$dir/out.size" \
	bash -c '"$@" 2>/dev/null | wc -c > '"$dir/out.size" _ "${agent_cmd[@]}"
run "gzip -6 alone (size reference)" "$dir/out.size" \
	bash -c 'gzip -6 -c "$1" | wc -c > '"$dir/out.size" _ "$corpus"
run "reference: tee >(gzip) >(md5sum) | sha256sum" "$dir/out.size" \
	bash -c 'cat "$1" | tee >(gzip | wc -c > '"$dir/out.size"') >(md5sum > /dev/null) | sha256sum > /dev/null; sleep 0.2; wait' _ "$corpus"
