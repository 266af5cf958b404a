#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Source selection on a real kernel: every failure explained, then fall through.

Boots Debian 6.1 (CONFIG_STRICT_DEVMEM=y, no /dev/crash) and runs the agent
in the guest with each source forced, then with /proc/kcore made unusable so
automatic selection has to fail over every source. Each run prints its exit
code and its JSON log on the console, which this test reads.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from guest import Guest  # noqa: E402

AGENT = os.path.join(REPO, os.environ.get("BUILD", "build"), "forensics-agent")

GUEST_SCRIPT = r"""#!/bin/sh
run() {
	name=$1; shift
	/bin/forensics-agent acquire --log-format json --no-bundle "$@" -o - \
		>/dev/null 2>/run/$name.log
	echo "RUN $name rc=$?"
	sed "s/^/LOG $name /" /run/$name.log
}
run devmem --source devmem
run crash --source crash
run kcore-small --source kcore --chunk-size 4096 --iomem /run/small-iomem
# kcore that opens but is not an ELF core, and a lockdown file that says
# confidentiality (which the ebpf source refuses): automatic selection must
# fall through ebpf, kcore, crash and devmem, and say why for each.
mount --bind /dev/null /proc/kcore
echo "none integrity [confidentiality]" >/run/lockdown
mount --bind /run/lockdown /sys/kernel/security/lockdown
run auto
echo "SOURCES-DONE"
"""

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))


def main():
    kernel_dir = subprocess.run([os.path.join(HERE, "fetch-kernel.sh"), "6.1"], check=True,
                                stdout=subprocess.PIPE, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="qemu-sources-")
    script = os.path.join(work, "test.sh")
    with open(script, "w") as f:
        # A one-range map keeps the forced-kcore run short under TCG.
        f.write(GUEST_SCRIPT.replace(
            "#!/bin/sh\n",
            "#!/bin/sh\nprintf '00100000-008fffff : System RAM\\n' >/run/small-iomem\n", 1))
    initrd = os.path.join(work, "initrd.gz")
    subprocess.run([os.path.join(HERE, "build-initramfs.sh"), "--test", script, kernel_dir,
                    AGENT, initrd], check=True)
    with Guest(kernel_dir, initrd, mem_mib=256, workdir=work) as guest:
        guest.start()
        guest.wait_for(r"SOURCES-DONE", timeout=300,
                       fail_pattern=r"INIT-FAIL|Kernel panic|TEST-EXIT")
        lines = list(guest.lines)

    rc, logs = {}, {}
    for line in lines:
        m = re.search(r"RUN (\S+) rc=(\d+)", line)
        if m:
            rc[m.group(1)] = int(m.group(2))
        m = re.search(r"LOG (\S+) (\{.*\})\s*$", line)
        if m:
            logs.setdefault(m.group(1), []).append(json.loads(m.group(2)))

    def messages(name, level):
        return [r["msg"] for r in logs.get(name, []) if r["level"] == level]

    check("devmem forced: exit 3", rc.get("devmem") == 3, str(rc.get("devmem")))
    check("devmem: STRICT_DEVMEM named",
          any("STRICT_DEVMEM" in m for m in messages("devmem", "warning")),
          str(messages("devmem", "warning")))
    check("crash forced: exit 3, driver absent", rc.get("crash") == 3 and
          any("/dev/crash absent" in m for m in messages("crash", "warning")),
          str(logs.get("crash")))
    check("kcore forced on a small map: exit 0", rc.get("kcore-small") == 0,
          str(logs.get("kcore-small")))
    manifest = [r for r in logs.get("kcore-small", []) if r["event"] == "manifest"]
    check("kcore: manifest says how addresses were mapped", bool(manifest) and
          "p_paddr" in manifest[0]["manifest"]["source"]["detail"], str(manifest)[:300])
    check("automatic with kcore broken: exit 3", rc.get("auto") == 3, str(rc.get("auto")))
    warnings = messages("auto", "warning")
    for source, words in (("ebpf", "confidentiality"), ("kcore", "not an x86-64 ELF core"),
                          ("crash", "absent"),
                          ("devmem", "STRICT_DEVMEM")):
        check("automatic: %s failure explained" % source,
              any(m.startswith("source %s unavailable" % source) and words in m
                  for m in warnings), str(warnings))
    check("automatic: one error line", len(messages("auto", "error")) == 1,
          str(messages("auto", "error")))
    subprocess.run(["rm", "-rf", work])
    failed = results.count(False)
    print("sources: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
