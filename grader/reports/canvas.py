"""Canvas gradebook CSV with a roster's SIS ids and sections filled in.

The same file as ``csv_export.write_grades_csv`` (header, "Points Possible"
row, one row per student, sorted by name), except that the SIS User ID, SIS
Login ID and Section cells come from a roster (``--roster``, or, when merging, what
each student's state kept of it), and the score column can take the header of the
Canvas export itself so the import updates that assignment.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from grader.intake.roster import RosterEntry
from grader.models import GradeResult
from grader.reports._common import fmt_plain_number
from grader.atomic import write_text_atomic
from grader.reports.csv_export import CANVAS_FIXED_COLUMNS, safe_cell


def canvas_csv_text(results: list[GradeResult], assignment: str, points_possible: float,
                    identities: Mapping[str, RosterEntry], score_column: str | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    header = score_column or f"{assignment} ({fmt_plain_number(points_possible)})"
    writer.writerow([*CANVAS_FIXED_COLUMNS, safe_cell(header)])
    writer.writerow(["Points Possible", "", "", "", "", fmt_plain_number(points_possible)])
    for result in sorted(results, key=lambda r: (r.submission.display_name.lower(), r.submission.student)):
        sub = result.submission
        who = identities.get(sub.student_id or "")
        writer.writerow([
            safe_cell(sub.display_name),
            safe_cell(sub.student_id or ""),
            safe_cell(who.sis_user_id if who else ""),
            safe_cell(who.sis_login_id if who else ""),
            safe_cell(who.section if who else ""),
            fmt_plain_number(result.score),
        ])
    return buf.getvalue()


def write_canvas_csv(results: list[GradeResult], path: Path | str, assignment: str, points_possible: float,
                     identities: Mapping[str, RosterEntry], score_column: str | None = None) -> None:
    write_text_atomic(Path(path), canvas_csv_text(results, assignment, points_possible, identities, score_column))
