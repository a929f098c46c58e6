"""A machine-wide reader/writer lock so parallel grading never distorts a measurement.

Measured checks hold it exclusively; every other check holds it shared. So
while one grading process times a kernel, no other grading process on the
machine runs anything, and unmeasured work from several processes overlaps freely.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Iterator


def lock_path() -> Path:
    return Path(os.environ.get("ACCELGRADE_LOCK") or Path(tempfile.gettempdir()) / "accelgrade-measure.lock")


@contextlib.contextmanager
def machine_lock(exclusive: bool) -> Iterator[None]:
    path = lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
