#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The agent's kernel-module sources in real Debian guests (5.10, 6.1, 6.12).

    test_module_sources.py [--series 6.1 ...] [--mem MIB] [--keep]

For each kernel, two captures through the agent with the hypervisor's copy
of RAM as ground truth (test_capture_kcore.run: >= 99% identical pages,
planted pages at pfn*4096, hashes and `verify` against the manifest):

  module  forensics_mem from where DKMS installs it
          (/lib/modules/<release>/updates/dkms/), pinned with
          --module-sha256, found and chosen by the automatic order; the
          manifest says "module" was used and the module is unloaded after.
  lime    the same guest layout, but only upstream LiME's hash is pinned:
          the own module is refused ("not pinned", in the manifest) and the
          agent falls through to Debian's LiME 1.9.1 from a store laid out as
          <os>/<release>/lime-<release>.ko, loaded with path= a FIFO in a
          private directory, read and checked as LiME, then unloaded.

The module must be as faithful as LiME on the same kernel (identical pages
no more than 0.3 points below). On 6.1, a third capture boots with
lockdown=integrity: both unsigned modules are refused with that reason and
the agent falls through to the next source (eBPF, else /proc/kcore).

The store comes from `make modules` (build/modules), LiME from
fetch-lime.sh. Exit 0 when every kernel passes.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import test_capture_kcore  # noqa: E402
from guest import GuestError, raise_on_sigterm  # noqa: E402

SERIES = ("5.10", "6.1", "6.12")
STORE = os.path.join(REPO, os.environ.get("BUILD", "build"), "modules")
FAITHFUL_MARGIN = 0.003
# LiME handed its dump over loopback TCP, whose socket buffers churn through
# RAM it has already read: measured 97.9% on 6.1 where forensics_mem, read
# through its device, got 99.1%. Through its private FIFO (a 64 KiB pipe)
# it measured 99.17-99.27% on 5.10, 6.1 and 6.12; the bar has not been
# raised yet. The module's bar stays 99%.
LIME_MIN_IDENTICAL = 0.97
# Stable pages (equal before and after the capture) that the capture saw
# differently are nearly all zero in both dumps and full in the capture, and
# lie in the same few MiB of physical memory in the module's and LiME's runs:
# memory used while the capture ran and zeroed again after (A-B-A).  LiME's
# run keeps more of it busy (the loader thread, the TCP reader): 0.9947 seen
# on 6.12 where the module's run had 0.9975.  The module keeps the 0.995 bar.
LIME_MIN_STABLE = 0.99


def pins_of(sums):
    with open(sums) as f:
        return {path.split("/")[0]: sha for sha, path in (ln.split() for ln in f if ln.strip())}


def sha256(path):
    return test_capture_kcore.sha256_file(path)


def capture(series, mem, workdir, agent_args, extra, append="", min_identical=0.99,
            min_stable=0.995):
    args = test_capture_kcore.make_parser().parse_args(
        ["--series", series, "--mem", str(mem), "--agent-args", agent_args,
         "--workdir", workdir, "--min-identical", str(min_identical),
         "--min-stable", str(min_stable)])
    args.extra = extra
    args.append = append
    os.makedirs(workdir, exist_ok=True)
    return test_capture_kcore.run(args, workdir)


def attempts(figures):
    src = figures.get("source") or {}
    return src.get("name"), {a["name"]: a for a in src.get("attempts", [])}


def lime_guest(series, work):
    """(release, lime.ko, initramfs extras): Debian's LiME for series in the
    guest's /lime-store, and an os-release naming Debian."""
    kernel_dir = subprocess.run([os.path.join(HERE, "fetch-kernel.sh"), series], check=True,
                                stdout=subprocess.PIPE, text=True).stdout.strip()
    release = open(os.path.join(kernel_dir, "release")).read().strip()
    lime_store = subprocess.run([os.path.join(HERE, "fetch-lime.sh"), series], check=True,
                                stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    lime = os.path.join(lime_store, "debian", release, "lime-%s.ko" % release)
    os_release = os.path.join(work, "os-release")
    with open(os_release, "w") as f:
        f.write('ID=debian\nVERSION_ID="12"\n')
    return release, lime, ["%s:/lime-store/debian/%s/lime-%s.ko" % (lime, release, release),
                           os_release + ":/etc/os-release"]


def one_kernel(series, mem, work, lockdown):
    failures, lines = [], []
    release, lime, extra = lime_guest(series, work)
    pins = pins_of(os.path.join(STORE, "SHA256SUMS"))
    if release not in pins:
        return ["no forensics_mem for %s in %s (make modules)" % (release, STORE)], lines
    extra.append("%s:/lib/modules/%s/updates/dkms/forensics_mem.ko"
                 % (os.path.join(STORE, release, "forensics_mem.ko"), release))
    runs = {
        "module": "acquire --module-sha256 %s --no-bundle --output -" % pins[release],
        "lime": ("acquire --module-sha256 %s --lime-store /lime-store --lime-params timeout=0 "
                 "--no-bundle --output -" % sha256(lime)),
    }
    if lockdown:
        runs["lockdown"] = ("acquire --module-sha256 %s --module-sha256 %s --lime-store "
                            "/lime-store --no-bundle --output -" % (pins[release], sha256(lime)))
    identical = {}
    for name, agent_args in runs.items():
        report, figures, timings, fails, _ = capture(
            series, mem, os.path.join(work, name), agent_args, extra,
            "lockdown=integrity" if name == "lockdown" else "",
            LIME_MIN_IDENTICAL if name == "lime" else 0.99,
            LIME_MIN_STABLE if name == "lime" else 0.995)
        used, tried = attempts(figures)
        identical[name] = report["identical_fraction"]
        lines.append("  %s %s: source %s, %.3f%% identical pages, %d/%d planted, %.0f s"
                     % (series, name, used, 100 * report["identical_fraction"],
                        report["plant_found"], report["plant_expected"], timings["total"]))
        fails = ["%s: %s" % (name, f) for f in fails]
        # Under lockdown=integrity the next source after the modules serves:
        # eBPF where the agent has it, else /proc/kcore.
        want = {"module": ("module",), "lime": ("lime",), "lockdown": ("ebpf", "kcore")}[name]
        if used not in want:
            fails.append("%s: source %s used, not %s (attempts: %s)"
                         % (name, used, want, {k: a["reason"] for k, a in tried.items()}))
        if name == "lime" and "is not pinned" not in tried.get("module", {}).get("reason", ""):
            fails.append("lime: the own module's refusal is not in the manifest: %s"
                         % tried.get("module"))
        if name == "lockdown":
            for kind in ("module", "lime"):
                why = tried.get(kind, {}).get("reason", "")
                if "unsigned" not in why or "integrity" not in why:
                    fails.append("lockdown: %s refused for another reason: %r" % (kind, why))
        left = figures.get("modules_after")
        if left is None or "forensics_mem" in left or "lime" in left:
            fails.append("%s: modules left loaded after the capture: %s" % (name, left))
        failures += fails
    if identical["module"] < identical["lime"] - FAITHFUL_MARGIN:
        failures.append("forensics_mem %.3f%% is less faithful than LiME %.3f%%"
                        % (100 * identical["module"], 100 * identical["lime"]))
    return failures, lines


def each_kernel(argv, doc, suite, one_kernel, title):
    """The suites' command line and loop: one_kernel(series, mem, work) ->
    (failures, lines) per kernel, title(series) for its PASS/FAIL line."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", action="append", choices=SERIES)
    parser.add_argument("--mem", type=int, default=512)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv[1:])
    raise_on_sigterm()
    failed = 0
    for series in args.series or SERIES:
        work = tempfile.mkdtemp(prefix="qemu-%s-%s-" % (suite, series))
        try:
            failures, lines = one_kernel(series, args.mem, work)
        except (GuestError, subprocess.CalledProcessError, OSError, KeyError) as e:
            failures, lines = ["%s: %s" % (type(e).__name__, e)], []
        print("\n".join(lines))
        for f in failures:
            print("  FAIL " + f)
        print("%s %s: %s" % ("PASS" if not failures else "FAIL", series, title(series)),
              flush=True)
        if failures:
            failed += 1
            print("  files kept in " + work)
        elif not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = len(args.series or SERIES)
    print("%s: %d passed, %d failed" % (suite, total - failed, failed))
    return 1 if failed else 0


def main(argv):
    return each_kernel(
        argv, __doc__, "module_sources",
        lambda series, mem, work: one_kernel(series, mem, work, lockdown=series == "6.1"),
        lambda series: "module sources (own module, LiME%s)"
        % (", lockdown" if series == "6.1" else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
