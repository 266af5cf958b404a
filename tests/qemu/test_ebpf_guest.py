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
kernel log must show no warning, BUG or oops. Prints one PASS/FAIL line per
run and a final `ebpf_guest: N passed, M failed`.
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
from guest import GuestError, raise_on_sigterm  # noqa: E402

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


def main(argv):
    parser = tck.make_parser()
    parser.description = __doc__
    parser.set_defaults(series=None)
    parser.add_argument("--mode", action="append", choices=MODES,
                        help="how the direct map is found (default: both)")
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
    for s in series or SERIES:
        for mode in args.mode or MODES:
            try:
                results.append(run_one(args, s, mode))
            except KeyboardInterrupt:
                results.append(False)
                break
    passed = sum(results)
    print("ebpf_guest: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
