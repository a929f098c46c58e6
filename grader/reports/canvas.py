"""Canvas gradebook CSV with a roster's SIS ids and sections filled in.

The same file as ``csv_export.write_grades_csv`` (header, "Points Possible"
row, one row per student, sorted by name), except that the SIS User ID, SIS
Login ID and Section cells come from a roster (``--roster``, or the rows of
shard CSVs being merged), and the score column can take the header of the
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


def read_identities(path: Path) -> tuple[dict[str, RosterEntry], str | None]:
    """SIS ids and sections back out of a grades.csv written earlier, and its score column header.

    ``grade merge`` uses this so a shard graded with --roster keeps its SIS
    columns in the merged file without the roster being passed again.
    """
    found: dict[str, RosterEntry] = {}
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return found, None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:5] != CANVAS_FIXED_COLUMNS:
        return found, None
    score_column = rows[0][5] if len(rows[0]) > 5 else None

    def plain(cell: str) -> str:
        return cell[1:] if cell.startswith("'") else cell  # undo safe_cell's formula guard

    for row in rows[1:]:
        if len(row) < 5 or row[0] == "Points Possible" or not row[1]:
            continue
        entry = RosterEntry(name=plain(row[0]), canvas_id=plain(row[1]), sis_user_id=plain(row[2]),
                            sis_login_id=plain(row[3]), section=plain(row[4]))
        if entry.sis_user_id or entry.sis_login_id or entry.section:
            found.setdefault(entry.canvas_id, entry)
    return found, score_column
