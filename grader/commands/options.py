"""The options of ``grade`` itself (grading a class or --self-check), shared by the verbs that
grade or pass grading options on (batch, selfcheck, export)."""
from __future__ import annotations

import argparse
from pathlib import Path

from grader import assignments
from grader.commands.exits import Parser
from grader.measure.load import SETTLE_MAX
from grader.similarity.options import add_similarity_options

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
# rubrics/ is a package too, so a regular (non-editable) install has the default rubric.
DEFAULT_RUBRIC = assignments.get(None).rubric


def assignment_option(p: argparse.ArgumentParser) -> None:
    shipped = "; ".join(f"{a.name}: {a.release}" for a in assignments.ASSIGNMENTS.values())
    p.add_argument("--assignment", default=assignments.DEFAULT, metavar="NAME",
                   help=f"which shipped assignment to grade (default %(default)s). {shipped}")


def common_options(p: argparse.ArgumentParser) -> None:
    assignment_option(p)
    p.add_argument("--rubric", type=Path, default=None,
                   help="rubric YAML (default: the assignment's, rubrics/<assignment>.yaml)")
    p.add_argument("--seed", type=int, default=None, help="input seed, to repeat a grading run exactly")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads in the sandbox (default 1)")
    p.add_argument("--call-timeout", type=float, default=60.0,
                   help="seconds one call into a submission may take before its worker is ended (default 60)")
    p.add_argument("--quiet-wait", type=float, default=SETTLE_MAX, metavar="SECONDS",
                   help="how long a timed check waits for a busy machine to settle before it keeps its measurement "
                        f"and is marked busy-machine (default {SETTLE_MAX:g}; 0: never wait)")
    p.add_argument("--calibration", type=Path, default=None,
                   help="machine profile from 'grade calibrate' (default: the cached one for this machine)")
    p.add_argument("--tinytorch", type=Path, default=None, metavar="DIR",
                   help="a course's own tinytorch package (the folder holding its __init__.py, or the folder "
                        "above it), imported by submissions in place of accelgrade's TinyTorch shim")
    p.add_argument("--force-calibration", action="store_true",
                   help="use --calibration even if it was made on another machine")


def grade_parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade", description="accelgrade: grade TinyTorch Acceleration submissions "
               "(--assignment picks the TinyTorch release).",
                epilog="other verbs: grade calibrate | grade export gradescope | grade merge OUT... "
                       "(run 'grade VERB --help')")
    p.add_argument("paths", nargs="*", type=Path, help="submissions: .py, .ipynb, .zip or folders")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: grades)")
    p.add_argument("--self-check", action="store_true",
                   help="student mode: public checks only on FILE (default: the assignment's usual file "
                        "name found here, e.g. ./acceleration.py or ./17_acceleration.py)")
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
    p.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even as root on a machine with no sandbox (no bubblewrap, no uid of its own): "
                        "submissions then run with root's rights, so only for files you trust")
    add_similarity_options(p)
    common_options(p)
    return p
