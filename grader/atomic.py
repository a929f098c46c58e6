"""Atomic file writes: a reader (or a crashed batch) never sees a half-written file.

The data goes to a temporary file in the *same* folder (so ``os.replace`` is a
rename within one filesystem, which POSIX makes atomic), is fsynced, and only
then takes the final name.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Reports are meant to be read by course staff and web servers; mkstemp's 0600
# would make them private to the grader's account.
_FILE_MODE = 0o644


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` so the file is either the old one or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, path)
    except BaseException:
        # Also on KeyboardInterrupt: leave no stray temp file behind.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` exactly as given (no newline translation), atomically."""
    write_bytes_atomic(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform/filesystem allows
    # opening a directory, and the write already succeeded, so best effort.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
