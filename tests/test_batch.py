"""Batch reliability: an interrupted batch resumes without touching what finished; --jobs loses nothing."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
ARGS = ["--categories", "correctness,integration", "--seed", "5"]


@pytest.fixture
def batch_class(tmp_path: Path) -> Path:
    """Twelve submissions: the examples twice over (distinct ids, distinct content)."""
    folder = tmp_path / "class"
    folder.mkdir()
    for n, src in enumerate(sorted(EXAMPLES.glob("*.py")) * 2):
        name = src.name.split("_")[0]
        (folder / f"{name}{n}_{30000 + n}_{40000 + n}_acceleration.py").write_text(
            src.read_text() + f"\n# copy {n}\n")
    return folder


def _grade(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=600,
                          **kw)


def _states(out: Path) -> list[Path]:
    return sorted(out.glob("*/.grade-state.json"))


def test_killed_batch_resumes_and_leaves_finished_submissions_untouched(batch_class: Path, tmp_path: Path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "grader", str(batch_class), "--out", str(out), *ARGS, "--quiet"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(_states(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name for p in _states(out)}
    assert 3 <= len(finished) < 12, "the batch must be killed halfway for this test to mean anything"
    stamps = {f: os.stat(f).st_mtime_ns for name in finished for f in (out / name).iterdir()}

    resumed = _grade(str(batch_class), "--out", str(out), *ARGS, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished)} already done" in resumed.stderr
    assert len(_states(out)) == 12
    assert all((out / p.parent.name / "report.html").exists() for p in _states(out))
    assert {f: os.stat(f).st_mtime_ns for f in stamps} == stamps  # finished ones: not rewritten
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["submissions"] == 12


def test_resume_regrades_what_changed(batch_class: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert _grade(str(batch_class), "--out", str(out), *ARGS, "--quiet").returncode == 0
    victim = sorted(batch_class.glob("lovelace*"))[0]
    victim.write_text(victim.read_text().replace("def tiled_matmul", "def _gone_tiled_matmul"))
    resumed = _grade(str(batch_class), "--out", str(out), *ARGS, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "11 already done" in resumed.stderr
    folder = out / victim.name.split("_acceleration")[0].rsplit("_", 1)[0]
    results = json.loads((folder / "results.json").read_text())
    assert "tiled_matmul" in results["extra_data"]["functions_missing"]


def test_two_jobs_give_the_same_grades_as_one(batch_class: Path, tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert _grade(str(batch_class), "--out", str(one), *ARGS, "--quiet").returncode == 0
    assert _grade(str(batch_class), "--out", str(two), *ARGS, "--quiet", "--jobs", "2").returncode == 0

    def scores(out: Path) -> dict[str, float]:
        return {p.parent.name: json.loads(p.read_text())["score"] for p in out.glob("*/results.json")}

    assert len(scores(two)) == 12
    assert scores(one) == scores(two)
    assert (one / "grades.csv").read_text() == (two / "grades.csv").read_text()


def test_a_results_file_rewritten_during_the_batch_is_restored(batch_class: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert _grade(str(batch_class), "--out", str(out), *ARGS, "--quiet").returncode == 0
    target = _states(out)[0].parent / "results.json"
    honest = target.read_text()
    target.write_text('{"score": 100}')
    again = _grade(str(batch_class), "--out", str(out), *ARGS, "--resume")
    assert "restored" in again.stderr
    assert target.read_text() == honest
    shutil.rmtree(out)
