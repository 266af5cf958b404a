#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A short run of every fuzzer (FUZZ_SECONDS each, default 10), from a
# corpus kept under the build directory so runs build on each other.
# A long run: FUZZ_SECONDS=3600 bash tests/fuzz/test_fuzz.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/${BUILD:-build}
seconds=${FUZZ_SECONDS:-10}
passed=0 failed=0
for fuzzer in "$build"/fuzz/fuzz_*; do
	name=$(basename "$fuzzer")
	corpus=$build/fuzz-corpus/$name
	mkdir -p "$corpus"
	if "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
		-artifact_prefix="$build/fuzz-corpus/$name-" "$corpus" \
		> "$build/fuzz-corpus/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $name: $(grep -o 'Done [0-9]* runs' "$build/fuzz-corpus/$name.log")"
	else
		failed=$((failed + 1))
		echo "FAIL $name:"
		tail -n 30 "$build/fuzz-corpus/$name.log"
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
