#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# render-script.sh TEMPLATE VERSION
#
# Prints a package script (delivery/deb/postinst, delivery/rpm/post ...) with
# its "#include delivery/dkms-hooks.sh" line replaced by that file's functions
# (its header comment left out) and @VERSION@ by VERSION, so dpkg and rpm run
# the same shell and each script stands alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
template=${1:?usage: render-script.sh TEMPLATE VERSION}
version=${2:?usage: render-script.sh TEMPLATE VERSION}
die() { echo "render-script: $*" >&2; exit 1; }
[[ $version =~ ^[0-9A-Za-z.+~-]+$ ]] || die "bad version: $version"
grep -qx '#include delivery/dkms-hooks.sh' "$template" || die "$template includes nothing"

awk -v hooks="$root/delivery/dkms-hooks.sh" '
$0 == "#include delivery/dkms-hooks.sh" {
	body = 0
	while ((getline line < hooks) > 0) {
		if (!body && line == "")
			body = 1
		else if (body)
			print line
	}
	close(hooks)
	next
}
{ print }
' "$template" | sed "s/@VERSION@/$version/g"
