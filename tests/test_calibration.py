"""`grade calibrate` and how grading finds, checks and refuses machine profiles.

The quick calibration is made once per session (shared on disk with
tests/test_measure.py). Grading runs here use a one-item rubric,
roofline.measured_classify: a measured check (so a profile is needed) that
times nothing, so each run takes seconds. One test pays for a second quick
calibration: grading with an empty cache must make one.
"""
from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from test_measure import MEAS_SEED, fixture, meas_quick_calibration, meas_rubric

SUBMISSION = fixture("fused_f32")


@pytest.fixture(scope="session")
def meas_cal(tmp_path_factory) -> dict:
    info = meas_quick_calibration(tmp_path_factory)
    assert info["returncode"] == 0, info["stderr"][-2000:]
    return info


@pytest.fixture(scope="session")
def meas_profile_data(meas_cal) -> dict:
    return yaml.safe_load(Path(meas_cal["profile"]).read_text())


@pytest.fixture(scope="session")
def meas_classify_rubric(tmp_path_factory) -> Path:
    """One measured item that needs the profile's peaks but times nothing."""
    return meas_rubric(tmp_path_factory.mktemp("meas_cal_rubric") / "classify.yaml", ["roofline.measured_classify"])


@dataclass
class Ran:
    returncode: int
    stderr: str


def meas_cli(args: list[str], cache: Path) -> Ran:
    """`grade ARGS` in this process (what a subprocess would print to stderr, and its exit code),
    with its own calibration cache."""
    from grader.cli import main

    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", str(cache))
        mp.delenv("ACCELGRADE_DEBUG", raising=False)
        with contextlib.redirect_stderr(err):
            code = main(args)
    return Ran(code, err.getvalue())


def positive_finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# The profile `grade calibrate --quick --out F` writes
# ---------------------------------------------------------------------------

def test_profile_has_the_documented_keys(meas_profile_data):
    from grader.measure.specs import MEMORY_SPECS, SPEED_SPECS

    p = meas_profile_data
    for key in ("peak_gflops", "bandwidth_gbs", "stream_gbs", "speed", "memory", "fingerprint", "roofline", "id"):
        assert key in p, key
    assert set(p["stream_gbs"]) >= {"copy", "add", "triad"}
    assert set(p["speed"]) == set(SPEED_SPECS)
    for cid, entry in p["speed"].items():
        for key in ("reference_speedup", "aa_cv", "threshold"):
            assert key in entry, f"{cid}: {key}"
        assert positive_finite(entry["threshold"]), cid
    assert set(p["memory"]) == set(MEMORY_SPECS)
    for cid, entry in p["memory"].items():
        assert positive_finite(entry["threshold"]), cid
    assert p["fingerprint"]["id"]
    assert p["quick"] is True


def test_profile_figures_are_positive_and_finite(meas_profile_data):
    p = meas_profile_data
    assert positive_finite(p["peak_gflops"])
    assert positive_finite(p["bandwidth_gbs"])
    assert all(positive_finite(v) for v in p["stream_gbs"].values())


def test_calibrate_prints_a_table_and_caches_the_profile(meas_cal, meas_profile_data):
    out = meas_cal["stdout"]
    assert "peak GFLOP/s" in out and "bandwidth" in out
    for cid in meas_profile_data["speed"]:
        assert cid in out
    cached = Path(meas_cal["cache"]) / f"profile-{meas_profile_data['fingerprint']['id']}.yaml"
    assert cached.exists()


def test_profile_loads_and_matches_this_machine(meas_cal):
    from grader.measure import profile as profiles
    from grader.measure.fingerprint import fingerprint

    prof = profiles.load(Path(meas_cal["profile"]))
    profiles.check_fingerprint(prof, fingerprint(threads=1), Path(meas_cal["profile"]), force=False)
    assert prof.id and prof.fingerprint["id"]


def test_profile_id_is_reproducible_from_the_file(meas_cal):
    from grader.measure import profile as profiles

    prof = profiles.load(Path(meas_cal["profile"]))
    assert prof.id == prof.compute_id()


# ---------------------------------------------------------------------------
# Profiles grading refuses
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def meas_other_machine(tmp_path_factory, meas_profile_data) -> Path:
    """A genuine profile of another machine: saved (so its own id is consistent), not hand-edited."""
    from grader.measure.profile import Profile, save

    data = dict(meas_profile_data, fingerprint=dict(meas_profile_data["fingerprint"], id="0123456789abcdef"))
    path = tmp_path_factory.mktemp("meas_other") / "other-machine.yaml"
    save(Profile(**data), path)
    return path


def test_hand_edited_profile_is_refused(tmp_path, meas_cal, meas_classify_rubric):
    edited = tmp_path / "edited.yaml"
    edited.write_text(Path(meas_cal["profile"]).read_text().replace("peak_gflops:", "peak_gflops: 1000.0 #", 1))
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(edited),
                     "--rubric", str(meas_classify_rubric), "--seed", str(MEAS_SEED), "--quiet"], tmp_path / "cache")
    assert proc.returncode == 2
    assert one_line(proc.stderr) and "edited or damaged" in proc.stderr


def test_profile_from_another_machine_is_refused(tmp_path, meas_other_machine, meas_classify_rubric):
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(meas_other_machine),
                     "--rubric", str(meas_classify_rubric), "--seed", str(MEAS_SEED), "--quiet"], tmp_path / "cache")
    assert proc.returncode == 2
    assert one_line(proc.stderr) and "another machine" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "fused_f32" / "results.json").exists()


def test_profile_from_another_machine_grades_when_forced(tmp_path, meas_other_machine, meas_classify_rubric):
    import json

    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(meas_other_machine),
                     "--rubric", str(meas_classify_rubric), "--seed", str(MEAS_SEED), "--quiet",
                     "--force-calibration"], tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "fused_f32" / "results.json").read_text())
    assert results["score"] == results["extra_data"]["max_score"]


def _corrupt(kind: str, src: str, data: dict) -> str:
    if kind == "garbage":
        return "\x00\x01{{{ not: yaml: ["
    if kind == "not_a_mapping":
        return "- 1\n- 2\n"
    if kind == "truncated":  # a half-copied file: cut just before the memory section
        return src[:src.index("\nmemory:")] + "\n"
    if kind == "wrong_type":
        return yaml.safe_dump(dict(data, peak_gflops="fast"), sort_keys=False)
    raise AssertionError(kind)


CORRUPTIONS = [
    "garbage",
    "not_a_mapping",
    "truncated",
    "wrong_type",
]


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_profile_is_refused_without_a_traceback(tmp_path, meas_cal, meas_profile_data, meas_classify_rubric,
                                                        kind):
    bad = tmp_path / "profile.yaml"
    bad.write_text(_corrupt(kind, Path(meas_cal["profile"]).read_text(), meas_profile_data))
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(bad),
                     "--rubric", str(meas_classify_rubric), "--seed", str(MEAS_SEED), "--quiet"], tmp_path / "cache")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "calibration" in proc.stderr


@pytest.mark.parametrize("kind", [
    "garbage",
    "not_a_mapping",
])
def test_corrupt_profile_message_is_one_line(tmp_path, meas_cal, meas_profile_data, meas_classify_rubric, kind):
    bad = tmp_path / "profile.yaml"
    bad.write_text(_corrupt(kind, Path(meas_cal["profile"]).read_text(), meas_profile_data))
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(bad),
                     "--rubric", str(meas_classify_rubric), "--quiet"], tmp_path / "cache")
    assert proc.returncode == 2
    assert one_line(proc.stderr), proc.stderr


def test_missing_profile_file_is_a_one_line_error(tmp_path, meas_classify_rubric):
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--calibration", str(tmp_path / "nope.yaml"),
                     "--rubric", str(meas_classify_rubric), "--quiet"], tmp_path / "cache")
    assert proc.returncode == 2 and one_line(proc.stderr) and "nope.yaml" in proc.stderr


# ---------------------------------------------------------------------------
# No profile given: the cache, or a quick one made and announced
# ---------------------------------------------------------------------------

def test_without_a_profile_a_quick_one_is_made_announced_and_cached(tmp_path, meas_cal, meas_classify_rubric,
                                                                    monkeypatch, capsys):
    """Grading with an empty cache asks for a quick calibration, says so, caches it and grades with it.
    The calibration itself is the session's (`grade calibrate --quick`, tested above): this test is
    about the wiring, so it hands that profile back instead of measuring the machine a second time."""
    import json

    from grader.cli import main
    from grader.measure import calibrate as calibration
    from grader.measure import profile as profiles

    made = profiles.load(Path(meas_cal["profile"]))
    asked: list[dict] = []

    def quick_calibration(reference_source: str, **kw):
        asked.append(kw)
        return made

    cache = tmp_path / "empty-cache"
    monkeypatch.setenv("ACCELGRADE_CACHE", str(cache))
    monkeypatch.setattr(calibration, "calibrate", quick_calibration)
    code = main([str(SUBMISSION), "--out", str(tmp_path / "out"), "--rubric", str(meas_classify_rubric),
                 "--seed", str(MEAS_SEED)])
    assert code == 0
    assert [kw.get("quick") for kw in asked] == [True]
    assert "making a quick one" in capsys.readouterr().err
    cached = list(cache.glob("profile-*.yaml"))
    assert len(cached) == 1
    data = yaml.safe_load(cached[0].read_text())
    assert data["quick"] is True and data["fingerprint"]["id"] in cached[0].name and data["id"] == made.id
    results = json.loads((tmp_path / "out" / "fused_f32" / "results.json").read_text())
    assert results["extra_data"]["machine"]["calibration"]["id"] == made.id
    code = main([str(SUBMISSION), "--out", str(tmp_path / "again"), "--rubric", str(meas_classify_rubric),
                 "--seed", str(MEAS_SEED), "--quiet"])
    assert code == 0 and len(asked) == 1  # the next grading finds it in the cache


def test_correctness_only_needs_no_calibration(tmp_path):
    cache = tmp_path / "empty-cache"
    proc = meas_cli([str(SUBMISSION), "--out", str(tmp_path / "out"), "--categories", "correctness",
                     "--seed", str(MEAS_SEED)], cache)
    assert proc.returncode == 0, proc.stderr
    assert "quick one" not in proc.stderr and "calibrat" not in proc.stderr
    assert not cache.exists() or not any(cache.iterdir())
    assert (tmp_path / "out" / "fused_f32" / "results.json").exists()
