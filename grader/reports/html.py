"""Self-contained HTML reports: per student, the class index, and the student self-check.

Every page is one file: inline CSS and SVG, nothing fetched from the network,
no script except the class index's few lines of table sorting, so it opens
from a zip, a mail attachment or a printout. Templates are autoescaped:
names, file names, stdout and exception messages come from students and
must render as text. What the templates show is decided in views.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from grader.models import GradeResult
from grader.reports._common import fmt_plain_number, fmt_points
from grader.atomic import write_text_atomic
from grader.reports.measured import fmt_gflops, fmt_mb, fmt_ratio, fmt_seconds, fmt_sig
from grader.reports.scripts import (
    SORT_TABLE_JS,
    content_security_policy,
    sort_table_script,
)
from grader.reports.views import index_context, report_context

_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=PackageLoader("grader.reports", "templates"),
            autoescape=True,  # student strings must render as text
            undefined=StrictUndefined,  # a typo in a template fails loudly in tests
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _env.filters.update(points=fmt_points, plain_number=fmt_plain_number, ratio=fmt_ratio,
                            seconds=fmt_seconds, mb=fmt_mb, gflops=fmt_gflops, sig=fmt_sig)
    return _env


def render_report(result: GradeResult) -> str:
    """The instructor's per-student page: every item, hidden ones marked as such."""
    ctx = report_context(result, selfcheck=False)
    return _environment().get_template("report.html.j2").render(csp=content_security_policy(), **ctx)


def render_selfcheck(result: GradeResult) -> str:
    """The student's self-check page: visible items only, totals over those."""
    ctx = report_context(result, selfcheck=True)
    return _environment().get_template("selfcheck.html.j2").render(csp=content_security_policy(), **ctx)


def write_report(result: GradeResult, path: Path | str) -> None:
    write_text_atomic(Path(path), render_report(result))


def write_selfcheck(result: GradeResult, path: Path | str) -> None:
    write_text_atomic(Path(path), render_selfcheck(result))


def render_index(results: list[GradeResult], assignment: str, points_possible: float,
                 machine: dict, similarity: Any = None) -> str:
    """The class summary page: histogram, flagged submissions first, sortable students, pass rates,
    and the pairs of similar submissions (a grader.similarity report) when there is one."""
    ctx = index_context(results, assignment, points_possible, machine, similarity)
    return _environment().get_template("index.html.j2").render(
        csp=content_security_policy((SORT_TABLE_JS,)), sort_script=sort_table_script(), **ctx)


def write_index(results: list[GradeResult], path: Path | str, assignment: str,
                points_possible: float, machine: dict, similarity: Any = None) -> None:
    write_text_atomic(Path(path), render_index(results, assignment, points_possible, machine, similarity))
