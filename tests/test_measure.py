"""Verdicts on real submissions, measured: scores, statuses, causes and flags, never times.

The submissions in ``tests/fixtures/measured/`` are graded through the real CLI
(``grader.cli.main``, in process) against ONE quick calibration made per test session;
each fixture differs from a good solution by far more than this machine's noise.
(The statistics and the credit curve behind the verdicts: tests/test_stats.py.)

Cost: one quick calibration (~13 s, shared with tests/test_calibration.py and
tests/test_boundary.py through the session's temporary folder), one batch of the GELU
fixtures with a two-item rubric, one of the tracemalloc-blinding fixtures with the memory
item alone, one run of the naive matmul with a two-item rubric, three gradings of
fused_f32 on the speed and memory categories, and one beside two busy loops.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import subprocess
import sys
from pathlib import Path

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


def test_memory_check_reads_the_trusted_peaks_from_calibration(meas_calibration):
    """The baseline's and the reference's peaks are calibration's: grading traces the student only."""
    from grader.measure import profile as profiles
    from grader.measure.session import Measurements
    from grader.sandbox import Sandbox, SandboxConfig

    prof = profiles.load(Path(meas_calibration["profile"]))
    student = Sandbox(fixture("fused_f32").read_text(encoding="utf-8"), SandboxConfig())
    try:
        student.start()
        traced_again = lambda: pytest.fail("the reference worker was asked for a peak calibration kept")  # noqa: E731
        m = Measurements(student, traced_again, MEAS_SEED, prof).memory("memory.fused_gelu")
    finally:
        student.close()
    kept = prof.memory["memory.fused_gelu"]
    assert (m["baseline"].peak, m["reference"].peak) == (kept["baseline_peak"], kept["reference_peak"])
    assert m["reference"].dtype == "float32" and 0 < m["student"].peak < m["baseline"].peak


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
    busy = meas_grade([fixture("fused_f32")], tmp_path / "out", meas_calibration, "--rubric", str(rubric),
                      "--quiet-wait", "1")["fused_f32"]
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
