#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Drive a throw-away QEMU test guest.

Library:
    with Guest(kernel_dir, initrd, mem_mib=256, workdir=d) as g:
        g.start(append="test_port=%d" % rx.port)
        g.wait_for(r"INIT-READY", timeout=120)
        ...
        g.qmp.stop(); g.qmp.pmemsave(path, g.mem_bytes)

    with StreamReceiver(path) as rx:      # guest: ... | nc 10.0.2.2 PORT
        ...; rx.wait(timeout=600)

    with HostBarrier() as barrier:        # guest: nc 10.0.2.2 PORT </dev/null
        barrier.arrive(timeout=60); ...; barrier.release()

Everything has a timeout, and leaving a `with` block by any route (return,
exception, Ctrl-C, SIGTERM) kills QEMU.  QEMU also gets SIGKILL from the
kernel if this process dies without a chance to clean up (PR_SET_PDEATHSIG),
so no guest outlives its test.

CLI (for poking at a guest by hand):
    guest.py boot KERNEL_DIR INITRD [--mem MiB] [--append ARGS]
                  [--until REGEX] [--timeout S]
"""

import argparse
import atexit
import ctypes
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


class GuestError(Exception):
    pass


class GuestTimeout(GuestError):
    pass


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # Runs in the child between fork and exec: nothing to import or load.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


_live_guests = set()


def _kill_live_guests():
    for guest in list(_live_guests):
        guest.close()


atexit.register(_kill_live_guests)


def raise_on_sigterm():
    """Turn SIGTERM (and SIGINT, even where a non-interactive shell started
    us with it ignored) into an exception so `with` blocks tear down."""
    def handler(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class QMP:
    """Minimal QEMU Machine Protocol client over a unix socket."""

    def __init__(self, path, timeout=30):
        self.path = path
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.events = []

    def connect(self, deadline_s=30, alive=lambda: True):
        deadline = time.monotonic() + deadline_s
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if not alive():
                    raise GuestError("QEMU exited before its QMP socket "
                                     "came up (see the console log)")
                # QEMU creates the socket shortly after it starts.
                if time.monotonic() > deadline:
                    raise GuestTimeout("QMP socket %s never came up"
                                       % self.path)
                time.sleep(0.05)
        sock.settimeout(self.timeout)
        self.sock = sock
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise GuestError("unexpected QMP greeting %r" % greeting)
        self.execute("qmp_capabilities")

    def _read_message(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise GuestTimeout("QMP did not answer in %ss" % self.timeout)
            if not chunk:
                raise GuestError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, timeout=None, **arguments):
        if self.sock is None:
            raise GuestError("QMP not connected")
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.settimeout(timeout or self.timeout)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "event" in reply:
                # Asynchronous events (STOP, RESUME...) interleave freely.
                self.events.append(reply)
                continue
            if "error" in reply:
                raise GuestError("QMP %s failed: %s" % (command, reply["error"]))
            return reply.get("return")

    def stop(self):
        return self.execute("stop")

    def cont(self):
        return self.execute("cont")

    def pmemsave(self, filename, size, start=0, timeout=300):
        # pmemsave is synchronous: the file is complete when it returns.
        return self.execute("pmemsave", timeout=timeout, val=start,
                            size=size, filename=os.path.abspath(filename))

    def quit(self):
        try:
            self.execute("quit", timeout=5)
        except (GuestError, OSError):
            pass  # QEMU may close the socket before replying

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class Guest:
    """One QEMU process: serial console in, QMP beside it."""

    def __init__(self, kernel_dir, initrd, mem_mib=256, workdir=".",
                 smp=1, qemu="qemu-system-x86_64", extra_args=()):
        self.kernel = os.path.join(kernel_dir, "vmlinuz")
        self.initrd = initrd
        self.mem_mib = mem_mib
        self.smp = smp
        self.workdir = workdir
        self.qemu = qemu
        self.extra_args = list(extra_args)
        self.console_path = os.path.join(workdir, "console.log")
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.proc = None
        self.qmp = None
        self.lines = []          # every console line so far
        self.cursor = 0          # next line wait_for() looks at
        self._new_line = threading.Condition()
        self._reader = None
        self._eof = False
        self.started_at = None

    @property
    def mem_bytes(self):
        return self.mem_mib << 20

    def command(self, append=""):
        return [
            self.qemu,
            # KVM is present on the hosts but nested guests hang: emulate.
            "-accel", "tcg",
            # 5-level paging under TCG is slow and no EC2 guest has it.
            "-cpu", "max,la57=off",
            "-smp", str(self.smp),
            "-m", str(self.mem_mib),
            "-display", "none", "-vga", "none", "-monitor", "none",
            "-serial", "stdio",
            "-no-reboot",
            "-kernel", self.kernel,
            "-initrd", self.initrd,
            "-append", "console=ttyS0 panic=-1 " + append,
            "-netdev", "user,id=n0",
            "-device", "virtio-net-pci,netdev=n0",
            "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
        ] + self.extra_args

    def start(self, append=""):
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        self._log = open(self.console_path, "w", buffering=1)
        cmd = self.command(append)
        self._log.write("# %s\n" % " ".join(cmd))
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        _live_guests.add(self)
        self._reader = threading.Thread(target=self._read_console,
                                        daemon=True)
        self._reader.start()
        self.qmp = QMP(self.qmp_path)
        self.qmp.connect(alive=lambda: self.proc.poll() is None)
        return self

    def _read_console(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            line = line.replace("\r", "")
            self._log.write(line + "\n")
            with self._new_line:
                self.lines.append(line)
                self._new_line.notify_all()
        with self._new_line:
            self._eof = True
            self._new_line.notify_all()

    def elapsed(self):
        return time.monotonic() - self.started_at

    def wait_for(self, pattern, timeout, fail_pattern=r"INIT-FAIL|Kernel panic"):
        """Return the match of the first console line from the cursor on
        that matches pattern; lines before it are consumed.  Raises on
        timeout, on QEMU exiting, or on a line matching fail_pattern."""
        regex = re.compile(pattern)
        fail = re.compile(fail_pattern) if fail_pattern else None
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                while self.cursor < len(self.lines):
                    line = self.lines[self.cursor]
                    self.cursor += 1
                    match = regex.search(line)
                    if match:
                        return match
                    if fail and fail.search(line):
                        raise GuestError("guest failed: %s\n%s"
                                         % (line, self.tail()))
                if self._eof:
                    raise GuestError("QEMU exited (rc=%s) before /%s/\n%s"
                                     % (self.proc.poll(), pattern, self.tail()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestTimeout("no /%s/ within %ss\n%s"
                                       % (pattern, timeout, self.tail()))
                self._new_line.wait(left)

    def tail(self, n=30):
        return "\n".join("  | " + l for l in self.lines[-n:])

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise GuestTimeout("QEMU still running after %ss" % timeout)

    def close(self):
        _live_guests.discard(self)
        if self.proc is not None and self.proc.poll() is None:
            if self.qmp is not None and self.qmp.sock is not None:
                self.qmp.quit()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.qmp is not None:
            self.qmp.close()
        if self._reader is not None:
            self._reader.join(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_log", None):
            self._log.close()
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class StreamReceiver:
    """Accepts one TCP connection on 127.0.0.1 and saves what it sends.

    The guest reaches it as 10.0.2.2:<port> through slirp.  Progress is kept
    so a caller can tell a slow transfer from a stalled one."""

    def __init__(self, path, idle_timeout=120):
        self.path = path
        self.idle_timeout = idle_timeout
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(1)
        self.port = self.listener.getsockname()[1]
        self.bytes = 0
        self.error = None
        self.first_byte_at = None
        self.done_at = None
        self._closing = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        conn = None
        try:
            while conn is None:
                if self._closing.is_set():
                    return
                try:
                    conn, _ = self.listener.accept()
                except socket.timeout:
                    continue
            conn.settimeout(1)
            idle_since = time.monotonic()
            with open(self.path, "wb") as out:
                while not self._closing.is_set():
                    try:
                        chunk = conn.recv(1 << 20)
                    except socket.timeout:
                        if time.monotonic() - idle_since > self.idle_timeout:
                            raise GuestTimeout("sender idle for %ss after %d bytes"
                                               % (self.idle_timeout, self.bytes))
                        continue
                    if not chunk:
                        break
                    if self.first_byte_at is None:
                        self.first_byte_at = time.monotonic()
                    idle_since = time.monotonic()
                    out.write(chunk)
                    self.bytes += len(chunk)
            self.done_at = time.monotonic()
        except Exception as exc:  # reported by wait()
            self.error = exc
        finally:
            if conn is not None:
                conn.close()
            self._done.set()

    def wait(self, timeout):
        if not self._done.wait(timeout):
            raise GuestTimeout("stream not finished after %ss (%d bytes)"
                               % (timeout, self.bytes))
        if self.error:
            raise self.error
        return self.bytes

    def close(self):
        self._closing.set()
        self._thread.join(5)
        self.listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class HostBarrier:
    """Lets a guest script wait until the host has done something.

    The guest runs `nc 10.0.2.2 PORT </dev/null`: nc half-closes at once and
    then blocks until the host hangs up.  The host calls arrive() to wait
    for that connection, does its work with the guest parked, and then
    release() to let the guest go on."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn = None

    def arrive(self, timeout):
        self.listener.settimeout(timeout)
        try:
            self.conn, _ = self.listener.accept()
        except socket.timeout:
            raise GuestTimeout("guest did not reach the barrier in %ss" % timeout)

    def release(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self):
        self.release()
        self.listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    boot = sub.add_parser("boot", help="boot a guest and echo its console")
    boot.add_argument("kernel_dir")
    boot.add_argument("initrd")
    boot.add_argument("--mem", type=int, default=256)
    boot.add_argument("--smp", type=int, default=1)
    boot.add_argument("--append", default="")
    boot.add_argument("--until", default=r"TEST-EXIT|INIT-FAIL")
    boot.add_argument("--timeout", type=float, default=300)
    boot.add_argument("--workdir", default=".")
    args = parser.parse_args(argv[1:])

    raise_on_sigterm()
    with Guest(args.kernel_dir, args.initrd, mem_mib=args.mem,
               smp=args.smp, workdir=args.workdir) as guest:
        guest.start(args.append)
        try:
            guest.wait_for(args.until, args.timeout, fail_pattern=None)
        finally:
            for line in guest.lines:
                print(line)
            print("# %.1fs, console in %s" % (guest.elapsed(),
                                               guest.console_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
