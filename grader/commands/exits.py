"""Exit codes and the usage error every verb raises; the CLI maps them to the process's exit.

0 grading ran (and the score met --min-score), 1 below --min-score, 2 a grader or usage error.
"""
from __future__ import annotations

import argparse

EXIT_OK, EXIT_BELOW, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A mistake in how grade was called; one line for the user."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are UsageErrors (one line, exit 2), not a usage dump and SystemExit."""

    def error(self, message: str) -> None:
        raise UsageError(message)
