#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every test suite: C unit tests (cmocka), host integration tests, and
# the QEMU guest tests. `tests/run.sh PATTERN` runs the suites whose name
# contains PATTERN. Each suite's output goes to $BUILD/test-logs/; the last
# line is the summary CI reads.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export BUILD=${BUILD:-build}
# Tests must never reach a real metadata service from a developer's or CI's
# machine; the IMDS tests point the agent at their own local server.
export AWS_EC2_METADATA_DISABLED=true
pattern=${1:-}
logs=$BUILD/test-logs
mkdir -p "$logs"

suites=()
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && suites+=("$t")
done
for t in tests/integration/test_*.py tests/integration/test_*.sh tests/fuzz/test_*.sh tests/qemu/test_*.py; do
	[ -f "$t" ] && suites+=("$t")
done

passed=0 failed=0 failures=()
for t in "${suites[@]}"; do
	name=$(basename "$t")
	name=${name%.*}
	[ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && continue
	log=$logs/$name.log
	start=$(date +%s)
	case $t in
	*.py) python3 "$t" >"$log" 2>&1 ;;
	*.sh) bash "$t" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %-28s %4ss\n' "$name" "$secs"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-28s %4ss (exit %d), last lines of %s:\n' "$name" "$secs" "$rc" "$log"
		tail -n 25 "$log" | sed 's/^/    /'
	fi
done
[ ${#failures[@]} -gt 0 ] && echo "failed suites: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
