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
import ctypes
import os
import shutil
import signal
import tempfile
import time
from functools import lru_cache
from pathlib import Path

CGROUP_BASES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


@lru_cache(maxsize=1)
def run_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="accelgrade-run-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def cleanup() -> None:
    """Remove this process's run folder (workers' homes, the shim copy) once grading is over."""
    if run_dir.cache_info().currsize:
        shutil.rmtree(run_dir(), ignore_errors=True)
        run_dir.cache_clear()
        shim_copy.cache_clear()


@lru_cache(maxsize=1)
def shim_copy(source: Path) -> Path:
    """A private copy of the tinytorch shim, so its path does not lead to the grader's files."""
    dest = run_dir() / "shim"
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def new_home() -> tuple[Path, Path]:
    """(root to remove at the end, the worker's home inside it)."""
    root = Path(tempfile.mkdtemp(prefix="w-", dir=run_dir()))
    home = root / "home"
    home.mkdir(mode=0o700)
    return root, home


class Cgroup:
    """A cgroup holding one worker and everything it starts; a no-op where none can be made."""

    def __init__(self, tag: str):
        self.path: Path | None = None
        for base in CGROUP_BASES:
            procs = base / "cgroup.procs"
            if not procs.exists():
                continue
            try:
                path = base / f"accelgrade-{tag}"
                path.mkdir()
                self.path = path
                break
            except OSError:
                continue

    def join_self(self) -> None:
        """Called in the child before exec: it and its future children are members."""
        if self.path is not None:
            try:
                (self.path / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def kill_all(self) -> None:
        if self.path is None:
            return
        for _ in range(50):  # members may fork while we kill: repeat until empty
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            self.path.rmdir()
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
