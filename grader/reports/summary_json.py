"""Class-level ``summary.json``: counts, score statistics, per-check pass rates, per-student rows."""
from __future__ import annotations

import json
import statistics
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.models import GradeResult
from grader.reports._common import (
    all_flags,
    grader_version,
    needs_attention,
    round_score,
    status_of,
    student_dirname,
    to_jsonable,
)
from grader.atomic import write_text_atomic


def score_stats(results: list[GradeResult]) -> dict[str, Any]:
    """Mean/median/min/max over the submissions the grader could grade.

    A grader error is a harness fault, not a student's score, so those results
    are left out of the statistics (they are counted separately).
    """
    scores = [round_score(r.score) for r in results if not r.grader_error]
    if not scores:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None, "stdev": None}
    return {
        "n": len(scores),
        "mean": round_score(statistics.fmean(scores)),
        "median": round_score(statistics.median(scores)),
        "min": min(scores),
        "max": max(scores),
        "stdev": round_score(statistics.pstdev(scores)) if len(scores) > 1 else 0.0,
    }


def check_stats(results: list[GradeResult]) -> list[dict[str, Any]]:
    """Per rubric item: how many passed / partial / failed, in rubric order.

    A submission without the item (nothing could run) counts as ``not_run``;
    ``pass_rate`` is over all submissions, since those did not pass either.
    """
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        for item in result.items:
            row = rows.setdefault(item.check_id, {
                "check_id": item.check_id, "name": item.name, "category": item.category,
                "visibility": item.visibility, "max_score": round_score(item.max_score),
                "passed": 0, "partial": 0, "failed": 0, "not_run": 0, "_score_sum": 0.0,
            })
            row[status_of(item)] += 1
            row["_score_sum"] += float(item.score)
    n = len(results)
    out = []
    for row in rows.values():
        ran = row["passed"] + row["partial"] + row["failed"]
        row["not_run"] = n - ran
        row["pass_rate"] = round(row["passed"] / n, 4) if n else 0.0
        row["mean_score"] = round_score(row.pop("_score_sum") / n) if n else 0.0
        out.append(row)
    return out


def student_rows(results: list[GradeResult]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        sub = r.submission
        rows.append({
            "student": sub.student,
            "display_name": sub.display_name,
            "student_id": sub.student_id,
            "score": round_score(r.score),
            "max_score": round_score(r.max_score),
            "flags": all_flags(r),
            "needs_attention": needs_attention(r),
            "intake_error": sub.intake_error,
            "grader_error": r.grader_error,
            "functions_missing": list(r.functions_missing),
            "suggested_assignment": r.suggested_assignment,
            "code_hash": sub.code_hash,
            "sandbox": (r.machine or {}).get("sandbox"),
            "report": f"{student_dirname(sub.student)}/report.html",
            "results": f"{student_dirname(sub.student)}/results.json",
        })
    return rows


def summary_dict(results: list[GradeResult], assignment: str, points_possible: float,
                 machine: dict, seed: int) -> dict[str, Any]:
    """Everything ``summary.json`` holds; always ``json.dumps``-able."""
    flag_counts: dict[str, int] = {}
    for r in results:
        for flag in all_flags(r):
            flag_counts[flag] = flag_counts.get(flag, 0) + 1
    counts = {
        "submissions": len(results),
        "graded": sum(1 for r in results if not r.grader_error and not r.submission.intake_error),
        "intake_errors": sum(1 for r in results if r.submission.intake_error),
        "grader_errors": sum(1 for r in results if r.grader_error),
        "needs_attention": sum(1 for r in results if needs_attention(r)),
        "full_marks": sum(1 for r in results if r.max_score > 0 and round_score(r.score) >= round_score(r.max_score)),
        "flags": dict(sorted(flag_counts.items())),
    }
    levels: dict[str, int] = {}
    for r in results:
        held = (r.machine or {}).get("sandbox") or {}
        levels[str(held.get("level", "unknown"))] = levels.get(str(held.get("level", "unknown")), 0) + 1
    sandbox = {"levels": dict(sorted(levels.items())),
               "complete": all(((r.machine or {}).get("sandbox") or {}).get("complete") for r in results)}
    return to_jsonable({
        "assignment": assignment,
        "points_possible": round_score(points_possible),
        "grader_version": grader_version(),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "machine": machine,
        "counts": counts,
        "sandbox": sandbox,  # which isolation held, batch-wide; per student under students[].sandbox
        "scores": score_stats(results),
        "checks": check_stats(results),
        "students": student_rows(results),
    })


def write_summary_json(results: list[GradeResult], path: Path | str, assignment: str,
                       points_possible: float, machine: dict, seed: int) -> None:
    data = summary_dict(results, assignment, points_possible, machine, seed)
    write_text_atomic(Path(path), json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
