"""Measurement you can trust: statistics, scoring of measured items, and verdicts on real submissions.

The unit tests at the top are instant. The rest grade the submissions in
``tests/fixtures/measured/`` through the real CLI (``grader.cli.main``, in
process) against ONE quick calibration made per test session, and assert
verdicts (scores, statuses, flags, hints), never times: each fixture differs
from a good solution by far more than this machine's noise.

Cost: one quick calibration (~30 s, shared with tests/test_calibration.py
through the session's temporary folder), one batch of the GELU fixtures with
a two-item rubric, one of the tracemalloc-blinding fixtures with the memory
item alone, one run of the naive matmul with a one-item rubric, and three
gradings of fused_f32 on the speed and memory categories.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from fixtures.measured.build import materialise

ROOT = Path(__file__).resolve().parents[1]
_BUILT = Path(tempfile.mkdtemp(prefix="meas-fixtures-"))  # the fixtures as graded: base + overrides


def fixture(name: str) -> Path:
    """The gradable file of measured fixture ``name`` (see tests/fixtures/measured/build.py)."""
    return materialise(name, _BUILT)


SHIPPED_RUBRIC = ROOT / "rubrics" / "acceleration.yaml"
MEAS_SEED = 4242

# The GELU fixtures, graded in one batch with a rubric holding speed.fused_gelu and memory.fused_gelu,
# and those only the memory check is about, graded with memory.fused_gelu alone.
GELU_FIXTURES = ("fused_f64const", "fused_f64const_tensor", "unfused_renamed", "inplace_out", "patched_clock",
                 "identity_gelu", "pow3_gelu")
MEMORY_FIXTURES = ("blind_tracemalloc", "blind_cleartraces")


# ---------------------------------------------------------------------------
# Session fixtures: one calibration, a few grading runs
# ---------------------------------------------------------------------------

def meas_quick_calibration(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`grade calibrate --quick --out F` once per session (shared on disk with test_calibration.py)."""
    base = tmp_path_factory.getbasetemp() / "meas_calibration"
    done = base / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    base.mkdir(parents=True, exist_ok=True)
    cache = base / "cache"
    profile = base / "profile.yaml"
    env = dict(os.environ, ACCELGRADE_CACHE=str(cache))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "calibrate", "--quick", "--out", str(profile)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    info = {"profile": str(profile), "cache": str(cache), "returncode": proc.returncode,
            "stdout": proc.stdout, "stderr": proc.stderr}
    done.write_text(json.dumps(info))
    return info


@pytest.fixture(scope="session")
def meas_calibration(tmp_path_factory) -> dict:
    info = meas_quick_calibration(tmp_path_factory)
    assert info["returncode"] == 0, info["stderr"][-2000:]
    return info


def meas_rubric(path: Path, checks: list[str]) -> Path:
    """A rubric holding only ``checks``, with the shipped points, categories and partial floors."""
    shipped = yaml.safe_load(SHIPPED_RUBRIC.read_text(encoding="utf-8"))
    items = [dict(i) for i in shipped["items"] if i["check"] in checks]
    assert len(items) == len(checks)
    categories: dict[str, float] = {}
    for i in items:
        categories[i["category"]] = categories.get(i["category"], 0) + i["points"]
    path.write_text(yaml.safe_dump({"assignment": "Acceleration", "total": sum(categories.values()),
                                    "categories": categories, "items": items}, sort_keys=False))
    return path


def meas_grade(paths: list[Path], out: Path, calibration: dict, *args: str) -> dict[str, dict]:
    """Grade in process through the CLI; results.json of every student, by output folder name."""
    from grader.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", calibration["cache"])
        code = main([*map(str, paths), "--out", str(out), "--calibration", calibration["profile"],
                     "--seed", str(MEAS_SEED), "--quiet", *args])
    assert code == 0, f"grade exited {code}"
    return {d.name: json.loads((d / "results.json").read_text()) for d in out.iterdir()
            if (d / "results.json").exists()}


@pytest.fixture(scope="session")
def meas_gelu_results(tmp_path_factory, meas_calibration) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("meas_gelu")
    rubric = meas_rubric(tmp / "rubric.yaml", ["speed.fused_gelu", "memory.fused_gelu"])
    return meas_grade([fixture(name) for name in GELU_FIXTURES], tmp / "out", meas_calibration,
                      "--rubric", str(rubric))


@pytest.fixture(scope="session")
def meas_memory_results(tmp_path_factory, meas_calibration) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("meas_memory")
    rubric = meas_rubric(tmp / "rubric.yaml", ["memory.fused_gelu"])
    return meas_grade([fixture(name) for name in MEMORY_FIXTURES], tmp / "out", meas_calibration,
                      "--rubric", str(rubric))


@pytest.fixture(scope="session")
def meas_matmul_results(tmp_path_factory, meas_calibration) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("meas_matmul")
    rubric = meas_rubric(tmp / "rubric.yaml", ["speed.matmul_vs_reference", "roofline.measured_predict"])
    return meas_grade([fixture("naive_matmul")], tmp / "out", meas_calibration, "--rubric", str(rubric))


@pytest.fixture(scope="session")
def meas_repeated_f32(tmp_path_factory, meas_calibration) -> list[dict]:
    """fused_f32 graded three times in a row (three copies, one batch), same seed, shipped rubric
    restricted to the speed and memory categories."""
    tmp = tmp_path_factory.mktemp("meas_repeat")
    copies = []
    for n in range(3):
        copies.append(tmp / f"fused_f32_run{n}.py")
        shutil.copyfile(fixture("fused_f32"), copies[-1])
    results = meas_grade(copies, tmp / "out", meas_calibration, "--categories", "speed,memory")
    return [results[p.stem] for p in copies]


@pytest.fixture(scope="session")
def meas_f32(meas_repeated_f32) -> dict:
    return meas_repeated_f32[0]


def item_of(results: dict, check_id: str) -> dict:
    found = [t for t in results["tests"] if t["extra_data"]["check_id"] == check_id]
    assert len(found) == 1, f"{check_id} not in results.json"
    return found[0]


def full(t: dict) -> bool:
    return t["score"] == t["max_score"] and t["extra_data"]["status"] == "passed"


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


# ---------------------------------------------------------------------------
# Verdicts on real submissions (graded against the session's quick calibration)
# ---------------------------------------------------------------------------

# Items whose margin over the threshold is many times this machine's noise for a good solution.
ROBUST = ("memory.fused_gelu", "speed.matmul_vs_naive", "speed.matmul_vs_reference", "speed.tiled_matmul",
          "speed.mlp_block")

def test_fused_f32_gets_full_memory_and_matmul_credit(meas_f32):
    for cid in ROBUST:
        t = item_of(meas_f32, cid)
        assert full(t), f"{cid}: {t['output']}"
    fused = item_of(meas_f32, "speed.fused_gelu")
    assert fused["score"] >= 0.5 * fused["max_score"], fused["output"]
    assert "not fused" not in fused["output"] and "float64" not in fused["output"]
    assert "tampering" not in meas_f32["extra_data"]["flags"]


def test_fused_f32_never_loses_fused_speed_credit_with_confidence(meas_f32):
    # The fused GELU's gain on some machines is about 1.1-1.2x against a bar near 1.1x, so a run
    # may end with the interval still holding the bar (one CI run measured 1.03x, CI 0.94-1.16,
    # bar 1.04x). What must hold is that a strong solution is never judged below the bar with
    # confidence: full credit, or a decision on the median that says it was noisy.
    t = item_of(meas_f32, "speed.fused_gelu")
    if full(t):
        return
    data = t["extra_data"]["data"]
    speed = data["speed"]["student_speedup"]
    assert "noisy" in t["extra_data"]["causes"], t["output"]
    assert speed["ci_high"] >= data["threshold"], t["output"]  # never decided below


def test_measured_items_explain_their_threshold(meas_f32):
    t = item_of(meas_f32, "speed.fused_gelu")
    data = t["extra_data"]["data"]
    assert "CI" in t["output"] and "threshold" in t["output"]
    assert "calibration" in data["threshold_origin"]
    si = data["score_input"]
    assert si["threshold"] == pytest.approx(data["threshold"])
    speed = data["speed"]["student_speedup"]
    assert 0 < speed["ci_low"] <= speed["ci_high"] and speed["rounds"] >= 3 and speed["ci_level"] == 0.99
    mem = item_of(meas_f32, "memory.fused_gelu")["extra_data"]["data"]
    assert set(mem["memory"]) == {"baseline", "reference", "student"}
    assert meas_f32["extra_data"]["machine"]["calibration"]["id"]


def test_float64_constant_loses_fused_speed_and_memory_credit(meas_gelu_results):
    r = meas_gelu_results["fused_f64const"]
    speed, mem = item_of(r, "speed.fused_gelu"), item_of(r, "memory.fused_gelu")
    assert speed["score"] <= 0.5 * speed["max_score"], speed["output"]
    assert mem["score"] < mem["max_score"], mem["output"]
    assert speed["extra_data"]["causes"][0] == "float64_upcast", speed["output"]
    assert mem["extra_data"]["causes"] == ["float64_upcast"], mem["output"]
    assert "float64" in speed["output"] and "float64" in mem["output"]
    assert mem["extra_data"]["data"]["memory"]["student"]["dtype"] == "float64"
    assert r["extra_data"]["schema_version"] == 2


def test_float64_constant_inside_a_tensor_loses_credit(meas_gelu_results):
    r = meas_gelu_results["fused_f64const_tensor"]
    speed, mem = item_of(r, "speed.fused_gelu"), item_of(r, "memory.fused_gelu")
    assert speed["score"] <= 0.5 * speed["max_score"], speed["output"]
    assert mem["score"] < mem["max_score"], mem["output"]


def test_float64_constant_inside_a_tensor_is_explained(meas_gelu_results):
    """The result is float32 (Tensor casts back); the probe call still sees float64 temporaries."""
    r = meas_gelu_results["fused_f64const_tensor"]
    speed, mem = item_of(r, "speed.fused_gelu"), item_of(r, "memory.fused_gelu")
    assert speed["extra_data"]["causes"][0] == "float64_upcast", speed["output"]
    assert mem["extra_data"]["causes"] == ["float64_upcast"], mem["output"]
    assert mem["extra_data"]["data"]["memory"]["student"]["dtype"] == "float32"
    assert mem["extra_data"]["data"]["memory"]["student"]["widest"] == "float64"
    assert "float64" in speed["output"] and "float64" in mem["output"]


def test_unfused_code_under_the_fused_name_loses_speed_and_memory(meas_gelu_results):
    r = meas_gelu_results["unfused_renamed"]
    speed, mem = item_of(r, "speed.fused_gelu"), item_of(r, "memory.fused_gelu")
    assert mem["score"] == 0 and mem["extra_data"]["status"] == "failed", mem["output"]
    assert mem["extra_data"]["causes"] == ["temporaries"], mem["output"]
    assert speed["score"] < speed["max_score"] and speed["extra_data"]["status"] != "passed", speed["output"]
    assert speed["extra_data"]["causes"][0] == "temporaries", speed["output"]


def test_in_place_with_out_is_leaner_than_the_reference_and_gets_full_memory(meas_gelu_results):
    r = meas_gelu_results["inplace_out"]
    mem = item_of(r, "memory.fused_gelu")
    assert full(mem), mem["output"]
    figures = mem["extra_data"]["data"]["memory"]
    assert figures["student"]["peak"] < figures["reference"]["peak"]
    assert full(item_of(r, "speed.fused_gelu"))
    assert mem["extra_data"]["causes"] == [] and mem["extra_data"]["data"]["memory"]["student"]["widest"] == "float32"


def test_naive_matmul_fails_matmul_vs_reference_as_too_slow(meas_matmul_results):
    t = item_of(meas_matmul_results["naive_matmul"], "speed.matmul_vs_reference")
    assert t["score"] == 0 and t["extra_data"]["status"] == "failed"
    assert "too slow" in t["output"] and "BLAS" in t["output"]
    assert t["extra_data"]["causes"][0] == "too_slow"


def test_slow_matmul_is_not_a_grader_error_in_the_roofline_check(meas_matmul_results):
    r = meas_matmul_results["naive_matmul"]
    t = item_of(r, "roofline.measured_predict")
    assert "grader-error" not in t["extra_data"]["flags"], t["output"]
    assert "grader-error" not in r["extra_data"]["flags"]


def test_patched_clock_is_flagged_and_gains_nothing(meas_gelu_results, meas_f32):
    r = meas_gelu_results["patched_clock"]
    assert "tampering" in r["extra_data"]["flags"]
    for cid in ("speed.fused_gelu", "memory.fused_gelu"):
        t = item_of(r, cid)
        assert "tampering" in t["extra_data"]["flags"], t["output"]
        assert t["score"] <= item_of(meas_f32, cid)["score"]
        assert t["score"] == 0
        assert "tampering" in t["extra_data"]["causes"]


@pytest.mark.parametrize("name", ["blind_tracemalloc", "blind_cleartraces"])
def test_blinded_tracemalloc_gets_no_memory_credit_and_a_flag(meas_memory_results, name):
    r = meas_memory_results[name]
    mem = item_of(r, "memory.fused_gelu")
    assert mem["score"] == 0 and "tampering" in mem["extra_data"]["flags"], mem["output"]
    assert "tampering" in r["extra_data"]["flags"]


def test_wrong_values_earn_no_measured_credit(meas_gelu_results):
    r = meas_gelu_results["identity_gelu"]
    for cid in ("speed.fused_gelu", "memory.fused_gelu"):
        t = item_of(r, cid)
        assert t["score"] == 0 and t["extra_data"]["causes"] == ["wrong_output"], t["output"]


def test_slow_power_gets_a_hint_about_power(meas_gelu_results):
    speed = item_of(meas_gelu_results["pow3_gelu"], "speed.fused_gelu")
    assert speed["extra_data"]["causes"][0] == "slow_power", speed["output"]
    assert "x * x * x" in speed["output"]


def test_pow3_gelu_is_fused_by_memory(meas_gelu_results):
    assert full(item_of(meas_gelu_results["pow3_gelu"], "memory.fused_gelu"))


# ---------------------------------------------------------------------------
# The same grade for the same code
# ---------------------------------------------------------------------------

def _scores(r: dict) -> dict[str, float]:
    return {t["extra_data"]["check_id"]: t["score"] for t in r["tests"]}


def test_same_seed_same_scores_three_times_on_robust_items(meas_repeated_f32):
    first = _scores(meas_repeated_f32[0])
    assert len(first) == 6  # five speed checks and the memory check
    for again in meas_repeated_f32[1:]:
        assert {c: _scores(again)[c] for c in ROBUST} == {c: first[c] for c in ROBUST}




# ---------------------------------------------------------------------------
# A busy machine is waited for, or marked: never a silent verdict
# ---------------------------------------------------------------------------

HOG = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@pytest.fixture
def two_cpu_hogs(tmp_path):
    """Two busy loops outside the grader's process tree (double-forked, as another user's job would
    be), for at most two minutes; killed when the test ends."""
    import signal

    pids = tmp_path / "hogs.pids"
    script = tmp_path / "hog.py"
    script.write_text(HOG.format(seconds=120))
    launch = f"for i in 1 2; do {sys.executable} {script} & echo $! >> {pids}; done"
    subprocess.run(["sh", "-c", launch], check=True, start_new_session=True)
    hogs = [int(p) for p in pids.read_text().split()]
    yield hogs
    for pid in hogs:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_busy_machine_marks_the_speed_items_it_could_not_wait_out(tmp_path, meas_calibration, meas_f32,
                                                                    two_cpu_hogs):
    """Two busy loops beside the grader for the whole grading: each speed item waits for quiet
    (bounded), then is marked busy with the figures; a score that differs from the quiet run's
    carries the mark, and a lost point carries the busy_machine cause. No verdict flips silently."""
    checks = ["speed.matmul_vs_naive", "speed.fused_gelu"]
    rubric = meas_rubric(tmp_path / "rubric.yaml", checks)
    busy = meas_grade([fixture("fused_f32")], tmp_path / "out", meas_calibration, "--rubric", str(rubric))["fused_f32"]
    marked = 0
    for cid in checks:
        t, quiet = item_of(busy, cid), item_of(meas_f32, cid)
        machine = t["extra_data"]["data"]["speed"]["machine"]
        if "busy-machine" in t["extra_data"]["flags"]:
            marked += 1
            assert machine["busy"] and machine["others_cpu_share"] >= machine["busy_share"], machine
            assert machine["waited_s"] > 0 and "busy machine" in t["output"], t["output"]
            if t["score"] < t["max_score"]:
                assert "busy_machine" in t["extra_data"]["causes"], t["output"]
        else:
            assert t["score"] == quiet["score"], (t["output"], quiet["output"])
    assert marked >= 1  # two loops on two cores are far above the bar: this run cannot look quiet
    assert "busy-machine" in busy["extra_data"]["flags"]
