"""A machine-wide reader/writer lock so parallel grading never distorts a measurement.

Measured checks hold it exclusively; every other check holds it shared. So
while one grading process times a kernel, no other grading process on the
machine runs anything, and unmeasured work from several processes overlaps freely.

Every time this process had to wait for the lock (another grader held it) the
wait is recorded (``lock_mark`` / ``lock_waits_since``): the grader keeps each
submission's waits in its machine record and the class summary adds them up.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator


@dataclass(frozen=True)
class LockWaits:
    """How often, and how long, this process waited for another grader's hold on the lock."""

    waits: int = 0
    seconds: float = 0.0
    longest: float = 0.0

    @classmethod
    def of(cls, durations: list[float]) -> "LockWaits":
        return cls(len(durations), float(sum(durations)), max(durations, default=0.0))

    def __add__(self, other: "LockWaits") -> "LockWaits":
        return LockWaits(self.waits + other.waits, self.seconds + other.seconds, max(self.longest, other.longest))

    def as_dict(self) -> dict[str, Any]:
        return {"waits": self.waits, "seconds": round(self.seconds, 3), "longest": round(self.longest, 3)}


_waited: list[float] = []  # every wait of this process, in seconds
_guard = threading.Lock()


def lock_mark() -> int:
    """A point in this process's wait record, for ``lock_waits_since``."""
    return len(_waited)


def lock_waits_since(mark: int = 0) -> LockWaits:
    """The waits for the machine lock since ``mark`` (0: since the process started)."""
    with _guard:
        return LockWaits.of(_waited[mark:])


def _record(seconds: float) -> None:
    with _guard:
        _waited.append(seconds)


def lock_path() -> Path:
    return Path(os.environ.get("ACCELGRADE_LOCK") or Path(tempfile.gettempdir()) / "accelgrade-measure.lock")


@contextlib.contextmanager
def machine_lock(exclusive: bool) -> Iterator[None]:
    path = lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:  # another grader holds it: wait, and say so in the record
            started = time.monotonic()
            fcntl.flock(fd, mode)
            _record(time.monotonic() - started)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
