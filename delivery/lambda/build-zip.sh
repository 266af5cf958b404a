#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-zip.sh BUILD
#
# BUILD/forensics-controller-lambda.zip, the code of the security account's
# Lambda function (provided.al2023, handler "bootstrap"): controller/bootstrap,
# which execs forensics-controller lambda, and the static controller beside it,
# both mode 0755 at the top of the archive. The same inputs give the same
# bytes: entries in a fixed order, dated by the last commit.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: build-zip.sh BUILD}
die() { echo "build-zip: $*" >&2; exit 1; }
cd "$root"

controller=$build/forensics-controller
[ -x "$controller" ] || die "no $controller (make controller)"
# Lambda's provided.al2023 has no json-c or libcurl: only a static binary runs.
if readelf -l "$controller" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "$controller is dynamically linked; build it static (make controller)"
fi
when=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}
out=$build/forensics-controller-lambda.zip

python3 - "$out" "$when" controller/bootstrap:bootstrap \
	"$controller":forensics-controller <<'PY'
import os
import sys
import time
import zipfile

out, when = sys.argv[1], max(int(sys.argv[2]), 315532800)  # zip dates start in 1980
stamp = time.gmtime(when)[:6]
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for spec in sys.argv[3:]:
        path, name = spec.rsplit(":", 1)
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.create_system = 3  # Unix: Lambda reads the mode from external_attr
        info.external_attr = (0o100755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
PY
echo "$out"
