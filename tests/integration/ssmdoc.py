# SPDX-License-Identifier: GPL-2.0-only
"""The SSM Command document delivery/ssm/forensics-acquire.json as the tests use
it: loaded, parameter values checked against its allowedPattern/allowedValues,
its script rendered with SSM's {{ Name }} substitution (defaults filled) and
run on this host, as SSM Agent would run it on an instance.

    doc = load()
    p = run_script(doc, {"EvidenceBucket": ..., "CaseId": ..., ...}, env=moto.env(), cwd=tmp)
"""
import json
import os
import re
import subprocess

from common import ROOT

DOC = os.path.join(ROOT, "delivery", "ssm", "forensics-acquire.json")
NAME = "forensics-acquire"
PARAM = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def load():
    with open(DOC) as f:
        return json.load(f)


def check_values(doc, values):
    """Every value a string its parameter's allowedPattern / allowedValues accepts."""
    params = doc["parameters"]
    for k, v in values.items():
        assert k in params, f"the document has no parameter {k}"
        spec = params[k]
        assert isinstance(v, str), f"{k}={v!r} is not a string"
        if "allowedPattern" in spec:
            assert re.fullmatch(spec["allowedPattern"], v), f"{k}={v!r} fails its pattern"
        if "allowedValues" in spec:
            assert v in spec["allowedValues"], f"{k}={v!r} not allowed"


def script(doc, values):
    """The runShellScript body with SSM's {{ Name }} substitution (defaults filled)."""
    full = {k: v.get("default") for k, v in doc["parameters"].items()}
    full.update(values)
    for k, v in full.items():
        assert v is not None, f"parameter {k} has no default and no value"
    check_values(doc, full)
    body = "\n".join(doc["mainSteps"][0]["inputs"]["runCommand"]) + "\n"
    return PARAM.sub(lambda m: full[m.group(1)], body)


def shm_entries():
    return {n for n in os.listdir("/dev/shm") if n.startswith("forensics-agent.")}


def run_script(doc, values, env, cwd, shell="bash", timeout=180):
    """The document's script run here with these parameter values; the agent it
    fetched must be gone from the tmpfs afterwards. Returns the CompletedProcess
    (the agent's JSON-lines log is on stderr)."""
    before = shm_entries()
    p = subprocess.run([shell], input=script(doc, values).encode(), env=env,
                       capture_output=True, timeout=timeout, cwd=cwd)
    assert shm_entries() == before, "the agent was left in /dev/shm"
    return p
