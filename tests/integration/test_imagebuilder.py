#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""delivery/imagebuilder/forensics-agent.yaml: a well-formed AWSTOE component
document (schema 1.0; build, validate and test phases; real action names;
every {{ parameter }} declared and used, every chaining expression pointing at
a step input), and its phases run on this host in order, as AWSTOE would, with
the Debian package (`make deb`) in a moto S3 with signature checking:

  - ExecuteBash steps run with bash, parameters substituted;
  - S3Download (moto has no Image Builder or AWSTOE) is played by fetching the
    object from moto with a signed GetObject to the step's destination.

apt-get is replaced by a fake that logs and fails (this host's kernel has no
header package), so ModuleBuild=optional installs the agent without the
module, =required stops before downloading anything, and validate with
=required fails where no module was built. A wrong SHA-256 or a .rpm key on
this Debian host installs nothing. The package is purged after each run and
the test refuses to run over an installed forensics-agent.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BUILD, ROOT, Suite  # noqa: E402
from s3env import MotoServer  # noqa: E402

DOC = os.path.join(ROOT, "delivery", "imagebuilder", "forensics-agent.yaml")
TOOLS = "forensics-tools"
PKG = "forensics-agent"
# Action modules AWSTOE documents for Linux (a subset is enough to catch typos).
ACTIONS = {"ExecuteBash", "ExecuteBinary", "S3Download", "S3Upload", "WebDownload",
           "Reboot", "Assert", "SetFileOwner", "SetFilePermissions", "CreateFile",
           "AppendFile", "DeleteFile", "CopyFile", "MoveFile", "CreateFolder",
           "DeleteFolder", "ReadFile", "InstallMSI", "UpdateOS"}
PARAM = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CHAIN = re.compile(r"^(\w+)\.(\w+)\.inputs\[(\d+)\]\.(\w+)$")
DOWNLOAD_DIR = "/var/tmp/forensics-agent-install"


def load():
    with open(DOC) as f:
        return yaml.safe_load(f)


def version():
    return subprocess.run(["bash", "scripts/install-kmod-source.sh", "--version"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def params_of(doc):
    return {name: spec for p in doc["parameters"] for name, spec in p.items()}


def step_of(doc, phase, name):
    for ph in doc["phases"]:
        if ph["name"] == phase:
            for s in ph["steps"]:
                if s["name"] == name:
                    return s
    raise KeyError(f"{phase}.{name}")


def substitute(doc, text, values):
    def one(m):
        expr = m.group(1)
        if expr in values:
            return values[expr]
        c = CHAIN.match(expr)
        assert c, f"unknown expression {{{{ {expr} }}}}"
        phase, step, index, field = c.groups()
        return substitute(doc, step_of(doc, phase, step)["inputs"][int(index)][field], values)
    return PARAM.sub(one, text)


def strings(node):
    """Every string in a step's inputs, however nested."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def installed():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True)
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


class Runner:
    """Plays AWSTOE: phases in order, steps in order, the first failure stops the run."""

    def __init__(self, doc, aws, fakebin, tmp):
        self.doc, self.aws, self.fakebin, self.tmp = doc, aws, fakebin, tmp

    def run(self, values, phases=("build", "validate", "test"), only=None, env=None):
        full = {k: v.get("default") for k, v in params_of(self.doc).items()}
        full.update(values)
        assert all(v is not None for v in full.values()), full
        log = []
        for ph in self.doc["phases"]:
            if ph["name"] not in phases:
                continue
            for step in ph["steps"]:
                if only and step["name"] not in only:
                    continue
                rc, out = self.step(step, full, env or {})
                log.append((ph["name"], step["name"], rc, out))
                if rc != 0:
                    return log
        return log

    def step(self, step, values, extra_env):
        if step["action"] == "S3Download":
            for item in step["inputs"]:
                src = substitute(self.doc, item["source"], values)
                dst = substitute(self.doc, item["destination"], values)
                m = re.fullmatch(r"s3://([^/]+)/(.+)", src)
                assert m, src
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "wb") as f:
                    f.write(self.aws.get(m.group(1), m.group(2)))
            return 0, ""
        assert step["action"] == "ExecuteBash", step["action"]
        script = substitute(self.doc, "\n".join(step["inputs"]["commands"]), values)
        path = os.path.join(self.tmp, step["name"] + ".sh")
        with open(path, "w") as f:
            f.write(script)
        env = dict(os.environ, PATH=f"{self.fakebin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                   "/usr/bin:/sbin:/bin", **extra_env)
        p = subprocess.run(["bash", path], env=env, capture_output=True, text=True, timeout=120,
                           cwd=self.tmp)
        return p.returncode, p.stdout + p.stderr


def failed_at(log):
    ph, name, rc, out = log[-1]
    return None if rc == 0 else f"{ph}.{name}"


def text(log):
    return "\n".join(f"--- {ph}.{name} (exit {rc})\n{out}" for ph, name, rc, out in log)


def main():
    suite = Suite("imagebuilder")
    doc = load()
    ver = version()
    deb = os.path.join(BUILD, f"{PKG}_{ver}_amd64.deb")

    def structure():
        assert doc["schemaVersion"] in (1.0, "1.0"), doc["schemaVersion"]
        assert doc["name"] and doc["description"]
        assert [p["name"] for p in doc["phases"]] == ["build", "validate", "test"]
        params = params_of(doc)
        assert set(params) == {"PackageBucket", "PackageKey", "PackageSha256", "ModuleBuild"}
        for name, spec in params.items():
            assert spec["type"] == "string" and spec.get("description"), name
        used = set()
        for ph in doc["phases"]:
            names = [s["name"] for s in ph["steps"]]
            assert len(names) == len(set(names)), names
            for s in ph["steps"]:
                assert s["action"] in ACTIONS, s["action"]
                assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", s["name"]), s["name"]
                for expr in (e for t in strings(s["inputs"]) for e in PARAM.findall(t)):
                    if expr in params:
                        used.add(expr)
                    else:
                        c = CHAIN.match(expr)
                        assert c, expr
                        target = step_of(doc, c.group(1), c.group(2))
                        assert c.group(4) in target["inputs"][int(c.group(3))], expr
                if s["action"] == "ExecuteBash":
                    assert isinstance(s["inputs"]["commands"], list)
                    body = substitute(doc, "\n".join(s["inputs"]["commands"]), {
                        "PackageBucket": "b", "PackageKey": "k.deb", "PackageSha256": "0" * 64,
                        "ModuleBuild": "optional"})
                    p = subprocess.run(["bash", "-n"], input=body, capture_output=True, text=True)
                    assert p.returncode == 0, (s["name"], p.stderr)
                else:
                    assert isinstance(s["inputs"], list), s["name"]
        assert used == set(params), used
        dl = step_of(doc, "build", "DownloadPackage")
        assert dl["action"] == "S3Download"
        assert dl["inputs"][0]["source"] == "s3://{{ PackageBucket }}/{{ PackageKey }}"
        install = "\n".join(step_of(doc, "build", "InstallPackage")["inputs"]["commands"])
        assert install.index("sha256sum") < install.index("dpkg -i") < install.index("rpm -U")
    suite.run("structure: schema 1.0, build/validate/test, AWSTOE actions, parameters and "
              "chaining resolve, bash -n", structure)

    if installed() or os.path.exists("/usr/sbin/forensics-agent"):
        suite.fail("host", AssertionError(f"{PKG} is installed here already; not touching it"))
        return suite.finish()
    if os.path.exists(DOWNLOAD_DIR):
        suite.fail("host", AssertionError(f"{DOWNLOAD_DIR} exists already; not touching it"))
        return suite.finish()
    release = os.uname().release
    assert not os.path.exists(f"/lib/modules/{release}/build"), \
        "this test expects a kernel without headers (apt-get is faked)"

    p = subprocess.run(["make", "-s", "deb", f"BUILD={BUILD}"], cwd=ROOT, capture_output=True,
                       text=True)
    if p.returncode != 0 or not os.path.exists(deb):
        suite.fail("make deb", AssertionError(p.stderr[-1500:]))
        return suite.finish()
    with open(deb, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()

    with tempfile.TemporaryDirectory(prefix="test_imagebuilder.") as tmp, \
            MotoServer(auth=True) as aws:
        aws.create_bucket(TOOLS)
        key = f"packages/{os.path.basename(deb)}"
        aws.put(TOOLS, key, data)
        aws.put(TOOLS, "packages/forensics-agent.rpm", data)
        fakebin = os.path.join(tmp, "bin")
        os.makedirs(fakebin)
        calls = os.path.join(tmp, "apt-calls")
        with open(os.path.join(fakebin, "apt-get"), "w") as f:
            f.write(f'#!/bin/sh\necho "apt-get $*" >>{calls}\nexit ${{FAKE_APT_RC:-100}}\n')
        os.chmod(os.path.join(fakebin, "apt-get"), 0o755)
        runner = Runner(doc, aws, fakebin, tmp)
        base = {"PackageBucket": TOOLS, "PackageKey": key, "PackageSha256": sha}

        def purge():
            if installed() or os.path.exists("/usr/sbin/forensics-agent"):
                subprocess.run(["dpkg", "-P", PKG], capture_output=True)

        def apt_calls():
            if not os.path.exists(calls):
                return []
            try:
                with open(calls) as f:
                    return f.read().splitlines()
            finally:
                if os.path.exists(calls):
                    os.unlink(calls)

        def headers_step():
            want = ["apt-get update -q", f"apt-get install -y -q dkms linux-headers-{release}"]
            only = {"InstallKernelHeaders"}
            log = runner.run(dict(base, ModuleBuild="required"), only=only)
            assert failed_at(log) == "build.InstallKernelHeaders", text(log)
            assert "could not be installed (exit 100)" in log[-1][3], text(log)
            assert apt_calls() == want[:1]  # apt-get update failed: no install
            # apt-get says it worked but the headers are still missing: not good enough.
            log = runner.run(dict(base, ModuleBuild="required"), only=only, env={"FAKE_APT_RC": "0"})
            assert failed_at(log) == "build.InstallKernelHeaders", text(log)
            assert "could not be installed (exit 0)" in log[-1][3], text(log)
            assert apt_calls() == want
            log = runner.run(dict(base, ModuleBuild="optional"), only=only)
            assert failed_at(log) is None and "will not be built" in log[-1][3], text(log)
            assert apt_calls() == want[:1]
            log = runner.run(dict(base, ModuleBuild="skip"), only={"InstallKernelHeaders"})
            assert failed_at(log) is None and apt_calls() == [], text(log)
        suite.run("InstallKernelHeaders: apt-get installs dkms and linux-headers-$(uname -r); "
                  "required fails without them, optional goes on, skip leaves apt alone",
                  headers_step)

        def full_optional():
            try:
                log = runner.run(dict(base, ModuleBuild="optional"))
                assert failed_at(log) is None, text(log)
                steps = [f"{ph}.{n}" for ph, n, _, _ in log]
                assert steps == ["build.CheckParameters", "build.InstallKernelHeaders",
                                 "build.DownloadPackage", "build.InstallPackage",
                                 "validate.ValidateAgent", "validate.ValidateModule",
                                 "test.TestAgent"], steps
                out = text(log)
                assert f"no kernel headers for {release}" in out, out  # the postinst said so
                assert f"installed forensics-agent {ver}" in out, out
                assert installed(), "dpkg does not list the package"
                assert not os.path.exists(DOWNLOAD_DIR), "the download was left behind"
                got = subprocess.run(["/usr/sbin/forensics-agent", "--version"],
                                     capture_output=True, text=True).stdout.strip()
                assert got == f"forensics-agent {ver}", got
                # The same image judged with ModuleBuild=required: no module, validate fails.
                log = runner.run(dict(base, ModuleBuild="required"), phases=("validate",))
                assert failed_at(log) == "validate.ValidateModule", text(log)
                assert "the module is not built" in log[-1][3], text(log)
                log = runner.run(dict(base, ModuleBuild="required"), phases=("test",))
                assert failed_at(log) == "test.TestAgent", text(log)
            finally:
                purge()
            assert not installed() and not os.path.exists("/usr/sbin/forensics-agent")
        suite.run("ModuleBuild=optional: downloaded from S3, SHA-256 checked, dpkg -i, validate "
                  "and test pass without a module; required then fails validate and test",
                  full_optional)

        def full_required():
            try:
                log = runner.run(dict(base, ModuleBuild="required"))
                assert failed_at(log) == "build.InstallKernelHeaders", text(log)
                assert not installed() and not os.path.exists(DOWNLOAD_DIR)
            finally:
                purge()
        suite.run("ModuleBuild=required without installable headers: stops before the download",
                  full_required)

        def wrong_sha():
            try:
                log = runner.run(dict(base, ModuleBuild="skip", PackageSha256="ab" * 32))
                assert failed_at(log) == "build.InstallPackage", text(log)
                assert f"is {sha}, expected {'ab' * 32}: not installed" in log[-1][3], text(log)
                assert not installed() and not os.path.exists("/usr/sbin/forensics-agent")
                assert not os.path.exists(DOWNLOAD_DIR), "the download was left behind"
            finally:
                purge()
        suite.run("wrong PackageSha256: nothing installed, the download removed", wrong_sha)

        def wrong_kind():
            for values, why in (
                    (dict(base, PackageKey="packages/forensics-agent.rpm"), "not packages/"),
                    (dict(base, PackageSha256="xyz"), "PackageSha256 is not"),
                    (dict(base, PackageKey="pkg.tar.gz"), "must end in .deb or .rpm"),
                    (dict(base, ModuleBuild="always"), "ModuleBuild must be"),
                    (dict(base, PackageBucket="Bad_Bucket"), "not a bucket name")):
                log = runner.run(dict(values))
                assert failed_at(log) == "build.CheckParameters", text(log)
                assert why in log[-1][3], (why, text(log))
                assert not installed() and not os.path.exists(DOWNLOAD_DIR)
        suite.run("CheckParameters: a .rpm on this Debian host, bad SHA-256, key, mode or bucket "
                  "stop the build first", wrong_kind)

    purge_left = installed() or os.path.exists("/usr/sbin/forensics-agent")
    if purge_left:
        subprocess.run(["dpkg", "-P", PKG], capture_output=True)
        suite.fail("host left as found", AssertionError(f"{PKG} was still installed"))
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
