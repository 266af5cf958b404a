#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""lib/aws/sigv4.c against botocore on random requests.

Generates seeded random requests (paths, query parameters and headers full
of spaces, '+', UTF-8, !'()*, '=', '&', '/', '~', '%', dot segments, repeated
names, empty values, blank runs, mixed-case names; S3 and other services;
with and without a session token; signed body, empty body, UNSIGNED-PAYLOAD)
and signs each one with the C signer (through tests/tools/sigv4-cli.c) and
with botocore:

  header auth   SigV4Auth / S3SigV4Auth: canonical request, string to sign,
                signature, Authorization
  presigned URL SigV4QueryAuth / S3SigV4QueryAuth: the whole URL

botocore reads the clock only in add_auth(); the test sets
request.context["timestamp"] and runs the same steps add_auth() runs.

Prints one line per failing case and `sigv4: N passed, N failed`; exits
non-zero on any failure. SIGV4_SEED and SIGV4_CASES override the seed and
the number of cases (default 600); the seed is printed on failure. The
driver is $SIGV4_CLI, else $BUILD/tools/sigv4-cli if it is up to date, else
built here with cc.
"""
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from common import BUILD, ROOT
# The driver and the signer's sources, built together when no up-to-date
# driver is at hand (the headers only count for that check).
SOURCES = [
    os.path.join(ROOT, "tests", "tools", "sigv4-cli.c"),
    os.path.join(ROOT, "lib", "aws", "sigv4.c"),
    os.path.join(ROOT, "lib", "aws", "sigv4.h"),
    os.path.join(ROOT, "lib", "aws", "sigv4_canonical.c"),
    os.path.join(ROOT, "lib", "aws", "sigv4_canonical.h"),
    os.path.join(ROOT, "lib", "aws", "sigv4_buf.c"),
    os.path.join(ROOT, "lib", "aws", "sigv4_buf.h"),
    os.path.join(ROOT, "lib", "base", "encode.c"),
    os.path.join(ROOT, "lib", "base", "encode.h"),
    os.path.join(ROOT, "lib", "base", "timefmt.c"),
    os.path.join(ROOT, "lib", "base", "timefmt.h"),
]
UNSIGNED = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_EXPIRES = 604800

# Characters the encoders must get right, UTF-8 of 2, 3 and 4 bytes included.
TRICKY = " +!'()*=&/~%#?;:@$,[]\"<>\\^`{|}.-_" + "é" + "ሴ" + "中" + "😀"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEADER_VALUE_CHARS = ALNUM + " \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + "éü中"
# Header names botocore treats specially (not signed, or replaced while
# signing), and the ones the signer adds itself.
AVOID_HEADERS = {
    "host", "date", "authorization", "x-amz-date", "x-amz-content-sha256",
    "x-amz-security-token", "connection", "expect", "keep-alive",
    "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
}
HEADER_NAMES = ["Content-Type", "Content-MD5", "x-amz-meta-Case", "X-Amz-Storage-Class",
                "x-amz-checksum-sha256", "My-Header1", "range", "If-None-Match"]
SERVICES = ["sts", "ec2", "ssm", "service", "execute-api"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]


def driver():
    """Path of an up-to-date sigv4-cli, building one if needed."""
    if os.environ.get("SIGV4_CLI"):
        return os.environ["SIGV4_CLI"], None
    built = os.path.join(BUILD, "tools", "sigv4-cli")
    if os.path.exists(built):
        newest = max(os.path.getmtime(s) for s in SOURCES)
        if os.path.getmtime(built) >= newest:
            return built, None
    tmp = tempfile.mkdtemp(prefix="sigv4-cli.")
    out = os.path.join(tmp, "sigv4-cli")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-std=gnu11", "-D_GNU_SOURCE", "-O1", "-Wall", "-Wextra",
                    "-I" + os.path.join(ROOT, "lib"), "-o", out,
                    *[s for s in SOURCES if s.endswith(".c")], "-ljson-c", "-lcrypto"],
                   check=True)
    return out, tmp


def rand_text(rng, maxlen, tricky=0.5):
    n = rng.randint(0, maxlen)
    return "".join(rng.choice(TRICKY) if rng.random() < tricky else rng.choice(ALNUM)
                   for _ in range(n))


def rand_path(rng):
    segs = []
    for _ in range(rng.randint(0, 6)):
        r = rng.random()
        if r < 0.1:
            segs.append("")
        elif r < 0.2:
            segs.append(".")
        elif r < 0.3:
            segs.append("..")
        else:
            # '/' would only split the segment; the generator makes those.
            segs.append(rand_text(rng, 12).replace("/", "_"))
    path = "/" + "/".join(segs)
    if rng.random() < 0.2:
        path += "/"
    return path


def rand_header_value(rng):
    n = rng.randint(0, 20)
    v = "".join(rng.choice(HEADER_VALUE_CHARS) for _ in range(n))
    if rng.random() < 0.3:
        v = rng.choice(["", " ", "  \t "]) + v + rng.choice(["", " ", "\t  "])
    if rng.random() < 0.3:
        v = v.replace(" ", "   ")
    return v


def rand_header_name(rng):
    if rng.random() < 0.5:
        name = rng.choice(HEADER_NAMES)
    else:
        name = "x-" + "".join(rng.choice(ALNUM + "-_") for _ in range(rng.randint(1, 10)))
    # Header names are case-insensitive: mix the case.
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def rand_case(rng, index):
    s3 = rng.random() < 0.5
    https = rng.random() < 0.85
    port = rng.choice(["", "", "", ":8443", ":9000"])
    case = {
        "index": index,
        "s3": s3,
        "service": "s3" if s3 else rng.choice(SERVICES),
        "region": rng.choice(REGIONS),
        "now": rng.randint(0, 4102444799),  # 1970..2099
        "method": rng.choice(["GET", "PUT", "POST", "HEAD", "DELETE"]),
        "scheme": "https" if https else "http",
        "host": rng.choice(["examplebucket.s3.amazonaws.com", "s3.eu-west-1.amazonaws.com",
                            "sts.amazonaws.com", "ec2.us-east-1.amazonaws.com",
                            "127.0.0.1", "minio.local"]) + port,
        "path": rand_path(rng),
        "access_key_id": rng.choice(["AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE", "ASIA1234567890ABCDEF"]),
        "secret_access_key": rand_text(rng, 40, tricky=0.1) or "s",
        "session_token": None,
        "expires": rng.randint(1, MAX_EXPIRES),
    }
    if rng.random() < 0.5:
        case["session_token"] = "".join(rng.choice(ALNUM + "+/=") for _ in range(rng.randint(1, 400)))

    query = []
    for _ in range(rng.randint(0, 6)):
        if query and rng.random() < 0.25:
            name = rng.choice(query)[0]  # repeated name
        else:
            name = rand_text(rng, 10)
        r = rng.random()
        value = None if r < 0.1 else "" if r < 0.2 else rand_text(rng, 16)
        query.append([name, value])
    case["query"] = query

    headers = []
    for _ in range(rng.randint(0, 5)):
        if headers and rng.random() < 0.2:
            prev = headers[-1][0]
            name = prev.swapcase() if rng.random() < 0.5 else prev  # repeated name
        else:
            name = rand_header_name(rng)
            if name.lower() in AVOID_HEADERS:
                continue
        headers.append([name, rand_header_value(rng)])
    case["headers"] = headers

    r = rng.random()
    if r < 0.3:
        case["body"] = b""
    else:
        case["body"] = rng.randbytes(rng.randint(1, 300))
    case["unsigned"] = https and rng.random() < 0.25
    return case


def driver_input(case):
    payload = UNSIGNED if case["unsigned"] else hashlib.sha256(case["body"]).hexdigest()
    headers = [list(h) for h in case["headers"]]
    if case["unsigned"] and not case["s3"]:
        # botocore signs unsigned payloads for other services by adding
        # this header itself; the C signer leaves headers to the caller.
        headers.append(["X-Amz-Content-SHA256", UNSIGNED])
    return {
        "method": case["method"], "host": case["host"], "path": case["path"],
        "query": case["query"], "headers": headers, "payload_hash": payload,
        "region": case["region"], "service": case["service"], "now": case["now"],
        "s3": case["s3"], "access_key_id": case["access_key_id"],
        "secret_access_key": case["secret_access_key"],
        "session_token": case["session_token"], "scheme": case["scheme"],
        "expires": case["expires"],
    }


def presign_input(case):
    """The presign request: no repeated names (botocore keeps them in a dict), no body."""
    seen, query = set(), []
    for name, value in case["query"]:
        if name not in seen:
            seen.add(name)
            query.append([name, value])
    d = driver_input(case)
    d["query"] = query
    d["headers"] = [list(h) for h in case["headers"]]
    d["payload_hash"] = UNSIGNED if case["unsigned"] else EMPTY_SHA256
    return d


def url_of(case):
    # The path as a botocore serializer puts it on the wire: encoded once.
    return "%s://%s%s" % (case["scheme"], case["host"], quote(case["path"], safe="/~"))


def amz_date(now):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def sign(signer, req, now):
    """add_auth() with now for the clock: the canonical request, string to sign, signature."""
    req.context["timestamp"] = amz_date(now)
    signer._modify_request_before_signing(req)
    creq = signer.canonical_request(req)
    sts = signer.string_to_sign(req, creq)
    sig = signer.signature(sts, req)
    signer._inject_signature_to_request(req, sig)
    return creq, sts, sig


def botocore_header_auth(case):
    creds = Credentials(case["access_key_id"], case["secret_access_key"], case["session_token"])
    params = [(n, "" if v is None else v) for n, v in case["query"]]
    req = AWSRequest(method=case["method"], url=url_of(case), data=case["body"], params=params)
    for name, value in case["headers"]:
        req.headers[name] = value  # appends: repeated names stay repeated
    if case["s3"]:
        signer = S3SigV4Auth(creds, "s3", case["region"])
        if case["unsigned"]:
            req.context["client_config"] = types.SimpleNamespace(
                s3={"payload_signing_enabled": False})
    else:
        signer = SigV4Auth(creds, case["service"], case["region"])
        if case["unsigned"]:
            req.context["payload_signing_enabled"] = False
    creq, sts, sig = sign(signer, req, case["now"])
    return {
        "canonical_request": creq, "string_to_sign": sts, "signature": sig,
        "authorization": req.headers["Authorization"],
        "amz_date": req.context["timestamp"],
        "security_token": case["session_token"],
        "content_sha256": req.headers["X-Amz-Content-SHA256"] if case["s3"] else "",
    }


def botocore_presign(case, pin):
    creds = Credentials(case["access_key_id"], case["secret_access_key"], case["session_token"])
    params = {n: "" if v is None else v for n, v in pin["query"]}
    req = AWSRequest(method=case["method"], url=url_of(case), params=params)
    for name, value in pin["headers"]:
        req.headers[name] = value
    cls = S3SigV4QueryAuth if case["s3"] else SigV4QueryAuth
    signer = cls(creds, case["service"], case["region"], expires=case["expires"])
    if case["unsigned"] and not case["s3"]:
        req.context["payload_signing_enabled"] = False
    creq, _, _ = sign(signer, req, case["now"])
    return req.url, creq


def split_url(url):
    """scheme, host, path and the query as a sorted list of raw name=value."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path, sorted(parts.query.split("&"))


def short(s):
    s = repr(s)
    return s if len(s) <= 400 else s[:400] + "..."


def main():
    seed = int(os.environ.get("SIGV4_SEED", random.SystemRandom().randrange(1 << 32)))
    count = int(os.environ.get("SIGV4_CASES", "600"))
    rng = random.Random(seed)
    cases = [rand_case(rng, i) for i in range(count)]

    header_in = [driver_input(c) for c in cases]
    presign_in = [presign_input(c) for c in cases]
    # Each case is sent twice: as given (header auth) and as presigned.
    lines = []
    for h, p in zip(header_in, presign_in):
        h = dict(h, expires=0)
        lines.append(json.dumps(h, ensure_ascii=False))
        lines.append(json.dumps(p, ensure_ascii=False))

    cli, tmp = driver()
    try:
        proc = subprocess.run([cli], input=("\n".join(lines) + "\n").encode("utf-8"),
                              capture_output=True, check=False)
    finally:
        if tmp:
            subprocess.run(["rm", "-rf", tmp], check=False)
    if proc.returncode != 0:
        print("sigv4-cli failed (exit %d): %s" % (proc.returncode, proc.stderr.decode(errors="replace")))
        print("sigv4: 0 passed, %d failed" % count)
        return 1
    answers = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    if len(answers) != len(lines):
        print("sigv4-cli answered %d of %d requests" % (len(answers), len(lines)))
        print("sigv4: 0 passed, %d failed" % count)
        return 1

    passed = failed = 0
    for i, case in enumerate(cases):
        ours, ours_presign = answers[2 * i], answers[2 * i + 1]
        problems = []
        try:
            want = botocore_header_auth(case)
        except Exception as e:  # noqa: BLE001 - report, do not stop the run
            problems.append("botocore header auth raised %r" % e)
            want = {}
        if "error" in ours:
            problems.append("header auth: C signer returned %d" % ours["error"])
        else:
            for key in ("canonical_request", "string_to_sign", "signature", "authorization",
                        "amz_date", "security_token", "content_sha256"):
                if key in want and ours.get(key) != want[key]:
                    problems.append("%s: ours=%s botocore=%s" % (key, short(ours.get(key)),
                                                                  short(want[key])))
        try:
            want_url, want_creq = botocore_presign(case, presign_in[i])
        except Exception as e:  # noqa: BLE001
            problems.append("botocore presign raised %r" % e)
            want_url = want_creq = None
        if "presign_error" in ours_presign:
            problems.append("presign: C signer returned %d" % ours_presign["presign_error"])
        elif want_url is not None:
            got = ours_presign.get("presigned_url")
            if got is None:
                problems.append("presign: no URL")
            elif split_url(got) != split_url(want_url):
                g, w = split_url(got), split_url(want_url)
                if g[:3] != w[:3]:
                    diff = "ours=%s botocore=%s" % (short(g[:3]), short(w[:3]))
                else:
                    diff = "query only ours=%s only botocore=%s" % (
                        short(sorted(set(g[3]) - set(w[3]))), short(sorted(set(w[3]) - set(g[3]))))
                problems.append("presigned url: %s (botocore canonical request %s)"
                                % (diff, short(want_creq)))
        if problems:
            failed += 1
            kind = "s3" if case["s3"] else case["service"]
            print("FAIL case %d (seed %d, %s %s %s): %s" % (i, seed, kind, case["method"],
                                                          short(case["path"]),
                                                          "; ".join(problems)))
        else:
            passed += 1

    if failed:
        print("seed %d: rerun with SIGV4_SEED=%d SIGV4_CASES=%d" % (seed, seed, count))
    print("sigv4: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
