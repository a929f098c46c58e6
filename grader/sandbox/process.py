"""One worker process, seen from the trusted parent: start, ask, end.

Every failure of the worker becomes a ``SandboxError`` with a plain-words
message and a flag; the parent never trusts a worker's word about itself.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import psutil

from grader.models import FLAG_CRASH, FLAG_IMPORT_ERROR, FLAG_TIMEOUT
from grader.sandbox import isolation, jail, launcher, wire

TIMED_OPS = ("run", "memory")  # requests during which no other worker may run
_LIVE: "weakref.WeakSet[WorkerProcess]" = weakref.WeakSet()  # this process's workers


class SandboxError(Exception):
    """The worker failed in a way that ends it (crash, exit, hang, garbage)."""

    flag = FLAG_CRASH

    def __init__(self, message: str, flag: str | None = None):
        super().__init__(message)
        if flag:
            self.flag = flag


class ImportFailed(SandboxError):
    flag = FLAG_IMPORT_ERROR
    output: tuple[str, str] = ("", "")  # what the worker printed before it went away


@dataclass
class Reply:
    ok: bool
    value: Any = None
    meta: dict = field(default_factory=dict)
    error: dict | None = None  # the student's exception, described as data
    missing: str | None = None  # the function that does not exist
    bad_return: str | None = None  # what was wrong with a value the grader could not read
    seconds: float = 0.0  # round trip as the parent's clock saw it


class _CappedReader(threading.Thread):
    """Drains a pipe so the worker never blocks on output; keeps the first ``cap`` bytes."""

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                break
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
            self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        out = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            out += f"\n[accelgrade: {self.dropped} more bytes not shown]"
        return out


class WorkerProcess:
    """A started worker holding one imported module (a submission or the reference)."""

    def __init__(self, code: str, config: launcher.SandboxConfig, label: str = "submission", wait: bool = True):
        """Start the worker; with ``wait=False`` return at once and let ``finish_start`` wait for
        its import (so two workers boot side by side, one per core)."""
        self.config = config
        self.label = label
        self.plan = launcher.isolation_plan()
        self.root, self.home = jail.new_home()
        self.tag = f"{os.getpid()}-{self.root.name}"
        self.alive = False
        self.lease = isolation.UidLease() if self.plan.own_uid else None
        uid = self.lease.uid if self.lease else None
        self.cgroup = jail.Cgroup(self.tag)
        self.module_file = self.home / "acceleration.py"
        self.module_file.write_text(code, encoding="utf-8")
        if uid is not None:
            isolation.hand_over(self.home, uid)
        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                launcher.command(config, self.plan, self.home, uid, req_r, resp_w,
                                 remove_source=(label == "reference")),
                cwd=self.home,
                env=launcher.environment(isolation.HOME if self.plan.bwrap else self.home, config.threads,
                                         self.tag),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(req_r, resp_w),
                start_new_session=True,  # its own process group, killed (and stopped) as a whole
                preexec_fn=launcher.limiter(config, self.plan, uid, self.cgroup),
            )
        except BaseException:
            self._release()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._out = _CappedReader(self.proc.stdout, config.output_cap)
        self._err = _CappedReader(self.proc.stderr, config.output_cap)
        self._out.start()
        self._err.start()
        self.alive = True
        self.pid = self.proc.pid
        self.frozen = False
        _LIVE.add(self)
        self.ready: dict | None = None  # its import report, once finish_start has it
        self.held: isolation.Held | None = None
        self._failed: ImportFailed | None = None
        if wait:
            self.finish_start()

    def finish_start(self) -> dict:
        """Wait for the import report (once); raises ImportFailed, again on every later call."""
        if self._failed is not None:
            raise self._failed
        if self.ready is None:
            try:
                self.ready = self._await_ready()
            except ImportFailed as exc:
                self._failed = exc
                raise
            self.pid = self._worker_pid()
            self.held = isolation.observe(self.pid, self.plan, "cgroup" if self.cgroup.freezer else "signals")
            self._freeze()
        return self.ready

    def _worker_pid(self) -> int:
        """The interpreter's own pid: inside bubblewrap it is a grandchild of the one we started."""
        if not self.plan.bwrap:
            return self.proc.pid
        exe = os.path.realpath(sys.executable)
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
            pythons = [k for k in kids if _exe(k) == exe]
            return min(pythons, key=lambda k: (k.create_time(), k.pid)).pid if pythons else self.proc.pid
        except psutil.Error:
            return self.proc.pid

    # --- freezing: a worker runs only while the parent waits on its answer -----------------
    def _freeze(self) -> None:
        """Stop every process of this worker until its next request, so nothing it runs in the
        background can take a neighbour's time or signal anyone while it is not being asked."""
        if not self.alive or self.frozen:
            return
        if not self.cgroup.set_frozen(True):
            self._signal_group(signal.SIGSTOP)
        self.frozen = True

    def _thaw(self) -> None:
        if not self.frozen:
            return
        if not self.cgroup.set_frozen(False):
            self._signal_group(signal.SIGCONT)
        elif self.lease is None:
            self._signal_group(signal.SIGCONT)  # same uid as a submission: undo a SIGSTOP it may have sent
        self.frozen = False

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except OSError:
            pass

    def settle(self) -> None:
        """Before a neighbour is timed: wait until this worker is really stopped (one still
        importing is waited for first: it freezes once its import is done)."""
        if self.alive and self.ready is None:
            try:
                self.finish_start()
            except ImportFailed:
                return  # it has ended
        self._freeze()  # one kept thawed for its own next request is stopped all the same
        if self.alive and self.frozen:
            self.cgroup.wait_frozen()

    # --- conversation -------------------------------------------------------
    def _await_ready(self) -> dict:
        deadline = time.monotonic() + self.config.import_timeout
        try:
            header, _ = wire.recv(self._resp_r, deadline)
        except wire.WireTimeout:
            self.close()
            failed = ImportFailed(f"importing the file took longer than {self.config.import_timeout:.0f} s "
                                  "(module-level code that runs forever or very long?)", FLAG_TIMEOUT)
        except wire.WireError:
            failed = ImportFailed(self._death_message("while importing"))
        else:
            return header
        failed.output = self.output()
        raise failed

    def request(self, op: str, args: list[Any] | None = None, timeout: float | None = None,
                keep_thawed: bool = False, **fields: Any) -> Reply:
        """One request; the worker is frozen again afterwards unless ``keep_thawed`` (the caller's
        very next request is a timed one to this same worker: thawing takes the legacy cgroup
        freezer up to ~5 ms now and then, which would land inside the timed region)."""
        if not self.alive:
            raise SandboxError("worker is not running")
        blobs: list[bytes] = []
        packed = [wire.pack_value(a, blobs) for a in (args or [])]
        timeout = timeout or self.config.call_timeout
        if op in TIMED_OPS:
            for other in list(_LIVE):
                if other is not self:
                    other.settle()
        self._thaw()
        reply = None
        try:
            reply = self._exchange(op, packed, blobs, timeout, fields)
            return reply
        finally:
            if not (keep_thawed and reply is not None and reply.ok):
                self._freeze()

    def _exchange(self, op: str, packed: list, blobs: list[bytes], timeout: float, fields: dict) -> Reply:
        try:
            t0 = time.perf_counter()
            wire.send(self._req_w, dict(fields, op=op, args=packed), blobs)
            header, rblobs = wire.recv(self._resp_r, time.monotonic() + timeout)
            seconds = time.perf_counter() - t0
        except wire.WireTimeout:
            self.close()
            raise SandboxError(f"no answer within {timeout:.0f} s (an infinite loop?)", FLAG_TIMEOUT) from None
        except (wire.WireError, BrokenPipeError):
            raise SandboxError(self._death_message(f"during {fields.get('fn', op)}")) from None
        except BaseException:
            # A timeout raised by pytest-timeout, a KeyboardInterrupt: the worker is
            # mid-request and cannot be reused.
            self.close()
            raise
        try:
            if header.get("ok"):
                value = wire.unpack_value(header.get("value", {"t": "none"}), rblobs)
                meta = header.get("meta") if isinstance(header.get("meta"), dict) else {}
                return Reply(True, value, meta, seconds=seconds)
            if "missing" in header:
                return Reply(False, missing=str(header["missing"]), seconds=seconds)
            if "bad_return" in header:
                return Reply(False, bad_return=str(header["bad_return"])[:500], seconds=seconds)
            error = header.get("error")
            if not isinstance(error, dict):
                raise wire.WireError("malformed error")
            return Reply(False, error=_clean_error(error), seconds=seconds)
        except wire.WireError as exc:
            self.close()
            raise SandboxError(f"the worker sent a malformed answer ({exc})") from None

    def _death_message(self, when: str) -> str:
        """Why the worker went away, from what the parent can see."""
        code = None
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.close()
        flag_msg = ""
        if code is None:
            return f"the worker stopped answering {when}"
        if self.plan.bwrap and code > 128 and code - 128 in signal.Signals._value2member_map_:
            code = 128 - code  # bubblewrap exits with 128 + the signal that ended the worker
        if code < 0:
            sig = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            if -code == signal.SIGKILL:
                flag_msg = " (killed: out of memory or CPU time?)"
            elif -code == signal.SIGXCPU:
                flag_msg = " (CPU time limit reached)"
            elif -code == signal.SIGSEGV:
                flag_msg = " (segmentation fault)"
            return f"the worker was killed by {sig} {when}{flag_msg}"
        return f"the worker exited with code {code} {when} (sys.exit or os._exit in the submission?)"

    # --- facts the parent reads itself ---------------------------------------
    def peak_rss(self) -> int | None:
        """VmHWM of the worker in bytes, from /proc: the worker cannot fake this."""
        try:
            with open(f"/proc/{self.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def rss(self) -> int | None:
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return None

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM (Linux: write 5 to clear_refs) so the next peak is one call's."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as fh:
                fh.write("5")
            return True
        except OSError:
            return False

    def output(self) -> tuple[str, str]:
        return self._out.text(), self._err.text()

    # --- end ----------------------------------------------------------------
    def close(self) -> None:
        """End the worker and everything it started, and remove its folder."""
        if not self.alive:
            return
        self.alive = False
        for fd in (self._req_w, self._resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.cgroup.kill_all()  # first: it kills members while frozen, then thaws them so they die
        kill_tree(self.proc, self.tag)
        self._out.join(timeout=5)
        self._err.join(timeout=5)
        self._release()

    def _release(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self.lease is not None:
            self.lease.release()  # last: nothing of that uid is left to inherit it
            self.lease = None


def kill_tree(proc: subprocess.Popen, tag: str | None = None) -> None:
    """Kill the worker's process group, its descendants, and anything carrying its tag.

    A process that called setsid() leaves the group; one that double-forked is
    no longer a descendant; both still carry the worker's environment tag.
    """
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    if tag:
        descendants += tagged_processes(tag)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _exe(p: psutil.Process) -> str:
    try:
        return os.path.realpath(p.exe())
    except (psutil.Error, OSError):
        return ""


def tagged_processes(tag: str) -> list[psutil.Process]:
    found = []
    me = os.getpid()
    for p in psutil.process_iter(["pid"]):
        if p.pid == me:
            continue
        try:
            if p.environ().get(launcher.WORKER_TAG) == tag:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


def _clean_error(error: dict) -> dict:
    """Keep only expected fields, as strings, bounded: it is student-controlled text."""
    mro = error.get("mro")
    return {
        "etype": str(error.get("etype", "Exception"))[:100],
        "mro": [str(m)[:100] for m in mro[:20]] if isinstance(mro, list) else [],
        "message": str(error.get("message", ""))[:2000],
        "traceback": str(error.get("traceback", ""))[-4000:],
    }
