"""What the HTML templates see: GradeResults turned into plain, already-cleaned view data.

The templates only lay out; every decision (which items a self-check shows,
which flags need a human, what a chart contains) is made here, where it can
be tested. Student-controlled strings are passed through ``clean_text`` and
stay plain ``str``: jinja's autoescape turns them into text. The only
``Markup`` values are the charts, built by charts.py with every label escaped.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from grader.models import FLAG_GRADER_ERROR, GradeResult, ItemScore
from grader.reports import charts
from grader.reports._common import (
    INFORMATIONAL_FLAGS,
    all_flags,
    attention_rank,
    clean_text,
    explain_flag,
    flag_details,
    flag_reasons,
    grader_version,
    needs_attention,
    percent,
    round_score,
    short_text,
    status_of,
    student_dirname,
    submission_messages,
)
from grader.reports.machine import (
    calibration,
    calibration_rows,
    display_value,
    isolation,
    machine_rows,
)
from grader.reports.measured import (
    MEMORY_KEYS,
    ROOFLINE_KEYS,
    SPEED_KEYS,
    memory_view,
    roofline_view,
    speed_view,
)
from grader.measure.load import state_rows
from grader.reports.summary_json import check_stats, score_stats

# The grader truncates captured output already; this only bounds the page if it did not.
MAX_CAPTURE_CHARS = 200_000


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def capture(text: str) -> str:
    text = clean_text(text)
    if len(text) > MAX_CAPTURE_CHARS:
        text = text[:MAX_CAPTURE_CHARS] + "\n[... truncated by the report ...]"
    return text


def kv_rows(mapping: Mapping[str, Any] | None, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(clean_text(k), display_value(v)) for k, v in (mapping or {}).items() if k not in skip]


def flag_badges(flags: list[str]) -> list[dict[str, Any]]:
    # "info" flags (noisy) are styled as notes, not alarms.
    return [{"name": clean_text(f), "explanation": explain_flag(f), "info": f in INFORMATIONAL_FLAGS}
            for f in flags]


def _measured(item: ItemScore, machine: Mapping[str, Any]) -> tuple[str | None, Any, frozenset[str]]:
    """(kind, view, keys the view shows) for a measured check; (None, None, {}) otherwise."""
    # A view that could not read its main figure is no use: show the raw values instead.
    try:
        if (view := speed_view(item)) is not None:
            if view.student or view.too_slow:
                return "speed", view, SPEED_KEYS
        elif (view := memory_view(item)) is not None:
            if view.student is not None:
                return "memory", view, MEMORY_KEYS
        elif (view := roofline_view(item, machine)) is not None:
            if view.points:
                return "roofline", view, ROOFLINE_KEYS
    except Exception:  # odd data: the raw key/value table still shows everything
        pass
    return None, None, frozenset({"flag_reasons"})


def item_view(item: ItemScore, machine: Mapping[str, Any]) -> dict[str, Any]:
    kind, view, shown = _measured(item, machine)
    status = status_of(item)
    score, max_score = round_score(item.score), round_score(item.max_score)
    return {
        "check_id": clean_text(item.check_id),
        "anchor": "check-" + "".join(c if c.isalnum() else "-" for c in clean_text(item.check_id)),
        "name": clean_text(item.name),
        "category": clean_text(item.category),
        "score": score,
        "max_score": max_score,
        "status": status,
        "lost": score < max_score or status != "passed",
        "visibility": item.visibility,
        "output": clean_text(item.output),
        "hint": clean_text(item.hint),
        "flags": flag_badges(item.flags),
        "flag_reasons": flag_reasons(item),
        "causes": [clean_text(c) for c in item.causes],
        "kind": kind,
        "view": view,
        "data": kv_rows(item.data if isinstance(item.data, Mapping) else {}, shown),
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


def _visibility_note(visibility: str) -> str:
    return "" if visibility == "visible" else visibility.replace("_", " ")


def _charts(views: list[dict[str, Any]]) -> dict[str, Any]:
    """The performance section: speed panels, memory bars, roofline plot (from what the page shows)."""
    speed, memory, roofline = [], None, None
    for v in views:
        try:
            if v["kind"] == "speed":
                panel = charts.speed_panel(v["view"])
                speed.append({"item": v, "svg": charts.speed_svg(panel, v["view"]) if panel else None,
                              "hidden": _visibility_note(v["visibility"])})
            elif v["kind"] == "memory" and memory is None:
                bars = charts.memory_bars(v["view"])
                if bars:
                    memory = {"item": v, "svg": charts.memory_svg(bars, v["view"]),
                              "hidden": _visibility_note(v["visibility"])}
            elif v["kind"] == "roofline" and roofline is None:
                plot = charts.roofline_plot(v["view"])
                if plot:
                    roofline = {"item": v, "view": v["view"], "svg": charts.roofline_svg(plot, v["view"]),
                                "hidden": _visibility_note(v["visibility"])}
        except Exception:  # a chart is a nicety; the checks table still has the figures
            continue
    return {"speed_charts": speed, "memory_chart": memory, "roofline": roofline,
            "has_charts": bool(speed or memory or roofline)}


def report_context(result: GradeResult, selfcheck: bool) -> dict[str, Any]:
    """Context of report.html (instructor: every item, hidden ones marked) or self-check.html
    (visible items only; totals, categories, flags and charts from those alone)."""
    sub = result.submission
    machine = result.machine if isinstance(result.machine, Mapping) else {}
    items = [i for i in result.items if i.visibility == "visible"] if selfcheck else list(result.items)
    if selfcheck:
        score = sum(float(i.score) for i in items)
        max_score = sum(float(i.max_score) for i in items)
    else:
        score, max_score = result.score, result.max_score
    views = [item_view(i, machine) for i in items]
    cal = calibration(machine)
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
        "items": views,
        "hidden_count": len(result.items) - len(items),
        "messages": submission_messages(result),
        "flags": flag_details(result, items),
        **_charts(views),
        "calibration": {"id": display_value(cal.get("id")) if cal.get("id") else "",
                        "created": display_value(cal.get("created")) if cal.get("created") else "",
                        "quick": bool(cal.get("quick"))},
        "stdout": capture(result.stdout),
        "stderr": capture(result.stderr),
        "machine": machine_rows(machine),
        "calibration_rows": calibration_rows(machine),
        "isolation": isolation(machine),
        "seed": result.seed,
        "execution_time": round(round_score(result.execution_time), 1),
        "grader_version": grader_version(),
        "generated_at": _now(),
    }


# ---------------------------------------------------------------- class index

def attention_reasons(result: GradeResult) -> list[str]:
    """Why a submission needs a human, in a few short lines (most urgent first)."""
    reasons: list[str] = []
    if result.grader_error:
        reasons.append(f"grader error: {short_text(result.grader_error)}")
    if result.submission.intake_error:
        reasons.append(f"could not be read: {short_text(result.submission.intake_error)}")
    reasons += [short_text(m) for m in result.messages]
    by_flag: dict[str, list[str]] = {}
    explained: set[str] = set()  # flags with a check-level reason (e.g. what tampering was seen)
    for item in result.items:
        why = flag_reasons(item)
        for flag in item.flags:
            if flag in INFORMATIONAL_FLAGS:
                continue
            if flag in why:
                explained.add(flag)
            by_flag.setdefault(flag, []).append(
                f"{clean_text(item.check_id)} ({why[flag]})" if flag in why else clean_text(item.check_id))
    for flag, checks in by_flag.items():
        if flag in result.flags and result.messages and flag not in explained:
            continue  # the submission's own message already says it (e.g. the import error)
        shown = "; ".join(checks[:3]) + (f"; and {len(checks) - 3} more" if len(checks) > 3 else "")
        reasons.append(f"{clean_text(flag)} in {len(checks)} check{'s' if len(checks) != 1 else ''}: {shown}")
    if not reasons:
        reasons = [explain_flag(f) for f in all_flags(result) if f not in INFORMATIONAL_FLAGS]
    return reasons


def _isolation_gaps(students: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per isolation level short of the full boundary, with who was graded so."""
    gaps: dict[str, dict[str, Any]] = {}
    for s in students:
        iso = s["isolation"]
        if not iso["complete"]:
            entry = gaps.setdefault(iso["level"], {"level": iso["level"], "text": iso["text"], "why": iso["why"],
                                                   "students": []})
            entry["students"].append(s["display_name"])
    return list(gaps.values())


def index_context(results: list[GradeResult], assignment: str, points_possible: float,
                  machine: Mapping[str, Any] | None, similarity: Any = None) -> dict[str, Any]:
    # Submissions needing a human first (grader errors, tampering, ...), then by name.
    ordered = sorted(results, key=lambda r: (attention_rank(r), r.submission.display_name.lower(),
                                             r.submission.student))
    students = []
    for order, r in enumerate(ordered):
        sub = r.submission
        flags = all_flags(r)
        students.append({
            "order": order,
            "rank": attention_rank(r),
            "display_name": clean_text(sub.display_name),
            "student_id": clean_text(sub.student_id or ""),
            "score": round_score(r.score),
            "max_score": round_score(r.max_score),
            "percent": round(percent(r.score, r.max_score), 1),
            "flags": flag_badges(flags),
            # Problems not already shown as a flag badge.
            "problems": [text for cond, text in (
                (r.grader_error and FLAG_GRADER_ERROR not in flags, "grader error"),
                (sub.intake_error, "could not be read"),
            ) if cond],
            # Percent-encoded relative link: a slug can never become a scheme or escape the folder.
            "href": quote(student_dirname(sub.student), safe="") + "/report.html",
            "attention": needs_attention(r),
            "reasons": attention_reasons(r) if needs_attention(r) else [],
            "isolation": isolation(r.machine),
            "slug": sub.student,
        })
    from grader.similarity import index_view

    similar = index_view(similarity)
    for s in students:  # evidence for a human: "similar to <other>" puts both on the look-at list
        s["similar"] = similar["similar_to"].get(s.pop("slug"), [])
        if s["similar"]:
            s["attention"] = True
            s["reasons"] = s["reasons"] + [f"similar to {p['name']} ({p['percent']}% matching code)"
                                           for p in s["similar"]]
    checks = check_stats(results)
    for c in checks:
        c["pass_percent"] = round(100.0 * c["pass_rate"], 1)
        for key in ("check_id", "name", "category", "visibility"):
            c[key] = clean_text(c[key])
    graded = [round_score(r.score) for r in results if not r.grader_error]
    hist = charts.histogram(graded, points_possible)
    return {
        "assignment": clean_text(assignment),
        "points_possible": round_score(points_possible),
        "students": students,
        "attention": [s for s in students if s["attention"]],
        "n_attention": sum(1 for s in students if s["attention"]),
        "stats": score_stats(results),
        "histogram": charts.histogram_svg(hist) if graded else None,
        "bin_width": hist.edges[1] - hist.edges[0],
        "checks": checks,
        "machine": machine_rows(machine),
        "calibration_rows": calibration_rows(machine),
        "state_rows": state_rows(machine.get("state") if isinstance(machine, Mapping) else None),
        "isolation_gaps": _isolation_gaps(students),
        "similarity": similar["similarity"],
        "grader_version": grader_version(),
        "generated_at": _now(),
    }
