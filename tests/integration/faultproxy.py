#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A fault-injecting HTTP/1.1 reverse proxy for the S3 tests.

The proxy sits between a client (the C uploader, boto3, the aws CLI) and a
moto server, forwards every request byte for byte, and on the requests a
rule selects answers with a fault instead: an S3 error (503 SlowDown, 500
InternalError, 200 with an <Error> body, RequestTimeTooSkewed, ...), a
connection reset (RST) or close (FIN) at a chosen point, or a stall.

    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_rule(Rule(slowdown(), op="UploadPart", nth=2))
        run the client against proxy.endpoint ...
        assert [r.fault for r in proxy.records(op="UploadPart")] == [None, "503 SlowDown", None, ...]

Faithful forwarding: the request line and header block go upstream exactly
as received (Host included: the client signs for the proxy's host:port and
moto checks the signature against the Host it receives, so SigV4 works
through the proxy), and the body likewise, Content-Length or chunked.
`Expect: 100-continue` is answered by the proxy itself (as S3 does), so an
error at stage "head" reaches the client before it sends the body.
Responses are relayed with their status, headers and body; the proxy frames
them with Content-Length and keeps the client's connection alive (moto
closes after every response; the proxy opens one upstream connection per
request).

Stages at which a fault strikes:
    head          request line and headers read, body not read
    mid-body      half the body read (reset/close only; chunked: first chunk)
    body          whole body read, nothing forwarded (errors: the default)
    upstream      forwarded to moto, which acted on it; its answer is
                  replaced (error), withheld (stall) or lost (reset/close)
    mid-response  response head and half the response body sent (reset/close/stall)

Every request is recorded (Record) with method, path, query, S3 operation,
headers, body length and MD5, the fault applied and the status returned.

Standalone, for shell tests:
    python3 faultproxy.py --upstream http://127.0.0.1:PORT --rules rules.json --log req.jsonl
prints "endpoint http://127.0.0.1:NNNNN" and runs until SIGTERM/SIGINT.
rules.json: [{"op": "UploadPart", "nth": 2, "fault": "slowdown"},
             {"chaos": {"seed": 7, "probability": 0.1, "faults": ["slowdown", "reset"], "budget": 5}}]
"""
import argparse
import datetime
import email.utils
import hashlib
import json
import random
import re
import secrets
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

MAX_HEAD = 64 << 10
KEEP_BODY = 64 << 10  # request/response bodies up to this size are kept in records
STAGES = ("head", "mid-body", "body", "upstream", "mid-response")


class _Gone(Exception):
    """The peer closed the connection (EOF)."""


class _Reader:
    """Buffered reads from a socket: up to a delimiter, exactly n bytes, or EOF."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise _Gone()
        self.buf += data

    def until(self, delim, limit):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                end = i + len(delim)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            if len(self.buf) > limit:
                raise ValueError(f"no {delim!r} within {limit} bytes")
            start = max(0, len(self.buf) - len(delim) + 1)
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self):
        try:
            while True:
                self._fill()
        except _Gone:
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _rst(sock):
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _fin(sock, drain=1.0):
    """Orderly close: FIN, then read and drop what the client still sends for up to
    `drain` seconds, so that closing with unread data does not turn into an RST that
    could destroy the response the client has not read yet."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
            if r and not sock.recv(1 << 16):
                break
    except OSError:
        pass
    sock.close()


def _header(headers, name, default=None):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return default


# ---------------------------------------------------------------- S3 operations

_SUBRESOURCES = {
    # query parameter -> operation suffix, for bucket and object subresources
    "acl": "Acl", "tagging": "Tagging", "retention": "Retention",
    "legal-hold": "LegalHold", "versioning": "Versioning",
    "object-lock": "ObjectLockConfiguration", "policy": "Policy",
    "lifecycle": "Lifecycle", "location": "Location", "encryption": "Encryption",
    "cors": "Cors", "attributes": "Attributes", "website": "Website",
    "notification": "Notification", "logging": "Logging", "replication": "Replication",
    "publicAccessBlock": "PublicAccessBlock", "ownershipControls": "OwnershipControls",
}
_VERB = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}


def s3_operation(method, path, params, headers=()):
    """The S3 API operation a path-style request is (CreateMultipartUpload, UploadPart, ...).

    Requests to "/" that are not S3 (STS/IAM query API, JSON APIs with
    X-Amz-Target) give "POST /" or the target's operation name; a query-API
    request's Action is filled in from its body once read (Record.op).
    """
    target = _header(headers, "x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    if path.startswith("/moto-api"):
        return "MotoApi"
    bucket, _, key = path.lstrip("/").partition("/")
    copy = _header(headers, "x-amz-copy-source") is not None
    sub = next((_SUBRESOURCES[p] for p in params if p in _SUBRESOURCES), None)
    verb = _VERB.get(method, method)
    if key:
        if method == "POST" and "uploads" in params:
            return "CreateMultipartUpload"
        if "uploadId" in params:
            if method == "PUT":
                return "UploadPartCopy" if copy else "UploadPart"
            return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                    "GET": "ListParts"}.get(method, f"{method} uploadId")
        if sub:
            return f"{verb}Object{sub}"
        return {"PUT": "CopyObject" if copy else "PutObject", "GET": "GetObject",
                "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, f"{method} object")
    if bucket:
        if sub:
            return f"{verb}Bucket{sub}"
        if method == "GET":
            if "uploads" in params:
                return "ListMultipartUploads"
            if "versions" in params:
                return "ListObjectVersions"
            return "ListObjectsV2" if params.get("list-type") == "2" else "ListObjects"
        if method == "POST" and "delete" in params:
            return "DeleteObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket",
                "DELETE": "DeleteBucket"}.get(method, f"{method} bucket")
    return "ListBuckets" if method == "GET" else f"{method} /"


# ---------------------------------------------------------------- records

class Record:
    """One request the proxy received, and what it did with it."""

    __slots__ = ("seq", "conn", "method", "target", "path", "query", "params", "op",
                 "headers", "chunked", "body_len", "body_md5", "body",
                 "fault", "stage", "status", "upstream_status", "response_body",
                 "started", "elapsed", "error", "done")

    def __init__(self, seq, conn, method, target, headers):
        self.seq = seq
        self.conn = conn  # connection number: requests on one keep-alive connection share it
        self.method = method
        self.target = target
        url = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(url.path)
        self.query = url.query
        self.params = {k: v for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True)}
        self.headers = {k.lower(): v for k, v in headers}
        self.op = s3_operation(method, self.path, self.params, headers)
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.body_len = None      # decoded body length; None when the body was not read
        self.body_md5 = None      # hex MD5 of the decoded body
        self.body = None          # the body when at most KEEP_BODY bytes (e.g. the Complete XML)
        self.fault = None         # Fault.name, or None when forwarded untouched
        self.stage = None
        self.status = None        # HTTP status sent to the client; None: none sent
        self.upstream_status = None
        self.response_body = None  # the response body when at most KEEP_BODY bytes
        self.started = time.monotonic()
        self.elapsed = None
        self.error = None         # e.g. "client closed during stall", "upstream: ..."
        self.done = threading.Event()

    @property
    def upload_id(self):
        return self.params.get("uploadId")

    @property
    def part_number(self):
        p = self.params.get("partNumber")
        return int(p) if p is not None else None

    def to_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__ if k not in ("done", "body", "response_body")}
        for k in ("body", "response_body"):
            v = getattr(self, k)
            d[k] = v.decode("utf-8", "replace") if v is not None else None
        return d

    def __repr__(self):
        return (f"<Record #{self.seq} conn {self.conn} {self.method} {self.target} {self.op} "
                f"body {self.body_len} fault {self.fault} status {self.status}>")


# ---------------------------------------------------------------- faults

class Fault:
    """What to do instead of (or after) forwarding a request.

    kind: "error" (an S3 error response), "reset" (TCP RST), "close" (FIN,
    no response), "stall" (no answer for `seconds`, or never when None).
    """

    def __init__(self, kind, stage, name, status=None, code=None, message=None,
                 extra=None, headers=None, seconds=None, server_time=None):
        if stage not in STAGES:
            raise ValueError(f"stage {stage!r} not in {STAGES}")
        if kind == "error" and stage in ("mid-body", "mid-response"):
            raise ValueError("an error response can only be sent at head, body or upstream")
        self.kind = kind
        self.stage = stage
        self.name = name
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}       # more <Error> elements: {"ServerTime": "..."} or callable(record)
        self.headers = headers or {}   # more response headers
        self.seconds = seconds
        self.server_time = server_time  # callable() -> epoch seconds, for the Date header

    def response(self, record):
        """The raw HTTP response for an error fault."""
        rid = secrets.token_hex(8).upper()
        extra = self.extra(record) if callable(self.extra) else self.extra
        elems = "".join(f"<{k}>{_xml(v)}</{k}>" for k, v in extra.items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{_xml(self.message)}</Message>{elems}<RequestId>{rid}</RequestId>"
                f"<HostId>{secrets.token_urlsafe(32)}</HostId></Error>").encode()
        now = self.server_time() if self.server_time else time.time()
        headers = [("x-amz-request-id", rid), ("x-amz-id-2", secrets.token_urlsafe(32)),
                   ("Date", email.utils.formatdate(now, usegmt=True)),
                   ("Content-Type", "application/xml"), ("Server", "AmazonS3")]
        headers += list(self.headers.items())
        if record.method == "HEAD":
            body = b""  # S3 answers HEAD errors without a body
        return self.status, _REASONS.get(self.status, "Error"), headers, body

    def __repr__(self):
        return f"<Fault {self.name}>"


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 500: "Internal Server Error", 501: "Not Implemented",
            503: "Service Unavailable"}


def late(seconds=3.0, stage="body"):
    """Hold the whole request, answer nothing, and deliver it upstream `seconds` later
    whatever the client did meanwhile (it gave up and went on): a request that reaches
    S3 after its sender stopped waiting. Its record is done once it was delivered."""
    return Fault("late", "body", f"late({seconds:g}s)", seconds=seconds)


def _xml(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error(status, code, message, stage="body", extra=None, headers=None, name=None):
    """Any S3 error response: error(404, "NoSuchUpload", "The specified upload does not exist.")."""
    name = name or f"{status} {code}"
    if stage != "body":
        name += f"@{stage}"
    return Fault("error", stage, name, status=status, code=code,
                 message=message, extra=extra, headers=headers)


def slowdown(stage="body"):
    return error(503, "SlowDown", "Please reduce your request rate.", stage)


def service_unavailable(stage="body"):
    return error(503, "ServiceUnavailable", "Service is unable to handle request.", stage)


def internal_error(stage="body"):
    return error(500, "InternalError", "We encountered an internal error. Please try again.", stage)


def complete_error(code="InternalError", message="We encountered an internal error. Please try again.",
                   stage="body"):
    """HTTP 200 whose body is an <Error>, as S3 can answer CompleteMultipartUpload (and
    CopyObject/UploadPartCopy) after it has started streaming the 200. stage "body": the
    upload was not completed; stage "upstream": moto completed it and the client still
    sees the error."""
    return error(200, code, message, stage)


def time_skewed(skew=3600.0, stage="body"):
    """400 RequestTimeTooSkewed: the server's clock is `skew` seconds ahead of ours
    (negative: behind). ServerTime and the Date header carry the server's time, so a
    client can correct its clock from either."""
    def server_time():
        return time.time() + skew

    def extra(record):
        return {"RequestTime": record.headers.get("x-amz-date", record.headers.get("date", "")),
                "ServerTime": datetime.datetime.fromtimestamp(server_time(), datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"),
                "MaxAllowedSkewMilliseconds": "900000"}
    f = error(400, "RequestTimeTooSkewed",
              "The difference between the request time and the current time is too large.",
              stage, extra=extra)
    f.server_time = server_time
    return f


def signature_mismatch(stage="body"):
    return error(403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.", stage)


def access_denied(stage="body"):
    return error(403, "AccessDenied", "Access Denied", stage)


def invalid_access_key(stage="body"):
    return error(403, "InvalidAccessKeyId",
                 "The AWS Access Key Id you provided does not exist in our records.", stage)


def expired_token(stage="body"):
    return error(400, "ExpiredToken", "The provided token has expired.", stage)


def bad_digest(stage="body"):
    """What S3 answers a body that does not hash to its checksum (corrupted on the way)."""
    return error(400, "BadDigest", "The Content-MD5 or checksum value you specified did not "
                 "match what we received.", stage)


def sha256_mismatch(stage="body"):
    return error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' "
                 "header does not match what was computed.", stage)


def no_such_upload(stage="body"):
    return error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may "
                 "be invalid, or the upload may have been aborted or completed.", stage)


def reset(stage="head"):
    """TCP RST at `stage` (head, mid-body, upstream, mid-response)."""
    return Fault("reset", stage, f"reset@{stage}")


def close(stage="head"):
    """Orderly close (FIN) without a response at `stage`."""
    return Fault("close", stage, f"close@{stage}")


def stall(seconds=None, stage="body"):
    """Answer nothing for `seconds` (None: never; the connection stays open until the
    client gives up), then carry on as if nothing happened."""
    return Fault("stall", stage, f"stall{'' if seconds is None else f'({seconds:g}s)'}@{stage}",
                 seconds=seconds)


_SPECS = {
    "slowdown": slowdown, "503": slowdown, "unavailable": service_unavailable,
    "internal": internal_error, "500": internal_error, "complete-error": complete_error,
    "skew": time_skewed, "signature": signature_mismatch, "denied": access_denied,
    "invalid-key": invalid_access_key, "expired-token": expired_token,
    "no-such-upload": no_such_upload, "reset": reset, "close": close,
    "bad-digest": bad_digest, "sha256-mismatch": sha256_mismatch,
}


def parse_fault(spec):
    """A Fault from a short spec, for JSON rule scripts:

    "slowdown", "unavailable", "internal", "complete-error", "skew" / "skew:-7200",
    "signature", "denied", "invalid-key", "expired-token", "no-such-upload",
    "bad-digest", "sha256-mismatch",
    "error:404:NoSuchKey[:message]", "reset", "close", "stall" (forever) / "stall:5",
    "late:3" (delivered upstream 3 s later, the client never answered);
    "@stage" picks the stage: "slowdown@head", "reset@mid-body", "stall:5@upstream"
    ("reset:mid-body" works too).
    A dict is passed as keyword arguments: {"kind": "stall", "seconds": 2, "stage": "upstream"}.
    """
    if isinstance(spec, Fault):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        kind = spec.pop("kind")
        if kind == "error":
            return error(**spec)
        if kind == "stall":
            return stall(**spec)
        return _SPECS[kind](**spec)
    name, _, stage = spec.partition("@")
    parts = name.split(":")
    if len(parts) > 1 and parts[-1] in STAGES:  # "reset:mid-body" means "reset@mid-body"
        stage = stage or parts.pop()
    kw = {"stage": stage} if stage else {}
    if parts[0] == "error":
        return error(int(parts[1]), parts[2], parts[3] if len(parts) > 3 else parts[2], **kw)
    if parts[0] in ("stall", "delay"):
        return stall(float(parts[1]) if len(parts) > 1 and parts[1] else None, **kw)
    if parts[0] == "late":
        return late(float(parts[1]) if len(parts) > 1 and parts[1] else 3.0)
    if parts[0] == "skew" and len(parts) > 1:
        return time_skewed(float(parts[1]), **kw)
    if parts[0] not in _SPECS:
        raise ValueError(f"unknown fault {spec!r}")
    return _SPECS[parts[0]](**kw)


# ---------------------------------------------------------------- rules

class Rule:
    """Select requests and say which of the matching ones get `fault`.

    Matching (all given conditions must hold):
      op       S3 operation name or a tuple of them ("UploadPart", "CompleteMultipartUpload")
      method   "PUT", ...
      path     regular expression searched in the (decoded) path
      query    names that must be present ("uploadId", "partNumber") or a dict
               {name: value or None}; e.g. {"partNumber": "2"}
      action   query-API Action from a form body (STS/IAM/EC2); such a rule is
               evaluated after the body is read, so its fault cannot strike at head/mid-body
      when     callable(Record) -> bool
    Selection among the matching requests, counted from 1:
      nth=N, count=C   the Nth .. (N+C-1)th matches (count None: every match from the Nth);
                       nth may also be a set of match numbers
      every=K          every Kth match (K, 2K, ...)
      budget=B         at most B faults from this rule
    """

    def __init__(self, fault, op=None, method=None, path=None, query=None, action=None,
                 when=None, nth=1, count=1, every=None, budget=None):
        self.fault = parse_fault(fault) if fault is not None else None
        self.op = (op,) if isinstance(op, str) else (tuple(op) if op else None)
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None
        if isinstance(query, str):
            query = (query,)
        self.query = dict(query) if isinstance(query, dict) else {q: None for q in (query or ())}
        self.action = action
        self.when = when
        self.nth = nth
        self.count = count
        self.every = every
        self.budget = budget
        self.matched = 0
        self.applied = 0
        if self.fault and action and self.fault.stage in ("head", "mid-body"):
            raise ValueError("an action rule is evaluated after the body: no head/mid-body faults")

    @property
    def phase(self):
        return "body" if self.action else "head"

    def matches(self, rec):
        if self.op and rec.op not in self.op:
            return False
        if self.method and rec.method != self.method:
            return False
        if self.path and not self.path.search(rec.path):
            return False
        for k, v in self.query.items():
            if k not in rec.params or (v is not None and rec.params[k] != str(v)):
                return False
        if self.action and rec.op != self.action:
            return False
        return not self.when or bool(self.when(rec))

    def selects(self, n):
        if self.budget is not None and self.applied >= self.budget:
            return False
        if self.every:
            return n % self.every == 0
        if isinstance(self.nth, int):
            return n >= self.nth and (self.count is None or n < self.nth + self.count)
        return n in self.nth

    def pick(self, rec):
        return self.fault

    def __repr__(self):
        return (f"<Rule {self.fault} op={self.op} nth={self.nth} count={self.count} "
                f"every={self.every} matched={self.matched} applied={self.applied}>")


class Chaos(Rule):
    """Soak testing: each matching request gets a fault with `probability` (or every
    `every`th one does), the fault drawn from `faults`, at most `budget` in all; the
    draws come from random.Random(seed), so a run with the same request order repeats."""

    def __init__(self, faults, seed=0, probability=0.1, every=None, budget=None, **match):
        super().__init__(None, every=every, budget=budget, count=None, **match)
        self.faults = [parse_fault(f) for f in faults]
        self.rng = random.Random(seed)
        self.probability = probability

    def selects(self, n):
        if self.budget is not None and self.applied >= self.budget:
            return False
        if self.every:
            return n % self.every == 0
        return self.rng.random() < self.probability

    def pick(self, rec):
        return self.rng.choice(self.faults)


def parse_rules(items):
    """Rules from JSON-able dicts: {"op": ..., "nth": ..., "fault": "slowdown"} or
    {"chaos": {"seed": 1, "probability": 0.1, "faults": [...], "budget": 5, "op": ...}}."""
    rules = []
    for item in items:
        item = dict(item)
        if "chaos" in item:
            rules.append(Chaos(**item["chaos"]))
        else:
            rules.append(Rule(item.pop("fault"), **item))
    return rules


# ---------------------------------------------------------------- the proxy

class FaultProxy:
    """The proxy: FaultProxy(upstream_endpoint, rules=[...]), a context manager.

    .endpoint              "http://127.0.0.1:PORT" for clients
    .add_rule(rule) / .set_rules(rules) / .clear_rules()
    .records(op=None, fault=...)  the requests seen (complete ones and in flight)
    .wait_idle(timeout)    wait until every request received so far is finished
    .connections           number of client connections accepted
    """

    def __init__(self, upstream, rules=(), upstream_timeout=120.0, client_timeout=300.0,
                 log=None, port=0):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != "http":
            raise ValueError("upstream must be http://host:port")
        self.upstream = (u.hostname, u.port or 80)
        self.upstream_timeout = upstream_timeout
        self.client_timeout = client_timeout
        self.log = log  # callable(dict) per finished request, or None
        self._rules = list(rules)
        self._records = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._socks = set()
        self._threads = []
        self._late = []
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.endpoint = f"http://{self.host}"
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultproxy-accept",
                                          daemon=True)
        self._acceptor.start()

    # -- configuration and results

    def add_rule(self, rule):
        with self._lock:
            self._rules.append(rule)
        return rule

    def set_rules(self, rules):
        with self._lock:
            self._rules = list(rules)

    def clear_rules(self):
        self.set_rules([])

    def clear_records(self):
        with self._lock:
            self._records = []

    def records(self, op=None, fault=Ellipsis, method=None):
        """Records so far, optionally only operation `op` (name or tuple), `method`,
        and fault (a name, None for untouched requests, True for any fault)."""
        with self._lock:
            recs = list(self._records)
        if op is not None:
            ops = (op,) if isinstance(op, str) else tuple(op)
            recs = [r for r in recs if r.op in ops]
        if method is not None:
            recs = [r for r in recs if r.method == method]
        if fault is True:
            recs = [r for r in recs if r.fault]
        elif fault is not Ellipsis:
            recs = [r for r in recs if r.fault == fault]
        return recs

    def faults(self):
        """(op, fault name) of every faulted request, in order."""
        return [(r.op, r.fault) for r in self.records(fault=True)]

    def wait_idle(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        for r in self.records():
            if not r.done.wait(max(0.0, deadline - time.monotonic())):
                return False
        for t in list(self._late):
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                return False
        return True

    # -- lifecycle

    def close(self):
        self._closing.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(2)
        for t in list(self._threads):
            t.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- serving

    def _accept_loop(self):
        n = 0
        while not self._closing.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            n += 1
            self.connections = n
            sock.settimeout(self.client_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socks.add(sock)
            t = threading.Thread(target=self._serve, args=(sock, n), name=f"faultproxy-{n}",
                                 daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _serve(self, sock, conn):
        try:
            reader = _Reader(sock)
            while not self._closing.is_set():
                try:
                    head = reader.until(b"\r\n\r\n", MAX_HEAD)
                except (_Gone, OSError, ValueError):
                    return
                if not self._one(sock, reader, conn, head):
                    return
        finally:
            with self._lock:
                self._socks.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _decide(self, rec, phase):
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.phase != phase or not rule.matches(rec):
                    continue
                rule.matched += 1
                if chosen is None and rule.selects(rule.matched):
                    f = rule.pick(rec)
                    if f is not None:
                        rule.applied += 1
                        chosen = f
            if chosen:
                rec.fault, rec.stage = chosen.name, chosen.stage
            return chosen

    def _finish(self, rec):
        rec.elapsed = time.monotonic() - rec.started
        rec.done.set()
        if self.log:
            try:
                self.log(rec.to_dict())
            except Exception:  # noqa: BLE001 - logging must not break the proxy
                pass

    def _one(self, sock, reader, conn, head):
        """Handle one request; True to keep the client connection open."""
        lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            _fin(sock)
            return False
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        with self._lock:
            rec = Record(len(self._records) + 1, conn, method, target, headers)
            self._records.append(rec)
        try:
            return self._handle(sock, reader, head, rec, version)
        except (ValueError, IndexError) as e:
            rec.error = rec.error or f"bad request: {e!r}"
            return False
        except _Gone:
            rec.error = rec.error or "client closed the connection"
            return False
        except OSError as e:
            rec.error = rec.error or f"client: {e!r}"
            return False
        finally:
            self._finish(rec)

    def _handle(self, sock, reader, head, rec, version):
        h = rec.headers
        conn_hdr = h.get("connection", "").lower()
        keep = ("close" not in conn_hdr) if version == "HTTP/1.1" else ("keep-alive" in conn_hdr)
        fault = self._decide(rec, "head")

        if fault and fault.stage == "head":
            if fault.kind == "error":
                # Answer before reading the body, then close: the unread body
                # leaves the connection unusable (S3 does the same).
                self._send(sock, rec, *fault.response(rec), close=True)
                _fin(sock)
                return False
            if not self._apply_cut(sock, rec, fault):
                return False

        if "100-continue" in h.get("expect", "").lower():
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        # The body, kept raw for forwarding.
        md5 = hashlib.md5()
        if rec.chunked:
            raw = bytearray()
            n = 0
            first = True
            while True:
                line = reader.until(b"\r\n", MAX_HEAD)
                raw += line
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, then the empty line
                        t = reader.until(b"\r\n", MAX_HEAD)
                        raw += t
                        if t == b"\r\n":
                            break
                    break
                data = reader.exact(size)
                raw += data
                raw += reader.exact(2)
                md5.update(data)
                n += size
                if first and fault and fault.stage == "mid-body":
                    rec.body_len = n
                    if not self._apply_cut(sock, rec, fault):
                        return False
                first = False
            body_raw = bytes(raw)
        else:
            length = int(h.get("content-length", "0") or 0)
            if fault and fault.stage == "mid-body":
                part = reader.exact(length // 2)
                rec.body_len = len(part)
                if not self._apply_cut(sock, rec, fault):
                    return False
                body_raw = part + reader.exact(length - len(part))
            else:
                body_raw = reader.exact(length)
            md5.update(body_raw)
            n = length
        rec.body_len = n
        rec.body_md5 = md5.hexdigest()
        if n <= KEEP_BODY:
            rec.body = body_raw if not rec.chunked else None
            if rec.chunked:
                rec.body = _dechunk(body_raw)
            if rec.op == "POST /" and rec.body:
                action = urllib.parse.parse_qs(rec.body.decode("latin-1")).get("Action")
                if action:
                    rec.op = action[0]

        if fault is None:
            fault = self._decide(rec, "body")

        if fault and fault.kind == "late":
            t = threading.Thread(target=self._deliver_late, args=(head, body_raw, rec, fault),
                                 name=f"faultproxy-late-{rec.seq}", daemon=True)
            with self._lock:
                self._late.append(t)
            t.start()
            self._apply_cut(sock, rec, stall())  # the client hears nothing until it gives up
            return False

        if fault and fault.stage == "body":
            if fault.kind == "error":
                self._send(sock, rec, *fault.response(rec), close=not keep)
                return keep
            if not self._apply_cut(sock, rec, fault):
                return False

        # Forward.
        try:
            status, reason, rheaders, rbody = self._forward(head, body_raw, rec)
        except (OSError, ValueError, _Gone) as e:
            rec.error = f"upstream: {e!r}"
            body = f"proxy: upstream failed: {e!r}\n".encode()
            self._send(sock, rec, 502, "Bad Gateway", [("Content-Type", "text/plain")], body,
                       close=True)
            return False
        rec.upstream_status = status

        if fault and fault.stage == "upstream":
            if fault.kind == "error":
                self._send(sock, rec, *fault.response(rec), close=not keep)
                return keep
            if not self._apply_cut(sock, rec, fault):
                return False

        if fault and fault.stage == "mid-response":
            half = len(rbody) // 2
            self._send(sock, rec, status, reason, rheaders, rbody, close=not keep, cut=half)
            if not self._apply_cut(sock, rec, fault):
                return False
            sock.sendall(rbody[half:])
            return keep

        self._send(sock, rec, status, reason, rheaders, rbody, close=not keep)
        return keep

    def _deliver_late(self, head, body_raw, rec, fault):
        deadline = time.monotonic() + fault.seconds
        while not self._closing.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            rec.upstream_status = self._forward(head, body_raw, rec)[0]
        except (OSError, ValueError, _Gone) as e:
            rec.error = f"late delivery: {e!r}"

    def _apply_cut(self, sock, rec, fault):
        """Reset, close or stall now; True when the exchange carries on (a timed stall)."""
        if fault.kind == "reset":
            _rst(sock)
            return False
        if fault.kind == "close":
            _fin(sock)
            return False
        if fault.kind == "stall":
            deadline = None if fault.seconds is None else time.monotonic() + fault.seconds
            while not self._closing.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    return True
                r, _, _ = select.select([sock], [], [], 0.05)
                if r:
                    try:
                        peek = sock.recv(1, socket.MSG_PEEK)
                    except OSError:
                        peek = b""
                    if not peek:
                        rec.error = "client closed the connection during the stall"
                        return False
                    time.sleep(0.05)  # the client is still sending: not gone
            return False
        raise ValueError(f"fault {fault.name} cannot be applied at {fault.stage}")

    def _forward(self, head, body_raw, rec):
        up = socket.create_connection(self.upstream, timeout=self.upstream_timeout)
        try:
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            up.sendall(head)
            if body_raw:
                up.sendall(body_raw)
            r = _Reader(up)
            while True:
                status_line = r.until(b"\r\n\r\n", MAX_HEAD)
                lines = status_line[:-4].decode("latin-1").split("\r\n")
                parts = lines[0].split(" ", 2)
                status = int(parts[1])
                reason = parts[2] if len(parts) > 2 else ""
                if 100 <= status < 200:
                    continue  # moto sends "100 Continue" twice for Expect: 100-continue
                break
            rheaders = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                rheaders.append((name.strip(), value.strip()))
            te = (_header(rheaders, "transfer-encoding") or "").lower()
            if rec.method == "HEAD" or status in (204, 304):
                body = b""
            elif "chunked" in te:
                body = _read_dechunked(r)
            elif _header(rheaders, "content-length") is not None:
                body = r.exact(int(_header(rheaders, "content-length")))
            else:
                body = r.rest()
            if len(body) <= KEEP_BODY:
                rec.response_body = body
            return status, reason, rheaders, body
        finally:
            up.close()

    def _send(self, sock, rec, status, reason, headers, body, close=False, cut=None):
        hop = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}
        if rec.method != "HEAD":
            hop.add("content-length")
        out = [f"HTTP/1.1 {status} {reason}"]
        for k, v in headers:
            if k.lower() not in hop:
                out.append(f"{k}: {v}")
        if rec.method != "HEAD" and status not in (204, 304):
            out.append(f"Content-Length: {len(body)}")
        elif rec.method == "HEAD" and _header(headers, "content-length") is None:
            out.append("Content-Length: 0")
        if close:
            out.append("Connection: close")
        data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        if rec.method != "HEAD":
            data += body if cut is None else body[:cut]
        rec.status = status
        sock.sendall(data)


def _dechunk(raw):
    out = bytearray()
    i = 0
    while True:
        j = raw.index(b"\r\n", i)
        size = int(raw[i:j].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += raw[j + 2:j + 2 + size]
        i = j + 2 + size + 2


def _read_dechunked(r):
    out = bytearray()
    while True:
        line = r.until(b"\r\n", MAX_HEAD)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while r.until(b"\r\n", MAX_HEAD) != b"\r\n":
                pass
            return bytes(out)
        out += r.exact(size)
        r.exact(2)


def main(argv=None):
    ap = argparse.ArgumentParser(description="fault-injecting reverse proxy for S3 tests")
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT (moto)")
    ap.add_argument("--rules", help="JSON file: a list of rules (see the module docstring)")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    rules = []
    if args.rules:
        with open(args.rules) as f:
            rules = parse_rules(json.load(f))
    log = None
    if args.log:
        lf = open(args.log, "a", buffering=1)
        lock = threading.Lock()

        def log(d):
            with lock:
                lf.write(json.dumps(d) + "\n")
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    with FaultProxy(args.upstream, rules, log=log, port=args.port) as proxy:
        print(f"endpoint {proxy.endpoint}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
