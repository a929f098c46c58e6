"""The record an assignment is: plain data, no behaviour beyond finding its files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rubrics

DEFAULT = "acceleration"
RUBRICS_DIR = Path(rubrics.__file__).resolve().parent
# student_template/ sits beside rubrics/ in a checkout and in the Gradescope zip
TEMPLATES_DIR = RUBRICS_DIR.parent / "student_template"


class AssignmentError(Exception):
    """An unknown assignment name; the message lists the shipped ones."""


@dataclass(frozen=True)
class Assignment:
    name: str  # what --assignment takes
    title: str  # the gradebook column and the reports' heading (the rubric's `assignment:` wins)
    release: str  # the TinyTorch release it fits, in words (README, --help, the fit hint)
    functions: tuple[str, ...]  # what students write; a missing one costs only its own items
    rubric_file: str  # in rubrics/
    starter_file: str  # in student_template/
    leaderboard_check: str  # the speed check whose median speedup is Gradescope's leaderboard figure
    leaderboard_name: str
    # what a student's file is usually called, tried in order by --self-check without a FILE
    student_files: tuple[str, ...] = ("acceleration.py",)

    @property
    def rubric(self) -> Path:
        return RUBRICS_DIR / self.rubric_file

    @property
    def starter(self) -> Path:
        return TEMPLATES_DIR / self.starter_file
