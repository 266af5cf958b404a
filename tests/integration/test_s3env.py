#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Self-tests of the S3 test infrastructure: s3env (moto) and faultproxy.

What the uploader tests will rely on is checked here against boto3 as the
reference client: moto checks SigV4 (and only that; presigned URLs need the
server without auth), computes the multipart ETag, leaves no upload behind
an abort; the proxy forwards signed requests untouched and every fault it
injects looks to a client (retries off) like the real failure would.
"""
import calendar
import contextlib
import email.utils
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import boto3.s3.transfer  # noqa: E402
import botocore.exceptions  # noqa: E402

import faultproxy as fp  # noqa: E402
from common import Suite  # noqa: E402
from faultproxy import Chaos, FaultProxy, Rule  # noqa: E402
from s3env import MotoServer, expected_multipart_etag, payload  # noqa: E402

MiB = 1 << 20
BUCKET = "evidence"
suite = Suite("s3env", timed=True, tracebacks=True)
quirks = []
T0 = time.monotonic()


def code_of(fn):
    """The botocore error code fn() raises (or the exception class name)."""
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"].get("Code")
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return None


def raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError(f"{fn} did not raise")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_dead(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def upload_multipart(s3, key, data, part_size):
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=part_size,
                                           multipart_chunksize=part_size, max_concurrency=1)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, key, Config=cfg)


NO_RETRY = {"retries": {"total_max_attempts": 1}, "connect_timeout": 2, "read_timeout": 2}

# One server with signature checking and one without for the whole run.
AUTH = MotoServer(auth=True)
NOAUTH = MotoServer(auth=False)


@suite.case("moto with auth: IAM key bootstrapped, boto3 put/get/head round trip")
def test_roundtrip():
    assert AUTH.access_key.startswith("AKIA") and AUTH.access_key != "testing", AUTH.access_key
    assert len(AUTH.secret_key) >= 40
    data = payload(100_000, 1)
    AUTH.put(BUCKET, "small/one.bin", data)
    assert AUTH.get(BUCKET, "small/one.bin") == data
    h = AUTH.head(BUCKET, "small/one.bin")
    assert h["ContentLength"] == len(data), h
    assert h["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', h
    assert AUTH.exists(BUCKET, "small/one.bin") and not AUTH.exists(BUCKET, "small/none")
    assert "small/one.bin" in AUTH.list_keys(BUCKET, "small/")


@suite.case("moto with auth: wrong secret -> SignatureDoesNotMatch, unknown key -> InvalidAccessKeyId")
def test_signature_enforced():
    bad = AUTH.s3(secret_key="wrong" + AUTH.secret_key[5:], **NO_RETRY)
    assert code_of(lambda: bad.get_object(Bucket=BUCKET, Key="x")) == "SignatureDoesNotMatch"
    assert code_of(lambda: bad.put_object(Bucket=BUCKET, Key="x", Body=b"x")) == "SignatureDoesNotMatch"
    sts = AUTH.client("sts", secret_key="wrong")
    assert code_of(sts.get_caller_identity) == "SignatureDoesNotMatch"
    assert AUTH.client("sts").get_caller_identity()["Arn"].endswith(":user/forensics-test")
    unknown = AUTH.s3(access_key="AKIAIOSFODNN7EXAMPLE", **NO_RETRY)
    assert code_of(lambda: unknown.list_objects_v2(Bucket=BUCKET)) == "InvalidAccessKeyId"
    # Unsigned requests are refused too.
    req = urllib.request.Request(f"{AUTH.endpoint}/{BUCKET}/small/one.bin")
    e = raises(lambda: urllib.request.urlopen(req, timeout=5))
    assert isinstance(e, urllib.error.HTTPError) and e.code in (403, 500), e


@suite.case("multipart: 3 parts through boto3 give expected_multipart_etag's MD5-of-MD5s-3")
def test_multipart_etag():
    data = payload(11 * MiB + 12345, 2)
    upload_multipart(AUTH.s3(), "mp/three.bin", data, 5 * MiB)
    etag = AUTH.head(BUCKET, "mp/three.bin")["ETag"]
    assert etag == expected_multipart_etag(data, 5 * MiB), etag
    assert etag == expected_multipart_etag(data, [5 * MiB, 5 * MiB, MiB + 12345])
    assert etag.endswith('-3"')
    assert expected_multipart_etag(data, 5 * MiB, quoted=False) == etag.strip('"')
    assert AUTH.get(BUCKET, "mp/three.bin") == data
    # The 5 MiB minimum is enforced (on Complete) for every part but the last.
    s3 = AUTH.s3()
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="mp/small")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=BUCKET, Key="mp/small", UploadId=up,
                                                      PartNumber=n, Body=b"x" * 1024)["ETag"]}
             for n in (1, 2)]
    assert code_of(lambda: s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mp/small", UploadId=up,
        MultipartUpload={"Parts": parts})) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mp/small", UploadId=up)


@suite.case("abort: list_multipart_uploads shows the upload, then is empty after the abort")
def test_abort_leaves_nothing():
    s3 = AUTH.s3()
    assert AUTH.list_multipart_uploads(BUCKET) == []
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="mp/aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="mp/aborted", UploadId=up, PartNumber=1, Body=b"a" * 5 * MiB)
    s3.upload_part(Bucket=BUCKET, Key="mp/aborted", UploadId=up, PartNumber=2, Body=b"b" * 10)
    assert [u["UploadId"] for u in AUTH.list_multipart_uploads(BUCKET)] == [up]
    assert [p["Size"] for p in AUTH.list_parts(BUCKET, "mp/aborted", up)] == [5 * MiB, 10]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mp/aborted", UploadId=up)
    assert AUTH.list_multipart_uploads(BUCKET) == []
    assert not AUTH.exists(BUCKET, "mp/aborted")
    assert code_of(lambda: AUTH.list_parts(BUCKET, "mp/aborted", up)) == "NoSuchUpload"


@suite.case("create_bucket: object_lock=True and versioning=True")
def test_bucket_options():
    s3 = AUTH.s3()
    AUTH.create_bucket("evidence-locked", object_lock=True)
    lock = s3.get_object_lock_configuration(Bucket="evidence-locked")["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled", lock
    assert s3.get_bucket_versioning(Bucket="evidence-locked")["Status"] == "Enabled"
    AUTH.create_bucket("evidence-versioned", versioning=True)
    assert s3.get_bucket_versioning(Bucket="evidence-versioned")["Status"] == "Enabled"
    assert "Status" not in s3.get_bucket_versioning(Bucket=BUCKET)
    v1 = AUTH.put("evidence-versioned", "k", b"one")["VersionId"]
    AUTH.put("evidence-versioned", "k", b"two")
    assert AUTH.get("evidence-versioned", "k", version_id=v1) == b"one"


@suite.case("env(): only this server's credentials reach a child; the aws CLI works with it")
def test_env_and_cli():
    parent = dict(os.environ, AWS_PROFILE="leaked", AWS_SESSION_TOKEN="leaked",
                  AWS_SECURITY_TOKEN="leaked", AWS_ENDPOINT_URL="http://leaked",
                  AWS_ROLE_ARN="leaked", https_proxy="http://leaked:1", HTTP_PROXY="http://leaked:1")
    env = AUTH.env(base=parent)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
              "AWS_ROLE_ARN", "https_proxy", "HTTP_PROXY"):
        assert k not in env, k
    assert env["AWS_ACCESS_KEY_ID"] == AUTH.access_key
    assert env["AWS_SECRET_ACCESS_KEY"] == AUTH.secret_key
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_ENDPOINT_URL_S3"] == AUTH.endpoint
    assert AUTH.env(endpoint="http://127.0.0.1:1")["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:1"
    with tempfile.NamedTemporaryFile() as f:
        data = payload(9 * MiB, 3)  # above the CLI's 8 MiB threshold: a multipart upload
        f.write(data)
        f.flush()
        r = AUTH.run_aws_cli(["s3", "cp", f.name, f"s3://{BUCKET}/cli/upload.bin"])
        assert r.returncode == 0, r.stderr
    assert AUTH.get(BUCKET, "cli/upload.bin") == data
    assert AUTH.head(BUCKET, "cli/upload.bin")["ETag"] == expected_multipart_etag(data, 8 * MiB)
    r = AUTH.run_aws_cli(["s3api", "head-object", "--bucket", BUCKET, "--key", "cli/upload.bin"])
    assert r.returncode == 0 and json.loads(r.stdout)["ContentLength"] == len(data), r


@suite.case("keys and prefixes with reserved characters sign and verify (strict_uri, the default)")
def test_strict_uri():
    odd = ["host-2026-11-28T18:29:12Z.lime", "a+b=c", "case 1/x@y,z;w", "ü/%2F/(x)!*'$&"]
    s3 = AUTH.s3(**NO_RETRY)
    bad = AUTH.s3(secret_key="wrong", **NO_RETRY)
    for key in odd:
        key = "odd/" + key
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        assert AUTH.get(BUCKET, key) == key.encode(), key
        assert code_of(lambda: bad.put_object(Bucket=BUCKET, Key=key, Body=b"x")) \
            == "SignatureDoesNotMatch", key
        assert code_of(lambda: bad.get_object(Bucket=BUCKET, Key=key)) == "SignatureDoesNotMatch"
    assert sorted(AUTH.list_keys(BUCKET, "odd/")) == sorted("odd/" + k for k in odd)
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="odd/case 1/", Delimiter="/")["KeyCount"] == 1
    data = payload(6 * MiB, 4)
    upload_multipart(s3, "odd/" + odd[0], data, 5 * MiB)
    assert AUTH.get(BUCKET, "odd/" + odd[0]) == data
    r = AUTH.run_aws_cli(["s3", "ls", f"s3://{BUCKET}/odd/"])
    assert r.returncode == 0 and "case 1/" in r.stdout, (r.stdout, r.stderr)
    # Stock moto (strict_uri=False) still checks signatures, but trips over these.
    with MotoServer(auth=True, strict_uri=False) as plain:
        plain.create_bucket(BUCKET)
        ps3 = plain.s3(**NO_RETRY)
        ps3.put_object(Bucket=BUCKET, Key="plain/key-1.bin", Body=b"p")
        assert plain.get(BUCKET, "plain/key-1.bin") == b"p"
        assert code_of(lambda: plain.s3(secret_key="wrong", **NO_RETRY).get_object(
            Bucket=BUCKET, Key="plain/key-1.bin")) == "SignatureDoesNotMatch"
        refused = [k for k in odd if code_of(lambda: ps3.put_object(Bucket=BUCKET, Key=k, Body=b"x"))
                   == "SignatureDoesNotMatch"]
        if code_of(lambda: ps3.list_objects_v2(Bucket=BUCKET, Prefix="plain/")) == "SignatureDoesNotMatch":
            refused.append("Prefix=plain/")
        if refused:
            quirks.append(f"stock moto refuses correctly signed requests for {refused!r}")


@suite.case("moto without auth: boto3 presigned PUT and GET URLs (SigV4 and default) work")
def test_presigned():
    for sv in ("s3v4", None):
        s3 = NOAUTH.s3(**({"signature_version": sv} if sv else {}))
        key = f"presigned/{sv}"
        url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key},
                                        ExpiresIn=300)
        if sv:
            assert "X-Amz-Signature=" in url, url
        data = payload(200_000, 5)
        req = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        assert NOAUTH.get(BUCKET, key) == data
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key})
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.read() == data
    # The same on the server with signature checking: moto fails with 500.
    url = AUTH.s3(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "small/one.bin"})
    e = raises(lambda: urllib.request.urlopen(url, timeout=10))
    if getattr(e, "code", None) == 500:
        quirks.append("presigned URLs get HTTP 500 from moto while it checks signatures")


@suite.case("proxy: a signed boto3 multipart upload goes through untouched (auth on)")
def test_proxy_faithful():
    with FaultProxy(AUTH.endpoint) as proxy:
        s3 = AUTH.s3(endpoint=proxy.endpoint, **NO_RETRY)
        data = payload(12 * MiB, 6)
        upload_multipart(s3, "proxy/img.lime", data, 5 * MiB)
        assert AUTH.get(BUCKET, "proxy/img.lime") == data
        assert AUTH.head(BUCKET, "proxy/img.lime")["ETag"] == expected_multipart_etag(data, 5 * MiB)
        recs = proxy.records()
        assert [r.op for r in recs] == ["CreateMultipartUpload", "UploadPart", "UploadPart",
                                        "UploadPart", "CompleteMultipartUpload"], recs
        assert all(r.fault is None and r.status == 200 == r.upstream_status for r in recs), recs
        assert all(r.headers["host"] == proxy.host for r in recs), [r.headers["host"] for r in recs]
        parts = proxy.records(op="UploadPart")
        assert [r.part_number for r in parts] == [1, 2, 3]
        assert len({r.upload_id for r in recs[1:]}) == 1 and recs[1].upload_id
        sizes = [5 * MiB, 5 * MiB, 2 * MiB]
        assert [r.body_len for r in parts] == sizes
        assert [r.body_md5 for r in parts] == [
            hashlib.md5(data[o:o + n]).hexdigest() for o, n in zip((0, 5 * MiB, 10 * MiB), sizes)]
        assert b"<PartNumber>3</PartNumber>" in recs[-1].body, recs[-1].body
        assert b"<UploadId>" in recs[0].response_body
        assert {r.conn for r in recs} == {1} and proxy.connections == 1  # keep-alive kept
        # Ranged and whole downloads come back through it unchanged too.
        got = s3.get_object(Bucket=BUCKET, Key="proxy/img.lime", Range="bytes=100-199")["Body"].read()
        assert got == data[100:200]
        assert s3.get_object(Bucket=BUCKET, Key="proxy/img.lime")["Body"].read() == data


@suite.case("proxy: a child process (the aws CLI) pointed at it through env() retries a 503")
def test_proxy_child():
    with FaultProxy(AUTH.endpoint, [Rule("slowdown", op="UploadPart", nth=2)]) as proxy, \
            tempfile.NamedTemporaryFile() as f:
        data = payload(9 * MiB, 11)
        f.write(data)
        f.flush()
        r = AUTH.run_aws_cli(["s3", "cp", f.name, f"s3://{BUCKET}/proxy/cli.bin"],
                             endpoint=proxy.endpoint)
        assert r.returncode == 0, r.stderr
        assert proxy.faults() == [("UploadPart", "503 SlowDown")], proxy.records()
        assert len(proxy.records(op="UploadPart")) == 3
    assert AUTH.get(BUCKET, "proxy/cli.bin") == data
    assert AUTH.list_multipart_uploads(BUCKET) == []


@suite.case("proxy: raw chunked and Content-Length bodies, Expect: 100-continue, keep-alive")
def test_proxy_raw_http():
    with FaultProxy(NOAUTH.endpoint) as proxy, socket.create_connection(("127.0.0.1", proxy.port)) as s:
        s.settimeout(5)
        f = s.makefile("rb")

        def response():
            status = f.readline()
            headers = {}
            while (line := f.readline()) != b"\r\n":
                k, _, v = line.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            return int(status.split()[1]), headers, f.read(int(headers.get("content-length", 0)))

        host = proxy.host.encode()
        s.sendall(b"PUT /evidence/raw/chunked HTTP/1.1\r\nHost: " + host + b"\r\n"
                  b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        s.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        status, h, _ = response()
        assert status == 200 and h["etag"] == f'"{hashlib.md5(b"hello world").hexdigest()}"', h
        body = payload(3 * MiB, 7)
        s.sendall(b"PUT /evidence/raw/cl HTTP/1.1\r\nHost: " + host + b"\r\n"
                  b"Content-Type: application/octet-stream\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        status, h, _ = response()
        assert status == 200 and "connection" not in h, h
        recs = proxy.records()
        assert [(r.op, r.chunked, r.body_len, r.conn) for r in recs] == [
            ("PutObject", True, 11, 1), ("PutObject", False, len(body), 1)], recs
        assert recs[0].body == b"hello world" and recs[1].body_md5 == hashlib.md5(body).hexdigest()
    assert NOAUTH.get(BUCKET, "raw/chunked") == b"hello world"
    assert NOAUTH.get(BUCKET, "raw/cl") == body


@contextlib.contextmanager
def faulty(*rules, **config):
    """A proxy in front of the auth server with `rules`, and a boto3 client through it."""
    with FaultProxy(AUTH.endpoint, rules) as proxy:
        yield proxy, AUTH.s3(endpoint=proxy.endpoint, **{**NO_RETRY, **config})
        proxy.wait_idle(5)


def put_small(s3, key="faults/k"):
    return s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 1000)


@suite.case("faults: S3 error responses reach boto3 (retries off) with their code and status")
def test_error_faults():
    table = [  # fault, botocore code, HTTP status
        (fp.slowdown(), "SlowDown", 503), (fp.service_unavailable(), "ServiceUnavailable", 503),
        (fp.internal_error(), "InternalError", 500),
        (fp.signature_mismatch(), "SignatureDoesNotMatch", 403),
        (fp.access_denied(), "AccessDenied", 403), (fp.invalid_access_key(), "InvalidAccessKeyId", 403),
        (fp.expired_token(), "ExpiredToken", 400), (fp.no_such_upload(), "NoSuchUpload", 404),
        (fp.error(409, "OperationAborted", "A conflicting operation is in progress."),
         "OperationAborted", 409),
    ]
    for fault, code, status in table:
        with faulty(Rule(fault)) as (proxy, s3):
            e = raises(lambda: put_small(s3, "faults/err"))
            assert isinstance(e, botocore.exceptions.ClientError), (fault, e)
            assert e.response["Error"]["Code"] == code, (fault, e.response)
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == status, (fault, e.response)
            r, = proxy.records()
            assert (r.fault, r.status, r.upstream_status, r.body_len) == (fault.name, status, None, 1000), r
    assert not AUTH.exists(BUCKET, "faults/err")  # nothing was forwarded
    # HEAD errors carry no body: botocore reports the status as the code, as with S3.
    AUTH.put(BUCKET, "faults/h", b"h")
    with faulty(Rule("slowdown", op="HeadObject")) as (proxy, s3):
        assert code_of(lambda: s3.head_object(Bucket=BUCKET, Key="faults/h")) == "503"


@suite.case("faults: RequestTimeTooSkewed carries ServerTime and a Date header of the server's clock")
def test_skew_fault():
    with faulty(Rule(fp.time_skewed(-7200))) as (proxy, s3):
        e = raises(lambda: put_small(s3))
        err = e.response["Error"]
        assert err["Code"] == "RequestTimeTooSkewed", err
        server = calendar.timegm(time.strptime(err["ServerTime"], "%Y-%m-%dT%H:%M:%SZ"))
        assert abs(server - (time.time() - 7200)) < 5, err
        assert err["RequestTime"] == proxy.records()[0].headers["x-amz-date"], err
        date = e.response["ResponseMetadata"]["HTTPHeaders"]["date"]
        assert abs(email.utils.parsedate_to_datetime(date).timestamp() - server) < 2, date


@suite.case("faults: an error at stage head answers before the body (Expect: 100-continue honoured)")
def test_early_error():
    with faulty(Rule("slowdown@head", op="PutObject")) as (proxy, s3):
        e = raises(lambda: s3.put_object(Bucket=BUCKET, Key="faults/early", Body=b"y" * (2 * MiB)))
        assert e.response["Error"]["Code"] == "SlowDown", e.response
        r, = proxy.records()
        assert r.headers.get("expect") == "100-continue" and r.body_len is None, r
        put_small(s3, "faults/after-early")  # a new connection works
        assert proxy.connections == 2
    assert not AUTH.exists(BUCKET, "faults/early")


@suite.case("faults: reset/close at head, mid-body, upstream -> botocore ConnectionClosedError")
def test_connection_faults():
    for spec, forwarded in (("reset@head", False), ("reset@mid-body", False),
                            ("reset@upstream", True), ("close@head", False),
                            ("close@upstream", True)):
        key = f"faults/{spec.replace('@', '-')}"
        with faulty(Rule(spec)) as (proxy, s3):
            e = raises(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"z" * 4096))
            assert isinstance(e, botocore.exceptions.ConnectionClosedError), (spec, repr(e))
            r, = proxy.records()
            assert r.fault == spec and r.status is None, r
            assert r.body_len == {"head": None, "mid-body": 2048, "upstream": 4096}[r.stage], r
        # "upstream": moto acted on it, the client only lost the answer.
        assert AUTH.exists(BUCKET, key) == forwarded, spec
    # A download cut halfway through its body.
    AUTH.put(BUCKET, "faults/big", payload(2 * MiB, 8))
    with faulty(Rule("reset@mid-response", op="GetObject")) as (proxy, s3):
        body = s3.get_object(Bucket=BUCKET, Key="faults/big")["Body"]
        e = raises(body.read)
        assert isinstance(e, botocore.exceptions.ResponseStreamingError), repr(e)


@suite.case("faults: stall -> ReadTimeoutError at the client's timeout; timed stall just delays")
def test_stall_faults():
    with faulty(Rule("stall"), read_timeout=1) as (proxy, s3):
        t = time.monotonic()
        e = raises(lambda: put_small(s3, "faults/stalled"))
        took = time.monotonic() - t
        assert isinstance(e, botocore.exceptions.ReadTimeoutError), repr(e)
        assert 0.9 < took < 3, took
        proxy.wait_idle(3)
        r, = proxy.records()
        assert r.fault == "stall@body" and r.status is None and "during the stall" in r.error, r
    assert not AUTH.exists(BUCKET, "faults/stalled")
    with faulty(Rule(fp.stall(0.6, stage="upstream")), read_timeout=3) as (proxy, s3):
        t = time.monotonic()
        put_small(s3, "faults/late")
        assert time.monotonic() - t >= 0.6
        assert proxy.records()[0].status == 200
    AUTH.put(BUCKET, "faults/big", payload(2 * MiB, 8))
    with faulty(Rule("stall@mid-response", op="GetObject"), read_timeout=1) as (proxy, s3):
        body = s3.get_object(Bucket=BUCKET, Key="faults/big")["Body"]
        e = raises(body.read)
        assert "timeout" in repr(e).lower(), repr(e)


@suite.case("faults: CompleteMultipartUpload 200 with <Error>: boto3 raises InternalError (500)")
def test_complete_200_error():
    data = payload(6 * MiB, 9)
    for stage, completed in (("body", False), ("upstream", True)):
        key = f"faults/complete-{stage}"
        s3 = AUTH.s3()
        up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=up, PartNumber=n, Body=chunk)["ETag"]}
            for n, chunk in ((1, data[:5 * MiB]), (2, data[5 * MiB:]))]
        with faulty(Rule(fp.complete_error(stage=stage), op="CompleteMultipartUpload")) as (proxy, ps3):
            def complete():
                return ps3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up,
                                                     MultipartUpload={"Parts": parts})
            e = raises(complete)
            # botocore turns a 200 whose body is an <Error> into that error with status 500.
            assert isinstance(e, botocore.exceptions.ClientError), repr(e)
            assert e.response["Error"]["Code"] == "InternalError", e.response
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 500, e.response
            r, = proxy.records()
            assert r.status == 200 and r.op == "CompleteMultipartUpload", r
            assert AUTH.exists(BUCKET, key) == completed, stage
            # Retrying the Complete succeeds either way (moto accepts a repeat, as S3 does).
            assert complete()["ETag"] == expected_multipart_etag(data, 5 * MiB)
        assert AUTH.get(BUCKET, key) == data
        assert AUTH.list_multipart_uploads(BUCKET) == []


@suite.case("rules: op/query/nth/count/every/budget select the right requests; retries recover")
def test_rule_selection():
    rules = [Rule("slowdown", op="UploadPart", query={"partNumber": "2"}),
             Rule("reset@mid-body", op="UploadPart", query={"partNumber": 3}, count=2),
             Rule("internal@upstream", op="CompleteMultipartUpload")]
    data = payload(16 * MiB, 10)
    with faulty(*rules, retries={"mode": "standard", "total_max_attempts": 4}) as (proxy, s3):
        upload_multipart(s3, "rules/img", data, 5 * MiB)
        seen = [(r.op, r.part_number, r.fault) for r in proxy.records()]
    assert seen == [
        ("CreateMultipartUpload", None, None),
        ("UploadPart", 1, None),
        ("UploadPart", 2, "503 SlowDown"), ("UploadPart", 2, None),
        ("UploadPart", 3, "reset@mid-body"), ("UploadPart", 3, "reset@mid-body"),
        ("UploadPart", 3, None), ("UploadPart", 4, None),
        ("CompleteMultipartUpload", None, "500 InternalError@upstream"),
        ("CompleteMultipartUpload", None, None)], seen
    assert [(r.matched, r.applied) for r in rules] == [(2, 1), (3, 2), (2, 1)]
    assert AUTH.get(BUCKET, "rules/img") == data
    assert AUTH.list_multipart_uploads(BUCKET) == []
    # every / budget / a set of match numbers / when=, without any network.
    rec = fp.Record(1, 1, "PUT", "/evidence/k", [("Host", "h")])
    every = Rule("slowdown", every=3, budget=2)
    nths = Rule("slowdown", nth={1, 4})
    when = Rule("slowdown", when=lambda r: r.path.endswith("/k"), count=None)
    picks = {id(r): [] for r in (every, nths, when)}
    for _ in range(10):
        for r in (every, nths, when):
            r.matched += 1
            ok = r.matches(rec) and r.selects(r.matched)
            r.applied += ok
            picks[id(r)].append(ok)
    assert [i + 1 for i, x in enumerate(picks[id(every)]) if x] == [3, 6]
    assert [i + 1 for i, x in enumerate(picks[id(nths)]) if x] == [1, 4]
    assert all(picks[id(when)])
    assert not Rule("slowdown", op="UploadPart").matches(rec)
    assert not Rule("slowdown", method="GET").matches(rec)


@suite.case("chaos: seeded random faults repeat, stay within budget, and retried puts land intact")
def test_chaos():
    faults = ["slowdown", "internal", "reset@head", "reset@mid-body", "close@upstream",
              "internal@upstream"]
    rec = fp.Record(1, 1, "PUT", "/evidence/k", [])

    def draw(seed):
        c = Chaos(faults, seed=seed, probability=0.3, budget=5)
        out = []
        for _ in range(40):
            c.matched += 1
            f = c.pick(rec) if c.selects(c.matched) else None
            c.applied += f is not None
            out.append(f and f.name)
        return out
    assert draw(7) == draw(7) and draw(7) != draw(8)
    assert sum(1 for f in draw(7) if f) == 5
    chaos = Chaos(faults, seed=11, probability=0.35, budget=8, op="PutObject")
    blobs = {f"chaos/{i}": payload(1000 + i, 100 + i) for i in range(30)}
    with faulty(chaos, retries={"mode": "standard", "total_max_attempts": 10}) as (proxy, s3):
        for key, blob in blobs.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=blob)
        applied = proxy.faults()
    assert 3 <= len(applied) <= 8 and chaos.applied == len(applied), applied
    assert {f for _, f in applied} <= {fp.parse_fault(f).name for f in faults}, applied
    for key, blob in blobs.items():
        assert AUTH.get(BUCKET, key) == blob, key


@suite.case("standalone proxy: JSON rules, JSON-lines log, endpoint line, exits on SIGTERM")
def test_cli():
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules.json")
        log = os.path.join(d, "requests.jsonl")
        with open(rules, "w") as f:
            json.dump([{"op": "PutObject", "nth": 2, "fault": "slowdown"},
                       {"chaos": {"seed": 1, "probability": 0.0, "faults": ["reset"]}}], f)
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py"), "--upstream",
                              AUTH.endpoint, "--rules", rules, "--log", log],
                             stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            assert line.startswith("endpoint http://127.0.0.1:"), line
            s3 = AUTH.s3(endpoint=line.split()[1], **NO_RETRY)
            codes = [code_of(lambda: put_small(s3, f"cli/{i}")) for i in range(3)]
            assert codes == [None, "SlowDown", None], codes
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(10) == 0
        with open(log) as f:
            entries = [json.loads(x) for x in f]
        assert [(e["op"], e["fault"], e["status"]) for e in entries] == [
            ("PutObject", None, 200), ("PutObject", "503 SlowDown", 503),
            ("PutObject", None, 200)], entries


CHILD = r"""
import sys, time
sys.path.insert(0, %r)
from s3env import MotoServer
with MotoServer(auth=False) as m:
    print(m.pid, m.log_path, flush=True)
    time.sleep(60)
"""


@suite.case("teardown: server killed on exception (log tail printed), SIGTERM, SIGKILL of the parent")
def test_teardown():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            with MotoServer(auth=False) as m:
                pid, log = m.pid, m.log_path
                raise KeyError("boom")
        except KeyError:
            pass
    assert not alive(pid), pid
    assert "last lines of the moto log" in err.getvalue() and "Running on" in err.getvalue()
    assert os.path.exists(log)  # kept after a failure
    os.remove(log)
    os.rmdir(os.path.dirname(log))
    # The test process itself is terminated, or killed outright.
    infos = []
    children = [subprocess.Popen([sys.executable, "-c", CHILD % HERE], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    try:
        infos += [c.stdout.readline().split() for c in children]
        pids = [int(i[0]) for i in infos]
        assert all(alive(p) for p in pids)
        children[0].send_signal(signal.SIGTERM)
        children[1].kill()
        assert children[0].wait(10) == 128 + signal.SIGTERM
        children[1].wait(10)
        assert wait_dead(pids[0], 10), "moto survived SIGTERM of its parent"
        assert wait_dead(pids[1], 10), "moto survived SIGKILL of its parent"
        assert os.path.exists(infos[0][1])  # ended by a signal: the log is kept
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()
        for i in infos:
            # the SIGKILLed parent could not clean up its log dir
            d = os.path.dirname(i[1])
            for f in (i[1],):
                with contextlib.suppress(OSError):
                    os.remove(f)
            with contextlib.suppress(OSError):
                os.rmdir(d)


def main():
    failed_start = None
    try:
        AUTH.start()
        NOAUTH.start()
        AUTH.create_bucket(BUCKET)
        NOAUTH.create_bucket(BUCKET)
        print(f"moto up: auth {AUTH.endpoint}, no auth {NOAUTH.endpoint} "
              f"({time.monotonic() - T0:.1f}s)", flush=True)
    except Exception as e:  # noqa: BLE001
        failed_start = e
        suite.fail("start moto", e)
    try:
        if not failed_start:
            suite.run_all()
    finally:
        failed = suite.failed
        for s in (AUTH, NOAUTH):
            if failed and s.log_path:
                print(f"--- last lines of {s.log_path}:\n{s.log_tail(15)}")
            s.stop(keep_log=bool(failed))
    for q in quirks:
        print(f"moto quirk seen: {q}")
    print(f"total {time.monotonic() - T0:.1f}s")
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
