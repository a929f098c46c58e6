"""The shipped assignments: each one definition, which every stage takes as data.

An assignment names the functions students write, the rubric that weights its checks, the starter
file, the TinyTorch release it fits, and its leaderboard figure. The check suite, the reference
worker and the measured specs are shared: the rubric chooses which checks run. Adding an
assignment is one module here (copy ``acceleration.py``), its rubric in ``rubrics/`` and its
starter file in ``student_template/``.
"""
from __future__ import annotations

from grader.assignments.model import DEFAULT, Assignment, AssignmentError
from grader.assignments import acceleration, tinytorch_2025, tinytorch_2026

ASSIGNMENTS: dict[str, Assignment] = {a.name: a for a in (acceleration.ASSIGNMENT, tinytorch_2025.ASSIGNMENT,
                                                         tinytorch_2026.ASSIGNMENT)}


def get(name: str | None) -> Assignment:
    """The shipped assignment called ``name`` (None: the default)."""
    key = DEFAULT if name is None else name.strip().lower().replace("_", "-")
    try:
        return ASSIGNMENTS[key]
    except KeyError:
        raise AssignmentError(f"no assignment {name!r}: choose one of {', '.join(ASSIGNMENTS)}") from None


def all_functions() -> tuple[str, ...]:
    """Every function any shipped assignment asks for: what a worker reports as present."""
    seen: dict[str, None] = {}
    for a in ASSIGNMENTS.values():
        seen.update(dict.fromkeys(a.functions))
    return tuple(seen)


def better_fit(present: set[str] | list[str], chosen: Assignment) -> Assignment | None:
    """Another shipped assignment the file's functions fit clearly better than ``chosen``, or None.

    Fit is the overlap of the functions defined with an assignment's functions over their union
    (Jaccard), so extra functions count against a fit as much as missing ones. "Clearly" means a
    fit of at least 0.75 and 0.25 more than the chosen one's; grading never switches by itself.
    """
    known = set(present) & set(all_functions())
    if not known:
        return None

    def fit(a: Assignment) -> float:
        mine = set(a.functions)
        return len(known & mine) / len(known | mine)

    best = max(ASSIGNMENTS.values(), key=fit)
    if best.name != chosen.name and fit(best) >= 0.75 and fit(best) - fit(chosen) >= 0.25:
        return best
    return None


__all__ = ["ASSIGNMENTS", "DEFAULT", "Assignment", "AssignmentError", "get", "all_functions", "better_fit"]
