"""Intake: finds submissions, extracts code, names students, hashes content.

``discover`` turns command-line paths into a batch; ``load_submission`` reads
one hand-in and never raises for bad content (the problem goes into
``Submission.intake_error`` so the student still gets a report).
"""
from grader.intake.discover import discover, load_submission
from grader.intake.errors import IntakeError

__all__ = ["discover", "load_submission", "IntakeError"]
