#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Guest test of the ebpf memory source on Debian 5.10, 6.1 and 6.12.

    test_ebpf_guest.py [--series 6.1 ...] [--mode kallsyms|probed ...]
                       [test_capture_kcore.py options]

For each kernel series and each way of finding the direct map, one full
capture of a 512 MiB guest (TCG) with

    forensics-agent acquire --source ebpf --output - | nc 10.0.2.2 PORT

judged against the hypervisor's copy of guest RAM by test_capture_kcore's
run() (>= 99% identical pages, planted pages at pfn*4096, >= 99% of System
RAM covered, manifest hashes equal to the bytes received).

  kallsyms  Debian's kernels list page_offset_base in /proc/kallsyms
            (KALLSYMS_ALL): the source reads it and verifies it.
  probed    /proc/kallsyms is hidden (/dev/null bound over it), as on a
            kernel without KALLSYMS_ALL: the source must find the base by
            probing with its planted pages, under the guest's KASLR.

The manifest's source detail must say which way was used, and the guest's
kernel log must show no warning, BUG or oops.

Then one short boot of 6.1 with lockdown=confidentiality: the source must
refuse with that reason (and the agent fall through, finding nothing else
open under that lockdown). Prints one PASS/FAIL line per run and a final
`ebpf_guest: N passed, M failed`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import groundtruth  # noqa: E402
import test_capture_kcore as tck  # noqa: E402
from guest import Guest, GuestError, raise_on_sigterm  # noqa: E402

SERIES = ("5.10", "6.1", "6.12")
MODES = ("kallsyms", "probed")
DETAIL_PREFIX = {"kallsyms": "kallsyms page_offset_base", "probed": "probed: pattern page"}
BASE_SCRIPT = tck.GUEST_SCRIPT


def guest_script(mode):
    """test_capture_kcore's guest script, with kallsyms hidden for 'probed'
    and the kernel log's complaints printed before the capture is declared done."""
    script = BASE_SCRIPT
    start = 'echo "CAPTURE-START"\n'
    done = 'echo "CAPTURE-DONE '
    if start not in script or done not in script:
        raise RuntimeError("test_capture_kcore.GUEST_SCRIPT changed shape")
    if mode == "probed":
        script = script.replace(start, "mount --bind /dev/null /proc/kallsyms\n" + start, 1)
    return script.replace(done, "dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace' | "
                          "sed 's/^/DMESG /'\n" + done, 1)


def run_one(args, series, mode):
    """(ok, summary line)."""
    args.series = series
    args.agent_args = "acquire --source ebpf --output -"
    tck.GUEST_SCRIPT = guest_script(mode)
    workdir = tempfile.mkdtemp(prefix="qemu-ebpf-%s-%s-" % (series, mode))
    name = "ebpf %s, %s" % (series, mode)
    ok = False
    try:
        report, figures, timings, failures, seed = tck.run(args, workdir)
        detail = (figures.get("source") or {}).get("detail", "")
        if not detail.startswith(DETAIL_PREFIX[mode]):
            failures.append("source detail %r does not start with %r"
                            % (detail, DETAIL_PREFIX[mode]))
        with open(os.path.join(workdir, "console.log"), errors="replace") as f:
            console = f.read().splitlines()
        complaints = [ln.strip() for ln in console if "DMESG " in ln]
        if complaints:
            failures.append("kernel log: %s" % complaints[:3])
        manifest = (tck.agent_manifest(console) or {}).get("manifest", {})
        unreadable = manifest.get("unreadable", [])
        print("%s: seed 0x%x, workdir %s" % (name, seed, workdir))
        print("\n".join(groundtruth.summary_lines(report)))
        print("  detail: %s" % detail)
        print("  zero-filled %s bytes in %d unreadable spans%s" % (
            manifest.get("image", {}).get("bytes_zero_filled"), len(unreadable),
            ": " + ", ".join("%s-%s %s" % (u["start"], u["end"], u["reason"])
                             for u in unreadable[:4]) if unreadable else ""))
        print("  timings: " + ", ".join("%s %.1fs" % kv for kv in timings.items()))
        for failure in failures:
            print("FAIL: " + failure)
        ok = not failures
        summary = ("%s: %s capture, %.3f%% identical pages (%.3f%% of unchanged ones), "
                   "%.2f%% of RAM, %d/%d planted pages, %.0fs"
                   % ("PASS" if ok else "FAIL", name, 100.0 * report["identical_fraction"],
                      100.0 * report.get("stable_fraction", 0),
                      100.0 * report.get("ram_coverage", 0), report["plant_found"],
                      report["plant_expected"], timings["total"]))
    except (GuestError, subprocess.CalledProcessError, OSError) as exc:
        print("FAIL: %s" % exc)
        summary = "FAIL: %s capture: %s" % (name, str(exc).splitlines()[0])
    finally:
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not ok:
            print("files kept in %s" % workdir)
    print(summary, flush=True)
    return ok


LOCKDOWN_SCRIPT = r"""#!/bin/sh
printf '00100000-001fffff : System RAM\n' >/run/small-iomem
run() {
	name=$1; shift
	/bin/forensics-agent acquire --log-format json --no-bundle --iomem /run/small-iomem \
		"$@" -o - >/dev/null 2>/run/$name.log
	echo "RUN $name rc=$?"
	sed "s/^/LOG $name /" /run/$name.log
}
echo "LOCKDOWN-MODE $(cat /sys/kernel/security/lockdown)"
run auto --no-modules
run forced --source ebpf
echo "LOCKDOWN-DONE"
"""


def lockdown_refusal(args, series="6.1"):
    """lockdown=confidentiality: ebpf refuses with that reason, automatic
    selection falls through it (and through kcore and /dev/mem, which that
    lockdown closes too), a forced ebpf fails with exit 3."""
    name = "ebpf %s, lockdown=confidentiality" % series
    work = tempfile.mkdtemp(prefix="qemu-ebpf-lockdown-")
    fails = []
    try:
        kernel_dir = subprocess.run([os.path.join(HERE, "fetch-kernel.sh"), series], check=True,
                                    stdout=subprocess.PIPE, text=True).stdout.strip()
        script = os.path.join(work, "test.sh")
        with open(script, "w") as f:
            f.write(LOCKDOWN_SCRIPT)
        initrd = os.path.join(work, "initrd.gz")
        subprocess.run([os.path.join(HERE, "build-initramfs.sh"), "--test", script, kernel_dir,
                        args.agent, initrd], check=True)
        with Guest(kernel_dir, initrd, mem_mib=256, workdir=work) as guest:
            guest.start("lockdown=confidentiality")
            guest.wait_for(r"LOCKDOWN-DONE", timeout=300,
                           fail_pattern=r"INIT-FAIL|Kernel panic|TEST-EXIT")
            lines = list(guest.lines)
        mode = [ln for ln in lines if "LOCKDOWN-MODE" in ln]
        if not mode or "[confidentiality]" not in mode[0]:
            fails.append("guest lockdown: %s" % mode)
        rc = dict(re.findall(r"RUN (\S+) rc=(\d+)", "\n".join(lines)))
        why = [ln for ln in lines if "LOG auto" in ln and "source ebpf unavailable" in ln]
        if rc.get("auto") != "3" or rc.get("forced") != "3":
            fails.append("exit codes %s, want 3 and 3" % rc)
        if not why or "lockdown is in confidentiality mode" not in why[0]:
            fails.append("ebpf reason: %s" % (why[0][-200:] if why else "none logged"))
        if not any("LOG auto" in ln and "source kcore unavailable" in ln for ln in lines):
            fails.append("no fall-through to kcore")
        if why:
            print("  %s" % re.sub(r".*\"msg\":\"([^\"]*)\".*", r"\1", why[0]))
    except (GuestError, subprocess.CalledProcessError, OSError) as exc:
        fails.append(str(exc).splitlines()[0])
    for failure in fails:
        print("FAIL: " + failure)
    ok = not fails
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("files kept in %s" % work)
    print("%s: %s: ebpf refused, fell through" % ("PASS" if ok else "FAIL", name), flush=True)
    return ok


def main(argv):
    parser = tck.make_parser()
    parser.description = __doc__
    parser.set_defaults(series=None)
    parser.add_argument("--mode", action="append", choices=MODES,
                        help="how the direct map is found (default: both, and the "
                        "lockdown check)")
    # --series may be given several times here.
    argv = list(argv[1:])
    series = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--series"]
    args = parser.parse_args(argv)
    if not os.path.exists(args.agent):
        print("FAIL: no agent binary at %s (run `make agent`)" % args.agent)
        print("ebpf_guest: 0 passed, 1 failed")
        return 1
    raise_on_sigterm()
    results = []
    try:
        for s in series or SERIES:
            for mode in args.mode or MODES:
                results.append(run_one(args, s, mode))
        if not args.mode:
            results.append(lockdown_refusal(args))
    except KeyboardInterrupt:
        results.append(False)
    passed = sum(results)
    print("ebpf_guest: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
