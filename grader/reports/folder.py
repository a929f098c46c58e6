"""The output folder of a grading run: the one place that knows its layout and writes it.

    OUT/index.html  OUT/grades.csv  OUT/summary.json          (the class: ``publish``)
    OUT/<student>/report.html  OUT/<student>/results.json     (each student: ``write_student``)
    OUT/<student>/.grade-state.json                           (what --resume and ``grade merge`` read)

The state file holds the whole GradeResult, the key it was graded under (content hash, rubric
digest, calibration id, checks selected, seed) and the student's roster identity (Canvas ids,
section, the gradebook's score column), so ``grade merge`` rebuilds the class from the states
alone. It is written last: its presence means the student's files are complete. ``grade``,
``grade merge`` and the self-check all write through here.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html as html_lib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from grader.atomic import write_text_atomic
from grader.intake.roster import RosterEntry
from grader.models import CategoryScore, GradeResult, ItemScore, Submission
from grader.reports._common import round_score, student_dirname
from grader.reports.canvas import write_canvas_csv
from grader.reports.csv_export import write_grades_csv
from grader.reports.html import render_report, write_index
from grader.reports.results_json import dumps_results
from grader.reports.summary_json import summary_dict

log = logging.getLogger(__name__)

RESULTS, REPORT, STATE = "results.json", "report.html", ".grade-state.json"
SUMMARY, GRADES, INDEX = "summary.json", "grades.csv", "index.html"


def resume_key(code_hash: str, rubric_digest: str, calibration_id: str | None, select: set[str] | None,
               seed: int) -> str:
    """What a student's outputs were graded under: same key, same grade (``--resume`` skips it)."""
    body = json.dumps([code_hash, rubric_digest, calibration_id, sorted(select) if select else None, seed])
    return hashlib.sha256(body.encode()).hexdigest()[:24]


@dataclass
class Saved:
    """One student's state file, read back."""

    key: str
    result: GradeResult
    identity: RosterEntry | None = None  # from --roster, when the student was on it
    score_column: str | None = None  # the gradebook's own header for the assignment, from --roster


class OutputFolder:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    def student_dir(self, student: str) -> Path:
        return self.path / student_dirname(student)

    # --- one student ---------------------------------------------------------
    def write_student(self, result: GradeResult, key: str | None = None, identity: RosterEntry | None = None,
                      score_column: str | None = None) -> Path:
        """report.html and results.json, then (with a key) the state file; returns the folder.

        Called as each submission finishes, so a batch that dies keeps what it graded. A failure to
        render one file falls back to a minimal version, never to no file.
        """
        folder = self.student_dir(result.submission.student)
        write_text_atomic(folder / RESULTS, _or_fallback(RESULTS, dumps_results, _fallback_results, result))
        write_text_atomic(folder / REPORT, _or_fallback(REPORT, lambda r: render_report(r),  # looked up per call
                                                        _fallback_report, result))
        if key is not None:
            data = dataclasses.asdict(result)
            data["submission"]["source_path"] = str(result.submission.source_path)
            state = {"key": key, "result": data, "score_column": score_column,
                     "identity": dataclasses.asdict(identity) if identity else None}
            write_text_atomic(folder / STATE, json.dumps(state, default=str))  # last: the student is complete
        return folder

    def restore_tampered(self, results: list[GradeResult]) -> list[Path]:
        """Check every results.json against what was graded and rewrite those that changed (a
        submission running as the grader's user could have rewritten a classmate's); returns them."""
        restored = []
        for result in results:
            path = self.student_dir(result.submission.student) / RESULTS
            try:
                intact = path.read_text(encoding="utf-8") == dumps_results(result)
            except (OSError, UnicodeDecodeError):
                intact = False
            if not intact:
                self.write_student(result)
                restored.append(path)
        return restored

    def saved(self, student: str) -> Saved | None:
        """The student's state, or None when there is none or it is unreadable (then: grade again)."""
        try:
            raw = json.loads((self.student_dir(student) / STATE).read_text())
            identity = RosterEntry(**raw["identity"]) if raw.get("identity") else None
            return Saved(raw["key"], _result(raw["result"]), identity, raw.get("score_column"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def previous_seed(self) -> int | None:
        """The seed an interrupted run used, so resumed submissions see the same inputs."""
        for state in sorted(self.path.glob(f"*/{STATE}")):
            loaded = self.saved(state.parent.name)
            if loaded:
                return loaded.result.seed
        return None

    # --- the class -----------------------------------------------------------
    def read_summary(self) -> dict[str, Any]:
        """summary.json as written (FileNotFoundError or ValueError when it is missing or broken)."""
        return json.loads((self.path / SUMMARY).read_text(encoding="utf-8"))

    def publish(self, results: list[GradeResult], assignment: str, points_possible: float, machine: dict,
                seed: int | None, extra: dict[str, Any], similarity: Any = None, page_machine: dict | None = None,
                identities: Mapping[str, RosterEntry] | None = None, score_column: str | None = None) -> None:
        """grades.csv (Canvas's columns; the roster's ids and score column when known), summary.json
        (plus what the verb adds: shard, roster, merged shards, similarity) and index.html."""
        self.path.mkdir(parents=True, exist_ok=True)
        if identities is not None or score_column:
            write_canvas_csv(results, self.path / GRADES, assignment, points_possible, identities or {},
                             score_column)
        else:
            write_grades_csv(results, self.path / GRADES, assignment, points_possible)
        data = summary_dict(results, assignment, points_possible, machine, seed)  # type: ignore[arg-type]
        data.update(extra)
        if similarity is not None:
            from grader.similarity import annotate_summary

            annotate_summary(data, similarity)
        write_text_atomic(self.path / SUMMARY,
                          json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")
        write_index(results, self.path / INDEX, assignment, points_possible,
                    machine if page_machine is None else page_machine, similarity)


def _result(d: dict[str, Any]) -> GradeResult:
    sub = dict(d["submission"], source_path=Path(d["submission"]["source_path"]))
    return GradeResult(**{**d, "submission": Submission(**sub),
                          "items": [ItemScore(**i) for i in d["items"]],
                          "categories": [CategoryScore(**c) for c in d["categories"]]})


def _or_fallback(name: str, render: Callable[[GradeResult], str],
                 fallback: Callable[[GradeResult, BaseException], str], result: GradeResult) -> str:
    try:
        return render(result)
    except Exception as exc:
        log.exception("%s for %s failed; writing a minimal one", name, result.submission.student)
        return fallback(result, exc)


def _fallback_report(result: GradeResult, exc: BaseException) -> str:
    # "Every submission gets a report, whatever it did": if rendering fails (a bug on our side),
    # still leave a minimal, escaped page behind.
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
