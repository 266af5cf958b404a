#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test initramfs (installed by build-initramfs.sh).
#
# Brings up just enough of a system for a memory-capture test: proc, sys,
# dev, the virtio network driver and slirp's fixed addressing, then hands
# over to /test.sh and powers off when it returns.  Markers on the console
# (INIT-READY, TEST-EXIT rc=N, INIT-FAIL ...) let the host follow along.
#
# Unrecognised key=value kernel parameters reach us as environment
# variables; that is how the host passes run-time values such as the port
# of its receiver (test_port=...) without rebuilding the initramfs.

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# As systemd does on a real instance: the lockdown state lives here.
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# devtmpfs gives the real device nodes (/dev/mem, /dev/crash if any) that
# a capture tool may probe; mdev on tmpfs is the fallback for kernels
# built without it.
if ! mount -t devtmpfs devtmpfs /dev 2>/dev/null; then
	mount -t tmpfs -o mode=0755 tmpfs /dev
	mdev -s
fi
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1

fail() {
	echo "INIT-FAIL $*"
	poweroff -f
}

while read -r module; do
	[ -n "$module" ] || continue
	insmod "/lib/modules/$module" || echo "INIT-WARN insmod $module failed"
done </lib/modules/load-order

# The driver registers eth0 asynchronously after its probe.
tries=0
while [ ! -e /sys/class/net/eth0 ]; do
	tries=$((tries + 1))
	[ $tries -le 100 ] || fail "no eth0"
	usleep 100000
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
# No default route: the guest talks to the host (10.0.2.2, slirp's door to
# the host's loopback) and nothing else. Anything that tries to leave, such
# as an instance-metadata lookup, fails at once instead of going out
# through the host.
export AWS_EC2_METADATA_DISABLED=true

# Kernel messages written to the console in the middle of a line of ours
# would corrupt markers the host parses; keep only emergencies unless the
# host asks otherwise (test_printk="7 4 1 7" to see everything).
echo "${test_printk:-1 4 1 7}" >/proc/sys/kernel/printk

echo "INIT-READY kernel=$(uname -r) mem_kib=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
if [ -x /test.sh ]; then
	/test.sh
	rc=$?
else
	echo "INIT-WARN no /test.sh"
	rc=127
fi
echo "TEST-EXIT rc=$rc"
sync
poweroff -f
