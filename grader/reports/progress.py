"""Progress of a long batch on stderr: one live line on a terminal, plain log lines otherwise.

On a TTY the line is rewritten in place (``\\r``): done/total, the submission
being graded, elapsed time and an ETA. Anywhere else (CI logs, a file, a pipe)
carriage returns would make a mess, so each finished submission gets one
plain line instead, e.g. ``[3/6] hopper_10002: 67.4/100 [flags] (19.5s)``.
"""
from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from grader.models import GradeResult
from grader.reports._common import INFORMATIONAL_FLAGS, clean_text


def fmt_duration(seconds: float) -> str:
    """12s, 3m05s, 1h02m: short enough for a status line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def result_line(n: int, total: int, result: GradeResult) -> str:
    """The one-line log entry for a finished submission."""
    flags = f" [{', '.join(clean_text(f) for f in result.flags)}]" if result.flags else ""
    return (f"[{n}/{total}] {clean_text(result.submission.student)}: {result.score:g}/{result.max_score:g}"
            f"{flags} ({result.execution_time:.1f}s)")


class Progress:
    """Report a batch's progress on ``stream`` (stderr by default; None for silence).

    ``start(student)`` when a submission begins (optional: with parallel
    workers only completions are known), ``done(result)`` when it finished,
    ``close()`` at the end. ``already`` counts submissions finished before
    this run (``--resume``); they count as done but not towards the ETA.
    ``clock`` is injectable so tests need no real time.
    """

    def __init__(self, total: int, stream: TextIO | None = sys.stderr, *, already: int = 0,
                 clock: Callable[[], float] = time.monotonic, width: int | None = None) -> None:
        self.total = max(0, int(total))
        self.stream = stream
        self.done_count = max(0, int(already))
        self._already = self.done_count
        self._clock = clock
        self._started = clock()
        self._current: str | None = None
        self._shown = 0  # length of the live line now on screen, to blank it out
        self._width = width
        self._closed = False
        try:
            self.live = bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError):  # closed or odd streams: plain lines
            self.live = False

    # ---------------------------------------------------------------- public API

    def start(self, student: str) -> None:
        self._current = clean_text(student)
        if self.live:
            self._draw()

    def done(self, result: GradeResult) -> None:
        self.done_count += 1
        if self._current == clean_text(result.submission.student):
            self._current = None
        if self.stream is None:
            return
        if self.live:
            # Submissions that need a human stay on screen above the live line.
            alarming = [f for f in result.flags if f not in INFORMATIONAL_FLAGS]
            if alarming or result.grader_error:
                self._clear()
                self._write(result_line(self.done_count, self.total, result) + "\n")
            self._draw()
        else:
            self._write(result_line(self.done_count, self.total, result) + "\n")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.live and self.stream is not None:
            self._current = None
            self._draw()
            self._write("\n")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- the live line

    def elapsed(self) -> float:
        return max(0.0, self._clock() - self._started)

    def eta(self) -> float | None:
        """Seconds left, from this run's average wall time per submission (None before the first)."""
        finished = self.done_count - self._already
        if finished <= 0:
            return None
        remaining = max(0, self.total - self.done_count)
        # Wall time per completion: with parallel workers this already accounts for the parallelism.
        return self.elapsed() / finished * remaining

    def status_line(self) -> str:
        parts = [f"[{self.done_count}/{self.total}]"]
        parts.append(f"grading {self._current}" if self._current else
                     ("finished" if self.done_count >= self.total else "working"))
        parts.append(f"elapsed {fmt_duration(self.elapsed())}")
        eta = self.eta()
        if eta is not None and self.done_count < self.total:
            parts.append(f"ETA {fmt_duration(eta)}")
        return "  ".join(parts)

    def _columns(self) -> int:
        if self._width:
            return self._width
        return shutil.get_terminal_size((80, 24)).columns

    def _draw(self) -> None:
        # One column short of the width: a full-width line makes some terminals wrap, and a
        # wrapped line can no longer be rewritten with "\r".
        line = self.status_line()[: max(10, self._columns() - 1)]
        pad = " " * max(0, self._shown - len(line))
        self._write("\r" + line + pad)
        self._shown = len(line)

    def _clear(self) -> None:
        if self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def _write(self, text: str) -> None:
        assert self.stream is not None
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not stop the batch
            pass
