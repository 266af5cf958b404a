#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The unit tests and the host integration tests again, against the
# ASan + UBSan build (`make asan`: $BUILD/asan, dynamically linked, since the
# sanitizers do not work in a static binary). Any sanitizer report fails the
# suite: the runtimes abort the process (abort_on_error, halt_on_error, and
# the build's -fno-sanitize-recover), and every report is also written under
# the log directory, so one from a process whose exit a test tolerates still
# counts.
#
# Not run here: the QEMU guest tests (the agent inside a guest must be the
# static one: the guest has no libasan), and the packaging suites (deb,
# dkms, modules, install), which test packages of the static agent and the
# kernel module, not code paths the integration suites miss.
# `tests/integration/test_sanitizers.sh acquire` runs only suites matching.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
outer=${BUILD:-build}
asan=$outer/asan
pattern=${1:-}
if [ ! -x "$asan/forensics-agent" ] || [ ! -x "$asan/forensics-controller" ]; then
	echo "sanitizers: $asan is not built: run \`make asan\`" >&2
	exit 1
fi
# Suites find the module store beside the agent: the one `make modules` built.
if [ -d "$outer/modules" ] && [ ! -e "$asan/modules" ]; then
	ln -s "$(cd "$outer/modules" && pwd)" "$asan/modules"
fi
reports=$(mktemp -d "${TMPDIR:-/tmp}/sanitizers.XXXXXX")
trap 'rm -rf "$reports"' EXIT
logs=$outer/test-logs/sanitizers
mkdir -p "$logs"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export AWS_EC2_METADATA_DISABLED=true
# The fault campaign's short run, shorter still: its kinds all run in the first trials.
export FAULT_SECONDS=${FAULT_SECONDS:-20}
ulimit -c 0

integration=(acquire convert verify upload credentials_chain sigv4_oracle controller
	ssm_document modsource ebpf_source faults)
suites=()
for t in "$asan"/tests/test_*; do
	[ -x "$t" ] && suites+=("$t")
done
for name in "${integration[@]}"; do
	suites+=("tests/integration/test_$name.py")
done

passed=0 failed=0
for t in "${suites[@]}"; do
	name=$(basename "$t")
	name=${name%.py}
	[ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && continue
	log=$logs/$name.log
	start=$(date +%s)
	before=$(find "$reports" -type f | wc -l)
	case $t in
	*.py) BUILD=$asan python3 "$t" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(($(date +%s) - start))
	found=$(($(find "$reports" -type f | wc -l) - before))
	if [ $rc -eq 0 ] && [ $found -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok   %-24s %4ss\n' "$name" "$secs"
	else
		failed=$((failed + 1))
		printf 'FAIL %-24s %4ss (exit %d, %d sanitizer reports), last lines of %s:\n' \
			"$name" "$secs" "$rc" "$found" "$log"
		tail -n 15 "$log" | sed 's/^/    /'
	fi
done
for r in "$reports"/*; do
	[ -f "$r" ] || continue
	echo "--- sanitizer report $(basename "$r"):"
	head -n 40 "$r"
	cp "$r" "$logs/"
done
echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
