"""``grade merge OUT... --out MERGED``: join shard outputs into one class.

Each input is a folder ``grade`` wrote (typically with ``--shard i/N``, one per
node). Every student folder holds ``.grade-state.json`` with the full
GradeResult, so the class files are rebuilt from those, never re-graded:
the merged index.html, grades.csv and summary.json come out as one run over
the whole class would write them, and the per-student folders are copied.

Each shard was measured against its own node's calibration, so its scores
stand as they are; the merged summary.json lists every shard with its machine
fingerprint and calibration id, and the class page shows them under
"Grading machine".
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.commands.exits import EXIT_BELOW, EXIT_OK, Parser, UsageError
from grader.commands.common import similarity_from
from grader.similarity.options import add_similarity_options
from grader.intake.roster import RosterEntry, load_roster
from grader.models import GradeResult
from grader.reports._common import fmt_plain_number
from grader.reports.folder import OutputFolder, Saved
from grader.reports.junit import write_junit


@dataclass
class ShardOutput:
    """One input folder, loaded."""

    path: Path
    summary: dict[str, Any]
    saved: list[Saved] = field(default_factory=list)

    @property
    def results(self) -> list[GradeResult]:
        return [s.result for s in self.saved]

    @property
    def label(self) -> str:
        shard = self.summary.get("shard") or {}
        return f"shard {shard['label']}" if shard.get("label") else self.path.name or str(self.path)

    @property
    def machine(self) -> dict[str, Any]:
        return self.summary.get("machine") or {}

    def calibration_id(self) -> str | None:
        return (self.machine.get("calibration") or {}).get("id")


def load_output(path: Path) -> ShardOutput:
    """A grade output folder: its summary.json and each student's saved state."""
    folder = OutputFolder(path)
    try:
        summary = folder.read_summary()
    except FileNotFoundError:
        raise UsageError(f"{path} is not a grade output folder (no summary.json)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}/summary.json cannot be read ({exc})") from None
    shard = ShardOutput(path, summary)
    for row in summary.get("students", []):
        student = str(row.get("student", ""))
        loaded = folder.saved(student)
        if loaded is None:
            raise UsageError(f"{folder.student_dir(student)} has no readable .grade-state.json; grade that shard "
                             "again (with --resume, only the missing students are graded)")
        shard.saved.append(loaded)
    return shard


def machine_line(machine: dict[str, Any]) -> str:
    """One line about a node for the class page: host, CPU, BLAS and the calibration used."""
    if not machine:
        return "unknown"
    parts = [str(machine.get("hostname") or "?") + ":",
             f"{machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores,",
             f"{machine.get('blas', '?')} {machine.get('blas_version') or ''}".strip() + ",",
             f"numpy {machine.get('numpy', '?')}, {machine.get('threads', '?')} thread(s);",
             f"fingerprint {machine.get('id', '?')}"]
    calibration = machine.get("calibration") or {}
    parts.append(f"calibration {calibration['id']}" if calibration.get("id") else "no calibration (nothing measured)")
    return " ".join(parts)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade merge", description="Join the outputs of 'grade --shard i/N' runs "
                "(or any grade output folders) into one class page, grades.csv and summary.json.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="OUT", help="output folders of the shard runs")
    p.add_argument("--out", type=Path, required=True, help="the merged output folder")
    p.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="Canvas gradebook export for the merged grades.csv "
                        "(default: the roster each shard was graded with, as its students' states keep it)")
    p.add_argument("--junit", type=Path, default=None, metavar="FILE", help="also write JUnit XML for everyone")
    p.add_argument("--min-score", type=float, default=None, help="exit 1 when a score is below this")
    p.add_argument("--quiet", action="store_true", help="no summary line")
    add_similarity_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    shards = [load_output(p) for p in args.inputs]
    first = shards[0].summary
    assignment, points = first.get("assignment", "Acceleration"), first.get("points_possible", 0)
    for shard in shards[1:]:
        if (shard.summary.get("assignment"), shard.summary.get("points_possible")) != (assignment, points):
            raise UsageError(f"{shard.path} graded {shard.summary.get('assignment')} out of "
                             f"{shard.summary.get('points_possible')}, but {shards[0].path} graded {assignment} "
                             f"out of {points}: merge outputs of the same rubric only")
    owner: dict[str, Path] = {}
    results: list[GradeResult] = []
    for shard in shards:
        for result in shard.results:
            slug = result.submission.student
            if slug in owner:
                raise UsageError(f"{slug} was graded in both {owner[slug]} and {shard.path}: the outputs overlap "
                                 "(shards of different --shard N, or the same shard twice)")
            owner[slug] = shard.path
            results.append(result)
    _warn_if_checks_differ(shards)
    # The order one run over the class would have used (discovery sorts by path), whichever node finished first.
    results.sort(key=lambda r: (str(r.submission.source_path), r.submission.student))

    out = OutputFolder(args.out)
    out.path.mkdir(parents=True, exist_ok=True)
    for result in results:
        src = OutputFolder(owner[result.submission.student]).student_dir(result.submission.student)
        dst = out.student_dir(result.submission.student)
        if os.path.realpath(src) != os.path.realpath(dst):
            shutil.copytree(src, dst, dirs_exist_ok=True)

    identities, header = _identities(args, shards, assignment)
    canvas = bool(identities) or bool(header and header != f"{assignment} ({fmt_plain_number(points)})")
    seeds = sorted({s.summary.get("seed") for s in shards}, key=str)
    same = len({s.machine.get("id") for s in shards}) == 1 and len({s.calibration_id() for s in shards}) == 1
    hosts = sorted({str(s.machine.get("hostname")) for s in shards})
    # Identical nodes share one fingerprint and calibration: one machine, several host names.
    machine = dict(shards[0].machine, hostname=", ".join(hosts)) if same else {"machines": [s.machine for s in shards]}
    listing = [{
        "source": str(s.path),
        "shard": s.summary.get("shard"),
        "students": len(s.results),
        "seed": s.summary.get("seed"),
        "machine": s.machine,
        "fingerprint_id": s.machine.get("id"),
        "hostname": s.machine.get("hostname"),
        "calibration_id": s.calibration_id(),
        "generated_at": s.summary.get("generated_at"),
        "machine_state": s.summary.get("machine_state"),
    } for s in shards]
    similarity = similarity_from(args, results, out.path)  # the whole class, across shards
    # The class page's "Grading machine" table gets a row per shard: which node graded whom.
    page_machine: dict[str, Any] = {f"{s.label} ({len(s.results)} students)": machine_line(s.machine)
                                    for s in shards}
    page_machine["state"] = {s.label: s.summary.get("machine_state") for s in shards}
    out.publish(results, assignment, points, machine, seeds[0] if len(seeds) == 1 else None,
                {"merged_from": listing, "machine_state": {s.label: s.summary.get("machine_state") for s in shards}},
                similarity, page_machine=page_machine, identities=identities if canvas else None,
                score_column=header if canvas else None)
    if args.junit:
        write_junit(results, args.junit, assignment)
    if not args.quiet:
        print(f"merged {len(results)} submission(s) from {len(shards)} output folder(s); "
              f"class page: {out.path / 'index.html'}", file=sys.stderr)
    if args.min_score is not None and any(r.score < args.min_score for r in results):
        return EXIT_BELOW
    return EXIT_OK


def _identities(args: argparse.Namespace, shards: list[ShardOutput],
                assignment: str) -> tuple[dict[str, RosterEntry], str | None]:
    """SIS columns and the score column's header: from --roster, else from what each student's state
    kept of the roster the shard was graded with."""
    if args.roster:
        roster = load_roster(args.roster)
        for shard in shards:  # a roster given now names everyone, as it would have at grading time
            for result in shard.results:
                entry = roster.get(result.submission.student_id)
                if entry is not None and entry.name:
                    result.submission.display_name = entry.name
        return roster.entries, roster.assignment_column(assignment)
    identities: dict[str, RosterEntry] = {}
    headers: set[str | None] = set()
    for shard in shards:
        for saved in shard.saved:
            if saved.identity is not None and saved.result.submission.student_id:
                identities[saved.result.submission.student_id] = saved.identity
            headers.add(saved.score_column)
    # A header taken from a roster ("Acceleration (123456)") survives when every shard used it.
    return identities, headers.pop() if len(headers) == 1 else None


def _warn_if_checks_differ(shards: list[ShardOutput]) -> None:
    graded = {frozenset(i.check_id for r in s.results for i in r.items) for s in shards if s.results}
    if len(graded) > 1:
        print("grade: merge: the shards graded different sets of checks (different --categories or rubric?); "
              "their scores are not comparable", file=sys.stderr)
