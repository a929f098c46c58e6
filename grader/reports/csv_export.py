"""Canvas-importable gradebook CSV."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.models import GradeResult
from grader.reports._common import clean_text, fmt_plain_number
from grader.atomic import write_text_atomic

# Canvas's own gradebook export column names, so its importer maps them.
CANVAS_FIXED_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]

# Spreadsheet apps treat these leading characters as the start of a formula
# (OWASP "CSV injection"); tab and CR are on OWASP's list too.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A text cell that a spreadsheet will show as text, never evaluate."""
    text = clean_text(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def grades_csv_text(results: list[GradeResult], assignment: str, points_possible: float) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180 line ends
    score_column = f"{assignment} ({fmt_plain_number(points_possible)})"
    writer.writerow([*CANVAS_FIXED_COLUMNS, safe_cell(score_column)])
    writer.writerow(["Points Possible", "", "", "", "", fmt_plain_number(points_possible)])
    # Sorted by name so the file diffs cleanly between runs.
    for result in sorted(results, key=lambda r: (r.submission.display_name.lower(), r.submission.student)):
        sub = result.submission
        writer.writerow([
            safe_cell(sub.display_name),
            safe_cell(sub.student_id or ""),
            "",
            "",
            "",
            # A number we computed, not student text, so it is not "sanitised".
            fmt_plain_number(result.score),
        ])
    return buf.getvalue()


def write_grades_csv(results: list[GradeResult], path: Path | str, assignment: str,
                     points_possible: float) -> None:
    """Write the Canvas gradebook CSV: header, "Points Possible" row, one row per student."""
    write_text_atomic(Path(path), grades_csv_text(results, assignment, points_possible))
