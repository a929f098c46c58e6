"""Batch reliability: an interrupted batch resumes without touching what finished; --jobs loses nothing.

One class is graded once (``graded_class``); each test works on its own copy of that output, so a
resume test pays for what it resumes only. The rubric is the integration category: three checks
that use every student function, so a grading is real but cheap.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
ARGS = ["--categories", "integration", "--seed", "5"]
SIZE = 8  # the examples, then the first two again (distinct ids, distinct content)


@dataclass
class GradedClass:
    folder: Path  # the submissions
    out: Path  # their grades, from one uninterrupted run (never modified by a test)

    def copy(self, tmp_path: Path) -> tuple[Path, Path]:
        """This class and its grades, copied for one test to change."""
        folder, out = tmp_path / "class", tmp_path / "out"
        shutil.copytree(self.folder, folder)
        shutil.copytree(self.out, out)
        return folder, out


def _grade(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=600,
                          **kw)


def _states(out: Path) -> list[Path]:
    return sorted(out.glob("*/.grade-state.json"))


def _scores(out: Path) -> dict[str, float]:
    return {p.parent.name: json.loads(p.read_text())["score"] for p in out.glob("*/results.json")}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    base = tmp_path_factory.mktemp("batch")
    folder = base / "class"
    folder.mkdir()
    sources = sorted(EXAMPLES.glob("*.py"))
    for n, src in enumerate((sources * 2)[:SIZE]):
        name = src.name.split("_")[0]
        (folder / f"{name}{n}_{30000 + n}_{40000 + n}_acceleration.py").write_text(
            src.read_text() + f"\n# copy {n}\n")
    out = base / "out"
    done = _grade(str(folder), "--out", str(out), *ARGS, "--quiet")
    assert done.returncode == 0, done.stderr
    assert len(_states(out)) == SIZE
    return GradedClass(folder, out)


def test_killed_batch_resumes_and_leaves_finished_submissions_untouched(graded_class: GradedClass, tmp_path: Path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "grader", str(graded_class.folder), "--out", str(out), *ARGS,
                             "--quiet"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(_states(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name for p in _states(out)}
    assert 2 <= len(finished) < SIZE, "the batch must be killed halfway for this test to mean anything"
    stamps = {f: os.stat(f).st_mtime_ns for name in finished for f in (out / name).iterdir()}

    resumed = _grade(str(graded_class.folder), "--out", str(out), *ARGS, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished)} already done" in resumed.stderr
    assert len(_states(out)) == SIZE
    assert all((out / p.parent.name / "report.html").exists() for p in _states(out))
    assert {f: os.stat(f).st_mtime_ns for f in stamps} == stamps  # finished ones: not rewritten
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["submissions"] == SIZE
    assert _scores(out) == _scores(graded_class.out)  # killed and resumed grades as one run


def test_resume_regrades_what_changed(graded_class: GradedClass, tmp_path: Path):
    folder, out = graded_class.copy(tmp_path)
    victim = sorted(folder.glob("lovelace*"))[0]
    victim.write_text(victim.read_text().replace("def tiled_matmul", "def _gone_tiled_matmul"))
    resumed = _grade(str(folder), "--out", str(out), *ARGS, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{SIZE - 1} already done" in resumed.stderr
    student = victim.name.split("_acceleration")[0].rsplit("_", 1)[0]
    results = json.loads((out / student / "results.json").read_text())
    assert "tiled_matmul" in results["extra_data"]["functions_missing"]
    assert results["score"] < _scores(graded_class.out)[student]


def test_two_jobs_give_the_same_grades_as_one(graded_class: GradedClass, tmp_path: Path):
    two = tmp_path / "two"
    assert _grade(str(graded_class.folder), "--out", str(two), *ARGS, "--quiet", "--jobs", "2").returncode == 0
    assert len(_scores(two)) == SIZE
    assert _scores(two) == _scores(graded_class.out)
    assert (graded_class.out / "grades.csv").read_text() == (two / "grades.csv").read_text()


def test_a_results_file_rewritten_between_runs_is_restored(graded_class: GradedClass, tmp_path: Path):
    folder, out = graded_class.copy(tmp_path)
    target = _states(out)[0].parent / "results.json"
    honest = target.read_text()
    target.write_text('{"score": 100}')
    again = _grade(str(folder), "--out", str(out), *ARGS, "--resume")
    assert again.returncode == 0, again.stderr
    assert "restored" in again.stderr
    assert target.read_text() == honest
