"""Setting up a grading run from parsed arguments: rubric, options, machine facts."""
from __future__ import annotations

import argparse

from grader.checks import catalogue
from grader.grading import GradeOptions
from grader.measure.fingerprint import fingerprint
from grader.sandbox import SandboxConfig
from grader.scoring import Rubric, load_rubric


def rubric_from(args: argparse.Namespace) -> Rubric:
    return load_rubric(args.rubric, known_checks=catalogue().keys())


def options_from(args: argparse.Namespace, select: set[str] | None = None) -> GradeOptions:
    machine = fingerprint(threads=args.threads)
    return GradeOptions(seed=args.seed, sandbox=SandboxConfig(threads=args.threads), select=select,
                        machine=machine)
