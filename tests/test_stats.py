"""The statistics and scoring behind measured items: decided by numbers in, verdicts out.

No sandbox and no timing: the sequential rule's error rates come from a seeded simulation, the
credit curve from the shipped rubric. (Verdicts on real submissions: tests/test_measure.py.)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

SHIPPED_RUBRIC = Path(__file__).resolve().parents[1] / "rubrics" / "acceleration.yaml"


# ---------------------------------------------------------------------------
# grader.measure.stats
# ---------------------------------------------------------------------------

def test_estimate_median_and_interval():
    from grader.measure.stats import estimate, t99

    values = [1.2, 1.35, 1.1, 1.25, 1.3, 1.15, 1.22]
    est = estimate(values)
    assert est.median == pytest.approx(float(np.median(values)))
    assert est.n == len(values)
    assert est.low <= est.median <= est.high
    logs = np.log(values)
    half = t99(len(values) - 1) * logs.std(ddof=1) / math.sqrt(len(values))
    assert est.low == pytest.approx(math.exp(logs.mean() - half))
    assert est.high == pytest.approx(math.exp(logs.mean() + half))
    assert est.as_dict()["rounds"] == len(values) and est.as_dict()["ci_level"] == 0.99


def test_estimate_cv_is_robust_to_one_disturbed_round():
    from grader.measure.stats import estimate

    calm = [1.20, 1.22, 1.19, 1.21, 1.20, 1.23, 1.18]
    a, b = estimate(calm), estimate(calm[:-1] + [0.4])  # one round wrecked by a neighbour
    classical = float(np.std(calm[:-1] + [0.4]) / np.mean(calm[:-1] + [0.4]))
    assert b.cv == pytest.approx(a.cv, abs=0.02)
    assert b.cv < classical / 5
    assert b.median == pytest.approx(a.median, abs=0.02)
    # ...and it decides nothing: the interval widens so more rounds are taken
    assert a.above(1.1) and not b.above(1.1) and not b.below(1.1)


def test_estimate_is_deterministic():
    from grader.measure.stats import estimate

    values = [1.1, 1.4, 0.9, 1.3, 1.2]
    assert estimate(values) == estimate(list(values)) == estimate(np.array(values))


def test_estimate_degenerate_inputs():
    from grader.measure.stats import estimate

    empty = estimate([])
    assert empty.n == 0 and math.isnan(empty.median)
    one = estimate([2.5])  # one round decides nothing, and its record holds no interval
    assert (one.median, one.n) == (2.5, 1) and one.straddles(1.0) and one.straddles(9.0)
    assert one.as_dict()["ci_low"] is None and one.as_dict()["ci_high"] is None
    same = estimate([3.0, 3.0, 3.0])
    assert (same.low, same.high, same.cv) == (pytest.approx(3.0), pytest.approx(3.0), 0.0)
    mixed = estimate([1.0, float("nan"), 1.2, float("inf"), 1.1, 0.0, -1.0])
    assert mixed.n == 3 and mixed.median == pytest.approx(1.1)


def test_decided_means_interval_and_median_on_one_side():
    from grader.measure.stats import Estimate

    e = Estimate(median=1.2, low=1.1, high=1.3, n=9, cv=0.05)
    assert e.straddles(1.15) and e.straddles(1.3)
    assert e.above(1.0) and e.above(1.1) and not e.straddles(1.1)
    assert e.below(1.31) and not e.above(1.31)
    lopsided = Estimate(median=0.99, low=1.01, high=1.3, n=9, cv=0.05)  # the median disagrees: undecided
    assert not lopsided.above(1.0) and lopsided.straddles(1.0)


def _sequential(delta: float, sigma: float, heavy: bool, rng: np.random.Generator, first: int = 3,
                last: int = 19) -> tuple[str, int]:
    """The rule of grader.measure.stats played on simulated per-round speedups whose true median
    sits exp(delta) times the threshold (1.0): 'above'/'below' when a look decides, else the
    median's side with '?' (noisy)."""
    from grader.measure.stats import estimate

    values = []
    for n in range(1, last + 1):
        noise = rng.standard_t(3) / math.sqrt(3) if heavy else rng.standard_normal()
        values.append(math.exp(delta + sigma * noise))
        if n >= first:
            e = estimate(values)
            if e.above(1.0):
                return "above", n
            if e.below(1.0):
                return "below", n
    return ("above?" if np.median(values) >= 1.0 else "below?"), last


@pytest.mark.parametrize("heavy", [False, True], ids=["gaussian", "heavy-tailed t3"])
def test_sequential_rule_error_rates(heavy):
    """The error rate the README states, by a seeded simulation (noise sigma 8% a round, as the
    fused GELU sees on these VMs; 19 looks at most):
    - true speedup exactly at the threshold: a confident verdict either way in about 5% of gradings
      (at most 9% here: 4 standard errors of 600 runs above it), the rest marked noisy and decided on
      the median, a coin toss, as it must be there;
    - half a sigma away: a confident wrong verdict in at most 1.5%; a sigma away 0.5%; two: none;
    - clear cases are decided early: two sigma away in under 6 rounds on average.
    The bounds have room for another numpy's random streams, so the test does not hang on one seed."""
    rng = np.random.default_rng([2026, heavy])
    sigma, runs = 0.08, 600

    def play(k: float) -> list[tuple[str, int]]:
        return [_sequential(k * sigma, sigma, heavy, rng) for _ in range(runs)]

    at_cut = play(0.0)
    assert sum(v == "above" for v, _ in at_cut) / runs <= 0.09
    assert sum(v == "below" for v, _ in at_cut) / runs <= 0.09
    for k, most in ((0.5, 0.015), (1.0, 0.005), (2.0, 0.0)):
        assert sum(v == "below" for v, _ in play(k)) / runs <= most
        assert sum(v == "above" for v, _ in play(-k)) / runs <= most
    clear = play(2.0)
    assert np.mean([n for _, n in clear]) < 6
    assert all(v == "above" for v, _ in play(6.0))


def test_geomean():
    from grader.measure.stats import geomean

    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([1.5]) == pytest.approx(1.5)
    assert geomean([0.5, 2.0, 1.0]) == pytest.approx(1.0)
    assert math.isnan(geomean([]))
    assert math.isnan(geomean([1.0, 0.0]))
    assert math.isnan(geomean([1.0, -2.0]))


def test_spec_thresholds_follow_the_reference():
    from grader.measure.specs import SPEED_SPECS

    gelu = SPEED_SPECS["speed.fused_gelu"]  # gain: a fraction of the reference's gain over 1.0
    assert gelu.threshold(1.2) == pytest.approx(1 + gelu.fraction * 0.2)
    assert gelu.threshold(1.0) == pytest.approx(1.0)
    mm = SPEED_SPECS["speed.matmul_vs_reference"]  # relative: a fraction of the reference's ratio
    assert mm.threshold(1.0) == pytest.approx(mm.fraction)


def test_cross_check_flags_a_worker_faster_than_the_parent_saw():
    from grader.measure.timing import Sample, cross_check

    assert cross_check("student", Sample(parent=0.010, worker=0.0098, patched=[])) is None
    assert "student" in cross_check("student", Sample(parent=0.010, worker=0.0, patched=[]))
    assert "time.perf_counter" in cross_check("student", Sample(0.010, 0.010, ["time.perf_counter"]))
    assert cross_check("student", Sample(parent=0.010, worker=float("nan"), patched=[])) is not None


# ---------------------------------------------------------------------------
# Scoring of measured items: grader/scoring/score.py credit() with the rubric's partial floors
# ---------------------------------------------------------------------------

def _measured(value: float, threshold: float, passed: bool = True):
    from grader.models import CheckResult

    return CheckResult("speed.fused_gelu", passed, 1.0, "measured", data={
        "score_input": {"value": value, "threshold": threshold}})


@pytest.fixture(scope="module")
def meas_shipped_rubric():
    from grader.checks import catalogue
    from grader.scoring import load_rubric

    return load_rubric(SHIPPED_RUBRIC, known_checks=catalogue().keys())


@pytest.mark.parametrize("check_id", ["speed.fused_gelu", "speed.matmul_vs_reference", "memory.fused_gelu"])
def test_credit_follows_the_partial_curve(meas_shipped_rubric, check_id):
    from grader.scoring.score import credit

    partial = meas_shipped_rubric.item(check_id).partial
    assert partial is not None and 0 < partial.floor < 1
    t = 2.0
    low = partial.floor * t
    assert credit(_measured(t, t), partial) == 1.0
    assert credit(_measured(3 * t, t), partial) == 1.0  # leaner/faster than the bar: full, never more
    assert credit(_measured(low, t), partial) == pytest.approx(0.0)
    assert credit(_measured(low / 2, t), partial) == 0.0
    assert credit(_measured((low + t) / 2, t), partial) == pytest.approx(0.5)
    assert credit(_measured(t, t, passed=False), partial) == 0.0  # tampering, too slow: no credit
    assert credit(_measured(0.99 * t, t), None) == 0.0  # no curve: all or nothing


def test_score_item_marks_partial_credit(meas_shipped_rubric):
    from grader.scoring.score import score_item

    item = meas_shipped_rubric.item("memory.fused_gelu")
    t = 2.4
    mid = (item.partial.floor * t + t) / 2
    scored = score_item(item, _measured(mid, t), None)
    assert scored.status == "partial" and scored.score == pytest.approx(item.points / 2)
    assert score_item(item, _measured(t, t), None).status == "passed"
    assert score_item(item, _measured(0.1, t), None).status == "failed"


# A NaN on a partial curve once earned full credit (min(1.0, nan) is 1.0 in Python).
@pytest.mark.parametrize("value,threshold", [(float("nan"), 2.0), (1.0, float("nan"))])
def test_credit_nan_earns_nothing(meas_shipped_rubric, value, threshold):
    from grader.scoring.score import credit

    partial = meas_shipped_rubric.item("speed.fused_gelu").partial
    assert credit(_measured(value, threshold), partial) == 0.0


def test_no_gain_over_unfused_earns_at_most_half_the_fused_speed_points(meas_shipped_rubric):
    from grader.measure.specs import SPEED_SPECS
    from grader.scoring.score import credit

    partial = meas_shipped_rubric.item("speed.fused_gelu").partial
    # The reference's fused gain from the table (1.21x) sets the threshold.
    threshold = SPEED_SPECS["speed.fused_gelu"].threshold(1.21)
    assert credit(_measured(1.0, threshold), partial) <= 0.5
