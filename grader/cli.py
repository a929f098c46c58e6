"""The ``grade`` command: parse arguments, dispatch to a verb, map outcomes to exit codes.

Exit codes: 0 grading ran (and the score met --min-score), 1 below --min-score,
2 a grader or usage error (bad rubric, no such path), with a one-line message.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from pathlib import Path

import rubrics
from grader.intake import IntakeError
from grader.measure.profile import ProfileError
from grader.scoring import RubricError
from grader.similarity.options import add_similarity_options

EXIT_OK, EXIT_BELOW, EXIT_ERROR = 0, 1, 2
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# rubrics/ is a package too, so a regular (non-editable) install has the default rubric.
DEFAULT_RUBRIC = Path(rubrics.__file__).resolve().parent / "acceleration.yaml"


class UsageError(Exception):
    """A mistake in how grade was called; one line for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors exit 2 too, in one line
        raise UsageError(message)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rubric", type=Path, default=DEFAULT_RUBRIC, help="rubric YAML (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="input seed, to repeat a grading run exactly")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads in the sandbox (default 1)")
    p.add_argument("--call-timeout", type=float, default=60.0,
                   help="seconds one call into a submission may take before its worker is ended (default 60)")
    p.add_argument("--calibration", type=Path, default=None,
                   help="machine profile from 'grade calibrate' (default: the cached one for this machine)")
    p.add_argument("--force-calibration", action="store_true",
                   help="use --calibration even if it was made on another machine")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade", description="accelgrade: grade TinyTorch Acceleration submissions.",
                epilog="other verbs: grade calibrate | grade export gradescope | grade merge OUT... "
                       "(run 'grade VERB --help')")
    p.add_argument("paths", nargs="*", type=Path, help="submissions: .py, .ipynb, .zip or folders")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: grades)")
    p.add_argument("--self-check", action="store_true",
                   help="student mode: public checks only on FILE (default ./acceleration.py)")
    p.add_argument("--min-score", type=float, default=None, help="exit 1 when a score is below this (CI gate)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--jobs", type=int, default=1,
                   help="grade in N processes; measured checks still run one at a time machine-wide")
    p.add_argument("--resume", action="store_true",
                   help="skip submissions already graded into --out with the same code, rubric and calibration")
    p.add_argument("--categories", default=None,
                   help="grade only these rubric categories, comma-separated (e.g. correctness,integration: "
                        "seconds instead of the measured checks' minute)")
    p.add_argument("--junit", type=Path, default=None, metavar="FILE",
                   help="also write JUnit XML: a testsuite per student, a testcase per rubric item (CI)")
    p.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="a Canvas gradebook export (CSV): names, SIS ids and sections for grades.csv, "
                        "matched on the student id in Canvas download names")
    p.add_argument("--shard", default=None, metavar="i/N",
                   help="grade only shard i of N of the class (1-based; a student's shard is "
                        "1 + sha256(slug) mod N); join the outputs with 'grade merge'")
    p.add_argument("--single", action="store_true",
                   help="PATH is one student's hand-in, even a folder holding several files "
                        "(the solution is picked as inside a zip); Gradescope's run_autograder uses it")
    add_similarity_options(p)
    _common(p)
    return p


def export_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade export", description="Package accelgrade for another system.")
    p.add_argument("target", choices=["gradescope"], help="gradescope: an autograder zip")
    p.add_argument("--out", type=Path, default=None,
                   help="the zip to write (default: accelgrade-gradescope.zip)")
    p.add_argument("--rubric", type=Path, default=DEFAULT_RUBRIC, help="rubric to ship (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads when grading there (default 1)")
    p.add_argument("--grade-args", default="",
                   help="extra 'grade' options run_autograder passes, e.g. \"--categories correctness,integration\"")
    return p


def merge_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade merge", description="Join the outputs of 'grade --shard i/N' runs "
                "(or any grade output folders) into one class page, grades.csv and summary.json.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="OUT", help="output folders of the shard runs")
    p.add_argument("--out", type=Path, required=True, help="the merged output folder")
    p.add_argument("--roster", type=Path, default=None, metavar="FILE",
                   help="Canvas gradebook export for the merged grades.csv "
                        "(default: the SIS columns of the shards' own grades.csv)")
    p.add_argument("--junit", type=Path, default=None, metavar="FILE", help="also write JUnit XML for everyone")
    p.add_argument("--min-score", type=float, default=None, help="exit 1 when a score is below this")
    p.add_argument("--quiet", action="store_true", help="no summary line")
    add_similarity_options(p)
    return p


def calibrate_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade calibrate", description="Measure this machine: peak GFLOP/s, bandwidth, the "
                "reference's speed ratios and noise, and the thresholds derived from them.")
    p.add_argument("--out", type=Path, default=None, help="write the profile here too (YAML)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads grading will use (default 1)")
    p.add_argument("--quick", action="store_true", help="fewer repeats: faster, noisier")
    return p


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

        return calibrate.run(calibrate_parser().parse_args(argv[1:]))
    if argv[:1] == ["export"]:
        from grader.commands import export

        return export.run(export_parser().parse_args(argv[1:]))
    if argv[:1] == ["merge"]:
        from grader.commands import merge

        return merge.run(merge_parser().parse_args(argv[1:]))
    args = build_parser().parse_args(argv)
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
