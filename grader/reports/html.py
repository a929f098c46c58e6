"""Self-contained HTML reports: per student, the class index, and the student self-check.

Every page is one file: inline CSS and SVG, no scripts, nothing fetched from
the network, so it opens from a zip, a mail attachment or a printout.
Templates are autoescaped: names, file names, stdout and exception messages
come from students and must render as text.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from grader.models import FLAG_GRADER_ERROR, GradeResult, ItemScore
from grader.reports._common import (
    INFORMATIONAL_FLAGS,
    all_flags,
    attention_rank,
    clean_text,
    explain_flag,
    fmt_plain_number,
    fmt_points,
    grader_version,
    needs_attention,
    percent,
    round_score,
    status_of,
    student_dirname,
    submission_messages,
    to_jsonable,
)
from grader.reports.atomic import write_text_atomic
from grader.reports.summary_json import check_stats, score_stats

# The grader truncates captured output already; this only bounds the page if it did not.
_MAX_CAPTURE_CHARS = 200_000

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
        _env.filters["points"] = fmt_points
        _env.filters["plain_number"] = fmt_plain_number
    return _env


def _display_value(value: Any) -> str:
    value = to_jsonable(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "n/a" if value is None else clean_text(value)


def _kv_rows(mapping: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(clean_text(k), _display_value(v)) for k, v in (mapping or {}).items()]


def _flag_view(flags: list[str]) -> list[dict[str, str]]:
    # "info" flags (noisy) are styled as notes, not alarms.
    return [{"name": clean_text(f), "explanation": explain_flag(f),
             "info": f in INFORMATIONAL_FLAGS} for f in flags]


def _capture(text: str) -> str:
    text = clean_text(text)
    if len(text) > _MAX_CAPTURE_CHARS:
        text = text[:_MAX_CAPTURE_CHARS] + "\n[... truncated by the report ...]"
    return text


def _item_view(item: ItemScore) -> dict[str, Any]:
    return {
        "check_id": clean_text(item.check_id),
        "name": clean_text(item.name),
        "category": clean_text(item.category),
        "score": round_score(item.score),
        "max_score": round_score(item.max_score),
        "status": status_of(item),
        "visibility": item.visibility,
        "output": clean_text(item.output),
        "hint": clean_text(item.hint),
        "flags": _flag_view(item.flags),
        "data": _kv_rows(item.data),
    }


def _category_views(result: GradeResult, items: list[ItemScore], from_items: bool) -> list[dict[str, Any]]:
    if from_items:
        # Self-check: categories recomputed from the visible items only, so the
        # bars do not leak how the hidden checks went.
        totals: dict[str, list[float]] = {}
        for item in items:
            t = totals.setdefault(item.category, [0.0, 0.0])
            t[0] += float(item.score)
            t[1] += float(item.max_score)
        pairs = [(name, s, m) for name, (s, m) in totals.items()]
    else:
        pairs = [(c.name, c.score, c.max_score) for c in result.categories]
    return [
        {"name": clean_text(name), "score": round_score(s), "max_score": round_score(m),
         "percent": round(percent(s, m), 1)}
        for name, s, m in pairs
    ]


def _report_context(result: GradeResult, selfcheck: bool) -> dict[str, Any]:
    sub = result.submission
    items = [i for i in result.items if i.visibility == "visible"] if selfcheck else list(result.items)
    if selfcheck:
        score = sum(float(i.score) for i in items)
        max_score = sum(float(i.max_score) for i in items)
    else:
        score, max_score = result.score, result.max_score
    return {
        "selfcheck": selfcheck,
        "assignment": clean_text(result.assignment),
        "display_name": clean_text(sub.display_name),
        "student": clean_text(sub.student),
        "student_id": clean_text(sub.student_id or ""),
        "source_name": clean_text(Path(str(sub.source_path)).name),
        "code_hash": clean_text(sub.code_hash),
        "score": round_score(score),
        "max_score": round_score(max_score),
        "percent": round(percent(score, max_score), 1),
        "categories": _category_views(result, items, from_items=selfcheck),
        "items": [_item_view(i) for i in items],
        "hidden_count": len(result.items) - len(items),
        "messages": submission_messages(result),
        "flags": _flag_view(result.flags if selfcheck else all_flags(result)),
        "stdout": _capture(result.stdout),
        "stderr": _capture(result.stderr),
        "machine": _kv_rows(result.machine),
        "seed": result.seed,
        "execution_time": round(float(result.execution_time or 0), 1),
        "grader_version": grader_version(),
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_report(result: GradeResult) -> str:
    """The instructor's per-student page: every item, hidden ones marked as such."""
    return _environment().get_template("report.html.j2").render(**_report_context(result, selfcheck=False))


def render_selfcheck(result: GradeResult) -> str:
    """The student's self-check page: visible items only, totals over those."""
    return _environment().get_template("selfcheck.html.j2").render(**_report_context(result, selfcheck=True))


def write_report(result: GradeResult, path: Path | str) -> None:
    write_text_atomic(Path(path), render_report(result))


def write_selfcheck(result: GradeResult, path: Path | str) -> None:
    write_text_atomic(Path(path), render_selfcheck(result))


def _index_context(results: list[GradeResult], assignment: str, points_possible: float,
                   machine: dict) -> dict[str, Any]:
    # Submissions needing a human first (grader errors, tampering, ...), then by name.
    ordered = sorted(results, key=lambda r: (attention_rank(r), r.submission.display_name.lower(),
                                             r.submission.student))
    students = []
    for r in ordered:
        sub = r.submission
        students.append({
            "display_name": clean_text(sub.display_name),
            "student_id": clean_text(sub.student_id or ""),
            "score": round_score(r.score),
            "max_score": round_score(r.max_score),
            "percent": round(percent(r.score, r.max_score), 1),
            "flags": _flag_view(all_flags(r)),
            # Problems not already shown as a flag badge.
            "problems": [text for cond, text in (
                (r.grader_error and FLAG_GRADER_ERROR not in r.flags, "grader error"),
                (sub.intake_error, "could not be read"),
            ) if cond],
            # Percent-encoded relative link: a slug can never become a scheme or escape the folder.
            "href": quote(student_dirname(sub.student), safe="") + "/report.html",
            "attention": needs_attention(r),
        })
    checks = check_stats(results)
    for c in checks:
        c["pass_percent"] = round(100.0 * c["pass_rate"], 1)
    return {
        "assignment": clean_text(assignment),
        "points_possible": round_score(points_possible),
        "students": students,
        "n_attention": sum(1 for s in students if s["attention"]),
        "stats": score_stats(results),
        "checks": checks,
        "machine": _kv_rows(machine),
        "grader_version": grader_version(),
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_index(results: list[GradeResult], assignment: str, points_possible: float,
                 machine: dict) -> str:
    """The class summary page: students (flagged first), score statistics, per-check pass rates."""
    ctx = _index_context(results, assignment, points_possible, machine)
    return _environment().get_template("index.html.j2").render(**ctx)


def write_index(results: list[GradeResult], path: Path | str, assignment: str,
                points_possible: float, machine: dict) -> None:
    write_text_atomic(Path(path), render_index(results, assignment, points_possible, machine))
