"""The sandbox as a boundary (issue 9): attackers graded first in a class of honest solutions.

A class mixes the attack cases of ``tests/corpus/boundary/`` (each the lovelace example
solution plus one attack; see each file's docstring), the blank starter file and two honest
solutions, and is graded ONCE through the real ``grade`` command (a child process, so the
attackers meet a real grader's process tree) with measured checks, against one quick
calibration. The honest solutions are also graded alone with the same seed and calibration.

Verdicts asserted here have wide margins: an attack that worked would show as full credit
(or a finished attacker as a killed batch), an attack that failed as zero; honest solutions
clear every threshold several times over. Nothing here asserts a time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from test_hostile import MARKER, corpus_source
from test_measure import meas_quick_calibration, meas_rubric


ROOT = Path(__file__).resolve().parents[1]
BOUNDARY = ROOT / "tests" / "corpus" / "boundary"
LOVELACE = ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py"
TEMPLATE = ROOT / "student_template" / "acceleration.py"
SEED = 7
CHECKS = ["gelu.values", "gelu.input_unchanged", "matmul.square", "speed.fused_gelu", "speed.matmul_vs_naive",
          "memory.fused_gelu"]
ATTACKERS = ["memo_by_id", "freeze_neighbours", "reach_classmates", "kill_grader", "mutate_fast"]
HONEST = ["zz_honest_lovelace", "zz_honest_twin"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass
class Batch:
    full: float  # the rubric's total
    out: Path
    code: int
    stderr: str
    class_before: dict[str, str]
    class_after: dict[str, str]

    def results(self, student: str) -> dict:
        return json.loads((self.out / student / "results.json").read_text(encoding="utf-8"))

    def report(self, student: str) -> str:
        return (self.out / student / "report.html").read_text(encoding="utf-8")

    def tests(self, student: str) -> dict[str, dict]:
        return {t["extra_data"]["check_id"]: t for t in self.results(student)["tests"]}


def _build_class(folder: Path, attackers: list[str], honest: list[str] = HONEST, blank: bool = True) -> None:
    folder.mkdir(parents=True)
    for i, case in enumerate(attackers):  # "a0_...": discovered, and graded, before the honest ones
        (folder / f"a{i}_{case}.py").write_text(corpus_source(BOUNDARY / f"{case}.py"), encoding="utf-8")
    if blank:
        shutil.copyfile(TEMPLATE, folder / "b_blank_template.py")
    for name in honest:
        # Each honest file carries a line of its own, so a leak of it into a report is visible.
        text = LOVELACE.read_text(encoding="utf-8") + f"\n# {MARKER} classmate secret: {name}\n"
        (folder / f"{name}.py").write_text(text, encoding="utf-8")


def _grade(class_dir: Path, out: Path, calibration: dict, rubric: Path, *, prefix: list[str] = (),
           env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [*prefix, sys.executable, "-m", "grader.cli", str(class_dir), "--out", str(out), "--rubric", str(rubric),
           "--calibration", calibration["profile"], "--seed", str(SEED), "--quiet"]
    return subprocess.run(cmd, cwd=out.parent, env=env or dict(os.environ, ACCELGRADE_CACHE=calibration["cache"]),
                          capture_output=True, text=True, timeout=1500, check=False)


@pytest.fixture(scope="session")
def boundary_setup(tmp_path_factory) -> dict:
    info = meas_quick_calibration(tmp_path_factory)
    assert info["returncode"] == 0, info["stderr"][-2000:]
    base = tmp_path_factory.mktemp("boundary")
    rubric = meas_rubric(base / "rubric.yaml", CHECKS)
    return {"calibration": info, "base": base, "rubric": rubric,
            "full": float(yaml.safe_load(rubric.read_text())["total"])}


@pytest.fixture(scope="session")
def boundary_batch(boundary_setup) -> Batch:
    base = boundary_setup["base"]
    class_dir = base / "class"
    _build_class(class_dir, ATTACKERS)
    before = _tree(class_dir)
    proc = _grade(class_dir, base / "grades", boundary_setup["calibration"], boundary_setup["rubric"])
    return Batch(boundary_setup["full"], base / "grades", proc.returncode, proc.stderr, before, _tree(class_dir))


@pytest.fixture(scope="session")
def honest_alone(boundary_setup) -> dict[str, float]:
    base = boundary_setup["base"]
    class_dir = base / "honest"
    class_dir.mkdir()
    for name in HONEST:
        text = LOVELACE.read_text(encoding="utf-8") + f"\n# {MARKER} classmate secret: {name}\n"
        (class_dir / f"{name}.py").write_text(text, encoding="utf-8")
    out = base / "honest_grades"
    proc = _grade(class_dir, out, boundary_setup["calibration"], boundary_setup["rubric"])
    assert proc.returncode == 0, proc.stderr
    return {name: json.loads((out / name / "results.json").read_text())["score"] for name in HONEST}


def _student(batch: Batch, case: str) -> str:
    return f"a{ATTACKERS.index(case)}_{case}"


# ---- the batch ------------------------------------------------------------------------------------
def test_batch_finishes_with_a_report_for_everyone(boundary_batch: Batch):
    assert boundary_batch.code == 0, boundary_batch.stderr[-3000:]
    expected = sorted([_student(boundary_batch, c) for c in ATTACKERS] + ["b_blank_template", *HONEST])
    # (_similarity/ holds the instructor's side-by-side pages of similar pairs, not a student)
    assert sorted(p.name for p in boundary_batch.out.iterdir() if p.is_dir() and p.name != "_similarity") == expected
    for student in expected:
        assert boundary_batch.results(student)["extra_data"]["student"] == student
        assert (boundary_batch.out / student / "report.html").stat().st_size > 0


def test_honest_solutions_score_as_when_graded_alone(boundary_batch: Batch, honest_alone: dict[str, float]):
    for name in HONEST:
        assert boundary_batch.results(name)["score"] == honest_alone[name] == boundary_batch.full, name


def test_classmates_files_are_untouched(boundary_batch: Batch):
    assert boundary_batch.class_after == boundary_batch.class_before


def test_no_classmate_code_and_no_forgery_reaches_any_output(boundary_batch: Batch):
    files = [p for p in boundary_batch.out.rglob("*") if p.is_file()]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        # Two kinds of file hold submitted source by design, attack text included: the grade state
        # (a student's own code) and the instructor's pages of similar pairs (both sources side by side).
        pair_page = path.parent.name == "_similarity"
        shows_source = pair_page or path.name == ".grade-state.json"
        for name in HONEST:  # an honest file's own line appears in its own folder only
            if path.parent.name != name and not pair_page:
                assert f"classmate secret: {name}" not in text, path
        if not shows_source:
            assert f"{MARKER}: forged" not in text, path
    summary = json.loads((boundary_batch.out / "summary.json").read_text())
    for entry in summary["students"]:  # every results.json is the grader's own
        assert boundary_batch.results(entry["student"])["score"] == entry["score"], entry["student"]


# ---- each attack gains nothing --------------------------------------------------------------------
def test_memoised_answers_void_the_speed_checks(boundary_batch: Batch):
    tests = boundary_batch.tests(_student(boundary_batch, "memo_by_id"))
    for cid in ("speed.fused_gelu", "speed.matmul_vs_naive"):
        assert tests[cid]["score"] == 0, tests[cid]["output"]
        assert "unverified-output" in tests[cid]["extra_data"]["flags"], cid


def test_freezing_the_neighbours_finds_nobody_and_gains_nothing(boundary_batch: Batch):
    student = _student(boundary_batch, "freeze_neighbours")
    tests = boundary_batch.tests(student)
    assert tests["speed.fused_gelu"]["score"] == 0  # unfused code done twice, measured honestly
    report = boundary_batch.report(student)
    assert f"{MARKER} freeze: pids seen 0, stopped 0" in report, "it reached another process"


def test_reaching_for_classmates_and_outputs_finds_nothing(boundary_batch: Batch):
    student = _student(boundary_batch, "reach_classmates")
    assert f"{MARKER} reach: read 0, spoiled 0, forged 0" in boundary_batch.report(student)
    assert boundary_batch.results(student)["score"] == boundary_batch.full  # its base solution, graded normally


def test_killing_the_grader_ends_nothing(boundary_batch: Batch):
    student = _student(boundary_batch, "kill_grader")
    assert f"{MARKER} kill: killed 0" in boundary_batch.report(student)
    assert boundary_batch.results(student)["score"] == boundary_batch.full


def test_writing_into_the_input_earns_no_speed_or_memory_credit(boundary_batch: Batch):
    tests = boundary_batch.tests(_student(boundary_batch, "mutate_fast"))
    for cid in ("speed.fused_gelu", "memory.fused_gelu"):
        assert tests[cid]["score"] == 0, tests[cid]["output"]
        assert "mutates-input" in tests[cid]["extra_data"]["flags"], cid
    assert tests["gelu.input_unchanged"]["score"] == 0
    assert tests["gelu.values"]["score"] == tests["gelu.values"]["max_score"]


def test_a_blank_template_scores_exactly_zero(boundary_batch: Batch):
    assert boundary_batch.results("b_blank_template")["score"] == 0


# ---- what held is recorded ------------------------------------------------------------------------
def test_each_submission_records_its_isolation(boundary_batch: Batch):
    summary = json.loads((boundary_batch.out / "summary.json").read_text())
    index = (boundary_batch.out / "index.html").read_text(encoding="utf-8")
    for entry in summary["students"]:
        held = boundary_batch.results(entry["student"])["extra_data"]["machine"]["sandbox"]
        assert held == entry["sandbox"]
        if os.getuid() == 0 and shutil.which("bwrap"):
            assert held["level"] == "bwrap+uid" and held["complete"], held
            assert set(held["namespaces"]) == {"pid", "mnt", "net", "ipc", "uts"}
        assert held["level"] in boundary_batch.report(entry["student"])
    assert summary["sandbox"]["complete"] == all(e["sandbox"]["complete"] for e in summary["students"])
    assert ("isolation-warning" in index) == (not summary["sandbox"]["complete"])


# ---- the same class as an unprivileged user -------------------------------------------------------
def _unprivileged_prefix(work: Path) -> list[str]:
    """Run as nobody; when the interpreter lives under a root-only folder (/root), show it through
    a private mount namespace where that folder is traversable (the host is not changed)."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    blocked = [p for p in Path(sys.base_prefix).resolve().parents if p != Path("/") and not os.stat(p).st_mode & 0o001]
    if not blocked:
        return prefix
    top = blocked[-1]  # the outermost folder others cannot pass through
    keep = Path(sys.base_prefix).resolve().relative_to(top).parts[0]
    script = (f"set -e; mkdir -p {work}/keep; mount --bind {top / keep} {work}/keep; "
              f"mount -t tmpfs -o mode=0755 tmpfs {top}; mkdir -p {top / keep}; mount --bind {work}/keep {top / keep}; "
              'exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *prefix]


@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"),
                    reason="needs root to become another user")
def test_the_class_grades_as_an_unprivileged_user(boundary_setup):
    # Not under pytest's own temporary folder: that one is root's alone (0700).
    base = Path(tempfile.mkdtemp(prefix="accelgrade-nobody-"))
    base.chmod(0o755)
    try:
        _grade_as_nobody(boundary_setup, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _grade_as_nobody(boundary_setup: dict, base: Path) -> None:
    class_dir = base / "class"
    # The attacks that aim at the grader and the classmates, and one classmate to aim at: as nobody
    # there is no uid of their own between them and the grader.
    honest = HONEST[:1]
    _build_class(class_dir, ["freeze_neighbours", "reach_classmates", "kill_grader"], honest, blank=False)
    before = _tree(class_dir)
    cache = base / "cache"
    cache.mkdir()
    for p in (base, class_dir, cache, *class_dir.iterdir()):
        os.chown(p, 65534, 65534)
    profile = base / "profile.yaml"
    shutil.copyfile(boundary_setup["calibration"]["profile"], profile)
    os.chown(profile, 65534, 65534)
    # The batch's rubric without the fused-GELU speed item: still timed (the matmul) and traced (the
    # memory item) as nobody, without the long rounds that unfused code under the fused name costs.
    rubric = meas_rubric(base / "rubric.yaml", [c for c in CHECKS if c != "speed.fused_gelu"])
    full = float(yaml.safe_load(rubric.read_text())["total"])
    calibration = {"profile": str(profile), "cache": str(cache)}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base), "ACCELGRADE_CACHE": str(cache),
           "TMPDIR": str(base), "LANG": "C.UTF-8"}
    out = base / "grades"
    proc = _grade(class_dir, out, calibration, rubric, prefix=_unprivileged_prefix(base), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _tree(class_dir) == before
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["students"]) == 4
    for entry in summary["students"]:
        held = entry["sandbox"]
        assert held["uid"] is None and held["level"] in ("bwrap", "none"), held  # never root's doing
        report = (out / entry["student"] / "report.html").read_text(encoding="utf-8")
        assert f"<code>{held['level']}</code>" in report
        assert all(f"classmate secret: {n}" not in report for n in honest if n != entry["student"])
    # Without a uid of its own a worker may signal and read what its own sandbox holds (its
    # namespace's init, the read-only system): nothing of the grader or the class.
    reports = {case: (out / f"a{i}_{case}" / "report.html").read_text(encoding="utf-8")
               for i, case in enumerate(["freeze_neighbours", "reach_classmates"])}
    assert f"{MARKER} freeze: pids seen 0, stopped 0" in reports["freeze_neighbours"]
    assert re.search(rf"{MARKER} reach: read \d+, spoiled 0, forged 0", reports["reach_classmates"])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "isolation-warning" in index  # not the full boundary: said loudly
    for name in honest:
        assert json.loads((out / name / "results.json").read_text())["score"] == full
