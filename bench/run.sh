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

# sample FILE COMMAND...: one timed run of a command that writes its result
# to $out/result; appends "wall user sys maxrss_kib bytes" to FILE.
sample() {
	local file=$1
	shift
	rm -f "$out"/result*
	/usr/bin/time -f "%e %U %S %M" -o "$out/stats" "$@" 2>/dev/null
	echo "$(cat "$out/stats") $(stat -c %s "$out/result")" >> "$file"
}

# row NAME FILE: the table row of the sample with the median wall time.
# This machine's neighbours make single timings swing by 10-20%.
row() {
	sort -n "$2" | awk -v n="$1" -v m="$mib" '
		{ row[NR] = $0 }
		END {
			split(row[int((NR + 1) / 2)], f, " ")
			printf "| %-46s | %7.1f | %6.2f | %6.2f | %11d | %6.1f |\n",
			       n, m * 1.048576 / f[1], f[1], (f[2] + f[3]) / (m / 1024), f[5], f[4] / 1024
		}'
}

# run NAME REPEATS COMMAND...
run() {
	local name=$1 repeats=$2 samples
	shift 2
	samples=$(mktemp)
	for _ in $(seq "$repeats"); do
		sample "$samples" "$@"
	done
	row "$name" "$samples"
	rm -f "$samples"
}

# median FILE COLUMN: the median of one column of a file of numbers.
median() {
	sort -g -k "$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

# pair LEVEL AGENT_THREADS ZSTD_THREADS: the agent and zstd alone at one
# level, alternately, so a neighbour's burst slows both sides of a pair
# rather than all runs of one. Prints both rows; for the ratio table keeps,
# per pair, the ratio of throughputs (zstd's wall time over the agent's),
# the share of the CPUs' time each side used, and the ratio the agent would
# reach if it kept every CPU busy (zstd's wall time over the agent's CPU
# time per CPU): the ceiling no scheduling of the agent's threads can pass.
pair() {
	local level=$1 threads=$2 zstd_threads=$3 agent_samples zstd_samples pairs
	agent_samples=$(mktemp)
	zstd_samples=$(mktemp)
	pairs=$(mktemp)
	for _ in $(seq "$repeats"); do
		sample "$agent_samples" "${agent_run[@]}" --level "$level" --threads "$threads"
		sample "$zstd_samples" zstd -q "-$level" "-T$zstd_threads" "$corpus" -o "$out/result"
	done
	row "forensics-agent -l $level -t $threads" "$agent_samples"
	row "zstd -$level -T$zstd_threads alone" "$zstd_samples"
	# Columns: ratio, agent's CPU use, zstd's CPU use, ceiling.
	paste -d ' ' "$zstd_samples" "$agent_samples" | awk -v n="$cpus" '{
		print $1 / $6, ($7 + $8) / ($6 * n), ($2 + $3) / ($1 * n), $1 * n / ($7 + $8)
	}' > "$pairs"
	awk -v l="$level" -v t="$threads" -v z="$zstd_threads" -v r="$(median "$pairs" 1)" \
		-v au="$(median "$pairs" 2)" -v zu="$(median "$pairs" 3)" -v c="$(median "$pairs" 4)" '
		NR == 1 || $1 < low { low = $1 }
		NR == 1 || $1 > high { high = $1 }
		END {
			printf "| %d | %d | -T%d | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% |\n",
			       l, t, z, 100 * r, 100 * low, 100 * high, 100 * au, 100 * zu, 100 * c
		}' "$pairs" >> "$out/ratios"
	rm -f "$agent_samples" "$zstd_samples" "$pairs"
}

cpus=$(nproc)
agent_run=("$agent" acquire --source file --source-path "$corpus" --iomem "$corpus.iomem"
	   --no-bundle --log-format json --output "$out/result")

echo "corpus: $mib MiB of $(basename "$corpus"), $cpus CPUs, kernel $(uname -r)"
echo
echo "| pipeline | MB/s | wall s | CPU s/GiB | output bytes | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
# zstd -T0 runs one worker per physical core. The agent runs one more: zstd
# writes its output in order, and while the oldest job is still running a
# spare job keeps the other CPUs busy (one pair gives zstd as many).
workers=$((cpus + 1))
pair 1 "$workers" 0
pair 2 "$workers" 0
pair 3 "$workers" 0
pair 1 "$workers" "$workers"
# One compression worker each: the agent's digests have a CPU of their own.
pair 2 1 1
run "forensics-agent defaults (level by RAM size, half the CPUs)" "$repeats" "${agent_run[@]}"
run "gzip -6 alone" 1 bash -c 'gzip -6 -c "$1" > "$2"' _ "$corpus" "$out/result"
# One SHA-256 of the stream, the larger of the agent's two digests: most of
# the CPU the agent spends beyond zstd's, at the speed this CPU allows.
run "openssl dgst -sha256 alone (one digest)" "$repeats" openssl dgst -sha256 -out "$out/result" "$corpus"
# The reference deployment hashes and compresses in three processes that
# each read the whole stream. time(1) cannot see the CPU of the process
# substitutions, so its CPU column undercounts: gzip alone is the floor.
run "reference: tee >(gzip) >(md5sum) \\| sha256sum" 1 bash -c '
	tee >(gzip > "$2") >(md5sum > "$2.md5") < "$1" | sha256sum > "$2.sha256"
	wait' _ "$corpus" "$out/result"
echo
echo "Agent throughput as a share of zstd's, per alternating pair ($repeats pairs):"
echo
echo "| level | agent -t | zstd | median | lowest | highest | agent CPU use | zstd CPU use | at full CPU use |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
cat "$out/ratios"

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
