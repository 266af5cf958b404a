#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# What the Debian and RPM packages' scripts do, written once: build-deb.sh and
# build-rpm.sh put this file's functions where a template says
# "#include delivery/dkms-hooks.sh" (delivery/render-script.sh), with the
# package's version for @VERSION@. The agent works without the module (eBPF,
# /proc/kcore ...), so no function here fails: each returns 0 whatever DKMS does.
# No percent signs in this file: rpmbuild expands macros in scriptlets.

forensics_name=forensics-mem
forensics_version=@VERSION@

# DKMS add, build and install for the running kernel, when dkms is installed and
# the kernel's headers are (/lib/modules/<release>/build); otherwise say why not.
forensics_dkms_build() {
	kver=$(uname -r)
	if ! command -v dkms >/dev/null 2>&1; then
		echo "forensics-agent: dkms is not installed: the $forensics_name module is not built (the agent uses its other sources)"
		return 0
	fi
	if [ ! -e "/lib/modules/$kver/build" ]; then
		echo "forensics-agent: no kernel headers for $kver (/lib/modules/$kver/build): the $forensics_name module is not built; install them, then: dkms add -m $forensics_name -v $forensics_version && dkms install -m $forensics_name -v $forensics_version"
		return 0
	fi
	if ! dkms status -m "$forensics_name" -v "$forensics_version" 2>/dev/null | grep -q .; then
		dkms add -m "$forensics_name" -v "$forensics_version" ||
			echo "forensics-agent: dkms add failed"
	fi
	dkms build -m "$forensics_name" -v "$forensics_version" -k "$kver" &&
		dkms install -m "$forensics_name" -v "$forensics_version" -k "$kver" ||
		echo "forensics-agent: the $forensics_name module did not build for $kver (see above); the agent uses its other sources"
	return 0
}

# Takes this version of the module out of DKMS, for every kernel, before its
# sources go.
forensics_dkms_remove() {
	if command -v dkms >/dev/null 2>&1 &&
		dkms status -m "$forensics_name" -v "$forensics_version" 2>/dev/null | grep -q .; then
		dkms remove -m "$forensics_name" -v "$forensics_version" --all ||
			echo "forensics-agent: dkms remove failed"
	fi
	return 0
}

# The pins DKMS's POST_INSTALL wrote (dkms/pin-module.sh).
forensics_pins_remove() {
	rm -f /var/lib/forensics-mem/SHA256SUMS || true
	rmdir /var/lib/forensics-mem 2>/dev/null || true
	return 0
}
