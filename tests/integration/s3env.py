# SPDX-License-Identifier: GPL-2.0-only
"""A local S3 for the uploader tests: a moto server, with SigV4 checking or without.

    from s3env import MotoServer, expected_multipart_etag, payload
    with MotoServer(auth=True) as s3:
        s3.create_bucket("evidence")
        subprocess.run([AGENT, "upload", ...], env=s3.env(), check=True)
        assert s3.get("evidence", "case-1/host.lime.zst") == data

auth=True starts moto with INITIAL_NO_AUTH_ACTION_COUNT=3 and spends the
three free actions on an IAM user, an allow-everything inline policy and an
access key; from then on every request must carry a valid SigV4 signature
for that key (a wrong secret gets SignatureDoesNotMatch). moto answers
presigned (query-auth) requests with HTTP 500 while it checks signatures, so
presigned tests use a second server with auth=False.

strict_uri=True (the default) patches, inside the moto process only, how moto
rebuilds the canonical URI and query for S3: stock moto 5.2.1 takes them from
werkzeug's re-quoted URL, so correctly signed requests get SignatureDoesNotMatch
when a key has + = : @ , ; ! $ ' ( ) * & % or non-ASCII characters, or a query
value has "/" (list_objects_v2(Prefix="case/") and `aws s3 ls s3://b/` fail).
The patch canonicalizes the request target as received, the way S3 does
(decode once, encode everything but unreserved bytes); wrong signatures are
still refused. strict_uri=False gives stock moto.

moto checks the signature, the 5 MiB minimum part size, and computes the
multipart ETag; it does NOT check Content-MD5, x-amz-checksum-* or
x-amz-content-sha256 against the body: prove integrity by downloading.

Other moto/werkzeug behaviour measured with moto 5.2.1, werkzeug 3.1.8:
  - Content-Type: application/x-www-form-urlencoded (curl -d, urllib's default
    for a body) makes moto parse the body as a form: a small object is stored
    EMPTY, a 6 MiB one stalls the request. No Content-Type at all is fine.
  - chunked request bodies work, but a chunk extension (";x=y") or a trailer
    gets HTTP 500 "Invalid chunk header".
  - "Expect: 100-continue" is answered with two "100 Continue" lines.
  - every response carries "Connection: close": no keep-alive to moto itself.
  - an unsigned GET of an object gets 403 even with auth=False (ACL check).
  - a repeated CompleteMultipartUpload of a completed upload returns 200.

The server runs in its own process group with its log in a file
(.log_path, .log_tail(); in log_dir or $S3ENV_LOG_DIR if given, else a
temporary directory removed after a clean run); leaving the `with` block kills the group, also on
an exception (the log's tail is printed then), on SIGTERM (turned into
SystemExit when no handler is installed) and at interpreter exit; if the
test process dies outright, the server notices its stdin pipe closing and
exits too.
"""
import atexit
import hashlib
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.session
from botocore.config import Config

ACCOUNT_ID = "123456789012"  # moto's default account
ALLOW_ALL = ('{"Version": "2012-10-17", "Statement": '
             '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
MIN_PART = 5 << 20

# Runs moto.server in the child; exits when the parent's end of stdin closes.
_LAUNCHER = r"""
import os, sys, threading
def _watch():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except Exception:
        pass
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
if os.environ.get("S3ENV_STRICT_CANONICAL_URI") == "1":
    # moto rebuilds the canonical request from werkzeug's re-quoted URL, which
    # leaves sub-delims (+ = : @ , ! $ ' ( ) * &) and "/" in query values
    # literal where a SigV4 client encodes them, drops ";..." from the path and
    # decodes a literal "%2F" in a key: correctly signed requests for such keys
    # get SignatureDoesNotMatch. Canonicalize the request target as received, as
    # S3 does: decode once, encode every byte but unreserved ones ("/" in the path).
    from urllib.parse import quote, unquote_to_bytes, urlsplit
    from moto.core import authorization as _auth
    from moto.iam import access_control as _ac
    _tl = threading.local()
    _s3_action = _auth.ActionAuthenticatorMixin._authenticate_and_authorize_s3_action
    def _s3_action_raw(self, *a, **kw):
        _tl.raw = getattr(getattr(self, "request", None), "environ", {}).get("RAW_URI")
        try:
            return _s3_action(self, *a, **kw)
        finally:
            _tl.raw = None
    _auth.ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _s3_action_raw
    _create = _ac.S3IAMRequest._create_aws_request
    def _strict(self):
        raw = getattr(_tl, "raw", None)
        if not raw:
            return _create(self)
        u = urlsplit(raw.encode("latin-1"))
        canon = quote(unquote_to_bytes(u.path), safe="/~")
        if u.query:
            pairs = [p.partition(b"=") for p in u.query.split(b"&")]
            canon += "?" + "&".join(quote(unquote_to_bytes(k), safe="~") + "="
                                    + quote(unquote_to_bytes(v), safe="~") for k, _, v in pairs)
        saved, self._path = self._path, canon
        try:
            return _create(self)
        finally:
            self._path = saved
    _ac.S3IAMRequest._create_aws_request = _strict
from moto.server import main
main(sys.argv[1:])
"""

_live = set()
_live_lock = threading.Lock()


def _stop_all():
    with _live_lock:
        servers = list(_live)
    for s in servers:
        s.stop()


atexit.register(_stop_all)


def _sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _install_sigterm():
    """SIGTERM unwinds the stack (so `with` blocks tear down) unless someone else handles it."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _sigterm)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payload(size, seed=0):
    """`size` reproducible pseudo-random bytes (incompressible, like an encrypted image)."""
    return random.Random(seed).randbytes(size)


def payload_file(directory, size, seed=0):
    """payload(size, seed) written to a file in directory: (path, the bytes)."""
    data = payload(size, seed=seed)
    path = os.path.join(directory, f"src-{size}-{seed}")
    with open(path, "wb") as f:
        f.write(data)
    return path, data


def expected_multipart_etag(data, part_sizes, quoted=True):
    """S3's multipart ETag: hex MD5 of the concatenated binary MD5s of the parts, "-N".

    part_sizes: a list of the sizes of every part in order (they must add up to
    len(data)), or one int: parts of that size, the last one the remainder.
    Quoted as S3 and boto3 give it ('"…-3"') unless quoted=False.
    """
    if isinstance(part_sizes, int):
        if part_sizes <= 0:
            raise ValueError("part size must be positive")
        part_sizes = [min(part_sizes, len(data) - o) for o in range(0, len(data), part_sizes)] or [0]
    if sum(part_sizes) != len(data):
        raise ValueError(f"part sizes add up to {sum(part_sizes)}, data is {len(data)} bytes")
    digests = b""
    offset = 0
    for size in part_sizes:
        digests += hashlib.md5(data[offset:offset + size]).digest()
        offset += size
    etag = f"{hashlib.md5(digests).hexdigest()}-{len(part_sizes)}"
    return f'"{etag}"' if quoted else etag


def clean_env(base=None):
    """`base` (default os.environ) without anything that could send an AWS client
    elsewhere or give it other credentials: every AWS_* variable and the proxy ones."""
    env = dict(os.environ if base is None else base)
    for k in list(env):
        if k.startswith("AWS_") or k.lower() in ("http_proxy", "https_proxy", "all_proxy",
                                                  "no_proxy"):
            del env[k]
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


class MotoServer:
    """A moto server on 127.0.0.1 (a context manager; start()/stop() also work).

    auth=True: SigV4 enforced, .access_key/.secret_key are a real IAM user's key.
    auth=False: nothing checked (presigned URLs work); the keys are "testing".
    """

    def __init__(self, auth=True, region="us-east-1", log_dir=None, startup_timeout=30.0,
                 user="forensics-test", print_log_on_error=True, strict_uri=True):
        self.auth = auth
        self.strict_uri = strict_uri
        self.region = region
        self.user = user
        self.startup_timeout = startup_timeout
        self.print_log_on_error = print_log_on_error
        self.log_dir = log_dir or os.environ.get("S3ENV_LOG_DIR")
        self._own_log_dir = self.log_dir is None  # temporary: removed unless something failed
        self.log_path = None
        self.proc = None
        self.port = None
        self.endpoint = None
        self.access_key = "testing"
        self.secret_key = "testing"
        self._clients = {}
        self._session = None
        self._session_lock = threading.Lock()

    # -- lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None
        if failed and self.print_log_on_error and self.log_path:
            print(f"--- last lines of the moto log {self.log_path}:", file=sys.stderr)
            print(self.log_tail(30), file=sys.stderr)
        self.stop(keep_log=failed)
        return False

    def start(self):
        _install_sigterm()
        env = clean_env()
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        if self.auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        if self.strict_uri:
            env["S3ENV_STRICT_CANONICAL_URI"] = "1"
        if self._own_log_dir:
            if not (self.log_dir and os.path.isdir(self.log_dir)):
                self.log_dir = tempfile.mkdtemp(prefix="s3env-")
        else:
            os.makedirs(self.log_dir, exist_ok=True)
        last = None
        for _ in range(5):  # the free port can be taken before moto binds it
            self.port = free_port()
            self.endpoint = f"http://127.0.0.1:{self.port}"
            self.log_path = os.path.join(self.log_dir, f"moto-{self.port}.log")
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", _LAUNCHER, "-H", "127.0.0.1", "-p", str(self.port)],
                    stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
                    start_new_session=True)
            with _live_lock:
                _live.add(self)
            try:
                self._wait_ready()
                break
            except RuntimeError as e:
                last = e
                self.stop(keep_log=True)
                if "Address already in use" not in self.log_tail(20):
                    raise
        else:
            raise last
        try:
            if self.auth:
                self._bootstrap_auth()
        except BaseException:
            self.stop(keep_log=True)
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto exited with {self.proc.returncode} while starting:\n"
                                   f"{self.log_tail(20)}")
            try:
                # /moto-api/ is not an AWS action: it does not use up a free action.
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/moto-api/config")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto did not answer within {self.startup_timeout:g} s:\n"
                                   f"{self.log_tail(20)}")
            time.sleep(0.05)

    def _bootstrap_auth(self):
        iam = self.client("iam", access_key="bootstrap", secret_key="bootstrap")
        iam.create_user(UserName=self.user)
        iam.put_user_policy(UserName=self.user, PolicyName="allow-all", PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName=self.user)["AccessKey"]
        self.access_key = key["AccessKeyId"]
        self.secret_key = key["SecretAccessKey"]
        self._clients.clear()
        self.check_signatures()

    def check_signatures(self):
        """The free actions are spent: a wrong secret must now be refused."""
        sts = self.client("sts", secret_key="not-the-secret")
        try:
            sts.get_caller_identity()
        except sts.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "SignatureDoesNotMatch":
                raise
        else:
            raise RuntimeError("moto accepted a wrong secret: signature checking is off")

    def stop(self, keep_log=False):
        """Kill the server's process group (SIGTERM, then SIGKILL after 5 s)."""
        proc, self.proc = self.proc, None
        with _live_lock:
            _live.discard(self)
        if proc is not None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            try:  # anything left in the group (moto starts none for S3, but be sure)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.stdin:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        if not keep_log and self._own_log_dir and self.log_dir and os.path.isdir(self.log_dir):
            shutil.rmtree(self.log_dir, ignore_errors=True)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                text = f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- clients

    def env(self, endpoint=None, base=None, **extra):
        """Environment for a child process (the agent, the aws CLI): the parent's
        (or `base`) without any AWS_*/proxy variables, plus this server's credentials,
        region and S3 endpoint (or `endpoint`, e.g. a FaultProxy's). Shared config and
        credential files point at /dev/null, the IMDS is off. `extra` adds/overrides."""
        env = clean_env(base)
        env.update({
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": endpoint or self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        })
        env.update(extra)
        return env

    def client(self, service, endpoint=None, access_key=None, secret_key=None, **config):
        """A boto3 client for `service` on this server (or `endpoint`), isolated from
        ~/.aws and AWS_* variables. config: botocore Config arguments, e.g.
        retries={"total_max_attempts": 1} (no retries: botocore's "max_attempts"
        counts retries, not attempts), read_timeout=2."""
        if service == "s3":
            config.setdefault("s3", {"addressing_style": "path"})
        with self._session_lock:  # one session (its loaded models) for all clients
            if self._session is None:
                # (config file key, env vars, default, conversion): no env lookups.
                bs = botocore.session.Session(session_vars={
                    "profile": (None, None, None, None),
                    "config_file": (None, None, os.devnull, None),
                    "credentials_file": (None, None, os.devnull, None),
                })
                self._session = boto3.session.Session(botocore_session=bs)
            return self._session.client(
            service, endpoint_url=endpoint or self.endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(**config))

    def s3(self, endpoint=None, access_key=None, secret_key=None, **config):
        """A boto3 S3 client (path-style) with this server's key; see client()."""
        if endpoint or access_key or secret_key or config:
            return self.client("s3", endpoint, access_key, secret_key, **config)
        if "s3" not in self._clients:
            self._clients["s3"] = self.client("s3")
        return self._clients["s3"]

    # -- helpers for assertions

    def create_bucket(self, name, object_lock=False, versioning=False):
        kw = {"Bucket": name}
        if self.region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if object_lock:
            kw["ObjectLockEnabledForBucket"] = True  # turns versioning on as well
        self.s3().create_bucket(**kw)
        if versioning and not object_lock:
            self.s3().put_bucket_versioning(Bucket=name,
                                            VersioningConfiguration={"Status": "Enabled"})
        return name

    def put(self, bucket, key, data, **kw):
        return self.s3().put_object(Bucket=bucket, Key=key, Body=data, **kw)

    def get(self, bucket, key, version_id=None):
        kw = {"VersionId": version_id} if version_id else {}
        return self.s3().get_object(Bucket=bucket, Key=key, **kw)["Body"].read()

    def tags(self, bucket, key, version_id=None):
        """The object's tag set as a dict."""
        kw = {"VersionId": version_id} if version_id else {}
        r = self.s3().get_object_tagging(Bucket=bucket, Key=key, **kw)
        return {t["Key"]: t["Value"] for t in r["TagSet"]}

    def head(self, bucket, key, version_id=None, checksums=False):
        """head_object's answer without ResponseMetadata (ETag, ContentLength,
        Metadata, ObjectLock*, Checksum* when checksums=True ...)."""
        kw = {"VersionId": version_id} if version_id else {}
        if checksums:
            kw["ChecksumMode"] = "ENABLED"
        r = self.s3().head_object(Bucket=bucket, Key=key, **kw)
        r.pop("ResponseMetadata", None)
        return r

    def exists(self, bucket, key):
        try:
            self.s3().head_object(Bucket=bucket, Key=key)
            return True
        except self.s3().exceptions.ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return False
            raise

    def list_keys(self, bucket, prefix=""):
        keys = []
        for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def list_multipart_uploads(self, bucket):
        """Uploads in progress (dicts with Key, UploadId, Initiated): [] when none is
        left, e.g. after an abort."""
        return self.s3().list_multipart_uploads(Bucket=bucket).get("Uploads", [])

    def list_parts(self, bucket, key, upload_id):
        return self.s3().list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])

    def run_aws_cli(self, args, endpoint=None, timeout=120, check=False, input=None, env=None):
        """The aws CLI with this server's env and --endpoint-url (text output captured)."""
        aws = shutil.which("aws")
        if not aws:
            raise RuntimeError("the aws CLI is not installed")
        cmd = [aws, "--endpoint-url", endpoint or self.endpoint, "--region", self.region,
               *args]
        return subprocess.run(cmd, env=env or self.env(endpoint), capture_output=True,
                              text=True, timeout=timeout, check=check, input=input)
