"""``grade PATH...``: grade a class (or one upload) and write every output.

Each submission's files are written as soon as it is graded; ``--resume``
skips submissions already graded under the same key; ``--jobs N`` grades in
N processes, with measured checks serialised machine-wide (see measure/lock.py).
``--shard i/N`` grades this machine's share of the class (see commands/shard.py),
``--roster`` puts Canvas names, SIS ids and sections on the rows, ``--junit``
writes JUnit XML for CI.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from grader.commands.exits import EXIT_BELOW, EXIT_OK, UsageError
from grader.commands.common import (announce_better_fit, options_from, require_sandbox, rubric_from, rubric_items,
                                    selection, similarity_from)
from grader.commands.shard import METHOD, Shard, parse_shard
from grader.grading import GradeOptions, Grader
from grader.intake import IntakeError, discover, load_submission
from grader.measure import load
from grader.intake.roster import Roster, RosterEntry, RosterMatch, apply_roster, load_roster
from grader.models import GradeResult, Submission
from grader.reports.folder import OutputFolder, resume_key
from grader.reports.junit import write_junit
from grader.reports.progress import Progress
from grader.scoring import Rubric


def _submissions(args: argparse.Namespace) -> list[Submission]:
    if not getattr(args, "single", False):
        return discover(list(args.paths))
    # --single: the path is one student's hand-in whatever it holds (Gradescope's
    # /autograder/submission), so a folder with two .py files is one ambiguous
    # hand-in with a clear message, never a class of two.
    if len(args.paths) != 1:
        raise UsageError("--single takes exactly one path")
    if not args.paths[0].exists():
        raise IntakeError(f"no such file or folder: {args.paths[0]}")
    return [load_submission(args.paths[0])]


def run(args: argparse.Namespace) -> int:
    rubric = rubric_from(args)
    shard = _shard(args)
    roster = load_roster(args.roster) if getattr(args, "roster", None) else None
    submissions = _submissions(args)
    out: Path = args.out or Path("grades")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    matched = apply_roster(submissions, roster) if roster else None  # whole class: ids on other shards count
    class_size = len(submissions)
    if shard is not None:
        submissions = shard.select(submissions)
    folder = OutputFolder(out)
    if args.resume and not args.seed_given:
        args.seed = folder.previous_seed() or args.seed  # the interrupted run's inputs
    select = selection(args, rubric)  # a bad --categories fails before anything is written
    unsandboxed = require_sandbox(args)  # before a calibration is made for a run that cannot go on
    # Workers must not see the output folder (classmates' results) at all.
    options = options_from(args, rubric, select, hide=(str(out.resolve()),))
    if unsandboxed:
        print(f"grade: warning: {unsandboxed}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    calibration = options.profile.id if options.profile else None
    column = roster.assignment_column(rubric.assignment) if roster is not None else None

    started = time.monotonic()
    before = load.snapshot()  # the machine's state around the batch goes into the record
    results: dict[int, GradeResult] = {}
    todo: list[tuple[int, Submission, str]] = []
    for idx, sub in enumerate(submissions):
        key = resume_key(sub.code_hash, rubric.digest, calibration, options.select, options.seed)
        saved = folder.saved(sub.student) if args.resume else None
        if saved and saved.key == key:
            saved.result.submission.display_name = sub.display_name  # a roster given only now still applies
            results[idx] = saved.result  # finished before: its files stay untouched
        else:
            todo.append((idx, sub, key))
    progress = Progress(len(submissions), None if args.quiet else sys.stderr, already=len(results))
    with progress:
        if args.jobs == 1 or len(todo) <= 1:
            with Grader(rubric, options) as grader:
                for idx, sub, key in todo:
                    progress.start(sub.student)
                    results[idx] = _finish(grader.grade(sub), out, key, _identity(roster, sub), column)
                    progress.done(results[idx])
        else:
            ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited pytest or fds
            with cf.ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_job_init,
                                        initargs=(rubric, options)) as pool:
                futures = {pool.submit(_job_grade, sub, str(out), key, _identity(roster, sub), column): idx
                           for idx, sub, key in todo}
                for fut in cf.as_completed(futures):
                    results[futures[fut]] = fut.result()
                    progress.done(results[futures[fut]])
    ordered = [results[i] for i in sorted(results)]
    announce_better_fit(ordered, options.assignment)
    out.mkdir(parents=True, exist_ok=True)
    for path in folder.restore_tampered(ordered):
        print(f"grade: warning: {path} changed after it was written (by a submission?); restored", file=sys.stderr)
    extra: dict[str, Any] = {"machine_state": load.batch_state(before, [results[i] for i, _, _ in todo])}
    if shard is not None:
        extra["shard"] = {"index": shard.index, "count": shard.count, "label": shard.label, "method": METHOD,
                          "students": len(submissions), "class_size": class_size}
    if roster is not None and matched is not None:
        extra["roster"] = {"file": str(roster.path), "matched": matched.matched,
                           "not_on_roster": matched.not_on_roster,
                           "without_submission": matched.without_submission}
    similarity = similarity_from(args, ordered, out)  # evidence for a human; no score changes
    folder.publish(ordered, rubric.assignment, rubric.total, options.machine, options.seed, extra, similarity,
                   page_machine=dict(options.machine, state=extra["machine_state"]),
                   identities=roster.entries if roster is not None else None, score_column=column)
    if getattr(args, "junit", None):
        write_junit(ordered, args.junit, rubric.assignment, rubric_items(rubric))
    if not args.quiet:
        skipped = len(submissions) - len(todo)
        where = f" (shard {shard.label}: {len(submissions)} of {class_size})" if shard else ""
        print(f"graded {len(todo)} submission(s){where} in {time.monotonic() - started:.0f}s"
              + (f", {skipped} already done" if skipped else "") + f"; class page: {out / 'index.html'}",
              file=sys.stderr)
    if matched is not None:
        _report_roster(matched)
    if args.min_score is not None and any(r.score < args.min_score for r in ordered):
        return EXIT_BELOW
    return EXIT_OK


def _shard(args: argparse.Namespace) -> Shard | None:
    text = getattr(args, "shard", None)
    if not text:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _report_roster(matched: RosterMatch) -> None:
    if matched.not_on_roster:
        print(f"grade: roster: {len(matched.not_on_roster)} submission(s) not on the roster "
              f"(kept their download names): {', '.join(matched.not_on_roster[:10])}"
              + (" ..." if len(matched.not_on_roster) > 10 else ""), file=sys.stderr)
    if matched.without_submission:
        print(f"grade: roster: {len(matched.without_submission)} student(s) on the roster handed nothing in "
              "(listed in summary.json)", file=sys.stderr)


def _identity(roster: Roster | None, sub: Submission) -> RosterEntry | None:
    return roster.get(sub.student_id) if roster is not None else None


def _finish(result: GradeResult, out: Path, key: str, identity: RosterEntry | None,
            column: str | None) -> GradeResult:
    OutputFolder(out).write_student(result, key, identity, column)
    return result


# --- worker processes for --jobs (trusted: they run the grader, not student code) ---
_GRADER: Grader | None = None


def _job_init(rubric: Rubric, options: GradeOptions) -> None:
    global _GRADER
    _GRADER = Grader(rubric, options)


def _job_grade(sub: Submission, out: str, key: str, identity: RosterEntry | None, column: str | None) -> GradeResult:
    assert _GRADER is not None
    return _finish(_GRADER.grade(sub), Path(out), key, identity, column)
