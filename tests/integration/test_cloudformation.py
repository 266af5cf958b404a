#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""delivery/cloudformation/: the three templates linted (cfn-lint and our own
reference check), their IAM policies compared with what the controller calls
(controller/*.c) and with docs/iam.md, then deployed to moto's CloudFormation
as three separate accounts with signature checking on (forensics, security,
member, in that order, each stack taking the outputs of the one before) and
every resource read back through its own service's API with boto3.

moto 5.2.1 does not apply everything a template says; what it leaves out is
checked on the template itself, and said so (delivery/README.md):
  - AWS::S3::Bucket: only BucketEncryption and Tags are applied. Versioning,
    Object Lock and the public access block are checked in the template, and
    the template's Object Lock rule is applied through the S3 API to a bucket
    of the same account to show S3 takes it and locks a new version with it.
  - AWS::S3::BucketPolicy, AWS::Events::EventBusPolicy and
    AWS::SecurityHub::ActionTarget are not supported: created as nothing.
  - AWS::IAM::Role: ManagedPolicyArns are not attached.
  - AWS::KMS::Key: a KeyPolicy map is stored unserialized, so every KMS call
    that checks the key policy (DescribeKey, GetKeyPolicy) answers HTTP 500;
    the key policy is checked as the template renders it.
  - Lambda answers SignatureDoesNotMatch to every signed request: the function
    is read back from the security stack deployed again in a moto without
    signature checking.
  - AWS::Lambda::Function: Architectures and DeadLetterConfig are not applied;
    AWS::S3::Bucket drops BucketKeyEnabled from the encryption rule.
  - events TestEventPattern answers nothing: the rules' patterns are matched
    with moto's own EventBridge matcher (what its PutEvents routing uses).
"""
import ast
import base64
import hashlib
import json
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3env  # noqa: E402
from common import BUILD, ROOT, Suite, check  # noqa: E402
from s3env import ALLOW_ALL, MotoServer  # noqa: E402

TEMPLATES = os.path.join(ROOT, "delivery", "cloudformation")
CONTROLLER = os.path.join(BUILD, "forensics-controller")
ACCOUNTS = {"forensics": "111111111111", "security": "222222222222", "member": "333333333333"}
EVIDENCE, MODULES, CODE = "fx-evidence", "fx-modules", "fx-lambda-code"
EXTERNAL_ID = "forensics-ext-7f3a"
AGENT_SHA = hashlib.sha256(b"forensics-agent").hexdigest()
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId",
          "AWS::NoValue", "AWS::URLSuffix", "AWS::NotificationARNs"}


# ---- templates: YAML with CloudFormation's short tags

class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Condition" if suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _tag)


def load(name):
    with open(os.path.join(TEMPLATES, f"{name}.yaml")) as f:
        return yaml.load(f, Loader=CfnLoader)


def body(name):
    with open(os.path.join(TEMPLATES, f"{name}.yaml")) as f:
        return f.read()


def walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


def references(node):
    """(kind, name) of every Ref, GetAtt, ${...} and Condition use under node."""
    for n in walk(node):
        if not isinstance(n, dict) or len(n) != 1:
            continue
        (k, v), = n.items()
        if k == "Ref":
            yield "Ref", v
        elif k == "Fn::GetAtt":
            yield "GetAtt", v[0] + "." + v[1]
        elif k == "Fn::Sub":
            text, local = (v, {}) if isinstance(v, str) else (v[0], v[1])
            for var in SUB_VAR.findall(text):
                if var not in local:
                    yield ("GetAtt" if "." in var and not var.startswith("AWS::") else "Ref"), var
        elif k == "Fn::If":
            yield "Condition", v[0]
        elif k == "Condition" and isinstance(v, str):
            yield "Condition", v


class Renderer:
    """Evaluates the intrinsics our templates use, for comparing documents."""

    def __init__(self, template, params, account, region, attrs):
        self.t = template
        self.values = {"AWS::AccountId": account, "AWS::Region": region,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
        for name, spec in template.get("Parameters", {}).items():
            v = params.get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(v, str):
                v = v.split(",")
            self.values[name] = v
        self.attrs = attrs  # "Logical" (Ref) and "Logical.Attr" -> value
        self.conditions = {}

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.render(self.t["Conditions"][name])
        return self.conditions[name]

    def ref(self, name):
        if name in self.values:
            return self.values[name]
        return self.attrs[name]

    def render(self, n):
        if isinstance(n, list):
            return [x for x in (self.render(v) for v in n) if x is not NOVALUE]
        if not isinstance(n, dict):
            return n
        if len(n) == 1:
            (k, v), = n.items()
            if k == "Ref":
                return NOVALUE if v == "AWS::NoValue" else self.ref(v)
            if k == "Fn::GetAtt":
                return self.attrs[v[0] + "." + v[1]]
            if k == "Fn::Sub":
                text, local = (v, {}) if isinstance(v, str) else (v[0], self.render(v[1]))
                return SUB_VAR.sub(lambda m: str(local.get(m.group(1)) or (
                    self.attrs[m.group(1)] if "." in m.group(1) and not m.group(1).startswith(
                        "AWS::") else self.ref(m.group(1)))), text)
            if k == "Fn::Join":
                return v[0].join(str(x) for x in self.render(v[1]))
            if k == "Fn::If":
                return self.render(v[1] if self.condition(v[0]) else v[2])
            if k == "Fn::Equals":
                a, b = self.render(v)
                return a == b
            if k == "Fn::Not":
                return not self.render(v[0])
            if k == "Condition":
                return self.condition(v)
        return {k: r for k, r in ((k, self.render(v)) for k, v in n.items()) if r is not NOVALUE}


NOVALUE = object()


def statements(doc):
    s = doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(v):
    return v if isinstance(v, list) else [v]


def allowed_actions(doc):
    return {a for s in statements(doc) if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def role_policies(template):
    """{role logical id: {policy name: document}} of the template's inline policies."""
    out = {}
    for lid, r in template["Resources"].items():
        if r["Type"] == "AWS::IAM::Role":
            out[lid] = {p["PolicyName"]: p["PolicyDocument"] for p in r["Properties"].get(
                "Policies", [])}
    return out


# ---- what the controller calls, read from its source

def controller_calls():
    """{service: {API names}} called by the controller: its program and libraries."""
    calls = {}
    pattern = re.compile(r'\b(ec2|iam|ssm|sns|sts|asg|elb|elbv2)\s*,\s*"([A-Z][A-Za-z]+)"')
    profiles = re.compile(r'"((?:Associate|Replace|Disassociate)IamInstanceProfile\w*)"')
    # detach.c names the group's calls in a table: detach, its fallbacks, and their undoing.
    groups = re.compile(r'"((?:Detach|Attach)Instances|(?:Enter|Exit)Standby|'
                        r'SetInstanceProtection)"')
    iam_prefix = {"asg": "autoscaling", "elb": "elasticloadbalancing",
                  "elbv2": "elasticloadbalancing"}
    for path in controller_sources():
        with open(path) as f:
            text = f.read()
        for service, api in pattern.findall(text):
            calls.setdefault(iam_prefix.get(service, service), set()).add(api)
        for api in profiles.findall(text):
            calls.setdefault("ec2", set()).add(api)
        for api in groups.findall(text):
            calls.setdefault("autoscaling", set()).add(api)
    return calls


def controller_sources():
    """The C files of the controller and the libraries that make its AWS calls."""
    out = []
    for d in ("controller", os.path.join("lib", "response"), os.path.join("lib", "aws")):
        src = os.path.join(ROOT, d)
        out += [os.path.join(src, n) for n in sorted(os.listdir(src)) if n.endswith(".c")]
    return out


def writer_session_actions():
    """The actions of the session policy the controller hands the agent."""
    text = ""
    for path in controller_sources():
        with open(path) as f:
            text += f.read()
    start = re.search(r"^(?:static )?int \w*writer_credentials\(", text, re.M).start()
    fn = text[start:text.index("\n}\n", start)]
    actions = "".join(re.findall(r'Action\\":\[(.*?)\]', fn, re.S))
    return set(re.findall(r'\\"((?:s3|kms):\w+)\\"', actions))


# ---- docs/iam.md: "### <template> <Role> <Policy>" headings, then | `action` | ... rows

def documented_actions():
    with open(os.path.join(ROOT, "docs", "iam.md")) as f:
        text = f.read()
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^### `(\w+)\.yaml` (\w+) / (\S+)", line)
        if m:
            current = (m.group(1), m.group(2), m.group(3))
            out[current] = {"Allow": set(), "Deny": set()}
            continue
        if line.startswith("## ") or line.startswith("### "):
            current = None
            continue
        m = re.match(r"^\| (Allow|Deny) \| `([\w*:-]+)` \|", line)
        if current and m:
            out[current][m.group(1)].add(m.group(2))
    return out


def policy_actions(doc):
    out = {"Allow": set(), "Deny": set()}
    for s in statements(doc):
        out[s["Effect"]].update(as_list(s["Action"]))
    return out


# ---- moto with three accounts

class Accounts(MotoServer):
    """moto with signature checking and one IAM user (allow-all) per account.

    The nine free actions create them, each in its account (moto's
    x-moto-account-id header); afterwards each key acts in its own account
    and a wrong secret is refused."""

    def start(self):
        # Three users need nine free actions, not MotoServer's three.
        launcher = s3env._LAUNCHER
        s3env._LAUNCHER = ("import os\n"
                           "os.environ['INITIAL_NO_AUTH_ACTION_COUNT'] = '9'\n") + launcher
        try:
            return super().start()
        finally:
            s3env._LAUNCHER = launcher

    def _bootstrap_auth(self):
        self.keys = {}
        for name, account in ACCOUNTS.items():
            iam = self.client("iam", access_key="bootstrap", secret_key="bootstrap")
            iam.meta.events.register(
                "before-sign",
                lambda request, a=account, **kw: request.headers.__setitem__(
                    "x-moto-account-id", a))
            iam.create_user(UserName="deployer")
            iam.put_user_policy(UserName="deployer", PolicyName="allow-all",
                                PolicyDocument=ALLOW_ALL)
            key = iam.create_access_key(UserName="deployer")["AccessKey"]
            self.keys[name] = (key["AccessKeyId"], key["SecretAccessKey"])
        self.access_key, self.secret_key = self.keys["security"]
        self.check_signatures()

    def of(self, account, service, region=None):
        access, secret = self.keys[account]
        if not region:
            return self.client(service, access_key=access, secret_key=secret)
        saved, self.region = self.region, region
        try:
            return self.client(service, access_key=access, secret_key=secret)
        finally:
            self.region = saved


def deploy(moto, account, name, params):
    cf = moto.of(account, "cloudformation") if isinstance(moto, Accounts) else \
        moto.client("cloudformation")
    cf.create_stack(StackName=name, TemplateBody=body(name),
                    Capabilities=["CAPABILITY_NAMED_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                for k, v in params.items()])
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    check(stack["StackStatus"] == "CREATE_COMPLETE",
          f"{name}: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    resources = {r["LogicalResourceId"]: r for r in
                 cf.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return resources, outputs


def document(doc):
    """A policy document as IAM gives it back. moto 5.2.1 answers a template's
    document given as a map (with a condition) as Python's repr of the dict."""
    if not isinstance(doc, str):
        return doc
    try:
        return json.loads(doc)
    except ValueError:
        return ast.literal_eval(doc)


def inline_policy(iam, role, policy):
    return document(iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"])


def trust(iam, role):
    return document(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def pattern_matches(pattern, event):
    """moto's EventBridge matcher, the one its PutEvents routing uses."""
    from moto.events.models import EventPattern
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


def tag_event(account, value, changed=("SecurityIncidentStatus",), resource_type="instance",
              service="ec2"):
    return {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Tag Change on Resource", "source": "aws.tag", "account": account,
        "time": "2026-11-28T17:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1:{account}:instance/i-0123456789abcdef0"],
        "detail": {"changed-tag-keys": list(changed), "service": service,
                   "resource-type": resource_type, "version": 3,
                   "tags": {"SecurityIncidentStatus": value, "Name": "web-1"}},
    }


def hub_event(account, action_arn):
    return {
        "version": "0", "id": "1a2b", "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub", "account": account, "time": "2026-11-28T17:00:00Z",
        "region": "us-east-1", "resources": [action_arn],
        "detail": {"actionName": "Forensics analyze", "findings": [{"Resources": [{
            "Type": "AwsEc2Instance",
            "Id": "arn:aws:ec2:us-east-1:333333333333:instance/i-0123456789abcdef0"}]}]},
    }


def main():
    suite = Suite("cloudformation")
    names = ("forensics", "security", "member")
    templates = {n: load(n) for n in names}

    def lint_cfn_lint():
        r = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; "
                            "sys.exit(main())", "--format", "parseable"] +
                           [os.path.join(TEMPLATES, f"{n}.yaml") for n in names],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"cfn-lint: {r.stdout or r.stderr}")

    def lint_references():
        for name, t in templates.items():
            params = set(t.get("Parameters", {}))
            resources = t["Resources"]
            conditions = set(t.get("Conditions", {}))
            used_params, used_conditions = set(), set()
            for kind, ref in references(t):
                if kind == "Ref":
                    check(ref in params or ref in resources or ref in PSEUDO,
                          f"{name}: Ref {ref} resolves to nothing")
                    used_params.add(ref)
                elif kind == "GetAtt":
                    lid = ref.split(".")[0]
                    check(lid in resources, f"{name}: GetAtt {ref}: no resource {lid}")
                else:
                    check(ref in conditions, f"{name}: condition {ref} undefined")
                    used_conditions.add(ref)
            for lid, r in resources.items():
                if "Condition" in r:
                    check(r["Condition"] in conditions, f"{name}: {lid}'s condition")
                    used_conditions.add(r["Condition"])
                for dep in as_list(r.get("DependsOn", [])):
                    check(dep in resources, f"{name}: {lid} DependsOn {dep}")
            for o in t.get("Outputs", {}).values():
                if "Condition" in o:
                    used_conditions.add(o["Condition"])
            check(params <= used_params, f"{name}: unused parameters {params - used_params}")
            check(conditions <= used_conditions,
                  f"{name}: unused conditions {conditions - used_conditions}")

    def lint_wiring():
        # An output feeding the next template has a parameter of the same name there,
        # and names both templates default must agree.
        f, s, m = (templates[n] for n in names)
        for out, consumers in {"EvidenceBucketName": (s,), "EvidenceKeyArn": (s, m),
                               "EvidencePrefix": (s,), "RecordPrefix": (s,),
                               "ModuleStoreBucketName": (m,)}.items():
            check(out in f["Outputs"], f"forensics.yaml has no output {out}")
            for c in consumers:
                check(out in c["Parameters"], f"no parameter {out} for forensics' output")
        with open(os.path.join(ROOT, "lib", "response", "ssmdoc.h")) as fh:
            default_doc = re.search(r'SSMDOC_DEFAULT_NAME "([^"]+)"', fh.read()).group(1)
        for t in (s, m):
            check(t["Parameters"]["DocumentName"]["Default"] == default_doc, default_doc)
        for out in ("ControllerRoleName", "ForensicsEventBusArn"):
            check(out in s["Outputs"] and out in m["Parameters"], out)
        # The controller's profiles by name are member.yaml's instance profiles.
        for sp, mp in (("DenyProfile", "IsolationRoleName"), ("SsmProfile", "SsmRoleName")):
            check(s["Parameters"][sp]["Default"] == m["Parameters"][mp]["Default"], (sp, mp))
        for a, b in ((f, s), (f, m), (s, m)):
            for p in set(a["Parameters"]) & set(b["Parameters"]):
                da, db = a["Parameters"][p].get("Default"), b["Parameters"][p].get("Default")
                check(da == db, f"parameter {p}: defaults differ ({da!r}, {db!r})")

    def policies_match_controller():
        calls = controller_calls()
        member = role_policies(templates["member"])["ResponseRole"]["Respond"]
        security = role_policies(templates["security"])
        acts = allowed_actions(member)
        for service in ("ec2", "ssm", "autoscaling", "elasticloadbalancing"):
            wanted = {f"{service}:{a}" for a in calls[service]}
            have = {a for a in acts if a.startswith(service + ":")}
            check(wanted == have, f"response role {service}: missing {wanted - have}, "
                  f"not called {have - wanted}")
        iam = {a for a in acts if a.startswith("iam:")}
        check(iam == {f"iam:{a}" for a in calls["iam"]} | {"iam:PassRole"},
              f"response role iam: {iam} against calls {calls['iam']}")
        check(calls["sns"] == {"Publish"} and calls["sts"] == {"AssumeRole", "GetCallerIdentity"},
              f"the controller calls more than the templates know: {calls}")
        ctl = allowed_actions(security["ControllerRole"]["Controller"])
        check({"sns:Publish", "sts:AssumeRole"} <= ctl, ctl)
        check({a for a in ctl if a.startswith("s3:")} == {"s3:ListBucket", "s3:GetObject",
                                                        "s3:PutObject"}, ctl)
        writer = allowed_actions(security["WriterRole"]["WriteEvidence"])
        session = writer_session_actions()
        check(len(session) == 7, f"session policy actions not found in assume.c: {session}")
        check(writer == session,
              f"writer role {writer} against the session policy {session}")
        bucket = templates["forensics"]["Resources"]["EvidenceBucketPolicy"]["Properties"]
        puts = [s for s in statements(bucket["PolicyDocument"]) if s["Sid"] == "WriterPutsEvidence"]
        check(set(puts[0]["Action"]) == {a for a in session if a.startswith("s3:")},
              "the bucket policy's writer statement")
        isolation = role_policies(templates["member"])["IsolationRole"]["DenyAll"]
        check(statements(isolation) == [{"Sid": "DenyAll", "Effect": "Deny", "Action": "*",
                                         "Resource": "*"}], isolation)

    def policies_documented():
        docs = documented_actions()
        seen = set()
        for name, t in templates.items():
            for role, pols in role_policies(t).items():
                for pol, doc in pols.items():
                    key = (name, role, pol)
                    check(key in docs, f"docs/iam.md has no section for {key}")
                    seen.add(key)
                    check(docs[key] == policy_actions(doc),
                          f"docs/iam.md {key}: {docs[key]} against {policy_actions(doc)}")
        check(set(docs) - seen <= {("security", "WriterRole", "session")},
              f"docs/iam.md documents policies not in the templates: {set(docs) - seen}")
        check(docs.get(("security", "WriterRole", "session"), {}).get("Allow") ==
              writer_session_actions(), "docs/iam.md: the writer's session policy")

    for title, fn in (("cfn-lint passes all three templates", lint_cfn_lint),
                      ("every Ref, GetAtt, ${} and condition resolves; every parameter used",
                       lint_references),
                      ("outputs feed parameters of the same name; shared defaults agree",
                       lint_wiring),
                      ("IAM actions are exactly what controller/*.c calls",
                       policies_match_controller),
                      ("docs/iam.md lists every policy's actions", policies_documented)):
        suite.run(title, fn)

    if not suite.require(CONTROLLER, "make controller"):
        return suite.finish()
    zipped = subprocess.run(["bash", os.path.join(ROOT, "delivery", "lambda", "build-zip.sh"),
                             BUILD], capture_output=True, text=True, cwd=ROOT)
    if zipped.returncode:
        suite.fail("build-zip.sh", RuntimeError(zipped.stderr))
        return suite.finish()
    zip_path = zipped.stdout.strip().splitlines()[-1]
    if not os.path.isabs(zip_path):
        zip_path = os.path.join(ROOT, zip_path)

    with Accounts(auth=True) as moto:
        state = {}

        def accounts_separate():
            for name, account in ACCOUNTS.items():
                got = moto.of(name, "sts").get_caller_identity()["Account"]
                check(got == account, f"{name}: acting as {got}")

        def forensics_stack():
            res, out = deploy(moto, "forensics", "forensics", {
                "SecurityAccountId": ACCOUNTS["security"],
                "MemberAccountIds": ACCOUNTS["member"],
                "EvidenceBucketName": EVIDENCE, "ModuleStoreBucketName": MODULES,
                "ObjectLockMode": "COMPLIANCE", "ObjectLockRetentionDays": "30"})
            state["forensics"] = (res, out)
            s3, kms = moto.of("forensics", "s3"), moto.of("forensics", "kms")
            check(out["EvidenceBucketName"] == EVIDENCE, out)
            key_arn = out["EvidenceKeyArn"]
            check(key_arn.startswith(f"arn:aws:kms:us-east-1:{ACCOUNTS['forensics']}:key/"),
                  key_arn)
            rule = s3.get_bucket_encryption(Bucket=EVIDENCE)[
                "ServerSideEncryptionConfiguration"]["Rules"][0]
            check(rule["ApplyServerSideEncryptionByDefault"] == {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, rule)
            # moto drops BucketKeyEnabled: the template says it.
            check(templates["forensics"]["Resources"]["EvidenceBucket"]["Properties"][
                "BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
                "BucketKeyEnabled"] is True, "BucketKeyEnabled")
            rule = s3.get_bucket_encryption(Bucket=MODULES)[
                "ServerSideEncryptionConfiguration"]["Rules"][0]
            check(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rule)
            key_id = key_arn.split("/")[-1]
            check([k["KeyArn"] for k in kms.list_keys()["Keys"]] == [key_arn], "one key")
            aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
            check(aliases.get("alias/forensics-evidence") == key_id, aliases)
            # moto keeps a KeyPolicy given as a map unserialized, and then every
            # call that checks the key policy (DescribeKey, GetKeyPolicy, ...)
            # fails with HTTP 500: the policy is checked as the template renders it.
            try:
                kms.describe_key(KeyId=key_arn)
            except kms.exceptions.ClientError as e:
                check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 500, e.response)
            props = templates["forensics"]["Resources"]["EvidenceKey"]["Properties"]
            check(props["EnableKeyRotation"] is True, "rotation")
            policy = Renderer(templates["forensics"], {
                "SecurityAccountId": ACCOUNTS["security"],
                "MemberAccountIds": ACCOUNTS["member"]}, ACCOUNTS["forensics"], "us-east-1",
                {}).render(props["KeyPolicy"])
            by_sid = {s["Sid"]: s for s in policy["Statement"]}
            sec = ACCOUNTS["security"]
            w = by_sid["ControllerAndWriterThroughS3"]
            check(w["Principal"] == {"AWS": f"arn:aws:iam::{sec}:root"} and
                  set(w["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"} and
                  set(w["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == {
                      f"arn:aws:iam::{sec}:role/ForensicsController",
                      f"arn:aws:iam::{sec}:role/ForensicsEvidenceWriter"}, w)
            a = by_sid["AnalystsDecryptThroughS3"]
            check(a["Action"] == "kms:Decrypt" and a["Condition"]["ArnEquals"][
                "aws:PrincipalArn"] == out["AnalystRoleArn"], a)
            m = by_sid["MemberResponseRolesCopySnapshotsThroughEc2"]
            check(m["Condition"]["StringEquals"]["aws:PrincipalAccount"] == [ACCOUNTS["member"]], m)
            check(by_sid["MemberResponseRolesGrantToEbs"]["Condition"]["Bool"] ==
                  {"kms:GrantIsForAWSResource": "true"}, by_sid)
            check(not [s for s in policy["Statement"] if s["Principal"] == "*" or (
                s["Principal"] == {"AWS": "*"} and "aws:PrincipalAccount" not in
                s.get("Condition", {}).get("StringEquals", {}))], "an unconditioned * principal")
            iam = moto.of("forensics", "iam")
            t = trust(iam, "ForensicsAnalyst")["Statement"][0]
            check(t["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNTS['forensics']}:root"} and
                  t["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, t)
            read = inline_policy(iam, "ForensicsAnalyst", "ReadEvidence")
            check(not any(a.startswith("s3:Put") or a.startswith("s3:Delete")
                          for a in allowed_actions(read)), read)

        def evidence_bucket_template():
            # What moto's CloudFormation does not apply, checked in the template.
            props = templates["forensics"]["Resources"]["EvidenceBucket"]["Properties"]
            check(props["VersioningConfiguration"] == {"Status": "Enabled"}, props)
            check(props["ObjectLockEnabled"] is True, props)
            check(props["LifecycleConfiguration"]["Rules"] == [
                {"Id": "AbortIncompleteUploads", "Status": "Enabled",
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}], props)
            lock = props["ObjectLockConfiguration"]
            check(lock["ObjectLockEnabled"] == "Enabled" and lock["Rule"]["DefaultRetention"] ==
                  {"Mode": {"Ref": "ObjectLockMode"}, "Days": {"Ref": "ObjectLockRetentionDays"}},
                  lock)
            for b in ("EvidenceBucket", "ModuleStoreBucket"):
                p = templates["forensics"]["Resources"][b]["Properties"]
                check(p["PublicAccessBlockConfiguration"] == dict.fromkeys(
                    ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                     "RestrictPublicBuckets"), True), b)
                check(p["OwnershipControls"]["Rules"] == [{"ObjectOwnership":
                                                           "BucketOwnerEnforced"}], b)
            res = templates["forensics"]["Resources"]
            for pol in ("EvidenceBucketPolicy", "ModuleStoreBucketPolicy"):
                tls = statements(res[pol]["Properties"]["PolicyDocument"])[0]
                check(tls["Effect"] == "Deny" and tls["Action"] == "s3:*" and
                      tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, tls)
            sse = {s["Sid"]: s for s in statements(res["EvidenceBucketPolicy"]["Properties"][
                "PolicyDocument"])}
            check(sse["DenyOtherEncryption"]["Condition"] == {"StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption": "aws:kms"}}, sse)
            check(sse["DenyOtherKey"]["Condition"]["StringNotEqualsIfExists"][
                "s3:x-amz-server-side-encryption-aws-kms-key-id"] == {
                    "Fn::GetAtt": ["EvidenceKey", "Arn"]}, sse)
            # The template's lock rule, with the values given to the stack, through the S3 API.
            r = Renderer(templates["forensics"], {"ObjectLockMode": "COMPLIANCE",
                                                  "ObjectLockRetentionDays": 30},
                         ACCOUNTS["forensics"], "us-east-1", {})
            s3 = moto.of("forensics", "s3")
            s3.create_bucket(Bucket="fx-lock-rule", ObjectLockEnabledForBucket=True)
            rendered = r.render(lock)
            s3.put_object_lock_configuration(Bucket="fx-lock-rule", ObjectLockConfiguration={
                "ObjectLockEnabled": rendered["ObjectLockEnabled"],
                "Rule": {"DefaultRetention": {"Mode": rendered["Rule"]["DefaultRetention"]["Mode"],
                                              "Days": int(rendered["Rule"]["DefaultRetention"][
                                                  "Days"])}}})
            got = s3.get_object_lock_configuration(Bucket="fx-lock-rule")[
                "ObjectLockConfiguration"]
            kept = got["Rule"]["DefaultRetention"]
            check((kept["Mode"], kept["Days"], kept.get("Years", 0)) == ("COMPLIANCE", 30, 0), got)
            v = s3.put_object(Bucket="fx-lock-rule", Key="evidence/IR-1/i-1/x", Body=b"x")
            head = s3.head_object(Bucket="fx-lock-rule", Key="evidence/IR-1/i-1/x",
                                  VersionId=v["VersionId"])
            check(head.get("ObjectLockMode") == "COMPLIANCE" and
                  head.get("ObjectLockRetainUntilDate"), head)
            try:
                s3.delete_object(Bucket="fx-lock-rule", Key="evidence/IR-1/i-1/x",
                                 VersionId=v["VersionId"])
            except s3.exceptions.ClientError as e:
                check(e.response["Error"]["Code"] == "AccessDenied", e.response["Error"])
            else:
                raise AssertionError("a locked version was deleted")

        def security_stack():
            _, fout = state["forensics"]
            s3 = moto.of("security", "s3")
            s3.create_bucket(Bucket=CODE)
            with open(zip_path, "rb") as f:
                data = f.read()
            s3.put_object(Bucket=CODE, Key="forensics-controller-lambda.zip", Body=data)
            params = {
                "ForensicsAccountId": fout["ForensicsAccountId"], "ForensicsRegion": "us-east-1",
                "MemberAccountIds": ACCOUNTS["member"],
                "EvidenceBucketName": fout["EvidenceBucketName"],
                "EvidenceKeyArn": fout["EvidenceKeyArn"], "EvidencePrefix": fout["EvidencePrefix"],
                "RecordPrefix": fout["RecordPrefix"], "LambdaCodeBucket": CODE,
                "ModuleStoreBucketName": fout["ModuleStoreBucketName"], "AgentSha256": AGENT_SHA,
                "ExternalId": EXTERNAL_ID}
            res, out = deploy(moto, "security", "security", params)
            state["security"] = (res, out, params)
            sec = ACCOUNTS["security"]
            # moto's Lambda answers SignatureDoesNotMatch to every signed request:
            # the function is read back from the same stack deployed in a moto
            # without signature checking.
            with MotoServer(auth=False) as plain:
                plain.s3().create_bucket(Bucket=CODE)
                plain.s3().put_object(Bucket=CODE, Key="forensics-controller-lambda.zip",
                                      Body=data)
                deploy(plain, None, "security", params)
                lam = plain.client("lambda")
                fn = lam.get_function(FunctionName="forensics-controller")["Configuration"]
                state["lambda_policy"] = json.loads(lam.get_policy(
                    FunctionName="forensics-controller")["Policy"])
            check(fn["Runtime"] == "provided.al2023" and fn["Handler"] == "bootstrap", fn)
            check(out["ControllerRoleArn"] == f"arn:aws:iam::{sec}:role/ForensicsController" and
                  fn["Role"] == out["ControllerRoleArn"].replace(sec, s3env.ACCOUNT_ID),
                  fn["Role"])
            check(fn["Timeout"] == 900 and fn["MemorySize"] == 256, fn)
            check(fn["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
                  and fn["CodeSize"] == len(data), "the function's code is not the zip")
            env = fn["Environment"]["Variables"]
            check(env["FORENSICS_ROLE_NAME"] == "ForensicsResponse", env)
            opts = env["FORENSICS_OPTIONS"].split()
            pairs = dict(zip(opts[::2], opts[1::2]))
            check(len(opts) % 2 == 0 and pairs == {
                "--external-id": EXTERNAL_ID,
                "--record": f"s3://{EVIDENCE}/records/", "--record-region": "us-east-1",
                "--evidence": f"s3://{EVIDENCE}/evidence/",
                "--writer-role-arn": out["WriterRoleArn"].replace(sec, s3env.ACCOUNT_ID),
                "--kms-key": fout["EvidenceKeyArn"], "--share-with": ACCOUNTS["forensics"],
                "--topic-arn": out["TopicArn"].replace(sec, s3env.ACCOUNT_ID),
                "--log-format": "json",
                "--deny-profile": "ForensicsIsolation", "--ssm-profile": "ForensicsSsmInstance",
                "--document": "forensics-acquire",
                "--agent-url": f"s3://{MODULES}/agent/forensics-agent",
                "--agent-sha256": AGENT_SHA}, pairs)
            state["options"] = opts
            sns = moto.of("security", "sns")
            topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
            check(out["TopicArn"] in topics and out["TopicArn"].startswith(
                f"arn:aws:sns:us-east-1:{sec}:"), topics)
            logs = moto.of("security", "logs").describe_log_groups(
                logGroupNamePrefix="/aws/lambda/forensics-controller")["logGroups"]
            check(len(logs) == 1 and logs[0].get("retentionInDays") == 365, logs)
            iam = moto.of("security", "iam")
            check(trust(iam, "ForensicsController")["Statement"][0]["Principal"] ==
                  {"Service": "lambda.amazonaws.com"}, "controller trust")
            check(trust(iam, "ForensicsEvidenceWriter")["Statement"][0]["Principal"] ==
                  {"AWS": out["ControllerRoleArn"]}, "writer trust")
            check(iam.get_role(RoleName="ForensicsEvidenceWriter")["Role"][
                "MaxSessionDuration"] == 3600, "writer sessions: an hour at most")
            renderer = Renderer(templates["security"], params, sec, "us-east-1", {
                "Topic": out["TopicArn"], "ControllerRole.Arn": out["ControllerRoleArn"],
                "ControllerLogGroup.Arn":
                    f"arn:aws:logs:us-east-1:{sec}:log-group:/aws/lambda/forensics-controller"})
            for role, name, pol in (("ControllerRole", "ForensicsController", "Controller"),
                                    ("WriterRole", "ForensicsEvidenceWriter", "WriteEvidence")):
                want = renderer.render(role_policies(templates["security"])[role][pol])
                got = inline_policy(iam, name, pol)
                check(got == want, f"{name}/{pol} in IAM differs from the template:\n{got}\n{want}")
            ctl = inline_policy(iam, "ForensicsController", "Controller")
            assume = [s for s in statements(ctl) if s["Action"] == "sts:AssumeRole"]
            check({s["Resource"] for s in assume} == {
                "arn:aws:iam::*:role/ForensicsResponse", out["WriterRoleArn"]}, assume)

        def security_rules():
            res, out, _ = state["security"]
            sec = ACCOUNTS["security"]
            ev = moto.of("security", "events")
            buses = {b["Name"]: b["Arn"] for b in ev.list_event_buses()["EventBuses"]}
            check(buses.get("forensics") == out["ForensicsEventBusArn"] ==
                  f"arn:aws:events:us-east-1:{sec}:event-bus/forensics", buses)
            tag = ev.describe_rule(Name="forensics-tag-change", EventBusName="forensics")
            hub = ev.describe_rule(Name="forensics-securityhub-action")
            for rule, bus in ((tag, "forensics"), (hub, "default")):
                targets = ev.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
                check([t["Arn"] for t in targets] == [out["FunctionArn"]], targets)
            tp, hp = json.loads(tag["EventPattern"]), json.loads(hub["EventPattern"])
            state["tag_pattern"] = tp
            member = ACCOUNTS["member"]
            for value, want in (("Analyze", True), ("Contain", True), ("Released", False),
                                ("analyze", False)):
                check(pattern_matches(tp, tag_event(member, value)) is want, (value, want))
            check(not pattern_matches(tp, tag_event(member, "Analyze", changed=("Name",))),
                  "a change of another tag while the status is set must not match")
            check(not pattern_matches(tp, tag_event(member, "Analyze", resource_type="volume")),
                  "a volume's tag")
            action = out["SecurityHubActionTargetArn"]
            check(action == f"arn:aws:securityhub:us-east-1:{sec}:action/custom/ForensicsAnalyze",
                  action)
            check(pattern_matches(hp, hub_event(sec, action)), "the custom action's event")
            check(not pattern_matches(hp, hub_event(sec, action.replace("Forensics", "Other"))),
                  "another custom action")
            pol = state["lambda_policy"]  # from the moto without signature checking
            sources = {s["Condition"]["ArnLike"]["AWS:SourceArn"].replace(s3env.ACCOUNT_ID, sec)
                       for s in pol["Statement"]
                       if s["Principal"] == {"Service": "events.amazonaws.com"}}
            check(sources == {tag["Arn"], hub["Arn"]}, sources)
            # Not created by moto: checked in the template.
            r = templates["security"]["Resources"]
            st = r["ForensicsBusPolicy"]["Properties"]["Statement"]
            check(st["Action"] == "events:PutEvents" and st["Principal"] ==
                  {"AWS": {"Ref": "MemberAccountIds"}}, st)
            check(r["SecurityHubAction"]["Properties"]["Id"] == {"Ref": "SecurityHubActionId"},
                  r["SecurityHubAction"])

        def controller_takes_the_options():
            # The function's options as the runtime would pass them: accepted by
            # the controller's parser (a usage error is exit 2), with an
            # instance and case; the record read then fails at once (moto
            # refuses the unknown key).
            opts = state["options"]
            env = s3env.clean_env()
            env.update({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.endpoint,
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                        "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
            r = subprocess.run([CONTROLLER, "respond", "i-0123456789abcdef0", "--case", "IR-1",
                                "--role-arn", "arn:aws:iam::333333333333:role/ForensicsResponse"]
                               + opts, capture_output=True, text=True, env=env, timeout=120)
            # 20 (refused credentials): every option parsed, and the run got as far
            # as reading the record.
            check(r.returncode == 20 and '"event":"usage"' not in r.stderr and
                  "cannot read the case record s3://fx-evidence/records/IR-1/" in r.stderr,
                  f"exit {r.returncode}: {r.stderr[-800:]}")

        def member_stack():
            _, fout = state["forensics"]
            _, sout, _ = state["security"]
            params = {"SecurityAccountId": ACCOUNTS["security"],
                      "ControllerRoleName": sout["ControllerRoleName"],
                      "ExternalId": EXTERNAL_ID, "ForensicsAccountId": ACCOUNTS["forensics"],
                      "EvidenceKeyArn": fout["EvidenceKeyArn"],
                      "ModuleStoreBucketName": fout["ModuleStoreBucketName"],
                      "ForensicsEventBusArn": sout["ForensicsEventBusArn"]}
            res, out = deploy(moto, "member", "member", params)
            mem = ACCOUNTS["member"]
            iam = moto.of("member", "iam")
            t = trust(iam, "ForensicsResponse")["Statement"]
            check(t == [{"Effect": "Allow", "Principal": {"AWS": sout["ControllerRoleArn"]},
                         "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}], t)
            renderer = Renderer(templates["member"], params, mem, "us-east-1", {})
            want = renderer.render(role_policies(templates["member"])["ResponseRole"]["Respond"])
            check(inline_policy(iam, "ForensicsResponse", "Respond") == want, "response policy")
            deny = inline_policy(iam, "ForensicsIsolation", "DenyAll")
            check(statements(deny) == [{"Sid": "DenyAll", "Effect": "Deny", "Action": "*",
                                        "Resource": "*"}], deny)
            for profile, role in (("ForensicsIsolation", "ForensicsIsolation"),
                                  ("ForensicsSsmInstance", "ForensicsSsmInstance")):
                p = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
                check([r["RoleName"] for r in p["Roles"]] == [role], p)
                check(trust(iam, role)["Statement"][0]["Principal"] ==
                      {"Service": "ec2.amazonaws.com"}, role)
            check(out["IsolationInstanceProfileArn"] ==
                  f"arn:aws:iam::{mem}:instance-profile/ForensicsIsolation", out)
            # moto's AWS::IAM::Role ignores ManagedPolicyArns: the template says it.
            check(templates["member"]["Resources"]["SsmRole"]["Properties"][
                "ManagedPolicyArns"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                                                     "AmazonSSMManagedInstanceCore"}], "SSM role")
            store = inline_policy(iam, "ForensicsSsmInstance", "ReadModuleStore")
            check(statements(store)[0]["Action"] == "s3:GetObject" and statements(store)[0][
                "Resource"] == f"arn:aws:s3:::{MODULES}/*", store)
            ev = moto.of("member", "events")
            rule = ev.describe_rule(Name="forensics-tag-change-forward")
            check(json.loads(rule["EventPattern"]) == state["tag_pattern"],
                  "the forwarding rule and the forensics bus's rule must match the same events")
            targets = ev.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            fwd = iam.get_role(RoleName="ForensicsEventForwarder-us-east-1")["Role"]
            check([(x["Arn"], x.get("RoleArn")) for x in targets] ==
                  [(sout["ForensicsEventBusArn"], fwd["Arn"])], targets)
            put = inline_policy(iam, fwd["RoleName"], "Forward")
            check(statements(put)[0]["Resource"] == sout["ForensicsEventBusArn"], put)
            # The stacks stayed in their own accounts.
            check(not [r for r in moto.of("security", "iam").list_roles()["Roles"]
                       if r["RoleName"] == "ForensicsResponse"], "member role in security")

        def member_without_iam():
            _, fout = state["forensics"]
            _, sout, _ = state["security"]
            cf = moto.of("member", "cloudformation", region="eu-west-1")
            cf.create_stack(StackName="member-eu", TemplateBody=body("member"),
                            Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[
                                {"ParameterKey": k, "ParameterValue": v} for k, v in {
                                    "SecurityAccountId": ACCOUNTS["security"],
                                    "ExternalId": EXTERNAL_ID,
                                    "ForensicsAccountId": ACCOUNTS["forensics"],
                                    "EvidenceKeyArn": fout["EvidenceKeyArn"],
                                    "ModuleStoreBucketName": MODULES,
                                    "ForensicsEventBusArn": sout["ForensicsEventBusArn"],
                                    "CreateIam": "false"}.items()])
            stack = cf.describe_stacks(StackName="member-eu")["Stacks"][0]
            check(stack["StackStatus"] == "CREATE_COMPLETE", stack)
            # moto lists the resources a false condition left out with no type.
            types = sorted(r["ResourceType"] for r in cf.list_stack_resources(
                StackName="member-eu")["StackResourceSummaries"] if r["ResourceType"])
            check(types == ["AWS::Events::Rule", "AWS::IAM::Role"], types)

        for title, fn in (
                ("three accounts, each acting as itself", accounts_separate),
                ("forensics stack: buckets' encryption, KMS key, rotation, alias, key policy, "
                 "analyst role", forensics_stack),
                ("evidence bucket: versioning, Object Lock, public access block and policies "
                 "in the template; its lock rule taken by S3 and enforced",
                 evidence_bucket_template),
                ("security stack: Lambda from the zip, options, roles and policies as written",
                 security_stack),
                ("security rules: bus, targets, patterns match Analyze/Contain and the "
                 "custom action only, invoke permissions", security_rules),
                ("the function's FORENSICS_OPTIONS parse in the controller",
                 controller_takes_the_options),
                ("member stack: response role trust with external id, policies, profiles, "
                 "forwarding rule", member_stack),
                ("member stack with CreateIam=false: only the forwarding rule and its role",
                 member_without_iam)):
            if fn in (evidence_bucket_template, security_stack, security_rules, member_stack,
                      member_without_iam, controller_takes_the_options) and \
                    "forensics" not in state:
                suite.fail(title, RuntimeError("the forensics stack did not deploy"))
                continue
            suite.run(title, fn)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
