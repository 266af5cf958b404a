#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install everything the build, the tests, the demo and the benchmarks use
# on a fresh Debian 12 machine. Safe to run again.
set -euo pipefail

packages=(
	build-essential pkg-config dpkg-dev file clang libclang-rt-14-dev
	libssl-dev libjson-c-dev libc-ares-dev libzstd-dev libcmocka-dev libexpat1-dev
	liblzma-dev libcurl4-openssl-dev valgrind
	bpftool libbpf-dev libelf-dev zlib1g-dev
	zstd gzip coreutils util-linux mount
	qemu-system-x86 busybox-static kmod cpio
	dkms dwarves openssl
	rpm
	python3
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
