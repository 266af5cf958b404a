#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A short run of every fuzzer (FUZZ_SECONDS each, default 10), from a
# corpus kept under the build directory so runs build on each other, seeded
# from tests/fuzz/corpus/<fuzzer>/ (read only: new inputs go to the build
# directory). Name fuzzers to run only those.
#   short (CI):  bash tests/fuzz/test_fuzz.sh
#   long:        FUZZ_SECONDS=300 bash tests/fuzz/test_fuzz.sh
#   one:         FUZZ_SECONDS=600 bash tests/fuzz/test_fuzz.sh fuzz_manifest
# Each line reports libFuzzer's executions and its final cov/ft numbers;
# a crash leaves its input as build/fuzz-corpus/<fuzzer>-crash-<sha1>.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/${BUILD:-build}
seconds=${FUZZ_SECONDS:-10}
passed=0 failed=0
if [ $# -gt 0 ]; then
	fuzzers=()
	for name in "$@"; do
		fuzzers+=("$build/fuzz/$name")
	done
else
	fuzzers=("$build"/fuzz/fuzz_*)
fi
for fuzzer in "${fuzzers[@]}"; do
	name=$(basename "$fuzzer")
	corpus=$build/fuzz-corpus/$name
	log=$build/fuzz-corpus/$name.log
	seeds=()
	[ -d "$root/tests/fuzz/corpus/$name" ] && seeds=("$root/tests/fuzz/corpus/$name")
	mkdir -p "$corpus"
	if "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-corpus/$name-" "$corpus" "${seeds[@]}" \
		> "$log" 2>&1; then
		passed=$((passed + 1))
		runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1)
		final=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 |
			grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
		echo "ok   $name: ${runs}s, ${final}"
	else
		failed=$((failed + 1))
		echo "FAIL $name:"
		tail -n 30 "$log"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
