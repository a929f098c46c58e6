"""A Canvas gradebook export as a roster: who a download name's student id is.

Canvas "download all submissions" names carry the Canvas user id
(``lovelace_12345_67890_acceleration.py`` -> 12345), which is the ``ID``
column of a gradebook export. ``--roster export.csv`` maps that id to the
student's name, SIS ids and section, so grades.csv rows carry them and the
reports show real names.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.intake.errors import IntakeError
from grader.models import Submission

REQUIRED = ("Student", "ID")
OPTIONAL = ("SIS User ID", "SIS Login ID", "Section")
MAX_ROSTER_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RosterEntry:
    name: str  # Canvas's "Student" column ("Lovelace, Ada")
    canvas_id: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass
class Roster:
    path: Path
    entries: dict[str, RosterEntry] = field(default_factory=dict)  # by Canvas user id
    columns: list[str] = field(default_factory=list)  # the export's header, for the assignment column

    def get(self, student_id: str | None) -> RosterEntry | None:
        return self.entries.get(student_id) if student_id else None

    def assignment_column(self, assignment: str) -> str | None:
        """The export's own column for this assignment ("Acceleration (123456)"), if it has one.

        Canvas matches an imported column to an assignment by the id in
        parentheses; reusing its header updates that assignment instead of
        creating a new one.
        """
        pattern = re.compile(re.escape(assignment) + r" \(\d+\)")
        found = [c for c in self.columns if pattern.fullmatch(c.strip())]
        return found[0].strip() if len(found) == 1 else None


def _is_filler_row(student: str, canvas_id: str) -> bool:
    # Canvas puts "    Points Possible" (and on some instances a "Muted" row) under the header.
    return not canvas_id or not student.strip() or student.strip() in ("Points Possible", "Muted")


def parse_roster(text: str, path: Path) -> Roster:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise IntakeError(f"--roster {path}: the file is empty") from None
    columns = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise IntakeError(f"--roster {path}: no {', '.join(missing)} column; a Canvas gradebook export starts "
                          f"with Student, ID, SIS User ID, SIS Login ID, Section (found: {', '.join(columns[:6])})")
    where = {c: columns.index(c) for c in (*REQUIRED, *OPTIONAL) if c in columns}

    def cell(row: list[str], column: str) -> str:
        i = where.get(column)
        return row[i].strip() if i is not None and i < len(row) else ""

    roster = Roster(path=path, columns=[h for h in header])
    for row in reader:
        name, canvas_id = cell(row, "Student"), cell(row, "ID")
        if _is_filler_row(name, canvas_id):
            continue
        roster.entries.setdefault(canvas_id, RosterEntry(
            name=name, canvas_id=canvas_id, sis_user_id=cell(row, "SIS User ID"),
            sis_login_id=cell(row, "SIS Login ID"), section=cell(row, "Section")))
    return roster


def load_roster(path: Path) -> Roster:
    """Read a Canvas gradebook export; IntakeError (exit 2) when it is not one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IntakeError(f"--roster {path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise IntakeError(f"--roster {path}: larger than {MAX_ROSTER_BYTES // 2**20} MB; is it a gradebook export?")
    try:
        text = data.decode("utf-8-sig")  # Canvas writes a byte-order mark
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # re-saved by a spreadsheet app
    try:
        return parse_roster(text, path)
    except csv.Error as exc:
        raise IntakeError(f"--roster {path}: not a readable CSV ({exc})") from None


@dataclass
class RosterMatch:
    """What applying a roster found, for the summary and a line on stderr."""

    matched: int = 0
    not_on_roster: list[str] = field(default_factory=list)  # slugs whose id the roster lacks
    without_submission: list[str] = field(default_factory=list)  # roster names with nothing handed in


def apply_roster(submissions: list[Submission], roster: Roster) -> RosterMatch:
    """Give each submission its roster name; slugs (folder names) stay as they were.

    Keeping the slug means a re-run with or without --roster writes to the same
    folders, so --resume and merge still line up.
    """
    match = RosterMatch()
    seen: set[str] = set()
    for sub in submissions:
        entry = roster.get(sub.student_id)
        if entry is None:
            match.not_on_roster.append(sub.student)
            continue
        sub.display_name = entry.name or sub.display_name
        seen.add(entry.canvas_id)
        match.matched += 1
    match.without_submission = sorted(e.name for cid, e in roster.entries.items() if cid not in seen)
    return match
