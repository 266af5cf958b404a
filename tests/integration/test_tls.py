#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Both programs over HTTPS: tlsproxy.py's TLS terminator, with its own CA, in
front of moto with signature checking on.

AWS is only ever reached over TLS, and the static libcurl knows only the
build host's (Debian's) bundle path, so the agent and the controller find
the host's trust store themselves (lib/aws/trust.c): --ca-bundle,
AWS_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR, else the distributions' bundles.
Here: a multipart upload, acquire into S3 and verify s3:// over https,
instance-role credentials from a fake IMDS (plain http) then S3 over https,
a controller `respond` with every AWS endpoint behind the proxy; a CA nobody
trusts, a named bundle that is missing (one error line, exit 13, nothing
stored, no connection at all), a hashed directory (SSL_CERT_DIR), plain
http needing no bundle; and, in a private mount namespace, a host laid out
like Amazon Linux (Debian's bundle gone, the CA only at
/etc/pki/tls/certs/ca-bundle.crt) with no option and no variable. Every
success also checks the proxy completed handshakes: the traffic was TLS.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import AGENT, BUILD, Suite, check, log_records, one_error  # noqa: E402
from imds_fake import FakeIMDS  # noqa: E402
from s3env import (ACCOUNT_ID, MotoServer, expected_multipart_etag, payload,  # noqa: E402
                   payload_file)
from tlsproxy import OPENSSL, TlsProxy  # noqa: E402

CONTROLLER = os.path.join(BUILD, "forensics-controller")
EXIT_TLS = 13
MIB = 1 << 20
PART = 5 * MIB
BUCKET = "evidence"
AL2_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
# What could name a bundle besides the option: none of it may leak in from the runner.
TRUST_VARS = ("AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")

suite = Suite("tls", timed=True)
tmp = tempfile.mkdtemp(prefix="tls-test.")


def write_source(size, seed):
    return payload_file(tmp, size, seed)


def https_env(moto, tls, ca=None, **extra):
    """The agent's environment with S3 behind the proxy; ca: AWS_CA_BUNDLE, or none."""
    e = {k: v for k, v in moto.env(endpoint=tls.endpoint, **extra).items()
         if k not in TRUST_VARS or k in extra}
    if ca:
        e["AWS_CA_BUNDLE"] = ca
    return e


def upload(env, src, key, *extra, prefix=()):
    args = [*prefix, AGENT, "upload", "--path-style", "--log-format", "json", "--part-size",
            str(PART), *extra, src, f"s3://{BUCKET}/{key}"]
    return subprocess.run(args, env=env, capture_output=True, timeout=300)


def tls_line(p):
    """The agent's one info line naming the bundle."""
    lines = [r for r in log_records(p.stderr) if r.get("event") == "tls"]
    check(len(lines) == 1, f"want one tls log line, got {lines}")
    return lines[0]["msg"]


def assert_uploaded(moto, key, data, p, bundle, source):
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-800:]}")
    got = moto.get(BUCKET, key)
    check(got == data, f"{key}: downloaded {len(got)} bytes differ from {len(data)} sent")
    etag = moto.head(BUCKET, key)["ETag"]
    if len(data) >= PART:
        check(etag == expected_multipart_etag(data, PART), f"ETag {etag}")
    done = [r for r in log_records(p.stderr) if r["event"] == "uploaded"][0]
    check(done["sha256_stored"] == hashlib.sha256(data).hexdigest(), "sha256_stored")
    check(done["tls"] == {"ca_bundle": bundle, "source": source}, f"tls: {done.get('tls')}")
    msg = tls_line(p)
    check(bundle in msg and source in msg, f"tls line: {msg}")


def assert_nothing_stored(moto, key):
    check(not moto.exists(BUCKET, key), f"{key} exists after a refused connection")
    check(moto.list_multipart_uploads(BUCKET) == [], "a multipart upload was started")


def handshakes(tls, fn):
    """fn()'s result, checked to have completed at least one TLS handshake."""
    before = tls.connections
    result = fn()
    check(tls.connections > before, "no TLS handshake completed: the traffic was not TLS")
    return result


def acquire_args(out_uri, *extra):
    mem, iomem = os.path.join(tmp, "mem"), os.path.join(tmp, "iomem")
    if not os.path.exists(mem):
        with open(mem, "wb") as f:
            f.write(payload(2 << 20, seed=7))
        with open(iomem, "w") as f:
            f.write("00001000-0009fbff : System RAM\n00100000-001fffff : System RAM\n")
    return ["acquire", "--source", "file", "--source-path", mem, "--iomem", iomem,
            "--path-style", "--log-format", "json", "--case", "IR-TLS", *extra,
            "--output", out_uri]


def manifest_of(p):
    return [r for r in log_records(p.stderr) if r["event"] == "manifest"][-1]["manifest"]


def case_multipart_upload(moto, tls):
    src, data = write_source(3 * PART + 4321, seed=1)
    p = handshakes(tls, lambda: upload(https_env(moto, tls, tls.ca_file), src, "tls/multi.bin"))
    assert_uploaded(moto, "tls/multi.bin", data, p, tls.ca_file, "AWS_CA_BUNDLE")


def case_ca_bundle_option(moto, tls):
    """--ca-bundle names the bundle; it wins over a wrong AWS_CA_BUNDLE."""
    src, data = write_source(PART + 1, seed=2)
    env = https_env(moto, tls, "/nonexistent/ca.pem")
    p = handshakes(tls, lambda: upload(env, src, "tls/option.bin", "--ca-bundle", tls.ca_file))
    assert_uploaded(moto, "tls/option.bin", data, p, tls.ca_file, "--ca-bundle")


acquired = []


def case_acquire_and_verify(moto, tls):
    """acquire into S3 over https (the manifest names the bundle), then verify s3://."""
    env = https_env(moto, tls, tls.ca_file)
    p = handshakes(tls, lambda: subprocess.run(
        [AGENT, *acquire_args(f"s3://{BUCKET}/cases/IR-TLS/")], env=env, capture_output=True,
        timeout=120, cwd=tmp))
    check(p.returncode == 0, f"acquire: exit {p.returncode}: {p.stderr.decode()[-800:]}")
    m = manifest_of(p)
    want = {"ca_bundle": tls.ca_file, "source": "AWS_CA_BUNDLE"}
    check(m["image"]["s3"].get("tls") == want, f"image.s3.tls: {m['image']['s3']}")
    check(m["bundle"]["s3"].get("tls") == want, f"bundle.s3.tls: {m['bundle']['s3']}")
    key = m["image"]["s3"]["key"]
    stored = json.loads(moto.get(BUCKET, key + ".manifest.json"))
    check(stored["image"]["s3"]["tls"] == want, "the stored manifest lacks tls")
    acquired.append(key)
    uri = f"s3://{BUCKET}/{key}"
    p = handshakes(tls, lambda: subprocess.run(
        [AGENT, "verify", "--path-style", "--log-format", "json", "--json", uri], env=env,
        capture_output=True, timeout=120))
    check(p.returncode == 0, f"verify: exit {p.returncode}: {p.stderr.decode()[-800:]}")
    check(json.loads(p.stdout)["manifest"], "verify did not read the manifest")


def case_imds_credentials(moto, tls):
    """Instance-role credentials from IMDS (plain http, no bundle asked), then S3 over https."""
    iam, sts = moto.client("iam"), moto.client("sts")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="tls-role",
                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="tls-role", PolicyName="upload", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Resource": "*"}]}))
    src, data = write_source(2 * PART + 5, seed=3)
    keyless = {k: v for k, v in https_env(moto, tls, tls.ca_file).items()
               if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    with FakeIMDS(issue=lambda: sts.assume_role(
            RoleArn=role, RoleSessionName="tls")["Credentials"]) as imds:
        p = handshakes(tls, lambda: upload(imds.env(keyless), src, "tls/role.bin"))
    check(imds.cred_requests >= 1, "the credentials did not come from IMDS")
    assert_uploaded(moto, "tls/role.bin", data, p, tls.ca_file, "AWS_CA_BUNDLE")


def case_cert_dir(moto, tls):
    """SSL_CERT_DIR: a hashed directory (CURLOPT_CAPATH), as `openssl rehash` lays it out."""
    d = os.path.join(tmp, "certdir")
    os.makedirs(d, exist_ok=True)
    h = subprocess.run([OPENSSL, "x509", "-hash", "-noout", "-in", tls.ca_file],
                       capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy(tls.ca_file, os.path.join(d, h + ".0"))
    src, data = write_source(1000, seed=4)
    env = https_env(moto, tls, SSL_CERT_DIR=d)
    p = handshakes(tls, lambda: upload(env, src, "tls/dir.bin"))
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-800:]}")
    check(moto.get(BUCKET, "tls/dir.bin") == data, "object differs")
    done = [r for r in log_records(p.stderr) if r["event"] == "uploaded"][0]
    check(done["tls"] == {"ca_path": d, "source": "SSL_CERT_DIR"}, f"tls: {done.get('tls')}")


def untrusted_error(p):
    """One error line, exit 13: the certificate refused, or no bundle at all on this host."""
    err = one_error(p, EXIT_TLS, "TLS")
    check(any(w in err["msg"] for w in ("certificate", "verif", "no CA bundle on this host")),
          f"error: {err['msg']}")
    return err


def case_untrusted(moto, tls):
    """No bundle naming the CA (the host's own): one TLS error, exit 13, no retry, nothing
    stored."""
    src, _ = write_source(2 * PART, seed=5)
    before = tls.failed_handshakes
    start = time.monotonic()
    p = upload(https_env(moto, tls), src, "tls/untrusted.bin")
    took = time.monotonic() - start
    err = untrusted_error(p)
    if "no CA bundle" not in err["msg"]:
        check("from system" in err["msg"], f"error: {err['msg']}")
        check(tls.failed_handshakes > before, "the proxy saw no refused handshake")
    check(took < 20, f"a refused certificate was retried ({took:.1f}s)")
    assert_nothing_stored(moto, "tls/untrusted.bin")
    # A bundle that holds another CA: the same.
    with TlsProxy(moto.port) as stranger:
        p = upload(https_env(moto, tls, stranger.ca_file), src, "tls/untrusted.bin")
        err = one_error(p, EXIT_TLS, "TLS", stranger.ca_file, "AWS_CA_BUNDLE")
    assert_nothing_stored(moto, "tls/untrusted.bin")


def case_missing_bundle(moto, tls):
    """A named bundle that is not there: one line naming it, exit 13, no connection made."""
    src, _ = write_source(1000, seed=6)
    for env, extra, words in (
            (https_env(moto, tls, "/nonexistent/aws-ca.pem"), (),
             ("AWS_CA_BUNDLE=/nonexistent/aws-ca.pem", "no such file")),
            (https_env(moto, tls), ("--ca-bundle", "/nonexistent/opt.pem"),
             ("--ca-bundle /nonexistent/opt.pem", "no such file"))):
        before = tls.connections + tls.failed_handshakes
        p = upload(env, src, "tls/missing.bin", *extra)
        one_error(p, EXIT_TLS, *words)
        check(tls.connections + tls.failed_handshakes == before, "it connected anyway")
    assert_nothing_stored(moto, "tls/missing.bin")


def case_plain_http_needs_no_bundle(moto, tls):
    """A plain http endpoint (moto without the proxy) never asks for a bundle."""
    src, data = write_source(1000, seed=8)
    env = dict(moto.env(), AWS_CA_BUNDLE="/nonexistent/aws-ca.pem")
    p = upload(env, src, "tls/plain.bin")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-800:]}")
    check(moto.get(BUCKET, "tls/plain.bin") == data, "object differs")
    check(not [r for r in log_records(p.stderr) if r.get("event") == "tls"],
          "a tls line for plain http")


# The host as Amazon Linux lays it out, in a private mount namespace: Debian's
# bundle directory emptied by a tmpfs, the CA only at AL2_BUNDLE. This host
# may have no /etc/pki to mount on, and making one would write the real /etc:
# then /etc is a tmpfs copy of itself (seen only in the namespace).
AL2_SHELL = r"""
set -e
ca=$1; shift
mount -t tmpfs none /etc/ssl/certs
if [ -d /etc/pki ]; then
	mount -t tmpfs none /etc/pki
else
	copy=$(mktemp -d)
	mount -t tmpfs none "$copy"
	cp -a /etc/. "$copy"
	mount --bind "$copy" /etc
fi
mkdir -p /etc/pki/tls/certs
cp "$ca" /etc/pki/tls/certs/ca-bundle.crt
test ! -e /etc/ssl/certs/ca-certificates.crt
exec "$@"
"""


def case_amazon_linux_layout(moto, tls):
    if not shutil.which("unshare") or os.geteuid() != 0:
        raise RuntimeError("needs root and unshare (util-linux)")
    env = https_env(moto, tls)
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", AL2_SHELL, "al2",
              tls.ca_file]
    p = handshakes(tls, lambda: subprocess.run(
        [*prefix, AGENT, *acquire_args(f"s3://{BUCKET}/al2/")], env=env, capture_output=True,
        timeout=120, cwd=tmp))
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-800:]}")
    m = manifest_of(p)
    want = {"ca_bundle": AL2_BUNDLE, "source": "system"}
    check(m["image"]["s3"].get("tls") == want, f"image.s3.tls: {m['image']['s3']}")
    check(AL2_BUNDLE in tls_line(p), "the log does not name the bundle")
    check(moto.exists(BUCKET, m["image"]["s3"]["key"]), "no image stored")
    # The same namespace without the CA at that path: refused, as on a host that lacks it.
    src, _ = write_source(1000, seed=9)
    p = upload(env, src, "al2/none.bin", prefix=[*prefix[:-1], "/dev/null"])
    one_error(p, EXIT_TLS, "TLS", AL2_BUNDLE)


def case_controller_respond(moto, tls):
    """respond with STS, EC2, IAM, SSM and the record's S3 all behind the proxy."""
    ec2 = moto.client("ec2")
    iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                            InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    moto.create_bucket("tls-cases")
    env = https_env(moto, tls, tls.ca_file, AWS_ENDPOINT_URL=tls.endpoint)
    check(env["AWS_ENDPOINT_URL_S3"] == tls.endpoint, "S3 not behind the proxy")
    p = handshakes(tls, lambda: subprocess.run(
        [CONTROLLER, "respond", iid, "--case", "IR-TLS", "--account", ACCOUNT_ID, "--record",
         "s3://tls-cases/cases/"], env=env, capture_output=True, timeout=180))
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = json.loads(p.stdout)
    check(rec["tls"] == {"ca_bundle": tls.ca_file, "source": "AWS_CA_BUNDLE"},
          f"record tls: {rec.get('tls')}")
    check(rec["identity"]["account"] == ACCOUNT_ID, "no identity")
    check(all(s["result"] == "ok" for s in rec["timeline"]), f"{rec['timeline']}")
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is True, "termination protection is not on")
    check(moto.list_keys("tls-cases", "cases/"), "no case record stored")
    # No bundle naming the CA: the first call fails with its own code, nothing touched.
    env = https_env(moto, tls, AWS_ENDPOINT_URL=tls.endpoint)
    p = subprocess.run([CONTROLLER, "respond", iid, "--case", "IR-TLS2", "--log-format", "json"],
                       env=env, capture_output=True, timeout=120)
    untrusted_error(p)
    check(json.loads(p.stdout)["timeline"][0]["result"] == "failed" if p.stdout.strip() else True,
          "the first step did not fail")


def main():
    if not suite.require(CONTROLLER, "make controller"):
        return suite.finish()
    with MotoServer(auth=True) as moto, TlsProxy(moto.port) as tls:
        moto.create_bucket(BUCKET)
        for fn in (case_multipart_upload, case_ca_bundle_option, case_acquire_and_verify,
                   case_imds_credentials, case_cert_dir, case_untrusted, case_missing_bundle,
                   case_plain_http_needs_no_bundle, case_amazon_linux_layout,
                   case_controller_respond):
            suite.run(fn.__name__.removeprefix("case_").replace("_", " "), fn, moto, tls)
    shutil.rmtree(tmp, ignore_errors=True)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
