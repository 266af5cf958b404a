#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: the agent's hash + compress pipeline against zstd alone and
# against the reference deployment's `tee >(gzip) >(md5sum) | sha256sum`, on
# the same corpus in one run. Every contender reads the corpus from the page
# cache and writes to a file on tmpfs, so only the pipeline differs. Then
# the eBPF memory source's raw read rate on this machine's own RAM, per read
# size. Prints markdown tables for docs/PERFORMANCE.md.
#   BENCH_MIB   corpus size in MiB (default 2048)
#   BENCH_RUNS  repeats of each fast contender, median reported (default 5)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/${BUILD:-build}
agent=$build/forensics-agent
mib=${BENCH_MIB:-2048}
repeats=${BENCH_RUNS:-5}
dir=$build/bench
corpus=$dir/corpus-$mib.raw
out=$(mktemp -d /dev/shm/forensics-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p "$dir"
export AWS_EC2_METADATA_DISABLED=true

[ -f "$corpus" ] || python3 "$root/bench/make-corpus.py" "$corpus" "$mib"
# Warm the page cache so every contender reads from memory, as from RAM.
cat "$corpus" > /dev/null

# run NAME REPEATS COMMAND...: the command writes its result to $out/result.
# This machine's neighbours make single timings swing by 10-20%: report the
# run with the median wall time.
run() {
	local name=$1 repeats=$2 stats samples
	shift 2
	samples=$(mktemp)
	for _ in $(seq "$repeats"); do
		rm -f "$out"/result*
		stats=$(mktemp)
		/usr/bin/time -f "%e %U %S %M" -o "$stats" "$@" 2>/dev/null
		echo "$(cat "$stats") $(stat -c %s "$out/result")" >> "$samples"
		rm -f "$stats"
	done
	sort -n "$samples" | awk -v n="$name" -v m="$mib" -v k="$repeats" '
		{ row[NR] = $0 }
		END {
			split(row[int((k + 1) / 2)], f, " ")
			printf "| %-46s | %7.1f | %6.2f | %6.2f | %11d | %6.1f |\n",
			       n, m * 1.048576 / f[1], f[1], (f[2] + f[3]) / (m / 1024), f[5], f[4] / 1024
		}'
	rm -f "$samples"
}

agent_run=("$agent" acquire --source file --source-path "$corpus" --iomem "$corpus.iomem"
	   --no-bundle --log-format json --output "$out/result")

echo "corpus: $mib MiB of $(basename "$corpus"), $(nproc) CPUs, kernel $(uname -r)"
echo
echo "| pipeline | MB/s | wall s | CPU s/GiB | output bytes | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
run "forensics-agent -l 1 -t $(nproc) (2× SHA-256 + zstd)" "$repeats" "${agent_run[@]}" --level 1 --threads "$(nproc)"
run "zstd -1 -T0 alone" "$repeats" zstd -q -1 -T0 "$corpus" -o "$out/result"
run "forensics-agent -l 2 -t $(nproc)" "$repeats" "${agent_run[@]}" --level 2 --threads "$(nproc)"
run "zstd -2 -T0 alone" "$repeats" zstd -q -2 -T0 "$corpus" -o "$out/result"
run "forensics-agent -l 3 -t $(nproc)" "$repeats" "${agent_run[@]}" --level 3 --threads "$(nproc)"
run "zstd -3 -T0 alone" "$repeats" zstd -q -3 -T0 "$corpus" -o "$out/result"
run "forensics-agent defaults (-l 2 from 2 GiB, half the CPUs)" "$repeats" "${agent_run[@]}"
run "gzip -6 alone" 1 bash -c 'gzip -6 -c "$1" > "$2"' _ "$corpus" "$out/result"
# The reference deployment hashes and compresses in three processes that
# each read the whole stream. time(1) cannot see the CPU of the process
# substitutions, so its CPU column undercounts: gzip alone is the floor.
run "reference: tee >(gzip) >(md5sum) | sha256sum" 1 bash -c '
	tee >(gzip > "$2") >(md5sum > "$2.md5") < "$1" | sha256sum > "$2.sha256"
	wait' _ "$corpus" "$out/result"

# The eBPF memory source alone: raw reads of live RAM through the direct
# map (BPF_PROG_TEST_RUN + copy out of the mmap'ed map) per read size, no
# pipeline behind it. Needs root and a kernel that lets BPF read.
#   BENCH_EBPF_MIB  RAM to read per run (default 1024)
ebpf_read=$build/tools/ebpf-read
ebpf_mib=${BENCH_EBPF_MIB:-1024}
# The start of the largest System RAM range, if it holds ebpf_mib.
ebpf_at=$(python3 - "$ebpf_mib" <<'PY'
import re, sys
want, best = int(sys.argv[1]) << 20, None
for line in open("/proc/iomem"):
    m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : System RAM$", line.rstrip())
    if m:
        s, e = int(m.group(1), 16), int(m.group(2), 16)
        if e - s + 1 >= want and (best is None or e - s > best[1] - best[0]):
            best = (s, e)
print(hex(best[0]) if best and best[0] else "")
PY
)
echo
if [ "$(id -u)" != 0 ] || [ ! -x "$ebpf_read" ] || [ -z "$ebpf_at" ]; then
	echo "eBPF source: skipped (needs root, $ebpf_read and $ebpf_mib MiB of contiguous RAM)"
	exit 0
fi
echo "eBPF source: $ebpf_mib MiB of RAM from $ebpf_at, median of $repeats reads after a warm-up pass"
echo
echo "| read size (KiB per BPF run) | GiB/s | slowest | fastest |"
echo "|---:|---:|---:|---:|"
"$ebpf_read" bench "$ebpf_at" $((ebpf_mib << 20)) "$repeats" 64 128 256 512 1024 2048 4096 |
	awk '/^detail/ { detail = substr($0, 8) }
	     /^chunk_kib=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "| %d | %.2f | %.2f | %.2f |\n", v["chunk_kib"], v["gib_per_s"], v["min"], v["max"]
	     }
	     END { print ""; print "direct map: " detail }'
