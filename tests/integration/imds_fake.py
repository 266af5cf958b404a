# SPDX-License-Identifier: GPL-2.0-only
"""A fake IMDSv2 on 127.0.0.1: instance identity, region and an instance role.

    with FakeIMDS(creds=[("ok", now + 600), ("500", None)]) as imds:
        subprocess.run([AGENT, ...], env=imds.env(os.environ))
    assert [r[0] for r in imds.requests] == ["PUT", "GET", "GET"]

IMDSv2 only: PUT /latest/api/token with a TTL header gets the token (or 403
with refuse_tokens=True, as from a service that allows only IMDSv1), and a
GET without the current token gets 401. It serves
  /latest/dynamic/instance-identity/document     DOCUMENT
  /latest/meta-data/placement/region             .region
  /latest/meta-data/iam/security-credentials/    the role's name (404 if role is None)
  /latest/meta-data/iam/security-credentials/<role>
      the next answer of creds, the last one repeating: ("ok", expiration)
      or ("404"|"500"|"malformed"|"truncated"|"failure", None). An "ok"
      answer is a new key pair: from issue() if given (a dict shaped like
      STS's Credentials), else the n-th numbered from 1 (ASIAFAKE1,
      SECRETfake1..., TOKENfake1...); expiration None is six hours from now.
Anything else gets 404.

Records: .requests (method, path, headers) of every request, .issued
(key, secret, token, expiration) per "ok" answer, .cred_requests.
rotate_token_after = n: the token stops being valid after the n-th request
for credentials (the next PUT hands out the new one).
"""
import http.server
import json
import threading
import time

CREDENTIALS = "/latest/meta-data/iam/security-credentials/"
TOKEN_PATH = "/latest/api/token"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class FakeIMDS:
    DOCUMENT = {"instanceId": "i-0123456789abcdef0", "region": "eu-west-1",
                "accountId": "111122223333", "architecture": "x86_64"}

    def __init__(self, creds=(("ok", None),), role="forensics-role", region="eu-west-1",
                 issue=None, refuse_tokens=False, rotate_token_after=None):
        fake = self
        self.creds = list(creds)
        self.role = role
        self.region = region
        self.issue = issue
        self.refuse_tokens = refuse_tokens
        self.token = "AQAEAFakeToken-1=="
        self.rotate_token_after = rotate_token_after
        self.requests = []
        self.issued = []
        self.cred_requests = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, code, body):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                with fake.lock:
                    fake.requests.append(("PUT", self.path, dict(self.headers)))
                    ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                    if self.path != TOKEN_PATH or not ttl:
                        return self.reply(400, "bad token request")
                    if fake.refuse_tokens:
                        return self.reply(403, "IMDSv2 disabled")
                    return self.reply(200, fake.token)

            def do_GET(self):
                with fake.lock:
                    fake.requests.append(("GET", self.path, dict(self.headers)))
                    if self.headers.get("X-aws-ec2-metadata-token") != fake.token:
                        return self.reply(401, "")
                    return self.reply(*fake.answer(self.path))

            def do_POST(self):
                with fake.lock:
                    fake.requests.append(("POST", self.path, dict(self.headers)))
                self.reply(405, "")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def answer(self, path):
        """(status, body) for a GET that carried the token."""
        if path == "/latest/dynamic/instance-identity/document":
            return 200, json.dumps(self.DOCUMENT)
        if path == "/latest/meta-data/placement/region":
            return 200, self.region
        if path == CREDENTIALS:
            return (404, "") if self.role is None else (200, self.role + "\n")
        if self.role is None or path != CREDENTIALS + self.role:
            return 404, ""
        kind, expiration = self.creds[min(self.cred_requests, len(self.creds) - 1)]
        self.cred_requests += 1
        if self.rotate_token_after is not None and self.cred_requests >= self.rotate_token_after:
            self.token = "AQAEAFakeToken-%d==" % (self.cred_requests + 1)
            self.rotate_token_after = None
        if kind in ("404", "500"):
            return int(kind), ""
        if kind == "malformed":
            return 200, '{"Code": "Success", "AccessKeyId": "ASIA'
        if kind == "truncated":
            return 200, "<html>not json</html>"
        if kind == "failure":
            return 200, json.dumps({"Code": "AssumeRoleUnauthorizedAccess",
                                    "Message": "EC2 cannot assume the role",
                                    "LastUpdated": iso(time.time())})
        if self.issue is not None:
            c = self.issue()
            key, secret, token = c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]
        else:
            n = len(self.issued) + 1
            key, secret, token = ("ASIAFAKE%d" % n, "SECRETfake%d/abc+def" % n,
                                  "TOKENfake%d//IQoJb3JpZ2luX2Vj" % n)
        if expiration is None:
            expiration = int(time.time()) + 6 * 3600
        self.issued.append((key, secret, token, expiration))
        return 200, json.dumps({"Code": "Success", "LastUpdated": iso(time.time()),
                                "Type": "AWS-HMAC", "AccessKeyId": key,
                                "SecretAccessKey": secret, "Token": token,
                                "Expiration": iso(expiration)})

    def env(self, base):
        """base (an environment) with the agent pointed at this fake, IMDS enabled."""
        e = {k: v for k, v in base.items() if k != "AWS_EC2_METADATA_DISABLED"}
        e["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.endpoint
        return e

    def gets(self):
        return [r for r in self.requests if r[0] == "GET"]

    def puts(self):
        return [r for r in self.requests if r[0] == "PUT"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
