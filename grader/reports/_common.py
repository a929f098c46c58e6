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
    FLAG_BUSY,
    FLAG_MISSING,
    FLAG_NOISY,
    FLAG_NOT_IMPLEMENTED,
    FLAG_MUTATES_INPUT,
    FLAG_TAMPERING,
    FLAG_TIMEOUT,
    FLAG_TOO_FAST,
    FLAG_UNVERIFIED,
    GradeResult,
    ItemScore,
)

try:  # numpy is a grader dependency, but the reports should not need it
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

# Plain words for every flag, written for the student reading their report
# (course staff read the same sentence); reports show them next to the flag.
FLAG_EXPLANATIONS: dict[str, str] = {
    FLAG_CRASH: "Your code crashed the process running it (for example a segmentation fault, or "
    "sys.exit/os._exit called from your file). The check that was running got no credit; "
    "the grader started a fresh process for the remaining checks.",
    FLAG_TIMEOUT: "A call did not finish within its time limit (an endless loop, or code far too "
    "slow for the input size), so it was stopped and that check got no credit.",
    FLAG_MEMORY: "A call used more memory than the grader allows (usually a huge temporary array), "
    "so it was stopped and that check got no credit.",
    FLAG_TAMPERING: "The grader saw the clock or tracemalloc replaced, or timings and memory figures "
    "that disagree with what it measured from outside. Measured checks get no credit, and a human "
    "will look at this submission.",
    FLAG_NOISY: "Timings on the grading machine varied a lot, so the grader measured extra rounds and "
    "decided on the median. No points are lost for this; a result close to the threshold may "
    "differ slightly on a rerun.",
    FLAG_MISSING: "A function the assignment asks for is not in your file (check its name and "
    "spelling). Only the checks that use it scored 0; everything else was graded normally.",
    FLAG_NOT_IMPLEMENTED: "A function still raises NotImplementedError, as in the starter file. "
    "Its checks score 0 until you implement it.",
    FLAG_IMPORT_ERROR: "Your file raised an error while it was being imported, so none of its "
    "functions could be tested. Run `python acceleration.py` to see the traceback.",
    FLAG_GRADER_ERROR: "The grader itself failed on this submission. This is not your fault: "
    "course staff will look at it and grade it again.",
    FLAG_UNVERIFIED: "The grader checked the answer of a randomly chosen timed call after timing it, and "
    "it was wrong (a cached, stale or skipped result). That measured check got no credit.",
    FLAG_TOO_FAST: "A timed call finished faster than this machine can go (less than half the time its "
    "measured compute and memory roofs allow), so the timing is not believed and earns nothing.",
    FLAG_MUTATES_INPUT: "The function wrote into its input array. It loses its speed and memory credit: "
    "compute into a new array (out= on a buffer you allocate is fine).",
    FLAG_BUSY: "Other programs (or the virtual machine's host) kept the grading machine busy while this was "
    "timed, even after the grader waited for it to settle and measured again. This is not your code's "
    "doing: course staff can grade it again on a quiet machine.",
}

# Order used to put the most urgent submissions first in the class index.
# "noisy" is informational, so it does not make a submission "flagged".
_FLAG_SEVERITY = [
    FLAG_GRADER_ERROR,
    FLAG_TAMPERING,
    FLAG_TOO_FAST,
    FLAG_UNVERIFIED,
    FLAG_MUTATES_INPUT,
    FLAG_IMPORT_ERROR,
    FLAG_CRASH,
    FLAG_TIMEOUT,
    FLAG_MEMORY,
    FLAG_BUSY,
    FLAG_MISSING,
    FLAG_NOT_IMPLEMENTED,
]
INFORMATIONAL_FLAGS = frozenset({FLAG_NOISY})

_MAX_DEPTH = 32
_MAX_REASON_CHARS = 300
_MAX_ARRAY_ITEMS = 1000


def explain_flag(flag: str) -> str:
    """The plain-words sentence for ``flag``; a generic one for a flag this version does not know."""
    return FLAG_EXPLANATIONS.get(flag) or (
        f"The grader marked this submission \u201c{clean_text(flag)}\u201d; the checks' messages say more.")


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


def flag_reasons(item: ItemScore) -> dict[str, str]:
    """Why each of the item's flags was raised (the checks' ``data.flag_reasons``), shortened."""
    reasons = item.data.get("flag_reasons") if isinstance(item.data, Mapping) else None
    if not isinstance(reasons, Mapping):
        return {}
    return {clean_text(k): short_text(v) for k, v in reasons.items() if v}


def flag_details(result: GradeResult, items: list[ItemScore]) -> list[dict[str, Any]]:
    """Each flag present once: its plain-words sentence, the checks carrying it and why.

    ``items`` is what the page shows, so a self-check never names a hidden check.
    """
    out: dict[str, dict[str, Any]] = {}

    def entry(flag: str) -> dict[str, Any]:
        return out.setdefault(flag, {"name": clean_text(flag), "explanation": explain_flag(flag),
                                     "info": flag in INFORMATIONAL_FLAGS, "checks": [], "reasons": []})

    for flag in result.flags:
        entry(flag)
    for item in items:
        reasons = flag_reasons(item)
        for flag in item.flags:
            e = entry(flag)
            e["checks"].append(clean_text(item.name))
            if flag in reasons:
                e["reasons"].append(f"{clean_text(item.name)}: {reasons[flag]}")
    for e in out.values():  # "all 31 checks" reads better than 31 names
        e["all_checks"] = len(items) > 1 and len(e["checks"]) == len(items)
    # Alarms first, informational notes (noisy) last.
    return sorted(out.values(), key=lambda e: e["info"])


def short_text(text: Any, limit: int = _MAX_REASON_CHARS) -> str:
    """Cleaned text cut to ``limit`` characters (a reason, not a traceback)."""
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


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
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as pkg_version

        try:
            return pkg_version("accelgrade")
        except PackageNotFoundError:
            pass
    except Exception:
        pass
    return "unknown"
