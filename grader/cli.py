"""The ``grade`` command: parse arguments, dispatch to a verb, map outcomes to exit codes.

Exit codes: 0 grading ran (and the score met --min-score), 1 below --min-score,
2 a grader or usage error (bad rubric, no such path), with a one-line message.
"""
from __future__ import annotations

import logging
import os
import secrets
import sys

from grader.commands.exits import EXIT_ERROR, UsageError
from grader.commands.options import grade_parser
from grader.intake import IntakeError
from grader.measure.profile import ProfileError
from grader.scoring import RubricError

def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="grade: %(message)s")
    try:
        return _guarded(argv)
    finally:
        from grader.sandbox import jail

        jail.cleanup()  # the workers' homes and the shim copy: nothing left in the temp folder


def _guarded(argv: list[str]) -> int:
    try:
        return _dispatch(argv)
    except (UsageError, IntakeError, RubricError, ProfileError) as exc:
        print(f"grade: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours: one line, and the traceback only on request
        if os.environ.get("ACCELGRADE_DEBUG"):
            raise
        print(f"grade: internal error: {type(exc).__name__}: {exc} (set ACCELGRADE_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("grade: interrupted; finished submissions keep their results", file=sys.stderr)
        return 130


def _dispatch(argv: list[str]) -> int:
    # Verbs are the first word; a submission that happens to be called "merge" is
    # still gradable as ./merge.
    if argv[:1] == ["calibrate"]:
        from grader.commands import calibrate

        return calibrate.run(calibrate.parser().parse_args(argv[1:]))
    if argv[:1] == ["export"]:
        from grader.commands import export

        return export.run(export.parser().parse_args(argv[1:]))
    if argv[:1] == ["merge"]:
        from grader.commands import merge

        return merge.run(merge.parser().parse_args(argv[1:]))
    args = grade_parser().parse_args(argv)
    args.seed_given = args.seed is not None
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    from grader.commands import batch, selfcheck  # deferred: keeps 'grade --help' fast

    if args.self_check:
        if len(args.paths) > 1:
            raise UsageError("--self-check takes one file")
        if args.shard or args.roster or args.single:
            raise UsageError("--shard, --roster and --single are for grading a class, not --self-check")
        return selfcheck.run(args)
    if not args.paths:
        raise UsageError("give at least one submission path (or --self-check); see grade --help")
    return batch.run(args)


if __name__ == "__main__":
    # Run the canonical module, not this __main__ copy, so its exception classes are the ones raised.
    from grader.cli import main as _main

    sys.exit(_main())
