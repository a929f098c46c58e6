"""The similarity options of ``grade`` and ``grade merge`` (one place, so each verb adds them in a line)."""
from __future__ import annotations

import argparse

from grader.similarity.defaults import DEFAULT_THRESHOLD


def threshold(text: str) -> float:
    """A share in (0, 1]; "60" or "60%" mean 0.6."""
    raw = text.strip().rstrip("%")
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if 1 < value <= 100:
        value /= 100
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1 (or a percentage)")
    return value


def add_similarity_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--similarity-threshold", type=threshold, default=None, metavar="S",
                   help="flag two submissions as similar when this share of one's code matches the other's "
                        f"(0-1 or a percentage; default {DEFAULT_THRESHOLD}). Evidence for a human: no score "
                        "changes")
    p.add_argument("--no-similarity", action="store_true",
                   help="do not compare the submissions with each other (no similarity flags)")
