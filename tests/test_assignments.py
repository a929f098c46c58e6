"""The shipped assignments: one definition each, found by name, and the fit hint between them."""
from __future__ import annotations

import ast

import pytest

from grader import assignments
from grader.assignments import ASSIGNMENTS, AssignmentError, better_fit
from grader.checks import catalogue
from grader.commands.export import driver_source
from grader.scoring import load_rubric

KERNELS = ("vectorized_matmul", "fused_gelu", "unfused_gelu", "tiled_matmul")
IM2COL = ("im2col", "col2im", "im2col_conv2d", "Im2colConv2dFunction")
ROOFLINE = ("arithmetic_intensity", "operation_cost", "roofline_predict", "classify_bound")


def test_three_assignments_ship_and_the_default_is_the_seed_one():
    assert set(ASSIGNMENTS) == {"acceleration", "tinytorch-2025", "tinytorch-2026"}
    assert assignments.get(None).name == "acceleration"
    assert assignments.get("TinyTorch_2026").name == "tinytorch-2026"  # as people type it
    assert assignments.get("tinytorch-2025").functions == KERNELS
    assert assignments.get("tinytorch-2026").functions == KERNELS + IM2COL


def test_an_unknown_assignment_names_the_shipped_ones():
    with pytest.raises(AssignmentError, match="acceleration, tinytorch-2025, tinytorch-2026"):
        assignments.get("tinytorch-2024")


@pytest.mark.parametrize("name", sorted(ASSIGNMENTS))
def test_each_assignment_has_its_rubric_and_starter_file(name):
    a = ASSIGNMENTS[name]
    rubric = load_rubric(a.rubric, known_checks=catalogue().keys())
    assert a.leaderboard_check in {i.check_id for i in rubric.items}
    defined = {n.name for n in ast.parse(a.starter.read_text(encoding="utf-8")).body
               if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(a.functions) <= defined, sorted(set(a.functions) - defined)


@pytest.mark.parametrize(("present", "chosen", "suggested"), [
    (KERNELS + IM2COL, "acceleration", "tinytorch-2026"),  # a 2026 solution under the default
    (KERNELS + IM2COL[:3], "acceleration", "tinytorch-2026"),  # ... one function short still fits 2026
    (KERNELS, "acceleration", "tinytorch-2025"),
    (KERNELS, "tinytorch-2026", "tinytorch-2025"),
    (KERNELS + ROOFLINE, "tinytorch-2025", "acceleration"),
    (KERNELS + IM2COL, "tinytorch-2025", "tinytorch-2026"),
    (KERNELS + ROOFLINE, "acceleration", None),  # the right one: nothing to say
    (KERNELS + IM2COL[:3], "tinytorch-2026", None),  # an unfinished 2026 file is still 2026
    (KERNELS[:2], "acceleration", None),  # too little to tell
    ((), "acceleration", None),
])
def test_a_clearly_better_fit_is_named(present, chosen, suggested):
    found = better_fit(set(present) | {"helper", "main"}, ASSIGNMENTS[chosen])  # other names do not count
    assert (found.name if found else None) == suggested


def test_the_gradescope_driver_carries_its_assignment():
    text = driver_source("--categories correctness", 2, ASSIGNMENTS["tinytorch-2026"])
    tree = ast.parse(text)
    consts = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
    assert consts["ASSIGNMENT"] == "tinytorch-2026"
    assert consts["DEFAULT_GRADE_ARGS"] == "--categories correctness"
    assert consts["THREADS"] == "2"
    assert consts["LEADERBOARD_CHECK"] == ASSIGNMENTS["tinytorch-2026"].leaderboard_check
