#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install-tree.sh AGENT DESTDIR PREFIX
#
# The one definition of what forensics-agent installs, used by `make install`
# (PREFIX /usr/local) and by the Debian and RPM packages (PREFIX /usr):
#
#   DESTDIR PREFIX/sbin/forensics-agent            the static agent, 0755
#   DESTDIR /usr/src/forensics-mem-<version>/      the module's DKMS tree
#   DESTDIR PREFIX/share/doc/forensics-agent/      README.md, README.dkms.md,
#                                                  README.delivery.md, docs/*.md
#
# The DKMS tree ignores PREFIX: dkms looks for sources in /usr/src only.
# DESTDIR may be empty (install into /).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "install-tree: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: $0 AGENT DESTDIR PREFIX"
agent=$1 destdir=$2 prefix=$3
[ -x "$agent" ] || die "no agent at $agent (make agent)"
case $prefix in /*) ;; *) die "PREFIX must be absolute: $prefix" ;; esac
case $destdir in ''|/*) ;; *) destdir=$PWD/$destdir ;; esac
agent=$(cd "$(dirname "$agent")" && pwd)/$(basename "$agent")

# Modes must not depend on who runs this.
umask 022
cd "$root"
version=$(bash scripts/install-kmod-source.sh --version)

install -d "$destdir$prefix/sbin"
install -m 0755 "$agent" "$destdir$prefix/sbin/forensics-agent"

bash scripts/install-kmod-source.sh "$destdir/usr/src/forensics-mem-$version"

doc=$destdir$prefix/share/doc/forensics-agent
install -d "$doc"
install -m 0644 README.md "$doc/README.md"
install -m 0644 dkms/README.md "$doc/README.dkms.md"
install -m 0644 delivery/README.md "$doc/README.delivery.md"
for f in docs/*.md; do
	install -m 0644 "$f" "$doc/"
done
