"""Helpers shared by the report formats (private to grader.reports)."""
from __future__ import annotations

import dataclasses
import enum
import importlib
import math
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from grader.models import (
    FLAG_CRASH,
    FLAG_GRADER_ERROR,
    FLAG_IMPORT_ERROR,
    FLAG_MEMORY,
    FLAG_MISSING,
    FLAG_NOISY,
    FLAG_NOT_IMPLEMENTED,
    FLAG_TAMPERING,
    FLAG_TIMEOUT,
    GradeResult,
    ItemScore,
)

try:  # numpy is a grader dependency, but the reports should not need it
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

# Plain words for every flag; reports show these next to the flag itself.
FLAG_EXPLANATIONS: dict[str, str] = {
    FLAG_CRASH: "the code crashed the worker process",
    FLAG_TIMEOUT: "a call ran past its time limit",
    FLAG_MEMORY: "a call went over the memory limit",
    FLAG_TAMPERING: "measurements disagreed with what the grader observed "
    "(e.g. a patched timer or numpy); evidence for a human to review",
    FLAG_NOISY: "timings were noisy on this machine; decided after extra rounds",
    FLAG_MISSING: "a required function is not defined",
    FLAG_NOT_IMPLEMENTED: "a function still raises NotImplementedError",
    FLAG_IMPORT_ERROR: "the file could not be imported",
    FLAG_GRADER_ERROR: "the grader itself failed on this submission (not the student's fault)",
}

# Order used to put the most urgent submissions first in the class index.
# "noisy" is informational, so it does not make a submission "flagged".
_FLAG_SEVERITY = [
    FLAG_GRADER_ERROR,
    FLAG_TAMPERING,
    FLAG_IMPORT_ERROR,
    FLAG_CRASH,
    FLAG_TIMEOUT,
    FLAG_MEMORY,
    FLAG_MISSING,
    FLAG_NOT_IMPLEMENTED,
]
INFORMATIONAL_FLAGS = frozenset({FLAG_NOISY})

_MAX_DEPTH = 32
_MAX_ARRAY_ITEMS = 1000


def explain_flag(flag: str) -> str:
    return FLAG_EXPLANATIONS.get(flag, "")


def round_score(x: Any) -> float:
    """Scores and points: 2 decimals, never NaN (a NaN score would poison a gradebook)."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(value):
        return 0.0
    return round(value, 2) + 0.0  # "+ 0.0" turns -0.0 into 0.0


def fmt_points(x: Any) -> str:
    """42 -> "42.0", 4.25 -> "4.25": at least one decimal, at most two."""
    s = f"{round_score(x):.2f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def fmt_plain_number(x: Any) -> str:
    """100 -> "100", 62.5 -> "62.5": for headers such as "Acceleration (100)"."""
    s = f"{round_score(x):.2f}".rstrip("0").rstrip(".")
    return s or "0"


def percent(score: float, max_score: float) -> float:
    if not max_score or max_score <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * float(score) / float(max_score)))


def _round_float(value: float) -> float | None:
    # Strict JSON has no NaN/Infinity (Gradescope's parser rejects them).
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.6g}")  # measured figures: 6 significant digits is plenty


def to_jsonable(obj: Any, _depth: int = 0) -> Any:
    """Convert anything that may sit in ``ItemScore.data`` / ``machine`` to plain JSON types.

    numpy scalars and arrays, tuples, sets, paths, dataclasses and enums are
    converted; anything else becomes its ``str``. Never raises.
    """
    if _depth > _MAX_DEPTH:
        return "<nested too deeply>"
    try:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return _round_float(obj)
        if _np is not None:
            if isinstance(obj, _np.bool_):
                return bool(obj)
            if isinstance(obj, _np.integer):
                return int(obj)
            if isinstance(obj, _np.floating):
                return _round_float(float(obj))
            if isinstance(obj, _np.ndarray):
                if obj.size > _MAX_ARRAY_ITEMS:
                    return f"<array shape={obj.shape} dtype={obj.dtype}>"
                return to_jsonable(obj.tolist(), _depth + 1)
            if isinstance(obj, _np.generic):
                return to_jsonable(obj.item(), _depth + 1)
        if isinstance(obj, enum.Enum):
            return to_jsonable(obj.value, _depth + 1)
        if isinstance(obj, PurePath):
            return str(obj)
        if isinstance(obj, bytes):
            return obj.decode("utf-8", errors="replace")
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return to_jsonable(dataclasses.asdict(obj), _depth + 1)
        if isinstance(obj, Mapping):
            return {str(k): to_jsonable(v, _depth + 1) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set, frozenset)):
            seq = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
            return [to_jsonable(v, _depth + 1) for v in seq]
        return str(obj)
    except Exception:  # a hostile __str__/__iter__ must not break the report
        try:
            return repr(obj)
        except Exception:
            return "<unrepresentable>"


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: Any) -> str:
    """Student-controlled text with control characters (NUL, ANSI escapes) made visible."""
    if text is None:
        return ""
    return _CONTROL_CHARS.sub("\ufffd", str(text))


def student_dirname(student: str) -> str:
    """The output folder for a student slug, guarded against path tricks.

    Intake promises a filesystem-safe slug; this is defence in depth so that a
    bad slug can never write outside the output folder.
    """
    name = re.sub(r"[/\\\x00]", "_", student or "").strip()
    if name in ("", ".", ".."):
        name = f"_{name.replace('.', '_')}student"
    return name


def all_flags(result: GradeResult) -> list[str]:
    """Submission flags plus every item's flags, each once, in first-seen order."""
    seen: dict[str, None] = {}
    for flag in result.flags:
        seen.setdefault(flag, None)
    for item in result.items:
        for flag in item.flags:
            seen.setdefault(flag, None)
    return list(seen)


def attention_rank(result: GradeResult) -> int:
    """0 = most urgent; len(_FLAG_SEVERITY) + 1 = nothing to look at."""
    flags = [f for f in all_flags(result) if f not in INFORMATIONAL_FLAGS]
    if result.grader_error:
        return 0
    if not flags and not result.submission.intake_error:
        return len(_FLAG_SEVERITY) + 1
    ranks = [_FLAG_SEVERITY.index(f) if f in _FLAG_SEVERITY else len(_FLAG_SEVERITY) for f in flags]
    if result.submission.intake_error:
        ranks.append(_FLAG_SEVERITY.index(FLAG_IMPORT_ERROR))
    return min(ranks)


def needs_attention(result: GradeResult) -> bool:
    return attention_rank(result) <= len(_FLAG_SEVERITY)


def submission_messages(result: GradeResult) -> list[tuple[str, str]]:
    """(kind, text) pairs for everything said about the submission as a whole.

    kind is "error" (the grade is affected), or "note" (informational).
    """
    out: list[tuple[str, str]] = []
    if result.grader_error:
        out.append(("error", "The grader itself failed on this submission, so it could not be "
                    f"graded fully; course staff will look at it. Details: {result.grader_error}"))
    if result.submission.intake_error:
        out.append(("error", f"Your submission could not be read: {result.submission.intake_error}"))
    for message in result.messages:
        out.append(("error" if FLAG_IMPORT_ERROR in result.flags else "note", message))
    for name in result.functions_missing:
        out.append(("error", f"{name} is missing from your file, so its checks scored 0."))
    for note in result.submission.notes:
        out.append(("note", note))
    return [(kind, clean_text(text)) for kind, text in out]


def status_of(item: ItemScore) -> str:
    """Our three-way status, trusting the scorer but tolerating odd values."""
    if item.status in ("passed", "partial", "failed"):
        return item.status
    if item.max_score > 0 and item.score >= item.max_score:
        return "passed"
    return "partial" if item.score > 0 else "failed"


def grader_version() -> str:
    """The grader's version: ``grader.__version__``, else the installed package, else unknown."""
    try:
        version = getattr(importlib.import_module("grader"), "__version__", None)
        if version:
            return str(version)
    except Exception:
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version as pkg_version

        try:
            return pkg_version("accelgrade")
        except PackageNotFoundError:
            pass
    except Exception:
        pass
    return "unknown"
