"""Write every output of a grading run into one folder.

Layout (the DESIGN.md contract)::

    OUT/index.html  OUT/grades.csv  OUT/summary.json
    OUT/<student>/report.html  OUT/<student>/results.json
"""
from __future__ import annotations

import html as html_lib
import json
import logging
from pathlib import Path

from grader.models import GradeResult
from grader.reports._common import round_score, student_dirname
from grader.atomic import write_text_atomic
from grader.reports.csv_export import write_grades_csv
from grader.reports.html import render_report, write_index
from grader.reports.results_json import dumps_results
from grader.reports.summary_json import write_summary_json

log = logging.getLogger(__name__)


def _fallback_report(result: GradeResult, exc: BaseException) -> str:
    # "Every submission gets a report, whatever it did": if rendering fails
    # (a bug on our side), still leave a minimal, escaped page behind.
    e = html_lib.escape
    sub = result.submission
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{e(result.assignment)}: {e(sub.display_name)}</title></head><body>"
        f"<h1>{e(result.assignment)}: {e(sub.display_name)}</h1>"
        f"<p>Score: {round_score(result.score)} / {round_score(result.max_score)}</p>"
        f"<p>The full report could not be rendered ({e(type(exc).__name__)}: {e(str(exc))}). "
        "See results.json in this folder.</p></body></html>\n"
    )


def _fallback_results(result: GradeResult, exc: BaseException) -> str:
    data = {
        "score": round_score(result.score),
        "execution_time": int(round(max(0.0, round_score(result.execution_time)))),
        "output": f"The grader could not write full results: {type(exc).__name__}: {exc}",
        "tests": [],
        "leaderboard": [],
        "extra_data": {"student": str(result.submission.student), "report_error": str(exc)},
    }
    return json.dumps(data, indent=2) + "\n"


def write_student_outputs(result: GradeResult, out_dir: Path) -> Path:
    """Write ``out_dir/<student>/report.html`` and ``results.json``; return that folder.

    Called as each submission finishes, so a batch that dies keeps what it graded.
    A failure to render one file falls back to a minimal version, never to no file.
    """
    folder = Path(out_dir) / student_dirname(result.submission.student)
    try:
        text = dumps_results(result)
    except Exception as exc:
        log.exception("results.json for %s failed; writing a minimal one", result.submission.student)
        text = _fallback_results(result, exc)
    write_text_atomic(folder / "results.json", text)
    try:
        page = render_report(result)
    except Exception as exc:
        log.exception("report.html for %s failed; writing a minimal one", result.submission.student)
        page = _fallback_report(result, exc)
    write_text_atomic(folder / "report.html", page)
    return folder


def write_outputs(results: list[GradeResult], out_dir: Path, assignment: str,
                  points_possible: float, machine: dict, seed: int) -> None:
    """Write every per-student file, then the class files (index, CSV, summary)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Per-student files first: they matter most and each stands on its own.
    for result in results:
        write_student_outputs(result, out_dir)
    write_grades_csv(results, out_dir / "grades.csv", assignment, points_possible)
    write_summary_json(results, out_dir / "summary.json", assignment, points_possible, machine, seed)
    write_index(results, out_dir / "index.html", assignment, points_possible, machine)
