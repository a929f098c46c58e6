"""Scoring (grader/scoring/score.py): credit curves, item statuses, category and total sums."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.models import CheckInfo, CheckResult
from grader.scoring import load_rubric, score_all
from grader.scoring.rubric import Partial
from grader.scoring.score import NOT_RUN, credit

SMALL = Path(__file__).resolve().parent / "fixtures" / "rubrics" / "small.yaml"
CATALOGUE = {
    "matmul.square": CheckInfo("matmul.square", "Square matmul", "use np.matmul", "test_matmul"),
    "gelu.values": CheckInfo("gelu.values", "GELU values", "tanh form", "test_gelu"),
    "roofline.intensity": CheckInfo("roofline.intensity", "Intensity", "", "test_roofline"),
}


def passed(check_id="x", fraction=1.0, **data) -> CheckResult:
    return CheckResult(check_id, True, fraction, "passed", data=dict(data))


def failed(check_id="x", message="wrong", hint="try again", **data) -> CheckResult:
    return CheckResult(check_id, False, 0.0, message, hint=hint, flags=["crash"], data=dict(data))


def measured(value, threshold, ok=True, check_id="x") -> CheckResult:
    r = passed(check_id) if ok else failed(check_id)
    r.data["score_input"] = {"value": value, "threshold": threshold}
    return r


# ---------------------------------------------------------------- credit()

def test_credit_plain_checks_use_their_fraction():
    assert credit(passed(), None) == 1.0
    assert credit(passed(fraction=0.25), None) == 0.25
    assert credit(passed(fraction=1.7), None) == 1.0  # clamped
    assert credit(passed(fraction=-0.3), None) == 0.0
    assert credit(failed(), None) == 0.0


def test_credit_all_or_nothing_without_a_curve():
    assert credit(measured(10.0, 10.0), None) == 1.0
    assert credit(measured(12.0, 10.0), None) == 1.0
    assert credit(measured(9.99, 10.0), None) == 0.0
    assert credit(measured(0.0, 10.0), None) == 0.0


@pytest.mark.parametrize("value,expected", [
    (2.0, 0.0),     # below the floor
    (5.0, 0.0),     # exactly floor * threshold
    (6.0, 0.2),
    (7.5, 0.5),     # halfway between floor and threshold
    (9.0, 0.8),
    (10.0, 1.0),    # the threshold
    (30.0, 1.0),    # above it
])
def test_credit_partial_curve(value, expected):
    assert credit(measured(value, 10.0), Partial(floor=0.5)) == pytest.approx(expected)


def test_credit_partial_curve_with_zero_floor():
    assert credit(measured(0.0, 4.0), Partial(floor=0.0)) == 0.0
    assert credit(measured(1.0, 4.0), Partial(floor=0.0)) == pytest.approx(0.25)


def test_failed_check_earns_nothing_even_with_score_input():
    assert credit(measured(100.0, 10.0, ok=False), Partial(floor=0.5)) == 0.0
    assert credit(measured(100.0, 10.0, ok=False), None) == 0.0


def test_non_positive_threshold_earns_nothing_below_it():
    assert credit(measured(-1.0, 0.0), Partial(floor=0.5)) == 0.0
    assert credit(measured(0.0, 0.0), Partial(floor=0.5)) == 1.0  # met the threshold


def test_nan_measurement_earns_nothing():
    assert credit(measured(float("nan"), 10.0), Partial(floor=0.5)) == 0.0


# ---------------------------------------------------------------- score_all()

@pytest.fixture(scope="module")
def rubric():
    return load_rubric(SMALL)


def by_id(items):
    return {i.check_id: i for i in items}


def test_score_all_statuses_and_sums(rubric):
    results = {
        "matmul.square": passed("matmul.square"),
        "gelu.values": measured(7.5, 10.0, check_id="gelu.values"),  # floor 0.5 in the rubric: half credit
        "roofline.intensity": failed("roofline.intensity", message="got 3, expected 4", hint="FLOPs per byte"),
    }
    items, cats, total, max_total = score_all(rubric, results, CATALOGUE)
    got = by_id(items)
    assert [i.check_id for i in items] == ["matmul.square", "gelu.values", "roofline.intensity"]

    assert (got["matmul.square"].score, got["matmul.square"].max_score, got["matmul.square"].status) == (
        5.0, 5.0, "passed")
    assert (got["gelu.values"].score, got["gelu.values"].status) == (3.5, "partial")
    roof = got["roofline.intensity"]
    assert (roof.score, roof.max_score, roof.status) == (0.0, 8.0, "failed")
    assert roof.output == "got 3, expected 4"
    assert roof.hint == "FLOPs per byte"
    assert roof.flags == ["crash"]

    cat = {c.name: (c.score, c.max_score) for c in cats}
    assert cat == {"correctness": (8.5, 12.0), "roofline": (0.0, 8.0), "speed": (0.0, 0.0)}
    assert [c.name for c in cats] == ["correctness", "roofline", "speed"]  # the rubric's order
    assert (total, max_total) == (8.5, 20.0)


def test_score_all_names_visibility_and_category(rubric):
    items, *_ = score_all(rubric, {}, CATALOGUE)
    got = by_id(items)
    assert got["matmul.square"].name == "Square matmul"  # the catalogue's name
    assert got["roofline.intensity"].name == "Intensity formula"  # the rubric's override
    assert got["gelu.values"].visibility == "hidden"
    assert got["roofline.intensity"].category == "roofline"
    items, *_ = score_all(rubric, {}, {})
    assert by_id(items)["matmul.square"].name == "matmul.square"  # nothing known: the id


def test_score_all_missing_results_are_failed_not_graded(rubric):
    items, cats, total, max_total = score_all(rubric, {}, CATALOGUE)
    assert all(i.status == "failed" and i.score == 0 and i.output == NOT_RUN for i in items)
    assert (total, max_total) == (0.0, 20.0)
    assert all(c.score == 0 for c in cats)


def test_score_all_hint_only_when_credit_lost(rubric):
    full = CheckResult("matmul.square", True, 1.0, "passed", hint="should not show")
    part = CheckResult("gelu.values", True, 0.5, "half", hint="do better")
    items, *_ = score_all(rubric, {"matmul.square": full, "gelu.values": part}, CATALOGUE)
    got = by_id(items)
    assert got["matmul.square"].hint == ""
    assert got["gelu.values"].hint == "do better"
    assert got["gelu.values"].status == "partial" and got["gelu.values"].score == 3.5


def test_score_all_rounds_to_cents(rubric):
    third = CheckResult("gelu.values", True, 1 / 3, "a third")
    items, cats, total, _ = score_all(rubric, {"gelu.values": third}, CATALOGUE)
    assert by_id(items)["gelu.values"].score == 2.33
    assert total == 2.33
    assert {c.name: c.score for c in cats}["correctness"] == 2.33


def test_score_all_only_subset(rubric):
    results = {"matmul.square": passed("matmul.square"), "roofline.intensity": passed("roofline.intensity")}
    items, cats, total, max_total = score_all(rubric, results, CATALOGUE, only={"matmul.square"})
    assert [i.check_id for i in items] == ["matmul.square"]
    # Only categories with selected items; their maxima count only the selected items.
    assert [(c.name, c.score, c.max_score) for c in cats] == [("correctness", 5.0, 5.0)]
    assert (total, max_total) == (5.0, 5.0)


def test_score_all_only_unknown_ids_selects_nothing(rubric):
    items, cats, total, max_total = score_all(rubric, {}, CATALOGUE, only={"no.such"})
    assert (items, cats, total, max_total) == ([], [], 0, 0)
