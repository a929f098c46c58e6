"""``grade PATH...``: grade a class (or one upload) and write every output.

Each submission's files are written as soon as it is graded; ``--resume``
skips submissions already graded under the same key; ``--jobs N`` grades in
N processes, with measured checks serialised machine-wide (see measure/lock.py).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import sys
import time
from pathlib import Path

from grader.cli import EXIT_BELOW, EXIT_OK, UsageError
from grader.commands.common import options_from, rubric_from, selection
from grader.grading import GradeOptions, Grader
from grader.intake import discover
from grader.models import GradeResult, Submission
from grader.reports import write_grades_csv, write_index, write_student_outputs, write_summary_json
from grader.reports._common import student_dirname
from grader.resume import load_state, previous_seed, resume_key, save_state
from grader.scoring import Rubric


def run(args: argparse.Namespace) -> int:
    rubric = rubric_from(args)
    submissions = discover(list(args.paths))
    out: Path = args.out or Path("grades")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.resume and not args.seed_given:
        args.seed = previous_seed(out) or args.seed  # the interrupted run's inputs
    options = options_from(args, rubric, selection(args, rubric))
    calibration = options.profile.id if options.profile else None

    started = time.monotonic()
    results: dict[int, GradeResult] = {}
    todo: list[tuple[int, Submission, str]] = []
    for idx, sub in enumerate(submissions):
        key = resume_key(sub.code_hash, rubric.digest, calibration, options.select, options.seed)
        saved = load_state(out / student_dirname(sub.student)) if args.resume else None
        if saved and saved[0] == key:
            results[idx] = saved[1]  # finished before: its files stay untouched
        else:
            todo.append((idx, sub, key))
    log = _Log(len(submissions), len(results), args.quiet)
    if args.jobs == 1 or len(todo) <= 1:
        with Grader(rubric, options) as grader:
            for idx, sub, key in todo:
                results[idx] = _finish(grader.grade(sub), out, key)
                log.done(results[idx])
    else:
        ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited pytest or fds
        with cf.ProcessPoolExecutor(args.jobs, mp_context=ctx, initializer=_job_init,
                                    initargs=(rubric, options)) as pool:
            futures = {pool.submit(_job_grade, sub, str(out), key): idx for idx, sub, key in todo}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
                log.done(results[futures[fut]])
    ordered = [results[i] for i in sorted(results)]
    out.mkdir(parents=True, exist_ok=True)
    write_grades_csv(ordered, out / "grades.csv", rubric.assignment, rubric.total)
    write_summary_json(ordered, out / "summary.json", rubric.assignment, rubric.total, options.machine, options.seed)
    write_index(ordered, out / "index.html", rubric.assignment, rubric.total, options.machine)
    if not args.quiet:
        skipped = len(submissions) - len(todo)
        print(f"graded {len(todo)} submission(s) in {time.monotonic() - started:.0f}s"
              + (f", {skipped} already done" if skipped else "") + f"; class page: {out / 'index.html'}",
              file=sys.stderr)
    if args.min_score is not None and any(r.score < args.min_score for r in ordered):
        return EXIT_BELOW
    return EXIT_OK


def _finish(result: GradeResult, out: Path, key: str) -> GradeResult:
    folder = write_student_outputs(result, out)
    save_state(result, folder, key)  # last: its presence means this student is complete
    return result


class _Log:
    def __init__(self, total: int, already: int, quiet: bool):
        self.total, self.n, self.quiet = total, already, quiet

    def done(self, result: GradeResult) -> None:
        self.n += 1
        if self.quiet:
            return
        flags = f" [{', '.join(result.flags)}]" if result.flags else ""
        print(f"[{self.n}/{self.total}] {result.submission.student}: {result.score:g}/{result.max_score:g}"
              f"{flags} ({result.execution_time:.1f}s)", file=sys.stderr, flush=True)


# --- worker processes for --jobs (trusted: they run the grader, not student code) ---
_GRADER: Grader | None = None


def _job_init(rubric: Rubric, options: GradeOptions) -> None:
    global _GRADER
    _GRADER = Grader(rubric, options)


def _job_grade(sub: Submission, out: str, key: str) -> GradeResult:
    assert _GRADER is not None
    return _finish(_GRADER.grade(sub), Path(out), key)
