#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Upstream LiME's dump cannot be taken or faked by another user (guests).

    test_lime_fifo.py [--series 6.1 ...] [--mem MIB] [--keep]

For each kernel, one capture through the agent from Debian's LiME 1.9.1
(`--source lime`, pinned by hash, `--lime-params timeout=0`) while
lime-thief.c, running as nobody, races it from the moment before the agent
starts until it exits: it watches /run and /dev/shm for the directory that
holds LiME's FIFO and tries, as often as it can while it exists, to list
it, to open the FIFO for reading (steal the dump) and for writing (feed a
fake LiME stream), and to create a file in it; it connects to every
listening TCP socket (LiME's old tcp: path), and serves a fake LiME header
on a loopback port of its own (an impostor that bound the port first).

Passes when the thief saw the directory, every one of its attempts failed
(EACCES) and nothing connected to it; the capture matches the hypervisor's
copy of RAM at the bar test_module_sources.py sets for LiME
(test_capture_kcore.run: identical and stable pages, planted pages, hashes,
`verify`); the manifest's source.transport says "fifo" in a 0700 directory
on tmpfs, owned by root, FIFO 0600; the FIFO and its directory are gone and
LiME is unloaded after. LiME comes from fetch-lime.sh. Exit 0 when every
kernel passes.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import test_capture_kcore  # noqa: E402
import test_module_sources  # noqa: E402

# nobody's ready file goes to /tmp (tmpfs, 1777): /run is root's.
BEFORE_AGENT = """\
/bin/lime-thief /tmp/thief.ready /run/agent.rc >/dev/console 2>&1 &
thief=$!
tries=0
while [ ! -e /tmp/thief.ready ]; do
	tries=$((tries + 1))
	[ $tries -le 300 ] || { echo "THIEF-FAIL not ready"; break; }
	usleep 10000
done
echo "THIEF-READY owner $(stat -c %u /tmp/thief.ready)"
"""
AFTER_AGENT = """\
wait $thief
for d in /run/forensics-lime.* /dev/shm/forensics-lime.*; do
	[ -e "$d" ] && echo "LEFTOVER $d"
done
"""
MUST_BE_ZERO = ("opened", "read", "written", "created", "connected", "stolen",
                "impostor_accepts")


def build_thief(workdir):
    binary = os.path.join(workdir, "lime-thief")
    subprocess.run([os.environ.get("CC", "gcc"), "-static", "-O2", "-Wall", "-Wextra",
                    "-o", binary, os.path.join(HERE, "lime-thief.c")], check=True)
    return binary


def judge_thief(collected):
    fails = []
    ready = [ln for ln in collected if "THIEF-READY" in ln]
    if not ready or not ready[-1].rstrip().endswith("owner 65534"):
        fails.append("the thief did not start as nobody: %s" % ready)
    lines = [ln for ln in collected if re.search(r"THIEF uid=", ln)]
    if not lines:
        return fails + ["no report from the thief: %s" % collected], {}
    counts = dict(re.findall(r"(\w+)=(\S+)", lines[-1][lines[-1].index("THIEF uid="):]))
    if counts.get("uid") != "65534":
        fails.append("the thief ran as uid %s" % counts.get("uid"))
    if int(counts.get("dirs", 0)) < 1 or int(counts.get("attempts", 0)) < 1:
        fails.append("the thief never saw LiME's directory: the race was not run")
    for key in MUST_BE_ZERO:
        if counts.get(key) != "0":
            fails.append("the thief %s: %s" % (key, counts.get(key)))
    if counts.get("first_errno") != "EACCES":
        fails.append("the thief's first refusal was %s, not EACCES" % counts.get("first_errno"))
    fails += ["left behind: %s" % ln for ln in collected if "LEFTOVER" in ln]
    return fails, counts


def judge_transport(source):
    t = (source or {}).get("transport") or {}
    want = {"kind": "fifo", "directory_mode": "0700", "mode": "0600", "owner_uid": 0,
            "filesystem": "tmpfs"}
    fails = ["source.transport.%s is %r, not %r" % (k, t.get(k), v)
             for k, v in want.items() if t.get(k) != v]
    if not str(t.get("path", "")).startswith(("/run/forensics-lime.",
                                              "/dev/shm/forensics-lime.")):
        fails.append("source.transport.path %r" % t.get("path"))
    return fails


def one_kernel(series, mem, work):
    release, lime, extra = test_module_sources.lime_guest(series, work)
    extra.append(build_thief(work) + ":/bin/lime-thief")
    args = test_capture_kcore.make_parser().parse_args(
        ["--series", series, "--mem", str(mem), "--workdir", os.path.join(work, "capture"),
         "--agent-args", "acquire --source lime --lime-store /lime-store --module-sha256 %s "
         "--lime-params timeout=0 --no-bundle --output -" % test_module_sources.sha256(lime),
         "--min-identical", str(test_module_sources.LIME_MIN_IDENTICAL),
         "--min-stable", str(test_module_sources.LIME_MIN_STABLE)])
    args.extra = extra
    args.before_agent = BEFORE_AGENT
    args.after_agent = AFTER_AGENT
    args.collect = ("THIEF", "LEFTOVER")
    os.makedirs(args.workdir, exist_ok=True)
    report, figures, timings, failures, _ = test_capture_kcore.run(args, args.workdir)
    source = figures.get("source") or {}
    if source.get("name") != "lime":
        failures.append("source %s used, not lime: %s" % (source.get("name"),
                                                          source.get("attempts")))
    failures += judge_transport(source)
    thief_fails, counts = judge_thief(figures.get("collected", []))
    failures += thief_fails
    left = figures.get("modules_after")
    if left is None or "lime" in left:
        failures.append("modules left loaded after the capture: %s" % left)
    lines = ["  %s lime: %.3f%% identical, %.3f%% stable, %d/%d planted, %.0f s; transport %s; "
             "thief %s" % (series, 100 * report["identical_fraction"],
                           100 * report["stable_identical"] / max(report["stable"], 1),
                           report["plant_found"], report["plant_expected"], timings["total"],
                           source.get("transport"), counts)]
    return failures, lines


def main(argv):
    return test_module_sources.each_kernel(
        argv, __doc__, "lime_fifo", one_kernel,
        lambda series: "LiME through a private FIFO, raced by another user")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
