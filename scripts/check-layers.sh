#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check-layers.sh [ROOT]
#
# The libraries include one another by folder ("base/log.h", "aws/s3.h"),
# so a file's includes name the layers it depends on. Each layer may reach
# only those below it; a program's own headers (agent/, controller/) are
# included by no library. Prints each offending line and exits 1.
#
#   lib/base                     nothing of ours
#   lib/aws                      base
#   lib/capture                  base, and ebpf/'s loader (physread.h)
#   lib/response                 base, aws, capture
#   agent/                       base, aws, capture (not the controller's response)
#   controller/                  any library; neither program the other's headers
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

allowed() { # <layer folder> -> the include prefixes it may use
	case $1 in
	lib/base) echo "base/" ;;
	lib/aws) echo "base/ aws/" ;;
	lib/capture) echo "base/ capture/ physread.h physread.skel.h" ;;
	lib/response) echo "base/ aws/ capture/ response/" ;;
	ebpf) echo "physread.h physread.skel.h" ;;
	esac
}

bad=0
check_file() { # <file> <allowed prefixes...>
	local file=$1 ok p inc
	shift
	while IFS= read -r line; do
		inc=${line#*\"}
		inc=${inc%%\"*}
		ok=0
		for p in "$@"; do
			[[ $inc == "$p"* ]] && ok=1
		done
		if [ $ok = 0 ]; then
			echo "check-layers: $file includes \"$inc\", outside what ${file%/*}/ may use ($*)"
			bad=1
		fi
	done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
}

for layer in lib/base lib/aws lib/capture lib/response ebpf; do
	read -r -a prefixes <<<"$(allowed "$layer")"
	for f in "$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		case $f in *.bpf.c) continue ;; esac
		check_file "$f" "${prefixes[@]}"
	done
done
# A program reaches into libraries and its own folder, never the other program.
for f in agent/*.[ch]; do
	check_file "$f" base/ aws/ capture/ physread.h ../kmod/uapi/ \
		$(cd agent && ls ./*.h | sed 's|^\./||')
done
for f in controller/*.[ch]; do
	check_file "$f" base/ aws/ capture/ response/ $(cd controller && ls ./*.h | sed 's|^\./||')
done
if [ $bad = 0 ]; then
	echo "check-layers: every include points down"
fi
exit $bad
