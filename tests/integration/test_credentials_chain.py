#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The credential chain against a fake IMDSv2 on 127.0.0.1.

Runs the driver tests/tools/credentials-cli.c ($BUILD/tools/credentials-cli),
which builds one provider and prints a JSON line per operation (secrets as
SHA-256 digests). Every run points AWS_EC2_METADATA_SERVICE_ENDPOINT at the
fake or disables IMDS: nothing here may reach 169.254.169.254.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from common import BUILD, Suite
from imds_fake import FakeIMDS, iso

DRIVER = os.path.join(BUILD, "tools", "credentials-cli")
ROLE = "forensics-role"
TOKEN_TTL = "21600"
MARGIN = 300  # AWS_CREDENTIALS_REFRESH_MARGIN

suite = Suite("credentials")


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


HOME = tempfile.mkdtemp(prefix="credentials-test.")


def write(rel, text):
    path = os.path.join(HOME, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def clean_home():
    for rel in (".aws/credentials", ".aws/config"):
        try:
            os.unlink(os.path.join(HOME, rel))
        except FileNotFoundError:
            pass


def run(ops, imds=None, env=None, args=()):
    """Run the driver; its JSON lines, and the whole process for checks."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e["HOME"] = HOME
    if imds is not None:
        e = imds.env(e)
    else:
        e["AWS_EC2_METADATA_DISABLED"] = "true"
    e.update(env or {})
    # The one rule of these tests: IMDS is the fake or off, never the real one.
    endpoint = e.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "")
    assert (e.get("AWS_EC2_METADATA_DISABLED") == "true" or endpoint.startswith("http://127.0.0.1:")
            or endpoint.startswith("file://")), endpoint
    p = subprocess.run([DRIVER, *args, *ops], env=e, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    for line in lines:
        for fake in (imds.issued if imds else []):
            assert fake[1] not in line.get("why", "") and fake[2] not in line.get("why", "")
    if imds is not None:
        assert imds.token not in p.stdout and imds.token not in p.stderr
    return lines, p


def expect_imds_credentials(line, issued):
    assert line["ret"] == 0, line
    assert line["source"] == "imds role " + ROLE, line
    assert line["access_key_id"] == issued[0], (line, issued)
    assert line["secret_sha256"] == sha256(issued[1]), line
    assert line["token_sha256"] == sha256(issued[2]), line
    assert line["expiration"] == issued[3], (line, issued)


def check_tokens(imds):
    """IMDSv2 only: every GET carries the token a PUT handed out."""
    assert imds.requests and imds.requests[0][0] == "PUT", imds.requests
    for method, path, headers in imds.requests:
        if method == "PUT":
            assert path == "/latest/api/token", path
            assert headers.get("X-aws-ec2-metadata-token-ttl-seconds") == TOKEN_TTL, headers
        else:
            assert method == "GET", method
            assert headers.get("X-aws-ec2-metadata-token", "").startswith("AQAEAFakeToken-"), \
                (path, headers)


@suite.case("instance role credentials when the environment and files have none")
def test_role_credentials():
    clean_home()
    with FakeIMDS() as imds:
        lines, p = run(["get=%d" % time.time()], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    assert lines[0] == {"op": "new", "ret": 0, "errno": "", "why": ""}, lines
    expect_imds_credentials(lines[1], imds.issued[0])
    assert [r[1] for r in imds.gets()] == ["/latest/meta-data/iam/security-credentials/",
                                           "/latest/meta-data/iam/security-credentials/" + ROLE]


@suite.case("IMDSv2 token on every GET, fetched once and reused")
def test_token_every_get():
    clean_home()
    now = int(time.time())
    with FakeIMDS(creds=[("ok", now + 120), ("ok", now + 3600)]) as imds:
        lines, p = run(["get=%d" % now, "invalidate", "get=%d" % now, "region"], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    check_tokens(imds)
    # One token for the provider's three fetches (2 GETs each) ...
    assert [r[0] for r in imds.requests] == ["PUT"] + ["GET"] * 6 + ["PUT", "GET"], \
        [r[:2] for r in imds.requests]
    # ... and the region lookup, a one-shot session, has its own.
    assert imds.requests[-1][1] == "/latest/meta-data/placement/region"


@suite.case("environment beats the shared files beats the instance role")
def test_order():
    env_keys = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "SECRETenv",
                "AWS_SESSION_TOKEN": "TOKENenv"}
    write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\n"
          "aws_secret_access_key = SECRETfile\n")
    write(".aws/config", "[profile cfg]\nregion = us-east-2\naws_access_key_id = AKIACFG\n"
          "aws_secret_access_key = SECRETcfg\n[profile bare]\nregion = us-east-2\n")
    try:
        with FakeIMDS() as imds:
            lines, _ = run(["get=%d" % time.time()], imds, env_keys)
            assert lines[1]["source"] == "environment" and lines[1]["access_key_id"] == "AKIAENV"
            assert lines[1]["token_sha256"] == sha256("TOKENenv")
            lines, _ = run(["get=%d" % time.time()], imds)
            assert lines[1]["source"] == "profile default", lines
            assert lines[1]["access_key_id"] == "AKIAFILE" and lines[1]["token_sha256"] is None
            lines, _ = run(["get=%d" % time.time()], imds, {"AWS_PROFILE": "cfg"})
            assert lines[1]["source"] == "config profile cfg", lines
            # --profile: the CLI ignores keys in the environment.
            lines, _ = run(["get=%d" % time.time()], imds, env_keys, args=["--profile", "cfg"])
            assert lines[1]["access_key_id"] == "AKIACFG", lines
            # Options beat everything.
            lines, _ = run(["get=%d" % time.time()], imds, env_keys,
                           args=["--access-key-id", "AKIAOPT", "--secret-access-key", "SECRETopt"])
            assert lines[1]["source"] == "options" and lines[1]["access_key_id"] == "AKIAOPT"
            assert not imds.requests, imds.requests
            # A profile without keys goes on to the instance role.
            lines, _ = run(["get=%d" % time.time()], imds, {"AWS_PROFILE": "bare"})
            expect_imds_credentials(lines[1], imds.issued[0])
            # Half a pair in the environment is an error, not a fall-through.
            lines, p = run(["get=%d" % time.time()], imds, {"AWS_ACCESS_KEY_ID": "AKIAENV"})
            assert p.returncode == 1 and lines[0]["errno"] == "ENOKEY", lines
            assert "AWS_SECRET_ACCESS_KEY is not" in lines[0]["why"], lines
            assert len(imds.issued) == 1
    finally:
        clean_home()


@suite.case("refresh inside the margin; still-valid keys kept when it fails; expired is an error")
def test_refresh():
    clean_home()
    now = int(time.time())
    exp1 = now + 600
    with FakeIMDS(creds=[("ok", exp1), ("ok", now + 3600)]) as imds:
        lines, p = run(["get=%d" % now, "get=%d" % (exp1 - MARGIN - 1),
                        "get=%d" % (exp1 - MARGIN), "get=%d" % (exp1 + 1)], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    expect_imds_credentials(lines[1], imds.issued[0])
    expect_imds_credentials(lines[2], imds.issued[0])     # 301 s left: kept
    expect_imds_credentials(lines[3], imds.issued[1])     # 300 s left: refreshed
    expect_imds_credentials(lines[4], imds.issued[1])
    assert imds.cred_requests == 2
    check_tokens(imds)
    assert len(imds.puts()) == 1, "the token is reused across refreshes"

    # Expiration close to now: the first get() refreshes at once.
    with FakeIMDS(creds=[("ok", now + 30), ("ok", now + 3600)]) as imds:
        lines, _ = run(["get=%d" % now], imds)
    expect_imds_credentials(lines[1], imds.issued[1])

    # The service fails: old keys while they last, then an error saying why.
    with FakeIMDS(creds=[("ok", exp1), ("500", None)]) as imds:
        lines, p = run(["get=%d" % (exp1 - 100), "get=%d" % (exp1 - 1), "get=%d" % exp1], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    expect_imds_credentials(lines[1], imds.issued[0])
    assert "refresh failed" in lines[1]["why"] and "HTTP 500" in lines[1]["why"], lines[1]
    expect_imds_credentials(lines[2], imds.issued[0])
    assert lines[3]["ret"] != 0 and lines[3]["errno"] == "EKEYEXPIRED", lines[3]
    assert "expired at " + iso(exp1) in lines[3]["why"] and "HTTP 500" in lines[3]["why"]
    assert "access_key_id" not in lines[3]


@suite.case("invalidate() refreshes at once; a refused refresh is an error")
def test_invalidate():
    clean_home()
    now = int(time.time())
    with FakeIMDS(creds=[("ok", now + 3600), ("ok", now + 7200), ("404", None)]) as imds:
        lines, p = run(["get=%d" % now, "invalidate", "get=%d" % now, "get=%d" % now,
                        "invalidate", "get=%d" % now], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    expect_imds_credentials(lines[1], imds.issued[0])
    expect_imds_credentials(lines[3], imds.issued[1])
    expect_imds_credentials(lines[4], imds.issued[1])     # no refresh without a reason
    assert lines[6]["errno"] == "EKEYREJECTED", lines[6]
    assert "were refused" in lines[6]["why"], lines[6]


@suite.case("a token IMDS stops accepting is replaced once (401), then reused")
def test_token_replaced():
    clean_home()
    now = int(time.time())
    with FakeIMDS(creds=[("ok", now + 3600), ("ok", now + 7200)], rotate_token_after=1) as imds:
        lines, p = run(["get=%d" % now, "invalidate", "get=%d" % now], imds)
    assert p.returncode == 0, p.stdout + p.stderr
    expect_imds_credentials(lines[3], imds.issued[1])
    methods = [(r[0], r[1].rsplit("/", 1)[-1] or "list") for r in imds.requests]
    assert methods == [("PUT", "token"), ("GET", "list"), ("GET", ROLE),
                       ("GET", "list"), ("PUT", "token"), ("GET", "list"), ("GET", ROLE)], methods


@suite.case("IMDS without the role's credentials, or without a role: a clear reason")
def test_role_missing():
    clean_home()
    with FakeIMDS(creds=[("404", None)]) as imds:
        lines, p = run(["get=0"], imds)
    assert p.returncode == 1 and lines[0]["errno"] == "ENOKEY", lines
    assert "IMDS has no credentials for role '%s' (HTTP 404)" % ROLE in lines[0]["why"], lines
    assert "no credentials in the environment or profile 'default'" in lines[0]["why"]

    with FakeIMDS(role=None) as imds:
        lines, p = run(["get=0"], imds)
    assert p.returncode == 1, lines
    assert "no IAM role attached to this instance" in lines[0]["why"], lines


@suite.case("malformed or refused role credentials: a clear reason, never a secret")
def test_malformed():
    clean_home()
    for kind, words in (("malformed", "are not JSON"), ("truncated", "are not JSON"),
                        ("failure", "Code 'AssumeRoleUnauthorizedAccess': EC2 cannot assume")):
        with FakeIMDS(creds=[(kind, None)]) as imds:
            lines, p = run(["get=0"], imds)
        assert p.returncode == 1, (kind, lines)
        assert words in lines[0]["why"], (kind, lines)
        assert "role '%s'" % ROLE in lines[0]["why"], lines
        assert "ASIA" not in lines[0]["why"], lines


@suite.case("AWS_EC2_METADATA_SERVICE_ENDPOINT honoured; disabled means no request at all")
def test_endpoint_env():
    clean_home()
    with FakeIMDS() as imds:
        # A trailing slash does not double up with the path.
        lines, p = run(["get=0"], imds, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint + "/"})
        assert p.returncode == 0, lines
        assert all(not r[1].startswith("//") for r in imds.requests), imds.requests
        count = len(imds.requests)
        lines, p = run(["get=0"], imds, {"AWS_EC2_METADATA_DISABLED": "TRUE"})
        assert p.returncode == 1 and "IMDS disabled" in lines[0]["why"], lines
        assert len(imds.requests) == count, "disabled IMDS was asked"
    # Nothing listening there: the reason says so, quickly.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.time()
    lines, p = run(["get=0"], None, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:%d" % port,
                                     "AWS_EC2_METADATA_DISABLED": "false"})
    assert p.returncode == 1 and "IMDS PUT /latest/api/token" in lines[0]["why"], lines
    assert time.time() - start < 10
    # Only http(s): a file:// endpoint is refused by curl, not read.
    lines, p = run(["get=0"], None, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "file:///etc",
                                     "AWS_EC2_METADATA_DISABLED": "false"})
    assert p.returncode == 1 and "IMDS PUT" in lines[0]["why"], lines


@suite.case("region from IMDS placement/region, validated")
def test_region():
    clean_home()
    with FakeIMDS(region="ap-southeast-2") as imds:
        lines, _ = run(["region"], imds)
        assert lines == [{"op": "region", "ret": 0, "errno": "", "why": "",
                          "region": "ap-southeast-2"}], lines
        check_tokens(imds)
        lines, _ = run(["region"], imds, {"AWS_REGION": "eu-north-1"})
        assert lines[0]["region"] == "eu-north-1"
        imds.region = "xyz"
        lines, _ = run(["region"], imds)
        assert lines[0]["errno"] == "EINVAL", lines
        assert lines[0]["why"] == "unknown region 'xyz' (from IMDS placement/region)", lines
    lines, _ = run(["region"], None)
    assert lines[0]["errno"] == "ENOENT" and "IMDS disabled" in lines[0]["why"], lines


if suite.require(DRIVER, "make unit"):
    suite.run_all()
subprocess.run(["rm", "-rf", HOME])
sys.exit(suite.finish())
