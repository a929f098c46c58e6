"""The boundary around a worker: bubblewrap namespaces, an unprivileged uid of its own, or neither.

Levels, best first (``plan()`` picks the best one this machine allows, probed once per process):

- ``bwrap+uid`` (grading as root): bubblewrap, run as root without a user namespace, gives the
  worker its own PID, mount, network, IPC and UTS namespaces and a root file system holding only
  the interpreter, numpy and the shim (read-only) and its own home (``/sandbox``); inside it,
  ``setpriv`` drops to a uid of the worker's own, with no groups, no capabilities, no new privileges.
- ``uid`` (root where namespaces are refused, e.g. Docker's default seccomp): the worker still runs
  under its own uid, so it cannot signal, trace or write to anything but itself; it can read what
  is world-readable.
- ``bwrap`` (an unprivileged grader with user namespaces): the namespaces, under the grader's uid.
- ``none``: process limits only; the report says so.

What held is not taken from the worker's word: ``observe()`` reads it from ``/proc`` in the parent.
"""
from __future__ import annotations

import fcntl
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

BWRAP_ENV = "ACCELGRADE_BWRAP"  # path of bwrap to use; "" or "none" disables it (tests, debugging)
HOME = "/sandbox"  # the worker's home and cwd inside bubblewrap
SHIM_MOUNT = "/opt/accelgrade-shim"
UID_BASE = 1_900_000_000  # far above login and subordinate (container) uid ranges
UID_SLOTS = 1 << 16
NAMESPACES = ("pid", "mnt", "net", "ipc", "uts")


@dataclass(frozen=True)
class Plan:
    """How workers are started in this grading process."""

    bwrap: str | None  # the bwrap binary, when namespaces work here
    own_uid: bool  # each worker gets an unprivileged uid of its own
    why: str = ""  # what was refused, in plain words (empty when the best level held)

    @property
    def level(self) -> str:
        if self.bwrap and self.own_uid:
            return "bwrap+uid"
        if self.own_uid:
            return "uid"
        return "bwrap" if self.bwrap else "none"


@dataclass
class Held:
    """What the parent saw of one worker: the record ``results.json`` carries per submission."""

    level: str
    namespaces: list[str] = field(default_factory=list)  # those not shared with the grader
    uid: int | None = None  # the worker's uid when it is not the grader's
    network: bool = False  # a network namespace of its own (no interface but loopback)
    paths: bool = False  # its own mount namespace: nothing of the class, outputs or project
    freezer: str = "signals"  # how idle workers are frozen: "cgroup" or "signals"
    why: str = ""

    @property
    def complete(self) -> bool:
        return self.level == "bwrap+uid" and self.network and self.paths and self.uid is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"complete": self.complete}


# --- uids -----------------------------------------------------------------------------------------
class UidLease:
    """A uid no other worker on this machine holds: an flock on a root-only file, held while it lives."""

    def __init__(self) -> None:
        folder = _lease_dir()
        start = random.randrange(UID_SLOTS)
        for k in range(UID_SLOTS):
            uid = UID_BASE + (start + k) % UID_SLOTS
            if _uid_taken(uid):
                continue
            fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise OSError("no free worker uid")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _uid_taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


@lru_cache(maxsize=1)
def _lease_dir() -> Path:
    for base in ("/run", tempfile.gettempdir()):
        path = Path(base) / "accelgrade-uids"
        try:
            path.mkdir(mode=0o700, exist_ok=True)
            st = path.lstat()
            if st.st_uid == os.getuid() and not st.st_mode & 0o022 and path.is_dir() and not path.is_symlink():
                return path
        except OSError:
            continue
    return Path(tempfile.mkdtemp(prefix="accelgrade-uids-"))  # private: distinct within this process only


def hand_over(path: Path, uid: int) -> None:
    """Give the worker its folder (and what is in it)."""
    for p in [path, *path.rglob("*")]:
        os.lchown(p, uid, uid)


# --- the bwrap command line ----------------------------------------------------------------------
def _bwrap_binary() -> str | None:
    forced = os.environ.get(BWRAP_ENV)
    if forced is not None:
        return None if forced in ("", "none") else forced
    return shutil.which("bwrap")


def _ro_roots(extra: list[str]) -> list[str]:
    """The folders a worker needs read-only: the system, the interpreter, numpy's site-packages."""
    roots = ["/usr", str(Path(sys.base_prefix).resolve()), str(Path(sys.prefix).resolve())]
    for p in extra:
        roots.append(str(Path(p).resolve()))
    out: list[str] = []
    for r in sorted(set(roots), key=len):  # drop folders already inside another
        if not any(r == o or r.startswith(o.rstrip("/") + "/") for o in out):
            out.append(r)
    return out


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def bwrap_args(plan: Plan, home: Path, shim: Path, dist_paths: list[str], hide: list[str],
               uid: int | None) -> list[str]:
    """bwrap's options for one worker; the worker's own command follows them."""
    assert plan.bwrap
    args = [plan.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if os.getuid() != 0:
        args.append("--unshare-user")  # the only way an unprivileged grader gets namespaces
    made: set[str] = set()
    for root in _ro_roots(dist_paths):
        if root == "/usr":
            args += ["--ro-bind", "/usr", "/usr"]
            continue
        for parent in _parents(root):
            if parent not in made and not parent.startswith("/usr/"):
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]  # bwrap would copy /root's 0700
        args += ["--ro-bind", root, root]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", f, f]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
             "--perms", "0755", "--dir", str(Path(SHIM_MOUNT).parent), "--ro-bind", str(shim), SHIM_MOUNT, "--bind", str(home), HOME]
    # (No --chdir: the home is the worker uid's own, mode 0700; the worker enters it itself.)
    # Anything of the grader inside a mounted folder (a non-editable install's grader/ and
    # reference/ in site-packages, the editable finders naming the project) is covered.
    mounted = _ro_roots(dist_paths)
    for path in hide:
        if not any(path.startswith(r.rstrip("/") + "/") for r in mounted):
            continue  # not mounted at all: nothing to cover
        if os.path.isdir(path):
            args += ["--tmpfs", path]
        elif os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    if uid is not None:
        # As root bwrap makes no user namespace; setpriv then drops to the worker's own uid.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                 "--inh-caps=-all"]
    else:
        args += ["--cap-drop", "ALL", "--"]
    return args


# --- choosing the level --------------------------------------------------------------------------
def _probe(argv: list[str], cwd: Path, preexec=None) -> str:
    """'' when ``argv`` runs python and imports numpy; otherwise why not."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"},
                              preexec_fn=preexec, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if proc.returncode == 0 and proc.stdout.strip() == b"ok":
        return ""
    return (proc.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {proc.returncode}"])[-1][:200]


def _python_probe(dist_paths: list[str]) -> list[str]:
    code = f"import sys; sys.path[:0] = {dist_paths!r}; import numpy; print('ok')"
    return [sys.executable, "-I", "-S", "-c", code]


def drop_to(uid: int):
    """A preexec step: no groups, then the worker's uid and gid (real, effective, saved)."""
    def apply() -> None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return apply


@lru_cache(maxsize=4)
def plan(dist_paths: tuple[str, ...], shim: Path) -> Plan:
    """Probe, once per process, which level this machine allows."""
    root = os.getuid() == 0
    binary = _bwrap_binary()
    reasons: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="accelgrade-probe-"))
    try:
        work.chmod(0o755)
        home = work / "home"
        home.mkdir()
        lease = UidLease() if root else None
        try:
            uid = lease.uid if lease else None
            if uid is not None:
                hand_over(home, uid)
            if binary:
                probe = Plan(binary, root)
                why = _probe(bwrap_args(probe, home, shim, list(dist_paths), [], uid)
                             + _python_probe(list(dist_paths)), work)
                if not why:
                    return probe
                reasons.append(f"bubblewrap refused ({why})")
            else:
                reasons.append("bubblewrap is not installed (Debian/Ubuntu package: bubblewrap)")
            if uid is not None:
                why = _probe(_python_probe(list(dist_paths)), home, drop_to(uid))
                if not why:
                    return Plan(None, True, "; ".join(reasons))
                reasons.append(f"the interpreter cannot run under an unprivileged uid ({why})")
            else:
                reasons.append("not root, so no uid of its own")
            return Plan(None, False, "; ".join(reasons))
        finally:
            if lease:
                lease.release()
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- what held, read by the parent ---------------------------------------------------------------
def observe(pid: int, plan_: Plan, freezer: str) -> Held:
    """Compare the worker's namespaces and uid with the grader's own, from /proc."""
    own = []
    for ns in NAMESPACES:
        try:
            if os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"):
                own.append(ns)
        except OSError:
            pass
    uid = None
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    real = int(line.split()[1])
                    uid = real if real != os.getuid() else None
    except OSError:
        pass
    return Held(level=plan_.level, namespaces=own, uid=uid, network="net" in own,
                paths="mnt" in own and plan_.bwrap is not None, freezer=freezer, why=plan_.why)
