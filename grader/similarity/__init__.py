"""Similarity flags: which submissions of a class look copied from one another.

``similarity_for_class`` is the one call the batch and merge verbs make after
grading: it compares every pair (copydetect's winnowing, detect.py), with the
starter file and the reference left out, writes a side-by-side page per flagged
pair into the output folder (view.py) and returns the report that summary.json
and the class page list. A pair is evidence for a human, never a penalty: no
score changes, and nothing is written into the students' own results.json or
report (which students may see; a classmate's name does not belong there).
"""
from __future__ import annotations

from typing import Any

from grader.similarity.defaults import DEFAULT_THRESHOLD, MIN_OVERLAP

__all__ = ["DEFAULT_THRESHOLD", "MIN_OVERLAP", "Entry", "SimilarPair", "SimilarityReport", "annotate_summary",
           "boilerplate_sources", "compare", "index_view", "similarity_for_class"]

_LAZY = {
    "Entry": "records", "SimilarPair": "records", "SimilarityReport": "records",
    "compare": "detect", "index_view": "view",
    "annotate_summary": "classwide", "boilerplate_sources": "classwide", "similarity_for_class": "classwide",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: `grade --help` and the command line's options need none of it.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"grader.similarity.{_LAZY[name]}"), name)
    raise AttributeError(name)
