"""Gradescope autograder ``results.json`` for one graded submission."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.models import GradeResult, ItemScore
from grader.reports._common import (
    clean_text,
    fmt_points,
    round_score,
    status_of,
    submission_messages,
    to_jsonable,
)
from grader.atomic import write_text_atomic

# Version of what accelgrade adds under extra_data (item causes and data, the machine record):
# 2 added "causes" to every test.
SCHEMA_VERSION = 2

# Our visibilities are named exactly as Gradescope's; anything unknown is hidden
# (safer to hide a test by mistake than to reveal one).
_GRADESCOPE_VISIBILITY = {"visible": "visible", "hidden": "hidden", "after_published": "after_published"}


def _gradescope_status(item: ItemScore) -> str:
    # Gradescope knows only passed/failed. A 0-point item (informational) has
    # score == max_score trivially, so there we use our own verdict instead.
    score, max_score = round_score(item.score), round_score(item.max_score)
    if max_score > 0:
        return "passed" if score >= max_score else "failed"
    return "passed" if status_of(item) == "passed" else "failed"


def _test_output(item: ItemScore) -> str:
    text = item.output or ""
    if item.hint:
        text = f"{text}\nHint: {item.hint}" if text else f"Hint: {item.hint}"
    return clean_text(text)


def _test_entry(item: ItemScore) -> dict[str, Any]:
    return {
        "name": clean_text(item.name),
        "score": round_score(item.score),
        "max_score": round_score(item.max_score),
        "status": _gradescope_status(item),
        "output": _test_output(item),
        "output_format": "text",
        "visibility": _GRADESCOPE_VISIBILITY.get(item.visibility, "hidden"),
        "tags": [item.category, *item.flags],
        "extra_data": {
            "check_id": item.check_id,
            "category": item.category,
            "status": status_of(item),
            "flags": list(item.flags),
            "causes": list(item.causes),
            "data": to_jsonable(item.data),
            "seconds": round(float(item.duration), 3),
        },
    }


def _placeholder_test(result: GradeResult) -> dict[str, Any]:
    """One failed test standing for the whole grade when nothing could be run.

    Without it Gradescope would show an empty test list and a max of 0; with it
    the student sees why, and the tests' max_score still adds up.
    """
    reasons = [text for kind, text in submission_messages(result) if kind == "error"]
    return {
        "name": "Submission could not be graded",
        "score": round_score(result.score),
        "max_score": round_score(result.max_score),
        "status": "failed",
        "output": "\n".join(reasons) or "No checks ran on this submission.",
        "output_format": "text",
        "visibility": "visible",
        "tags": ["submission", *result.flags],
        "extra_data": {"check_id": None, "category": None, "status": "failed",
                       "flags": list(result.flags), "data": {}},
    }


def summary_text(result: GradeResult) -> str:
    """The short plain-text summary Gradescope shows above the tests."""
    lines = [f"{result.assignment}: {fmt_points(result.score)} / {fmt_points(result.max_score)} points"]
    lines += [text for _kind, text in submission_messages(result)]
    # Flags are not repeated here: this text is student-facing, and a flag such
    # as "tampering" is evidence for a human, not a verdict to announce. They
    # are in each test's tags and in extra_data.
    return "\n".join(lines)


def results_dict(result: GradeResult) -> dict[str, Any]:
    """The Gradescope results.json content for ``result``; always ``json.dumps``-able."""
    sub = result.submission
    tests = [_test_entry(item) for item in result.items]
    if not tests and round_score(result.max_score) > 0:
        tests.append(_placeholder_test(result))
    return {
        "score": round_score(result.score),
        "execution_time": int(round(max(0.0, round_score(result.execution_time)))),  # NaN-safe
        "output": summary_text(result),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "leaderboard": [],
        "extra_data": to_jsonable({
            "schema_version": SCHEMA_VERSION,
            "student": sub.student,
            "student_id": sub.student_id,
            "display_name": sub.display_name,
            "code_hash": sub.code_hash,
            "seed": result.seed,
            "machine": result.machine,
            "flags": list(result.flags),
            "functions_missing": list(result.functions_missing),
            "suggested_assignment": result.suggested_assignment,
            "grader_error": result.grader_error,
            "intake_error": sub.intake_error,
            "categories": [
                {"name": c.name, "score": round_score(c.score), "max_score": round_score(c.max_score)}
                for c in result.categories
            ],
            "max_score": round_score(result.max_score),
        }),
    }


def dumps_results(result: GradeResult) -> str:
    # allow_nan=False: strict JSON; to_jsonable already replaced NaN/inf.
    return json.dumps(results_dict(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_results_json(result: GradeResult, path: Path | str) -> None:
    write_text_atomic(Path(path), dumps_results(result))
