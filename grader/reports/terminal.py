"""Plain-text self-check summary for a terminal: no colour needed, fits 60 columns."""
from __future__ import annotations

import shutil
import textwrap

from grader.models import GradeResult
from grader.reports._common import (
    clean_text,
    flag_details,
    fmt_points,
    status_of,
    submission_messages,
)
from grader.reports.machine import machine_summary
from grader.reports.measured import memory_view, speed_view

_MIN_WIDTH = 40  # below this nothing sensible fits; we still never exceed what was asked
_WIDE = 100  # from this width the hint gets its own column instead of a line underneath
_STATUS_WORDS = {"passed": "PASS", "partial": "PARTIAL", "failed": "FAIL"}
_GAP = "  "
_MAX_WHY = 240  # characters of a failed check's message


def _wrap(text: str, width: int) -> list[str]:
    width = max(1, width)
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=True) or [""]
    return lines


def _row(cells: list[str], widths: list[int], aligns: str) -> list[str]:
    """One table row, each cell wrapped into its column; a row may take several lines."""
    wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    out = []
    for i in range(height):
        parts = []
        for col, (lines, w) in enumerate(zip(wrapped, widths)):
            text = lines[i] if i < len(lines) else ""
            parts.append(text.rjust(w) if aligns[col] == ">" else text.ljust(w))
        out.append(_GAP.join(parts).rstrip())
    return out


def _detail(label: str, text: str, width: int, limit: int | None = None) -> list[str]:
    """An indented "    label: text" paragraph under a table row, wrapped to ``width``."""
    if limit and len(text) > limit:
        text = text[: limit - 3] + "..."
    first = f"    {label}: "
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=" " * len(first),
                         break_long_words=True)


def _measured_line(item) -> str:
    """Speed and memory figures in one line (the HTML shows them as charts)."""
    try:
        view = speed_view(item) or memory_view(item)
    except Exception:  # odd data: the message above already says what happened
        return ""
    # ASCII only: a terminal in a C locale may not show an en dash.
    return view.summary(full=False).replace("\u2013", "-") if view else ""


def format_selfcheck(result: GradeResult, width: int | None = None) -> str:
    """The self-check table (visible items only), ending with the total line.

    ``width`` defaults to the terminal's width; every line fits in it.
    """
    if width is None:
        width = min(shutil.get_terminal_size((80, 24)).columns, 120)
    width = max(width, _MIN_WIDTH)

    items = [i for i in result.items if i.visibility == "visible"]
    hidden = len(result.items) - len(items)
    score = sum(float(i.score) for i in items)
    max_score = sum(float(i.max_score) for i in items)

    lines: list[str] = []
    title = f"{clean_text(result.assignment)} self-check: {clean_text(result.submission.display_name)}"
    lines += _wrap(title, width)
    lines.append("=" * width)

    for kind, text in submission_messages(result):
        prefix = "! " if kind == "error" else "- "
        lines += textwrap.wrap(text, width, initial_indent=prefix, subsequent_indent="  ",
                               break_long_words=True) or [prefix.rstrip()]
    if submission_messages(result):
        lines.append("")

    status_w = max(len(s) for s in _STATUS_WORDS.values())
    points_strs = [f"{fmt_points(i.score)}/{fmt_points(i.max_score)}" for i in items]
    points_w = max([len("Points"), *map(len, points_strs)])
    fixed = status_w + points_w + 2 * len(_GAP)
    wide = width >= _WIDE
    if wide:
        check_w = min(40, max(len("Check"), *(len(i.name) for i in items))) if items else 20
        hint_w = width - fixed - check_w - len(_GAP)
        widths, aligns = [check_w, status_w, points_w, hint_w], "<<><"
        header = ["Check", "Status", "Points", "Hint"]
    else:
        check_w = width - fixed
        widths, aligns = [check_w, status_w, points_w], "<<>"
        header = ["Check", "Status", "Points"]

    if items:
        lines += _row(header, widths, aligns)
        lines.append("-" * width)
        previous: list[str] = []
        for item, pts in zip(items, points_strs):
            status = _STATUS_WORDS[status_of(item)]
            # Hints say what to try next, so only where credit was lost.
            hint = clean_text(item.hint) if status != "PASS" else ""
            cells = [clean_text(item.name), status, pts]
            measured = _measured_line(item)
            if wide:
                lines += _row(cells + [hint], widths, aligns)
            else:
                lines += _row(cells, widths, aligns)
            details: list[str] = []
            if status != "PASS" and not measured and item.output:
                # What went wrong, shortened: the HTML page has the full message.
                details += _detail("why", " / ".join(clean_text(item.output).splitlines()), width, _MAX_WHY)
            if measured:
                details += _detail("measured", measured, width)
            if hint and not wide:
                details += _detail("hint", hint, width)
            if item.flags:
                details += _detail("flags", ", ".join(clean_text(f) for f in item.flags), width)
            # An import error fails every check the same way: say it once, not 20 times.
            if details and details == previous and not measured:
                lines.append("    (same as above)")
            else:
                lines += details
            previous = details
        lines.append("-" * width)
    else:
        lines.append("No public checks ran.")

    # The same plain words as self-check.html, for the flags this table shows.
    details = flag_details(result, items)
    if details:
        lines.append("Flags:")
        for d in details:
            lines += textwrap.wrap(f"{d['name']}: {d['explanation']}", width, initial_indent="  ",
                                   subsequent_indent="    ", break_long_words=True)
        lines.append("")

    machine = machine_summary(result.machine)
    if machine:
        lines += textwrap.wrap(f"Graded on: {machine}", width, subsequent_indent="  ", break_long_words=True)
    if hidden:
        lines += _wrap(f"{hidden} more check{'s' if hidden != 1 else ''} will be graded after "
                       "you submit.", width)
    lines.append(f"Total: {fmt_points(score)} / {fmt_points(max_score)} (public checks)")
    return "\n".join(lines)
