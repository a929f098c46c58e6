"""Intake's two failure kinds: one stops the run, the other only one submission."""
from __future__ import annotations


class IntakeError(Exception):
    """The batch itself cannot be graded (no such path, nothing gradable): the CLI exits 2."""


class ExtractionError(Exception):
    """One submission's content is unusable; the message, in plain words, goes in its report."""
