#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""forensics-agent upload against moto's S3 with signature checking on.

Every object is downloaded with boto3 and compared byte for byte; multipart
ETags are checked as MD5-of-MD5s-N; after each failure the bucket must hold
no object and no unfinished multipart upload. Faults come from a proxy
between the agent and moto (503/500, resets mid-body, stalls, 200-with-error
on Complete, clock skew, expired token, denial).
"""
import datetime
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import botocore.exceptions

from common import AGENT, Suite, log_records as records, one_error
from faultproxy import FaultProxy, Rule
from imds_fake import FakeIMDS
from s3env import MotoServer, expected_multipart_etag, payload

MIB = 1 << 20
PART = 5 * MIB
BUCKET = "evidence"

suite = Suite("upload")
case = suite.run
tmp = tempfile.mkdtemp(prefix="upload-test.")


def write_source(size, seed):
    data = payload(size, seed=seed)
    path = os.path.join(tmp, f"src-{size}-{seed}")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def upload(env, src, key, *extra, timeout=300, bucket=BUCKET):
    args = [AGENT, "upload", "--path-style", "--log-format", "json", "--part-size", str(PART),
            *extra, src, f"s3://{bucket}/{key}"]
    return subprocess.run(args, env=env, capture_output=True, timeout=timeout)


def assert_uploaded(s3, key, data, p):
    assert p.returncode == 0, p.stderr.decode()[-600:]
    got = s3.get(BUCKET, key)
    assert got == data, f"{key}: downloaded {len(got)} bytes differ from {len(data)} sent"
    etag = s3.head(BUCKET, key)["ETag"].strip('"')
    if len(data) >= PART:
        assert etag == expected_multipart_etag(data, PART).strip('"'), etag
    else:
        assert etag == hashlib.md5(data).hexdigest(), etag
    done = [r for r in records(p.stderr) if r["event"] == "uploaded"][0]
    assert done["sha256_stored"] == hashlib.sha256(data).hexdigest()
    assert done["bytes_stored"] == len(data)
    assert s3.list_multipart_uploads(BUCKET) == []


def assert_nothing_left(s3, key):
    assert not s3.exists(BUCKET, key), f"{key} exists after a failed upload"
    assert s3.list_multipart_uploads(BUCKET) == [], "orphaned multipart upload"


def main():
    with MotoServer(auth=True) as s3:
        s3.create_bucket(BUCKET)
        env = s3.env()

        for size in (0, 1, PART - 1, PART, PART + 1, 200 * MIB):
            def sized(size=size):
                src, data = write_source(size, seed=size)
                key = f"sizes/{size}.bin"
                assert_uploaded(s3, key, data, upload(env, src, key))
            case(f"size {size}: downloaded bytes and ETag match", sized)

        def from_stdin_with_zstd():
            src, data = write_source(12 * MIB, seed=7)
            key = "stdin/disk.raw.zst"
            p = subprocess.run([AGENT, "upload", "--path-style", "--log-format", "json",
                                "--zstd", "-", f"s3://{BUCKET}/{key}"], input=data, env=env,
                               capture_output=True, timeout=120)
            assert p.returncode == 0, p.stderr.decode()
            stored = s3.get(BUCKET, key)
            plain = subprocess.run(["zstd", "-dc"], input=stored, capture_output=True,
                                   check=True).stdout
            assert plain == data
            done = [r for r in records(p.stderr) if r["event"] == "uploaded"][0]
            assert done["sha256_read"] == hashlib.sha256(data).hexdigest()
            assert done["sha256_stored"] == hashlib.sha256(stored).hexdigest()
            # A pipe has no size up front; both digests are tagged at the end.
            assert "uncompressed-size" not in s3.head(BUCKET, key)["Metadata"]
            assert s3.tags(BUCKET, key) == {"sha256": hashlib.sha256(data).hexdigest(),
                                            "object-sha256": hashlib.sha256(stored).hexdigest()}
        case("stdin, zstd on the way: both hashes and the bytes check out", from_stdin_with_zstd)

        def headers_and_metadata():
            src, data = write_source(PART + 3, seed=11)
            key = "headers/img.lime"
            p = upload(env, src, key, "--metadata", "case-id=IR-42", "--metadata",
                       "instance-id=i-0123", "--sse", "AES256")
            assert_uploaded(s3, key, data, p)
            head = s3.head(BUCKET, key)
            assert head["Metadata"] == {"case-id": "IR-42", "instance-id": "i-0123",
                                        "uncompressed-size": str(len(data))}, head
            assert head.get("ServerSideEncryption") == "AES256", head
            assert s3.tags(BUCKET, key) == {"sha256": hashlib.sha256(data).hexdigest()}
        case("metadata (with the input's size), encryption and digest tags reach the object",
             headers_and_metadata)

        def object_lock():
            # A lock-enabled (hence versioned) bucket. moto applies retention
            # to a single PUT but drops it from CreateMultipartUpload, so the
            # multipart headers are checked on the wire, through the proxy.
            locked = s3.create_bucket("forensics-locked", object_lock=True)
            until = (datetime.datetime.now(datetime.timezone.utc) +
                     datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
            for size, key in ((PART - 1, "lock/small"), (2 * PART + 5, "lock/multi")):
                src, data = write_source(size, seed=size & 0xff)
                with FaultProxy(s3.endpoint, []) as proxy:
                    p = upload(s3.env(endpoint=proxy.endpoint), src, key,
                               "--object-lock-mode", "GOVERNANCE",
                               "--object-lock-retain-until", until, bucket=locked)
                    creates = proxy.records(op=("PutObject", "CreateMultipartUpload"))
                assert p.returncode == 0, p.stderr.decode()[-600:]
                assert len(creates) == 1, [r.op for r in creates]
                sent = creates[0].headers
                assert sent.get("x-amz-object-lock-mode") == "GOVERNANCE", sent
                assert sent.get("x-amz-object-lock-retain-until-date") == until, sent
                done = [r for r in records(p.stderr) if r["event"] == "uploaded"][0]
                version = done["version_id"]
                assert version and version != "null", done
                assert s3.get(locked, key, version_id=version) == data
                assert s3.tags(locked, key, version_id=version) == \
                    {"sha256": hashlib.sha256(data).hexdigest()}
                if creates[0].op == "PutObject":
                    head = s3.head(locked, key, version_id=version)
                    assert head.get("ObjectLockMode") == "GOVERNANCE", head
                    assert head["ObjectLockRetainUntilDate"].strftime(
                        "%Y-%m-%dT%H:%M:%SZ") == until, head
                    try:
                        s3.s3().delete_object(Bucket=locked, Key=key, VersionId=version)
                        raise AssertionError("a locked version was deleted")
                    except botocore.exceptions.ClientError as e:
                        assert e.response["Error"]["Code"] == "AccessDenied", e.response
        case("Object Lock: retained versions, single PUT and multipart, tagged by version",
             object_lock)

        def wrong_secret():
            src, _ = write_source(PART + 1, seed=3)
            bad = dict(env, AWS_SECRET_ACCESS_KEY="not-the-secret")
            p = upload(bad, src, "denied/img.bin")
            one_error(p, 12, "SignatureDoesNotMatch")
            assert_nothing_left(s3, "denied/img.bin")
        case("wrong secret: SignatureDoesNotMatch, exit 12, at once", wrong_secret)

        def no_credentials():
            src, _ = write_source(10, seed=4)
            bare = {k: v for k, v in env.items() if not k.startswith("AWS_ACCESS_KEY_ID")}
            p = upload(bare, src, "nocreds/x")
            one_error(p, 10)
        case("no credentials: exit 10", no_credentials)

        def bad_uri():
            src, _ = write_source(10, seed=5)
            for uri in ("s3://", "http://x/y", "s3://Bad_Bucket/k", "s3://evidence"):
                p = subprocess.run([AGENT, "upload", "--log-format", "json", src, uri], env=env,
                                   capture_output=True, timeout=30)
                one_error(p, 2)
        case("malformed S3 URIs: exit 2", bad_uri)

        def unreachable():
            src, _ = write_source(10, seed=6)
            dead = dict(env, AWS_ENDPOINT_URL_S3="http://127.0.0.1:9")
            t = time.monotonic()
            p = upload(dead, src, "dead/x", "--max-attempts", "3")
            one_error(p, 11, "transport")
            assert time.monotonic() - t < 30
        case("unreachable endpoint: bounded retries, exit 11", unreachable)

        faults = [
            ("503 SlowDown on part 2", [Rule("slowdown", op="UploadPart", query={"partNumber": "2"})]),
            ("500 on part 3, twice", [Rule("internal", op="UploadPart", query={"partNumber": "3"},
                                           count=2)]),
            ("reset mid-body on part 1", [Rule("reset@mid-body", op="UploadPart",
                                               query={"partNumber": "1"})]),
            ("stall on part 2", [Rule("stall", op="UploadPart", query={"partNumber": "2"})]),
            ("200 with <Error> on Complete", [Rule("complete-error",
                                                   op="CompleteMultipartUpload")]),
            ("503 on CreateMultipartUpload", [Rule("slowdown", op="CreateMultipartUpload")]),
            ("clock skewed by an hour", [Rule("skew", op="UploadPart",
                                              query={"partNumber": "1"})]),
        ]
        for name, rules in faults:
            def faulty(rules=rules, name=name):
                src, data = write_source(3 * PART + 12345, seed=len(name))
                key = "faults/" + name.replace(" ", "-").replace("<", "").replace(">", "")
                with FaultProxy(s3.endpoint, rules) as proxy:
                    p = upload(s3.env(endpoint=proxy.endpoint), src, key, "--stall-timeout", "2")
                    applied = [r for r in proxy.records() if r.fault]
                assert applied, "the fault never fired"
                assert_uploaded(s3, key, data, p)
            case(f"fault, then a correct object: {name}", faulty)

        def expired_token_refreshes():
            # Instance-role credentials (temporary ones from moto's STS): after
            # ExpiredToken the agent asks IMDS again and gets a new session.
            iam, sts = s3.client("iam"), s3.client("sts")
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
            role = iam.create_role(RoleName="forensics-role",
                                   AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            iam.put_role_policy(RoleName="forensics-role", PolicyName="upload",
                                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                                    "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            src, data = write_source(3 * PART + 7, seed=31)
            key = "faults/expired-token"
            rules = [Rule("expired-token", op="UploadPart", query={"partNumber": "2"})]
            keyless = {k: v for k, v in s3.env().items()
                       if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
            with FakeIMDS(issue=lambda: sts.assume_role(
                    RoleArn=role, RoleSessionName="capture")["Credentials"]) as imds, \
                    FaultProxy(s3.endpoint, rules) as proxy:
                role_env = dict(imds.env(keyless), AWS_ENDPOINT_URL_S3=proxy.endpoint)
                p = upload(role_env, src, key)
                tokens = {r.headers.get("x-amz-security-token")
                          for r in proxy.records(op="UploadPart")}
            assert_uploaded(s3, key, data, p)
            assert imds.cred_requests >= 2, imds.cred_requests
            assert len(tokens) >= 2, tokens
        case("ExpiredToken: instance-role credentials refreshed, object correct",
             expired_token_refreshes)

        refusals = [
            ("ExpiredToken with keys that cannot be refreshed: fail, abort",
             "expired-token", 32, "faults/expired-static", 11, ("refused", "ExpiredToken")),
            ("AccessDenied on a part: no retry, upload aborted, exit 12",
             "denied", 21, "faults/denied", 12, ("AccessDenied", "aborted")),
        ]
        for name, fault, seed, key, code, words in refusals:
            def refused_part_aborts(fault=fault, seed=seed, key=key, code=code, words=words):
                src, _ = write_source(3 * PART, seed=seed)
                rules = [Rule(fault, op="UploadPart", query={"partNumber": "2"}, count=None)]
                with FaultProxy(s3.endpoint, rules) as proxy:
                    p = upload(s3.env(endpoint=proxy.endpoint), src, key)
                    aborts = proxy.records(op="AbortMultipartUpload")
                one_error(p, code, *words)
                assert aborts, "no AbortMultipartUpload"
                assert_nothing_left(s3, key)
            case(name, refused_part_aborts)

        def persistent_503_aborts():
            src, _ = write_source(2 * PART, seed=22)
            key = "faults/persistent"
            rules = [Rule("slowdown", op="UploadPart", query={"partNumber": "1"}, count=None)]
            with FaultProxy(s3.endpoint, rules) as proxy:
                p = upload(s3.env(endpoint=proxy.endpoint), src, key, "--max-attempts", "3")
                tries = len(proxy.records(op="UploadPart", fault=...))
            one_error(p, 11, "failed 3 times")
            assert_nothing_left(s3, key)
            assert tries <= 3 + 2, tries  # part 1 three times, part 2 at most in flight
        case("SlowDown forever: 3 attempts, then abort, exit 11", persistent_503_aborts)

        def sigterm_aborts():
            src, _ = write_source(40 * MIB, seed=23)
            key = "faults/sigterm"
            rules = [Rule("stall:3", op="UploadPart", count=None)]
            with FaultProxy(s3.endpoint, rules) as proxy:
                proc = subprocess.Popen([AGENT, "upload", "--path-style", "--log-format", "json",
                                         src, f"s3://{BUCKET}/{key}"],
                                        env=s3.env(endpoint=proxy.endpoint),
                                        stderr=subprocess.PIPE)
                deadline = time.monotonic() + 20
                while not proxy.records(op="UploadPart") and time.monotonic() < deadline:
                    time.sleep(0.1)
                proc.send_signal(signal.SIGTERM)
                err = proc.stderr.read()
                rc = proc.wait(timeout=60)
            assert rc == 5, (rc, err.decode()[-400:])
            assert_nothing_left(s3, key)
        case("SIGTERM mid-upload: exit 5, upload aborted", sigterm_aborts)

        def write_once():
            for size, key in ((PART - 1, "once/small"), (2 * PART + 3, "once/multi")):
                src, data = write_source(size, seed=61)
                other, newer = write_source(size, seed=62)
                assert_uploaded(s3, key, data, upload(env, src, key))
                with FaultProxy(s3.endpoint, []) as proxy:
                    p = upload(s3.env(endpoint=proxy.endpoint), other, key)
                    writes = proxy.records(op=("PutObject", "CompleteMultipartUpload"))
                one_error(p, 4, key, "never overwritten", "--overwrite")
                assert all(r.headers.get("if-none-match") == "*" for r in writes), writes
                assert writes and writes[-1].status == 412, [(r.op, r.status) for r in writes]
                assert s3.get(BUCKET, key) == data, "evidence was replaced"
                assert s3.list_multipart_uploads(BUCKET) == []
                assert_uploaded(s3, key, newer, upload(env, other, key, "--overwrite"))
        case("write-once: an existing object is kept, exit 4 naming the key; "
             "--overwrite replaces it", write_once)

        lost = [
            ("PutObject applied, its reply lost once: the resend's 412 is our own object",
             PART - 1, [Rule("reset@upstream", op="PutObject")]),
            ("PutObject applied, every reply lost: HEAD finds our object",
             PART - 1, [Rule("close@upstream", op="PutObject", count=None)]),
            ("Complete applied, every reply lost: HEAD finds our object",
             2 * PART + 9, [Rule("reset@upstream", op="CompleteMultipartUpload", count=None)]),
            ("BadDigest on part 2, twice: the part is sent again",
             3 * PART, [Rule("bad-digest", op="UploadPart", query={"partNumber": "2"},
                             count=2)]),
            ("XAmzContentSHA256Mismatch on a single PutObject: sent again",
             1000, [Rule("sha256-mismatch", op="PutObject")]),
        ]
        for name, size, rules in lost:
            def settled(size=size, rules=rules, name=name):
                src, data = write_source(size, seed=len(name))
                key = "lost/" + name.split(":")[0].replace(" ", "-").replace(",", "")
                with FaultProxy(s3.endpoint, rules) as proxy:
                    p = upload(s3.env(endpoint=proxy.endpoint), src, key)
                    heads = proxy.records(op="HeadObject")
                    applied = proxy.records(fault=True)
                assert applied, "the fault never fired"
                assert_uploaded(s3, key, data, p)
                if "reply" in name:
                    assert heads and heads[-1].headers.get("x-amz-checksum-mode") == "ENABLED"
            case(name, settled)

        def abort_fails():
            src, _ = write_source(3 * PART, seed=71)
            key = "faults/abort-fails"
            rules = [Rule("denied", op="UploadPart", query={"partNumber": "2"}, count=None),
                     Rule("internal", op="AbortMultipartUpload", count=None)]
            with FaultProxy(s3.endpoint, rules) as proxy:
                p = upload(s3.env(endpoint=proxy.endpoint), src, key, "--max-attempts", "2")
            left = s3.list_multipart_uploads(BUCKET)
            assert len(left) == 1, left
            upload_id = left[0]["UploadId"] if isinstance(left[0], dict) else left[0]
            msg = one_error(p, 12, "AccessDenied", "left in progress", "lifecycle")["msg"]
            assert "aborted" not in msg, msg
            assert upload_id in msg, (upload_id, msg)
            s3.s3().abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
            # The abort applied, its reply lost: the resend's NoSuchUpload means gone.
            rules = [Rule("denied", op="UploadPart", query={"partNumber": "2"}, count=None),
                     Rule("reset@upstream", op="AbortMultipartUpload")]
            with FaultProxy(s3.endpoint, rules) as proxy:
                p = upload(s3.env(endpoint=proxy.endpoint), src, key)
            one_error(p, 12, "nothing is stored", "aborted")
            assert_nothing_left(s3, key)
        case("abort fails: the message names the upload left in progress and the lifecycle "
             "rule, never 'aborted'; abort applied with its reply lost: nothing left",
             abort_fails)

        def silent_endpoint_sigterm():
            # Accepts, never answers, default options: SIGTERM ends it at once.
            src, _ = write_source(2 * PART, seed=72)
            key = "faults/silent"
            for after in (1.0, 4.0):
                with FaultProxy(s3.endpoint, [Rule("stall", count=None)]) as proxy:
                    proc = subprocess.Popen([AGENT, "upload", "--path-style", "--log-format",
                                             "json", src, f"s3://{BUCKET}/{key}"],
                                            env=s3.env(endpoint=proxy.endpoint),
                                            stderr=subprocess.PIPE)
                    time.sleep(after)
                    proc.send_signal(signal.SIGTERM)
                    t = time.monotonic()
                    err = proc.stderr.read()
                    rc = proc.wait(timeout=60)
                    took = time.monotonic() - t
                p = subprocess.CompletedProcess(proc.args, rc, b"", err)
                msg = one_error(p, 5, "signal", key)["msg"]
                assert took < 8, f"{took:.1f}s after SIGTERM"
                assert "aborted" not in msg or "nothing is stored" in msg, msg
            assert_nothing_left(s3, key)
        case("an endpoint that never answers: SIGTERM ends upload within seconds, exit 5, "
             "the message says what the bucket holds", silent_endpoint_sigterm)

        def acquire_into_bucket():
            # The whole capture pipeline with S3 as the destination: image,
            # manifest and bundle land as objects, nothing on local disk.
            mem, memory = write_source(24 * MIB, seed=41)
            iomem = os.path.join(tmp, "iomem")
            with open(iomem, "w") as f:
                f.write("00001000-0009fbff : System RAM\n00100000-017fffff : System RAM\n")
            p = subprocess.run([AGENT, "acquire", "--source", "file", "--source-path", mem,
                                "--iomem", iomem, "--log-format", "json", "--case", "IR-7",
                                "--path-style", "--output", f"s3://{BUCKET}/cases/IR-7/"],
                               env=env, capture_output=True, timeout=120, cwd=tmp)
            assert p.returncode == 0, p.stderr.decode()[-600:]
            logged = [r for r in records(p.stderr) if r["event"] == "manifest"][0]["manifest"]
            image = logged["image"]
            key = image["s3"]["key"]
            assert key.startswith("cases/IR-7/") and key.endswith(".lime.zst"), key
            stored = s3.get(BUCKET, key)
            assert hashlib.sha256(stored).hexdigest() == image["sha256_compressed"]
            lime = subprocess.run(["zstd", "-dc"], input=stored, capture_output=True,
                                  check=True).stdout
            assert hashlib.sha256(lime).hexdigest() == image["sha256_uncompressed"]
            # Second range starts at 1 MiB: its bytes are the file's from there.
            second = lime.index(bytes.fromhex("454d694c"), 32 + 0x9EC00)
            assert lime[second + 32:] == memory[0x100000:0x1800000]
            head = s3.head(BUCKET, key)
            assert head["ETag"] == image["s3"]["etag"], (head["ETag"], image["s3"])
            assert head["Metadata"].get("case-id") == "IR-7", head["Metadata"]
            # The LiME stream's size is known at creation; its digests come as tags.
            assert head["Metadata"].get("uncompressed-size") == str(len(lime)), head["Metadata"]
            assert s3.tags(BUCKET, key) == {"sha256": image["sha256_uncompressed"],
                                            "object-sha256": image["sha256_compressed"]}
            assert image["s3"]["tagged"] is True
            manifest = json.loads(s3.get(BUCKET, key + ".manifest.json"))
            assert manifest["image"]["sha256_uncompressed"] == image["sha256_uncompressed"]
            assert manifest["image"]["s3"]["etag"] == image["s3"]["etag"]
            bundle = manifest["bundle"]
            assert hashlib.sha256(s3.get(BUCKET, bundle["s3"]["key"])).hexdigest() == \
                bundle["sha256"]
            assert s3.tags(BUCKET, bundle["s3"]["key"]) == {"sha256": bundle["sha256"]}
            assert os.listdir(tmp) == [n for n in os.listdir(tmp) if n.startswith(("src-", "iomem"))]
            assert s3.list_multipart_uploads(BUCKET) == []
            captured.append((key, stored))
            # Evidence already in the bucket is never replaced.
            again = subprocess.run([AGENT, "acquire", "--source", "file", "--source-path", mem,
                                    "--iomem", iomem, "--log-format", "json", "--path-style",
                                    "--output", f"s3://{BUCKET}/{key}"],
                                   env=env, capture_output=True, timeout=60)
            one_error(again, 4, "never overwritten")
            assert s3.get(BUCKET, key) == stored
        captured = []
        case("acquire --output s3://: image, manifest and bundle as objects", acquire_into_bucket)

        def verify_in_bucket():
            key, stored = captured[0]
            uri = f"s3://{BUCKET}/{key}"
            p = subprocess.run([AGENT, "verify", "--path-style", "--json", uri], env=env,
                               capture_output=True, timeout=120)
            assert p.returncode == 0, p.stderr.decode()[-600:]
            report = json.loads(p.stdout)
            assert report["manifest"], report
            # A flipped byte in a copy, checked against the original's manifest.
            bad = bytearray(stored)
            bad[len(bad) // 2] ^= 0x40
            s3.put(BUCKET, "tampered/image.lime.zst", bytes(bad))
            p = subprocess.run([AGENT, "verify", "--path-style", "--log-format", "json",
                                "--manifest", uri + ".manifest.json",
                                f"s3://{BUCKET}/tampered/image.lime.zst"], env=env,
                               capture_output=True, timeout=120)
            assert p.returncode in (6, 7), (p.returncode, p.stderr.decode()[-400:])
            p = subprocess.run([AGENT, "verify", "--path-style", "--log-format", "json",
                                f"s3://{BUCKET}/no/such/object"], env=env,
                               capture_output=True, timeout=60)
            one_error(p, 8, "no such object")
        case("verify s3://: ranged GETs streamed through the checks; tampering caught",
             verify_in_bucket)

    # Presigned URLs fail under moto's signature checking: a server without it.
    with MotoServer(auth=False) as s3:
        s3.create_bucket(BUCKET)
        env = s3.env()
        bare = {k: v for k, v in env.items()
                if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}

        def presign(key, parts):
            p = subprocess.run([AGENT, "presign", "--path-style", "--log-format", "json",
                                "--parts", str(parts), "--part-size", str(PART),
                                "--metadata", "case-id=IR-9", f"s3://{BUCKET}/{key}"],
                               env=env, capture_output=True, timeout=60)
            assert p.returncode == 0, p.stderr.decode()
            path = os.path.join(tmp, key.replace("/", "_") + ".ticket")
            with open(path, "wb") as f:
                f.write(p.stdout)
            return path

        def ticket_upload():
            src, data = write_source(2 * PART + 99, seed=51)
            ticket = presign("ticket/img", 4)
            p = upload(bare, src, "ticket/img", "--ticket", ticket)
            assert_uploaded(s3, "ticket/img", data, p)
            assert s3.head(BUCKET, "ticket/img")["Metadata"] == {"case-id": "IR-9"}
        case("upload --ticket: presigned URLs only, no credentials on the host", ticket_upload)

        def ticket_empty_input():
            src, data = write_source(0, seed=54)
            ticket = presign("ticket/empty", 1)
            p = upload(bare, src, "ticket/empty", "--ticket", ticket)
            assert p.returncode == 0, p.stderr.decode()[-600:]
            assert s3.get(BUCKET, "ticket/empty") == data == b""
            head = s3.head(BUCKET, "ticket/empty")
            one_empty_part = hashlib.md5(hashlib.md5(b"").digest()).hexdigest() + "-1"
            assert head["ContentLength"] == 0 and head["ETag"].strip('"') == one_empty_part, head
            assert s3.list_multipart_uploads(BUCKET) == []
        case("upload --ticket of an empty input: one empty part, a zero-byte object",
             ticket_empty_input)

        def ticket_too_short():
            src, _ = write_source(3 * PART + 1, seed=52)
            ticket = presign("ticket/short", 2)
            p = upload(bare, src, "ticket/short", "--ticket", ticket)
            one_error(p, 11, "no URL")
            assert_nothing_left(s3, "ticket/short")
        case("a ticket with too few parts: fails and aborts through its own URL",
             ticket_too_short)

        def ticket_mismatch_and_garbage():
            src, _ = write_source(10, seed=53)
            ticket = presign("ticket/other", 1)
            one_error(upload(bare, src, "ticket/not-this", "--ticket", ticket), 2, "ticket")
            bad = os.path.join(tmp, "bad.ticket")
            with open(bad, "w") as f:
                f.write('{"bucket": "evidence", "key": "k", "parts": "nope"}')
            one_error(upload(bare, src, "k", "--ticket", bad), 7, "ticket")
        case("a ticket for another object, or malformed: clear errors", ticket_mismatch_and_garbage)

    subprocess.run(["rm", "-rf", tmp])
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
