#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""delivery/ssm/forensics-acquire.json: valid, accepted by moto's SSM (with
signature checking), and its script actually run here: the real agent fetched
from a tools bucket (s3:// with the aws CLI; an http presigned URL with curl),
its SHA-256 checked, a file source captured into an evidence bucket. A wrong
SHA-256 runs nothing and uploads nothing.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import AGENT, Suite, read, write  # noqa: E402
from s3env import MotoServer  # noqa: E402
from ssmdoc import DOC, PARAM, load, run_script, script  # noqa: E402

TOOLS, EVIDENCE = "forensics-tools", "forensics-evidence"
MIB = 1 << 20


def main():
    suite = Suite("ssm_document")
    if not suite.require(AGENT, "make agent"):
        return suite.finish()
    doc = load()
    agent_sha = hashlib.sha256(read(AGENT)).hexdigest()

    def sample_values():
        return {"EvidenceBucket": EVIDENCE, "EvidencePrefix": "cases/IR-7/i-0123/",
                "CaseId": "IR-7", "AgentUrl": f"s3://{TOOLS}/agent/forensics-agent",
                "AgentSha256": agent_sha, "Region": "us-east-1"}

    def structure():
        assert doc["schemaVersion"] == "2.2"
        steps = doc["mainSteps"]
        assert len(steps) == 1 and steps[0]["action"] == "aws:runShellScript", steps
        used = set(PARAM.findall(json.dumps(steps)))
        assert used == set(doc["parameters"]), (used, set(doc["parameters"]))
        for name, spec in doc["parameters"].items():
            assert spec["type"] == "String" and spec.get("description"), name
            if "default" in spec and "allowedPattern" in spec:
                assert re.fullmatch(spec["allowedPattern"], spec["default"]), name
        assert doc["parameters"]["Source"]["default"] == "auto"
        body = "\n".join(steps[0]["inputs"]["runCommand"])
        assert "--log-format json" in body and "sha256sum" in body and "/dev/shm" in body
        # No parameter may close the single quotes it is substituted into.
        for name, spec in doc["parameters"].items():
            pattern = spec.get("allowedPattern")
            if pattern:
                assert not re.fullmatch(pattern, "a'b"), name
        for shell in ("bash", "sh"):
            p = subprocess.run([shell, "-n"], input=script(doc, sample_values()).encode(),
                               capture_output=True)
            assert p.returncode == 0, (shell, p.stderr)
    suite.run("structure: schema 2.2, runShellScript, every parameter used and quoted safely",
              structure)

    with tempfile.TemporaryDirectory(prefix="test_ssm_document.") as tmp, \
            MotoServer(auth=True) as aws:
        def in_ssm():
            ssm = aws.client("ssm")
            content = read(DOC).decode()
            r = ssm.create_document(Content=content, Name="forensics-acquire",
                                    DocumentType="Command", DocumentFormat="JSON")
            assert r["DocumentDescription"]["Status"] in ("Active", "Creating"), r
            got = {p["Name"] for p in r["DocumentDescription"]["Parameters"]}
            assert got == set(doc["parameters"]), got
            d = ssm.describe_document(Name="forensics-acquire")["Document"]
            assert d["SchemaVersion"] == "2.2" and d["DocumentType"] == "Command", d
            back = ssm.get_document(Name="forensics-acquire")
            assert json.loads(back["Content"]) == doc
            ec2 = aws.client("ec2")
            image = ec2.describe_images()["Images"][0]["ImageId"]
            iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
                "InstanceId"]
            params = {k: [v] for k, v in sample_values().items()}
            cmd = ssm.send_command(InstanceIds=[iid], DocumentName="forensics-acquire",
                                   Parameters=params, Comment="forensics case IR-7: memory")
            cmd = cmd["Command"]
            assert cmd["DocumentName"] == "forensics-acquire" and cmd["Parameters"] == params, cmd
            inv = ssm.get_command_invocation(CommandId=cmd["CommandId"], InstanceId=iid)
            assert inv["Status"] == "Success", inv
            # A wrong secret is refused: signature checking is on.
            bad = aws.client("ssm", secret_key="wrong")
            try:
                bad.describe_document(Name="forensics-acquire")
                raise AssertionError("a wrong signature was accepted")
            except bad.exceptions.ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403), e.response
        suite.run("create_document, describe/get_document, send_command in moto (SigV4 on)",
                  in_ssm)

        aws.create_bucket(TOOLS)
        aws.create_bucket(EVIDENCE)
        aws.put(TOOLS, "agent/forensics-agent", read(AGENT))
        mem = write(os.path.join(tmp, "mem"), os.urandom(4 * MIB))
        iomem = write(os.path.join(tmp, "iomem"), b"00001000-0009fbff : System RAM\n"
                      b"00100000-003fffff : System RAM\n")
        extra = f"--source file --source-path {mem} --iomem {iomem} --path-style"

        def run(values, shell="bash"):
            return run_script(doc, values, aws.env(), tmp, shell=shell)

        def check_uploaded(p, prefix):
            assert p.returncode == 0, p.stderr.decode()[-1500:]
            lines = [json.loads(x) for x in p.stderr.decode().splitlines() if x.strip()]
            manifest = [r for r in lines if r.get("event") == "manifest"]
            assert manifest, lines[-3:]
            key = manifest[-1]["manifest"]["image"]["s3"]["key"]
            assert key.startswith(prefix) and key.endswith(".lime.zst"), key
            keys = aws.list_keys(EVIDENCE, prefix)
            assert key in keys and key + ".manifest.json" in keys, keys
            stored = json.loads(aws.get(EVIDENCE, key + ".manifest.json"))
            assert stored["case_id"] == "IR-7", stored
            assert sorted(os.listdir(tmp)) == ["iomem", "mem"], os.listdir(tmp)

        def run_s3():
            v = sample_values()
            v.update(ExtraArgs=extra, EvidencePrefix="cases/IR-7/s3-fetch")
            check_uploaded(run(v), "cases/IR-7/s3-fetch/")
        suite.run("script run here: agent from s3:// (aws CLI), SHA-256 ok, image+manifest in S3",
                  run_s3)

        def run_session_dash():
            v = sample_values()
            v.update(ExtraArgs=extra, EvidencePrefix="cases/IR-7/session",
                     CredentialsMode="session", SessionAccessKeyId=aws.access_key,
                     SessionSecretAccessKey=aws.secret_key)
            check_uploaded(run(v, shell="sh"), "cases/IR-7/session/")
        suite.run("script under sh (dash), CredentialsMode session", run_session_dash)

        def wrong_sha():
            v = sample_values()
            v.update(ExtraArgs=extra, EvidencePrefix="cases/IR-7/wrong", AgentSha256="0" * 64)
            p = run(v)
            assert p.returncode != 0
            err = p.stderr.decode().strip().splitlines()
            assert len(err) == 1 and "does not match" in err[0], err
            assert json.loads(err[0])["level"] == "error"
            assert aws.list_keys(EVIDENCE, "cases/IR-7/wrong") == []
            assert aws.list_multipart_uploads(EVIDENCE) == []
        suite.run("wrong AgentSha256: one error line, exit non-zero, nothing uploaded", wrong_sha)

    # moto answers presigned URLs with HTTP 500 while it checks signatures.
    with tempfile.TemporaryDirectory(prefix="test_ssm_document.") as tmp, \
            MotoServer(auth=False) as aws:
        aws.create_bucket(TOOLS)
        aws.create_bucket(EVIDENCE)
        aws.put(TOOLS, "agent/forensics-agent", read(AGENT))
        mem = write(os.path.join(tmp, "mem"), os.urandom(2 * MIB))
        iomem = write(os.path.join(tmp, "iomem"), b"00001000-0009fbff : System RAM\n"
                      b"00100000-001fffff : System RAM\n")

        def run_presigned():
            url = aws.s3().generate_presigned_url(
                "get_object", Params={"Bucket": TOOLS, "Key": "agent/forensics-agent"},
                ExpiresIn=600)
            v = sample_values()
            v.update(AgentUrl=url, EvidencePrefix="cases/IR-7/presigned",
                     ExtraArgs=f"--source file --source-path {mem} --iomem {iomem} --path-style")
            env = aws.env()
            env["PATH"] = "/usr/bin:/bin"  # no aws CLI needed for an https URL
            p = run_script(doc, v, env, tmp)
            assert p.returncode == 0, p.stderr.decode()[-1500:]
            keys = aws.list_keys(EVIDENCE, "cases/IR-7/presigned/")
            assert any(k.endswith(".lime.zst.manifest.json") for k in keys), keys
            assert any(k.endswith(".lime.zst") for k in keys), keys
        suite.run("script run here: agent from a presigned http URL (curl)", run_presigned)

    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
