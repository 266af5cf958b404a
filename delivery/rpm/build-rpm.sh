#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-rpm.sh BUILD
#
# BUILD/forensics-agent-<version>-1.x86_64.rpm with rpmbuild from
# delivery/rpm/forensics-agent.spec: what scripts/install-tree.sh installs
# under /usr, files owned by root, dated by the last commit; scriptlets that
# run DKMS only where it and the running kernel's headers are present
# (delivery/dkms-hooks.sh, as the Debian package). The agent is packaged as
# built, not stripped, so the deb and the RPM carry the same binary. The
# payload is xz, which rpm 4.11 (Amazon Linux 2) reads too.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: build-rpm.sh BUILD}
die() { echo "build-rpm: $*" >&2; exit 1; }
cd "$root"
case $build in /*) ;; *) build=$root/$build ;; esac

command -v rpmbuild >/dev/null || die "rpmbuild is not installed (Debian: apt-get install rpm)"
agent=$build/forensics-agent
[ -x "$agent" ] || die "no $agent (make agent)"
version=$(bash scripts/install-kmod-source.sh --version)
rpm=$build/forensics-agent-$version-1.x86_64.rpm
top=$build/rpm
rm -rf "$top"
mkdir -p "$top/scripts" "$top/BUILD" "$top/BUILDROOT" "$top/tmp"

for s in post preun postun; do
	bash delivery/render-script.sh "delivery/rpm/$s" "$version" >"$top/scripts/$s"
done

# Reproducible: the build time and (in the spec) every file's mtime are the
# last commit's.
# SOURCE_DATE_EPOCH from the environment wins.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
rm -f "$rpm"
SOURCE_DATE_EPOCH=$epoch rpmbuild -bb --quiet \
	--target x86_64 \
	--define "_topdir $top" \
	--define "_tmppath $top/tmp" \
	--define "_rpmdir $build" \
	--define "_rpmfilename %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
	--define "_buildhost localhost" \
	--define "use_source_date_epoch_as_buildtime 1" \
	--define "_binary_payload w2.xzdio" \
	--define "__os_install_post %{nil}" \
	--define "debug_package %{nil}" \
	--define "_build_id_links none" \
	--define "fa_version $version" \
	--define "fa_root $root" \
	--define "fa_agent $agent" \
	--define "fa_scripts $top/scripts" \
	delivery/rpm/forensics-agent.spec >"$top/rpmbuild.log" 2>&1 ||
	{ tail -n 30 "$top/rpmbuild.log" >&2; die "rpmbuild failed (log: $top/rpmbuild.log)"; }
[ -f "$rpm" ] || die "rpmbuild wrote no $rpm"
echo "$rpm"
