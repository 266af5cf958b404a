#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-curl.sh: build a small STATIC libcurl from Debian's curl source
# package (Debian's patches applied), cached.
#
# Why: the agent ships as ONE fully static x86-64 binary (static glibc) that
# must run on any Linux EC2 instance. In a static glibc binary, getaddrinfo()
# and friends still go through NSS and dlopen() libnss_*.so of the exact
# glibc version used at link time, which the target host does not have.
# Debian's libcurl uses the threaded getaddrinfo() resolver (and its static
# archive needs nghttp2, idn2, rtmp, ssh2, psl, gssapi, ldap, brotli...), so
# we build our own libcurl with the c-ares resolver (Debian's libcares.a):
# DNS is then done by c-ares itself (/etc/hosts, /etc/resolv.conf), no NSS.
# The library is cut down to HTTP/HTTPS (OpenSSL) + proxy + AWS SigV4.
#
# Usage: scripts/build-curl.sh <build-dir>
#   Result: <build-dir>/curl/install/lib/libcurl.a
#           <build-dir>/curl/install/include/curl/*.h
#           <build-dir>/curl/install/link-flags.txt  (libs for a static link)
#           <build-dir>/curl/install/cflags.txt      (-I for the headers)
#   Returns at once when the install is already there for the same Debian
#   curl version and build recipe.
#
# Cache (outside the clone): ${FORENSICS_CACHE:-$HOME/.cache/ec2-forensics}
#   debian-source/              Debian's source, fetched and unpacked by
#                               scripts/fetch-debian-source.sh (private apt
#                               lists; the system's apt config is untouched)
#   curl-install/<ver>-<hash>/  built install trees, keyed by version+recipe
#
# Environment:
#   FORENSICS_CACHE        cache directory (see above)
#   CURL_DEB_VERSION       build exactly this Debian version of curl;
#                          otherwise the installed libcurl4-openssl-dev's
#                          version, else the newest that downloads
#   DEBIAN_SOURCE_REFRESH=1  ask Debian for its index now (otherwise at most
#                          once a day)
#   CURL_BUILD_JOBS        make -j (default 2)
#   CURL_KEEP_BUILD=1      keep the configured source tree after the build
#   CC                     C compiler (default gcc)
set -euo pipefail

# Bump when the recipe changes in a way the hashed inputs below do not show.
RECIPE_REV=1

die() { echo "build-curl: error: $*" >&2; exit 1; }
say() { echo "build-curl: $*"; }

[ $# -eq 1 ] || die "usage: $0 <build-dir>"
[ "$(uname -m)" = x86_64 ] || die "x86-64 only"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
BUILD_DIR=$(cd "$1" && pwd)
CURL_DIR=$BUILD_DIR/curl
INSTALL=$CURL_DIR/install
LOG=$CURL_DIR/build.log
CHECK_SRC=$SCRIPT_DIR/static-curl-check.c

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
CACHE=${FORENSICS_CACHE:-$home/.cache/ec2-forensics}
INST_CACHE=$CACHE/curl-install
CC=${CC:-gcc}
JOBS=${CURL_BUILD_JOBS:-2}

mkdir -p "$CURL_DIR" "$INST_CACHE"

# One build per build dir at a time; cache updates under a cache-wide lock.
exec 9>"$CURL_DIR/.lock"
flock 9
cache_lock() { exec 8>"$CACHE/.curl.lock"; flock 8; }
cache_unlock() { flock -u 8; exec 8>&-; }

# ---------------------------------------------------------------- configure
# HTTP/HTTPS only, OpenSSL, c-ares, static only; no LDAP, GSS-API, PSL,
# brotli, zstd, zlib, nghttp2, IDN, RTMP, SSH. AWS SigV4 is built in
# whenever HTTP and crypto auth are on (curl 7.88 has no --enable-aws).
# Cookies, netrc and NTLM are off (netrc and NTLM-winbind would pull
# getpwuid_r, an NSS function). OpenSSL does not auto-load the host's
# openssl.cnf (a static binary must not dlopen engines/providers from it).
CONFIGURE_ARGS=(
	--prefix=/opt/curl-static
	--disable-shared --enable-static --with-pic
	--disable-dependency-tracking --disable-silent-rules
	--disable-debug --enable-optimize --disable-curldebug
	--with-openssl --disable-openssl-auto-load-config
	--enable-ares --disable-threaded-resolver
	--enable-http --enable-proxy --enable-ipv6 --enable-crypto-auth
	--enable-http-auth
	--disable-ftp --disable-file --disable-dict --disable-telnet
	--disable-tftp --disable-pop3 --disable-imap --disable-smtp
	--disable-gopher --disable-mqtt --disable-rtsp --disable-smb
	--disable-ldap --disable-ldaps --disable-websockets
	--disable-cookies --disable-netrc --disable-ntlm --disable-ntlm-wb
	--disable-tls-srp --disable-manual --disable-libcurl-option
	--without-zlib --without-brotli --without-zstd --without-libpsl
	--without-libidn2 --without-nghttp2 --without-ngtcp2 --without-nghttp3
	--without-quiche --without-msh3 --without-hyper --without-librtmp
	--without-libssh2 --without-libssh --without-wolfssh
	--without-gssapi --without-libgsasl
	--without-zsh-functions-dir --without-fish-functions-dir
	# Debian's defaults; set CURLOPT_CAINFO at run time on other distros.
	--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt
	--with-ca-path=/etc/ssl/certs
)
CURL_CFLAGS_BUILD="-O2 -g0 -fstack-protector-strong -fstack-clash-protection -fcf-protection -ffunction-sections -fdata-sections -Wformat -Werror=format-security"
CURL_CPPFLAGS_BUILD="-D_FORTIFY_SOURCE=2"
# Link order for a static link: libcurl, then what it needs. -ldl/-pthread
# are empty stubs on glibc >= 2.34 but keep the line right on older ones.
STATIC_LIBS_AFTER="-lcares -lssl -lcrypto -ldl -pthread"

# ------------------------------------------------------------- build deps
DEPS=(gcc make libc6-dev binutils libssl-dev libc-ares-dev pkg-config
	dpkg-dev patch xz-utils debian-archive-keyring)

# "<package> <version>" for each installed dep (one dpkg-query call).
installed_deps() {
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' "${DEPS[@]}" 2>/dev/null |
		awk '$NF == "installed" { print $1, $2 }' || true
}

ensure_deps() {
	local have missing=() p
	have=$(installed_deps)
	for p in "${DEPS[@]}"; do
		grep -q "^$p " <<<"$have" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing build deps: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "not root: apt-get install ${missing[*]}"
		sudo=(sudo)
	fi
	local apt_opts=(-q -y --no-install-recommends -o DPkg::Lock::Timeout=300)
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get "${apt_opts[@]}" install "${missing[@]}" >>"$LOG" 2>&1; then
		"${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update >>"$LOG" 2>&1 ||
			die "apt-get update failed (see $LOG)"
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get "${apt_opts[@]}" install "${missing[@]}" >>"$LOG" 2>&1 ||
			die "apt-get install ${missing[*]} failed (see $LOG)"
	fi
}

: >"$LOG"
ensure_deps

# ------------------------------------------------------------ recipe hash
# Everything that changes the built library: recipe, flags, compiler, and
# the headers it is compiled against (OpenSSL, c-ares, glibc).
RECIPE_HASH=$(
	{
		echo "rev=$RECIPE_REV"
		printf '%s\n' "${CONFIGURE_ARGS[@]}"
		echo "cflags=$CURL_CFLAGS_BUILD"
		echo "cppflags=$CURL_CPPFLAGS_BUILD"
		echo "cc=$CC $("$CC" -dumpfullversion 2>/dev/null) $("$CC" -dumpmachine 2>/dev/null)"
		installed_deps | grep -E '^(libssl-dev|libc-ares-dev|libc6-dev) '
	} | sha256sum | cut -c1-16
)

# ---------------------------------------------------------- Debian source
# The one fetcher zstd's build uses too: the newest version whose files
# download, suite by suite, cached and unpacked with Debian's patches.
fetch_args=(--prefer-installed libcurl4-openssl-dev)
[ -n "${CURL_DEB_VERSION:-}" ] && fetch_args=(--version "$CURL_DEB_VERSION")
DEB_SRC=$(FORENSICS_CACHE=$CACHE bash "$SCRIPT_DIR/fetch-debian-source.sh" "${fetch_args[@]}" curl \
	2> >(tee -a "$LOG" >&2)) || die "cannot fetch Debian's curl source (see above)"
VERSION=${DEB_SRC##*/curl-}

# --------------------------------------------------------------- outputs
write_flags() { # <install-dir>
	echo "$1/lib/libcurl.a $STATIC_LIBS_AFTER" >"$1/link-flags.txt"
	echo "-I$1/include" >"$1/cflags.txt"
}

# Link static-curl-check.c fully static against <install-dir> and run it.
self_check() { # <install-dir>
	local inst=$1 out=$CURL_DIR/static-curl-check warn=$CURL_DIR/link-warnings.txt
	if [ ! -f "$CHECK_SRC" ]; then
		say "warning: $CHECK_SRC missing, self-check skipped"
		return 0
	fi
	say "self-check: static link + run of static-curl-check"
	# shellcheck disable=SC2046
	"$CC" -static -O2 -o "$out" "$CHECK_SRC" $(cat "$inst/cflags.txt") \
		$(cat "$inst/link-flags.txt") 2>"$warn" ||
		{ cat "$warn" >&2; die "static link of the self-check failed"; }
	if readelf -lW "$out" | grep -q 'Requesting program interpreter' ||
		readelf -dW "$out" 2>/dev/null | grep -q NEEDED; then
		die "self-check binary is not fully static"
	fi
	# glibc warns at static link time about functions that need NSS or
	# dlopen at run time. None may come from libcurl.a. Debian's archives
	# bring some along in objects that are linked whole but whose functions
	# libcurl never calls: libcrypto.a dlopen (DSO, only used to load
	# engines/providers/config modules; openssl.cnf is not auto-loaded),
	# getaddrinfo/gethostbyname (BIO_lookup, pulled in with BIO_ADDR by the
	# DTLS code of libssl.a); libcares.a getservbyname (only for non-numeric
	# services, libcurl passes ARES_AI_NUMERICSERV) and getservbyport_r
	# (ares_getnameinfo, unused).
	if grep -q 'libcurl\.a(' "$warn"; then
		cat "$warn" >&2
		die "libcurl.a itself needs NSS/dlopen at run time (see above)"
	fi
	local n
	n=$(grep -c 'in statically linked applications' "$warn" || true)
	[ "$n" -eq 0 ] || say "self-check: $n glibc static-link warning(s), none from libcurl ($warn)"
	"$out" >"$CURL_DIR/static-curl-check.out" 2>&1 ||
		{ cat "$CURL_DIR/static-curl-check.out" >&2; die "self-check failed"; }
	sed -n 's/^\(libcurl version\|ssl_version\|ares\): */  \1: /p' "$CURL_DIR/static-curl-check.out"
}

finish() { # <version>
	say "ready: curl $1 (Debian), $INSTALL"
	echo "CURL_CFLAGS=$(cat "$INSTALL/cflags.txt")"
	echo "CURL_STATIC_LIBS=$(cat "$INSTALL/link-flags.txt")"
}

# ------------------------------------------------------------------ main
KEY="$VERSION $RECIPE_HASH"
CACHED_INSTALL=$INST_CACHE/$VERSION-$RECIPE_HASH

# 1. Already built here.
if [ -f "$INSTALL/.build-key" ] && [ "$(cat "$INSTALL/.build-key")" = "$KEY" ] &&
	[ -f "$INSTALL/lib/libcurl.a" ] && [ -f "$INSTALL/include/curl/curl.h" ]; then
	[ "$(cat "$INSTALL/link-flags.txt" 2>/dev/null)" = "$INSTALL/lib/libcurl.a $STATIC_LIBS_AFTER" ] ||
		write_flags "$INSTALL"
	# make re-runs this script when it or the fetcher is newer than
	# libcurl.a: tell it the library is current.
	touch "$INSTALL/lib/libcurl.a"
	finish "$VERSION"
	exit 0
fi

# 2. Built by another clone on this machine.
if [ -f "$CACHED_INSTALL/.build-key" ]; then
	say "using cached build $CACHED_INSTALL"
	touch "$CACHED_INSTALL"
	rm -rf "$INSTALL.tmp"
	cp -a "$CACHED_INSTALL" "$INSTALL.tmp"
	write_flags "$INSTALL.tmp"
	self_check "$INSTALL.tmp"
	rm -rf "$INSTALL"
	mv -T "$INSTALL.tmp" "$INSTALL"
	write_flags "$INSTALL"
	touch "$INSTALL/lib/libcurl.a" # newer than this script, for make
	finish "$VERSION"
	exit 0
fi

# 3. Build.
T0=$SECONDS
on_exit() {
	local rc=$?
	[ "$rc" -eq 0 ] && return 0
	echo "build-curl: failed (exit $rc); last lines of $LOG:" >&2
	tail -n 25 "$LOG" >&2
}
trap on_exit EXIT

SRC=$CURL_DIR/src
rm -rf "$SRC"
say "copying curl $VERSION (Debian's patches applied)"
cp -a "$DEB_SRC/." "$SRC"
rm -f "$SRC/.unpacked"
# debian/rules pops the last two patches of the series (the GnuTLS and NSS
# flavours, which rename the library) before building the OpenSSL flavour.
for p in 99_nss.patch 90_gnutls.patch; do
	if grep -qx "$p" "$SRC/debian/patches/series"; then
		(cd "$SRC" && patch -R -p1 -s --dry-run <"debian/patches/$p" &&
			patch -R -p1 -s <"debian/patches/$p") >>"$LOG" 2>&1 ||
			die "cannot revert debian/patches/$p"
	fi
done
grep -q '^lib_LTLIBRARIES = libcurl.la$' "$SRC/lib/Makefile.am" ||
	die "unexpected lib/Makefile.am after reverting the flavour patches"
# No autoreconf: the release configure/Makefile.in are used as they are
# (AM_MAINTAINER_MODE keeps make from regenerating them). The Debian
# patches that touch configure.ac only concern LDAP and GSS-API (both off);
# the ltmain.sh one is used as patched.

say "configuring (c-ares, OpenSSL, HTTP/HTTPS only, static)"
(cd "$SRC" && ./configure "${CONFIGURE_ARGS[@]}" CC="$CC" \
	CFLAGS="$CURL_CFLAGS_BUILD" CPPFLAGS="$CURL_CPPFLAGS_BUILD") >>"$LOG" 2>&1
grep -q '^#define USE_ARES 1' "$SRC/lib/curl_config.h" || die "configure did not enable c-ares"
grep -q '^#define USE_OPENSSL 1' "$SRC/lib/curl_config.h" || die "configure did not enable OpenSSL"

say "compiling lib/ (make -j$JOBS)"
make -C "$SRC/lib" -j"$JOBS" >>"$LOG" 2>&1

say "installing"
STAGE=$CURL_DIR/stage
rm -rf "$STAGE" "$INSTALL.tmp"
{
	make -C "$SRC/lib" install DESTDIR="$STAGE"
	make -C "$SRC/include" install DESTDIR="$STAGE"
	make -C "$SRC" install-pkgconfigDATA DESTDIR="$STAGE"
} >>"$LOG" 2>&1
mv -T "$STAGE/opt/curl-static" "$INSTALL.tmp"
rm -rf "$STAGE"
rm -f "$INSTALL.tmp/lib/libcurl.la"
# relocatable .pc (the tree is copied between clones)
# shellcheck disable=SC2016
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$INSTALL.tmp/lib/pkgconfig/libcurl.pc"
{
	echo "curl (Debian source package) $VERSION"
	echo "recipe hash $RECIPE_HASH (rev $RECIPE_REV)"
	echo "CFLAGS=$CURL_CFLAGS_BUILD"
	echo "CPPFLAGS=$CURL_CPPFLAGS_BUILD"
	echo "configure ${CONFIGURE_ARGS[*]}"
	sed -n 's/^ *\(Features\|Protocols\|resolver\|SSL\): */\1: /p' "$LOG" | tail -n 4
} >"$INSTALL.tmp/build-info.txt"

write_flags "$INSTALL.tmp"
self_check "$INSTALL.tmp"

echo "$KEY" >"$INSTALL.tmp/.build-key"
rm -rf "$INSTALL"
mv -T "$INSTALL.tmp" "$INSTALL"
write_flags "$INSTALL"
[ "${CURL_KEEP_BUILD:-0}" = 1 ] || rm -rf "$SRC"

# Publish the install tree for other clones; keep the cache small.
cache_lock
if [ ! -f "$CACHED_INSTALL/.build-key" ]; then
	tmp=$(mktemp -d "$INST_CACHE/.new.XXXXXX")
	cp -a "$INSTALL/." "$tmp/"
	rm -f "$tmp/link-flags.txt" "$tmp/cflags.txt"
	rm -rf "$CACHED_INSTALL"
	mv -T "$tmp" "$CACHED_INSTALL"
fi
touch "$CACHED_INSTALL"
# shellcheck disable=SC2012
ls -1dt "$INST_CACHE"/*/ 2>/dev/null | tail -n +5 | xargs -r rm -rf
cache_unlock

say "built in $((SECONDS - T0)) s"
finish "$VERSION"
