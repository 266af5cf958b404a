#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-deb.sh BUILD
#
# BUILD/forensics-agent_<version>_amd64.deb with dpkg-deb alone: what
# scripts/install-tree.sh installs under /usr (the static agent as
# /usr/sbin/forensics-agent, the module's DKMS source tree in
# /usr/src/forensics-mem-<version>/, the docs in /usr/share/doc/forensics-agent/),
# and maintainer scripts that run DKMS only where it and the running kernel's
# headers are present (delivery/dkms-hooks.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: build-deb.sh BUILD}
die() { echo "build-deb: $*" >&2; exit 1; }
cd "$root"

agent=$build/forensics-agent
[ -x "$agent" ] || die "no $agent (make agent)"
version=$(bash scripts/install-kmod-source.sh --version)
pkg=forensics-agent
deb=$build/${pkg}_${version}_amd64.deb
stage=$build/deb/$pkg
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

# The layout `make install` has (scripts/install-tree.sh), under /usr, and
# the copyright file Debian's policy asks for.
bash scripts/install-tree.sh "$agent" "$stage" /usr
doc=$stage/usr/share/doc/$pkg
cat >"$doc/copyright" <<EOT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ec2-forensics

Files: *
License: GPL-2.0-only
 On Debian systems the full text of the GNU General Public License
 version 2 is in /usr/share/common-licenses/GPL-2.
EOT

# The DKMS logic the RPM's scriptlets share (delivery/dkms-hooks.sh).
for s in postinst prerm postrm; do
	bash delivery/render-script.sh "delivery/deb/$s" "$version" >"$stage/DEBIAN/$s"
	chmod 0755 "$stage/DEBIAN/$s"
done
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOT
Package: $pkg
Version: $version
Architecture: amd64
Maintainer: ec2-forensics maintainers <noreply@example.invalid>
Section: admin
Priority: optional
Installed-Size: $size
Recommends: dkms
Suggests: linux-headers-amd64
Description: memory acquisition agent for Linux EC2 incident response
 forensics-agent (static) captures physical RAM as a LiME image, hashed and
 zstd-compressed as it streams to S3, a file or stdout, and verifies and
 converts images. The forensics_mem capture module's sources are installed
 for DKMS, which builds them when the running kernel's headers are present.
EOT
# Reproducible: fixed mtimes from the last commit, root-owned files.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
find "$stage" -exec touch -h -d "@$epoch" {} +
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
