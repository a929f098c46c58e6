"""Where a worker lives on disk and how every process it starts is found again.

- Each worker gets ``<run dir>/w-XXXX/home``: its cwd, HOME and TMPDIR. The run
  dir is private to this grading process, so a submission writing to ``..`` or
  ``../..`` still writes inside the system temporary folder, and all of it is
  removed afterwards.
- Where the kernel lets us (root, cgroup v1 ``pids`` or cgroup v2), each worker
  is put in its own cgroup, whose members are killed at the end: this catches
  daemons that double-forked, called setsid and scrubbed their environment.
  Elsewhere the process group, the descendants and an environment tag still apply.
"""
from __future__ import annotations

import atexit
import hashlib
import ctypes
import os
import shutil
import signal
import tempfile
import time
from functools import lru_cache
from pathlib import Path

CGROUP_BASES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
FREEZER_BASE = Path("/sys/fs/cgroup/freezer")


@lru_cache(maxsize=1)
def run_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="accelgrade-run-"))
    path.chmod(0o711)  # a worker under its own uid may pass through to its home, not list its neighbours
    atexit.register(shutil.rmtree, path, True)
    return path


def cleanup() -> None:
    """Remove this process's run folder (workers' homes, the shim copy) once grading is over."""
    if run_dir.cache_info().currsize:
        shutil.rmtree(run_dir(), ignore_errors=True)
        run_dir.cache_clear()
        shim_copy.cache_clear()


@lru_cache(maxsize=4)
def shim_copy(package: Path) -> Path:
    """A private copy of a ``tinytorch`` package (the shim, or a course's own), so its path does not
    lead to the grader's or the course's files; returns the folder to put on the worker's path."""
    dest = run_dir() / f"shim-{hashlib.sha256(str(package).encode()).hexdigest()[:8]}"
    shutil.copytree(package, dest / "tinytorch", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for p in [dest, *dest.rglob("*")]:  # readable by workers running under their own uid
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


def new_home() -> tuple[Path, Path]:
    """(root to remove at the end, the worker's home inside it)."""
    root = Path(tempfile.mkdtemp(prefix="w-", dir=run_dir()))
    root.chmod(0o711)
    home = root / "home"
    home.mkdir(mode=0o700)
    return root, home


class Cgroup:
    """The cgroups holding one worker and everything it starts: ``pids`` to find and kill every
    member (daemons that double-forked and left the session included), ``freezer`` to stop them
    all at once while another contestant is timed. A no-op where none can be made (not root)."""

    def __init__(self, tag: str):
        self.path: Path | None = None  # membership and kill (pids, or a v2 group)
        self.freezer: Path | None = None  # v1 freezer group, or the v2 group holding cgroup.freeze
        name = f"accelgrade-{tag}"
        for base in CGROUP_BASES:
            if not (base / "cgroup.procs").exists():
                continue
            try:
                (base / name).mkdir()
                self.path = base / name
                break
            except OSError:
                continue
        if self.path is not None and (self.path / "cgroup.freeze").exists():
            self.freezer = self.path
        elif (FREEZER_BASE / "freezer.state").exists() or (FREEZER_BASE / "cgroup.procs").exists():
            try:
                (FREEZER_BASE / name).mkdir()
                self.freezer = FREEZER_BASE / name
            except OSError:
                self.freezer = None

    def join_self(self) -> None:
        """Called in the child before exec: it and its future children are members."""
        for group in {self.path, self.freezer} - {None}:
            try:
                (group / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def members(self) -> list[int]:
        for group in (self.path, self.freezer):
            if group is None:
                continue
            try:
                return [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except OSError:
                continue
        return []

    # --- freezing -----------------------------------------------------------
    def set_frozen(self, frozen: bool) -> bool:
        """Ask the kernel to freeze (or thaw) every member; False when there is no freezer."""
        if self.freezer is None:
            return False
        try:
            if self.freezer == self.path and (self.freezer / "cgroup.freeze").exists():
                (self.freezer / "cgroup.freeze").write_text("1" if frozen else "0")
            else:
                (self.freezer / "freezer.state").write_text("FROZEN" if frozen else "THAWED")
            return True
        except OSError:
            return False

    def wait_frozen(self, timeout: float = 1.0) -> bool:
        """Until every member is stopped (v1 reports FREEZING while some are still running)."""
        if self.freezer is None:
            return False
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (self.freezer / "cgroup.freeze").exists() and self.freezer == self.path:
                    events = (self.freezer / "cgroup.events").read_text()
                    done = "frozen 1" in events
                else:
                    done = (self.freezer / "freezer.state").read_text().strip() == "FROZEN"
            except OSError:
                return False
            if done or time.monotonic() > deadline:
                return done
            time.sleep(0.0005)

    def kill_all(self) -> None:
        for _ in range(50):  # members may fork while we kill: repeat until empty
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.set_frozen(False)  # frozen tasks only die once thawed
            deadline = time.monotonic() + 0.02  # they are gone within a millisecond or two: look again soon
            while self.members() and time.monotonic() < deadline:
                time.sleep(0.001)
        for group in {self.path, self.freezer} - {None}:
            try:
                group.rmdir()
            except OSError:
                pass


CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_BIND, MS_REC, MS_PRIVATE = 1, 4096, 16384, 1 << 18


def isolate(network: bool, hide: list[str]) -> None:
    """In the child before exec: new mount (and network) namespaces, then hide paths.

    Hidden folders get an empty read-only tmpfs over them, hidden files /dev/null.
    As root this needs nothing else; otherwise an unprivileged user namespace,
    which some kernels forbid. Failure is not fatal: the worker reports what it
    can see, and the result records whether isolation held.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    flags = CLONE_NEWNS | (CLONE_NEWNET if network else 0)
    if libc.unshare(flags) != 0 and libc.unshare(CLONE_NEWUSER | flags) != 0:
        return
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return  # without private propagation, mounts would leak to the host: hide nothing
    for path in hide:
        target = path.encode()
        if os.path.isdir(path):
            libc.mount(b"tmpfs", target, b"tmpfs", MS_RDONLY, b"size=16k,mode=555")
        elif os.path.exists(path):
            libc.mount(b"/dev/null", target, None, MS_BIND, None)
