"""``grade PATH...``: grade a class (or one upload) and write every output."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from grader.cli import EXIT_BELOW, EXIT_OK
from grader.commands.common import options_from, rubric_from, selection
from grader.grading import Grader
from grader.intake import discover
from grader.models import GradeResult
from grader.reports import write_outputs, write_student_outputs


def run(args: argparse.Namespace) -> int:
    rubric = rubric_from(args)
    submissions = discover(list(args.paths))
    out: Path = args.out or Path("grades")
    options = options_from(args, rubric, selection(args, rubric))
    results: list[GradeResult] = []
    started = time.monotonic()
    with Grader(rubric, options) as grader:
        for n, sub in enumerate(submissions, 1):
            result = grader.grade(sub)
            write_student_outputs(result, out)  # as each finishes: nothing lost if the batch dies
            results.append(result)
            if not args.quiet:
                flags = f" [{', '.join(result.flags)}]" if result.flags else ""
                print(f"[{n}/{len(submissions)}] {sub.student}: {result.score:g}/{result.max_score:g}"
                      f"{flags} ({result.execution_time:.1f}s)", file=sys.stderr)
    write_outputs(results, out, rubric.assignment, rubric.total, options.machine, options.seed)
    if not args.quiet:
        print(f"graded {len(results)} submission(s) in {time.monotonic() - started:.0f}s; "
              f"class page: {out / 'index.html'}", file=sys.stderr)
    if args.min_score is not None and any(r.score < args.min_score for r in results):
        return EXIT_BELOW
    return EXIT_OK
