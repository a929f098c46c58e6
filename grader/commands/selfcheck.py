"""``grade --self-check [FILE]``: a student's public checks, in the terminal and self-check.html."""
from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from grader import assignments
from grader.commands.exits import EXIT_BELOW, EXIT_OK, UsageError
from grader.commands.common import announce_better_fit, options_from, rubric_from, selection
from grader.grading import Grader
from grader.intake import load_submission
from grader.reports import format_selfcheck, write_selfcheck
from grader.reports.junit import write_junit


def _default_file(args: argparse.Namespace) -> Path:
    """The first of the assignment's usual file names found here (the first name if none is)."""
    names = assignments.get(getattr(args, "assignment", None)).student_files
    return next((Path(n) for n in names if Path(n).exists()), Path(names[0]))


def run(args: argparse.Namespace) -> int:
    path = args.paths[0] if args.paths else _default_file(args)
    if not path.exists():
        raise UsageError(f"no such file: {path} (run in the folder with your {path.name}, "
                         "or give its path)")
    rubric = rubric_from(args)
    submission = load_submission(path)
    listed = selection(args, rubric) or {i.check_id for i in rubric.items}
    options = options_from(args, rubric, selection(args, rubric, visible_only=True), listed=listed)
    with Grader(rubric, options) as grader:
        result = grader.grade(submission)
    announce_better_fit([result], options.assignment)
    width = shutil.get_terminal_size((80, 24)).columns
    print(format_selfcheck(result, width=width))
    html_path = (args.out or Path(".")) / "self-check.html"
    write_selfcheck(result, html_path)
    print(f"report: {html_path}")
    if getattr(args, "junit", None):
        # Public checks only: the result also lists the hidden ones (to count them), and a
        # skipped testcase per hidden check would name it.
        public = dataclasses.replace(result, items=[i for i in result.items if i.visibility == "visible"])
        write_junit([public], args.junit, rubric.assignment)
    if args.min_score is not None and result.score < args.min_score:
        return EXIT_BELOW
    return EXIT_OK
