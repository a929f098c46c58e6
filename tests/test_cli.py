"""The `grade` command (grader.cli.main): exit codes, one-line errors, self-check, CI gate, --seed."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grader.checks import catalogue
from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "acceleration.py"
TEMPLATE = ROOT / "student_template" / "acceleration.py"
HOPPER = ROOT / "examples" / "submissions" / "hopper_10002_20002_acceleration.py"


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def run_reference_file(tmp_path) -> Path:
    """A copy of the reference solution saved as a student's acceleration.py."""
    path = tmp_path / "student" / "acceleration.py"
    path.parent.mkdir()
    shutil.copyfile(REFERENCE, path)
    return path


@pytest.fixture
def run_template_file(tmp_path) -> Path:
    path = tmp_path / "starter" / "acceleration.py"
    path.parent.mkdir()
    shutil.copyfile(TEMPLATE, path)
    return path


# ---------------------------------------------------------------- usage errors

def test_no_such_path(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["/no/such/path", "--out", str(out)])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert "/no/such/path" in line and line.startswith("grade: error:")
    assert not (out / "grades.csv").exists()


def test_no_arguments(capsys):
    code = main([])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert "submission" in line


def test_unknown_option(capsys):
    code = main(["--frobnicate"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert "--frobnicate" in line


def test_unknown_category(capsys, run_reference_file, run_isolated_cache):
    code = main([str(run_reference_file), "--categories", "correctness,nosuch"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert "nosuch" in line


def test_bad_threads(capsys, run_reference_file):
    code = main([str(run_reference_file), "--threads", "0"])
    assert code == 2
    assert "--threads" in one_error_line(capsys.readouterr().err)


def test_self_check_missing_file(tmp_path, capsys):
    missing = tmp_path / "acceleration.py"
    code = main(["--self-check", str(missing), "--out", str(tmp_path / "out")])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2
    assert str(missing) in line
    assert "internal error" not in line
    assert not (tmp_path / "out" / "self-check.html").exists()


def test_python_dash_m_reports_usage_errors_as_usage_errors(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "grader.cli", "--self-check", str(tmp_path / "missing.py")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert line.startswith("grade: error: no such file"), line


def test_self_check_takes_one_file(tmp_path, capsys, run_reference_file):
    code = main(["--self-check", str(run_reference_file), str(run_reference_file)])
    assert code == 2
    assert "one file" in one_error_line(capsys.readouterr().err)


# ---------------------------------------------------------------- self-check

def test_self_check_reference(tmp_path, capsys, run_reference_file, graded_rubric, graded_rubric_path,
                              run_isolated_cache):
    out = tmp_path / "out"
    code = main(["--self-check", str(run_reference_file), "--out", str(out), "--seed", "11",
                 "--rubric", str(graded_rubric_path)])
    stdout = capsys.readouterr().out
    assert code == 0
    visible = graded_rubric.visible_checks()
    points = sum(i.points for i in graded_rubric.items if i.check_id in visible)
    assert f"Total: {points:.1f} / {points:.1f} (public checks)" in stdout
    assert "FAIL" not in stdout
    page = out / "self-check.html"
    assert page.is_file()
    assert str(page) in stdout
    codes = set(re.findall(r"<code>([^<]+)</code>", page.read_text(encoding="utf-8")))
    shown = codes & set(catalogue())
    assert shown == visible  # every public check, and nothing hidden or after_published


def test_self_check_default_file_in_current_folder(capsys, monkeypatch, run_template_file, graded_rubric_path,
                                                   run_isolated_cache):
    monkeypatch.chdir(run_template_file.parent)
    code = main(["--self-check", "--seed", "3", "--rubric", str(graded_rubric_path)])
    stdout = capsys.readouterr().out
    assert code == 0  # no --min-score: a low score is not an error
    assert re.search(r"Total: 0\.0 / [1-9]\d*\.\d \(public checks\)", stdout), stdout
    assert "FAIL" in stdout and "PASS" not in stdout
    assert "Implement `fused_gelu`" in stdout  # a hint per failed item
    assert (run_template_file.parent / "self-check.html").is_file()


def test_self_check_min_score(tmp_path, capsys, run_template_file, graded_rubric_path, run_isolated_cache):
    code = main(["--self-check", str(run_template_file), "--out", str(tmp_path / "o"), "--min-score", "1",
                 "--rubric", str(graded_rubric_path)])
    capsys.readouterr()
    assert code == 1


def test_self_check_default_rubric_by_category(tmp_path, capsys, run_reference_file, run_isolated_cache):
    # The shipped rubric, narrowed to unmeasured categories so nothing needs a calibration.
    from grader.scoring import load_rubric

    shipped = load_rubric(ROOT / "rubrics" / "acceleration.yaml", known_checks=catalogue().keys())
    out = tmp_path / "out"
    code = main(["--self-check", str(run_reference_file), "--out", str(out), "--seed", "2",
                 "--categories", "correctness,integration"])
    stdout = capsys.readouterr().out
    assert code == 0
    wanted = {i.check_id for i in shipped.items if i.category in ("correctness", "integration")}
    visible = wanted & shipped.visible_checks()
    points = sum(i.points for i in shipped.items if i.check_id in visible)
    assert f"Total: {points:.1f} / {points:.1f} (public checks)" in stdout
    codes = set(re.findall(r"<code>([^<]+)</code>", (out / "self-check.html").read_text(encoding="utf-8")))
    assert codes & set(catalogue()) == visible
    assert not any(run_isolated_cache.glob("*")), "an unmeasured run must not calibrate"


def test_batch_default_rubric_by_category(tmp_path, capsys, run_isolated_cache):
    from grader.scoring import load_rubric

    shipped = load_rubric(ROOT / "rubrics" / "acceleration.yaml", known_checks=catalogue().keys())
    out = tmp_path / "out"
    lovelace = ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py"
    code = main([str(lovelace), "--out", str(out), "--categories", "correctness", "--quiet", "--seed", "4"])
    capsys.readouterr()
    assert code == 0
    result = only_results(out)
    correctness = {i.check_id for i in shipped.items if i.category == "correctness"}
    assert {t["extra_data"]["check_id"] for t in result["tests"]} == correctness
    assert result["score"] == sum(t["max_score"] for t in result["tests"]) == shipped.categories["correctness"]


def test_self_check_mentions_hidden_checks(tmp_path, capsys, run_reference_file, graded_rubric,
                                           graded_rubric_path, run_isolated_cache):
    code = main(["--self-check", str(run_reference_file), "--out", str(tmp_path / "o"), "--seed", "11",
                 "--rubric", str(graded_rubric_path)])
    stdout = capsys.readouterr().out
    assert code == 0
    hidden = len(graded_rubric.items) - len(graded_rubric.visible_checks())
    assert f"{hidden} more checks will be graded after you submit" in stdout


# ---------------------------------------------------------------- the CI gate


def only_results(out: Path) -> dict:
    """results.json of the single submission graded into ``out``."""
    found = list(out.glob("*/results.json"))
    assert len(found) == 1, found
    return json.loads(found[0].read_text(encoding="utf-8"))

def gate(rubric) -> str:
    """A 60% pass mark (60 on the shipped 100-point rubric)."""
    return f"{0.6 * rubric.total:g}"


def test_min_score_template_fails_gate(tmp_path, capsys, run_template_file, graded_rubric, graded_rubric_path,
                                       run_isolated_cache):
    out = tmp_path / "out"
    code = main([str(run_template_file), "--out", str(out), "--min-score", gate(graded_rubric), "--quiet",
                 "--rubric", str(graded_rubric_path)])
    capsys.readouterr()
    assert code == 1
    assert only_results(out)["score"] == 0  # the outputs are still written


def test_min_score_reference_passes_gate(tmp_path, capsys, run_reference_file, graded_rubric, graded_rubric_path,
                                        run_isolated_cache):
    out = tmp_path / "out"
    code = main([str(run_reference_file), "--out", str(out), "--min-score", gate(graded_rubric), "--quiet",
                 "--rubric", str(graded_rubric_path)])
    capsys.readouterr()
    assert code == 0
    assert only_results(out)["score"] == graded_rubric.total


def test_min_score_batch_fails_when_anyone_is_below(tmp_path, capsys, run_reference_file, run_template_file,
                                                    graded_rubric, graded_rubric_path, run_isolated_cache):
    code = main([str(run_reference_file), str(run_template_file), "--out", str(tmp_path / "o"),
                 "--min-score", gate(graded_rubric), "--quiet", "--rubric", str(graded_rubric_path)])
    capsys.readouterr()
    assert code == 1


# ---------------------------------------------------------------- --seed

def _outputs(results_path: Path) -> list[tuple]:
    data = json.loads(results_path.read_text(encoding="utf-8"))
    return [(t["name"], t["score"], t["status"], t["output"]) for t in data["tests"]]


def test_seed_repeats_a_run_exactly(graded_run, tmp_path, capsys, graded_rubric_path, run_isolated_cache):
    # hopper fails with messages that quote the random inputs, so equal outputs mean equal inputs.
    # (Measured checks are left out: their outputs quote timings, which no seed repeats.)
    rubric = ["--rubric", str(graded_rubric_path), "--quiet"]
    again = tmp_path / "again"
    assert main([str(HOPPER), "--out", str(again), "--seed", str(graded_run.seed), *rubric]) == 0
    other = tmp_path / "other"
    assert main([str(HOPPER), "--out", str(other), "--seed", str(graded_run.seed + 1), *rubric]) == 0
    capsys.readouterr()
    first = _outputs(graded_run.folder("hopper_10002") / "results.json")
    assert _outputs(again / "hopper_10002" / "results.json") == first
    assert _outputs(other / "hopper_10002" / "results.json") != first
    seeds = {json.loads((d / "hopper_10002" / "results.json").read_text())["extra_data"]["seed"]
             for d in (again, other)}
    assert seeds == {graded_run.seed, graded_run.seed + 1}


@pytest.fixture
def no_sandbox_as_root(monkeypatch):
    """This machine as the guard would see a fresh root one without bubblewrap, whose interpreter
    lives in a private home (so no uid of its own either). Workers still start as they really can."""
    from grader.commands import common
    from grader.sandbox.isolation import Plan

    monkeypatch.setattr(common, "isolation_plan", lambda: Plan(None, False, "bubblewrap is not installed"))
    monkeypatch.setattr(common, "_as_root", lambda: True)
    monkeypatch.delenv(common.ALLOW_UNSANDBOXED_ENV, raising=False)


def test_root_without_any_sandbox_refuses_before_writing(tmp_path, capsys, no_sandbox_as_root):
    out = tmp_path / "out"
    code = main([str(TEMPLATE), "--out", str(out), "--categories", "correctness", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("grade: error: no sandbox on this machine (bubblewrap is not installed): "
                          "submissions would run as root")
    assert "apt-get install bubblewrap" in err and "--allow-unsandboxed" in err
    assert not out.exists()


def test_allow_unsandboxed_grades_with_a_warning(tmp_path, capsys, no_sandbox_as_root, run_isolated_cache):
    out = tmp_path / "out"
    code = main([str(TEMPLATE), "--out", str(out), "--categories", "correctness", "--quiet", "--allow-unsandboxed"])
    err = capsys.readouterr().err
    assert code == 0
    assert "grade: warning: no sandbox on this machine (bubblewrap is not installed): submissions run with root " \
           "rights" in err
    assert only_results(out)["score"] == 0  # the blank template, graded all the same
