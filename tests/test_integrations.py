"""Fitting where courses already are: Gradescope, Canvas, CI gates, shards on many machines,
what students hand in (notebooks, nested zips, folders) and real TinyTorch files.

Everything grades through the real CLI (``grader.cli.main``, or ``run_autograder``
in a subprocess) with only unmeasured checks, so no test needs a calibration
and none depends on timing: the shipped rubric restricted with --categories,
or a temporary rubric of its correctness, integration and roofline-formula items.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from grader.cli import main
from grader.commands.common import ALLOW_UNSANDBOXED_ENV
from grader.commands.gradescope_run import leaderboard
from grader.commands.shard import parse_shard, shard_of
from grader.intake import IntakeError
from grader.intake.roster import load_roster
from grader.models import CategoryScore, GradeResult, ItemScore, Submission
from grader.reports.junit import junit_xml
from grader.reports.folder import OutputFolder

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "acceleration.py"
TEMPLATE = ROOT / "student_template" / "acceleration.py"
EXAMPLES = ROOT / "examples" / "submissions"
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
SHIPPED = yaml.safe_load((ROOT / "rubrics" / "acceleration.yaml").read_text(encoding="utf-8"))
SEED = 4242
FAST_CATEGORIES = "integration"  # three checks that call every kernel: real gradings, cheap ones
MEASURED = ("speed.", "memory.", "roofline.measured")
ROOFLINE_FORMULAS = {"roofline.intensity", "roofline.operation_cost", "roofline.predict", "roofline.classify"}
ROOFLINE_FUNCTIONS = ["arithmetic_intensity", "operation_cost", "roofline_predict", "classify_bound"]
GRADESCOPE_VISIBILITY = {"visible", "hidden", "after_published"}


def points(categories: set[str], drop_measured: bool = True) -> float:
    return sum(i["points"] for i in SHIPPED["items"]
               if i["category"] in categories and not (drop_measured and i["check"].startswith(MEASURED)))


KERNEL_POINTS = points(set(FAST_CATEGORIES.split(",")))  # what a full solution earns in those
KERNELS_ALL = points({"correctness", "integration"})  # every kernel check (50 on the shipped rubric)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Nothing here measures; if something tried to calibrate, keep it out of the user's cache."""
    path = tmp_path_factory.mktemp("calibration-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def fast_rubric(tmp_path_factory) -> Path:
    """The shipped rubric's unmeasured items: correctness, integration and the roofline formulas (60 points)."""
    items = [i for i in SHIPPED["items"] if not i["check"].startswith(MEASURED)]
    categories: dict[str, float] = {}
    for item in items:
        categories[item["category"]] = categories.get(item["category"], 0) + item["points"]
    rubric = {"assignment": SHIPPED["assignment"], "total": sum(categories.values()),
              "categories": categories, "items": items}
    path = tmp_path_factory.mktemp("rubric") / "unmeasured.yaml"
    path.write_text(yaml.safe_dump(rubric, sort_keys=False), encoding="utf-8")
    return path


def results_of(out: Path, student: str) -> dict:
    return json.loads((out / student / "results.json").read_text(encoding="utf-8"))


def by_check(results: dict) -> dict[str, dict]:
    return {t["extra_data"]["check_id"]: t for t in results["tests"]}


def copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


# ======================================================================= Gradescope

@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory, cache) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert main(["export", "gradescope", "--out", str(out)]) == 0
    return out


def autograder_tree(zip_path: Path, root: Path, files: dict[str, Path | str]) -> Path:
    """A simulated /autograder: source/ (the unzipped autograder), submission/, results/."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    return root


def refusing_bwrap(folder: Path) -> Path:
    """A bwrap that fails as bubblewrap does where the kernel (or Docker's seccomp) refuses namespaces."""
    folder.mkdir(parents=True, exist_ok=True)
    fake = folder / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return folder


def run_autograder(root: Path, cache: Path, grade_args: str = f"--categories {FAST_CATEGORIES}",
                   python: str = sys.executable, path_first: Path | None = None,
                   extra_env: dict[str, str] | None = None) -> dict:
    # Gradescope runs run_autograder with bash from /autograder; here the root is overridden, and
    # accelgrade is the one already installed (no setup.sh, no pip).
    env = dict(os.environ, ACCELGRADE_AUTOGRADER_ROOT=str(root), ACCELGRADE_PYTHON=python,
               ACCELGRADE_GRADE_ARGS=grade_args, ACCELGRADE_CACHE=str(cache), **(extra_env or {}))
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env.get('PATH', '')}"
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_export_zip_holds_scripts_rubric_and_project(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        rubric = zf.read("rubric.yaml").decode()
    for required in ("setup.sh", "run_autograder", "gradescope_run.py", "rubric.yaml",
                     "accelgrade/pyproject.toml", "accelgrade/README.md",
                     "accelgrade/student_template/acceleration.py"):
        assert required in names, required
    # The whole package: code, the check suite, the TinyTorch shim, templates, reference and rubrics.
    for folder in ("grader", "reference", "rubrics"):
        for file in (ROOT / folder).rglob("*"):
            rel = file.relative_to(ROOT)
            if file.is_file() and "__pycache__" not in rel.parts and file.suffix in (".py", ".j2", ".ini", ".yaml"):
                assert f"accelgrade/{rel.as_posix()}" in names, rel
    assert not any("__pycache__" in n or n.endswith(".pyc") or "/tests/" in n for n in names)
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} must be executable"
    assert 'pip3 install "$SRC/accelgrade"' in setup and "grade calibrate --quick" in setup
    assert "apt-get install -y bubblewrap" in setup
    assert yaml.safe_load(rubric)["total"] == SHIPPED["total"]


@pytest.mark.parametrize("namespaces", ["allowed", "refused"])
def test_run_autograder_grades_a_strong_submission(gradescope_zip, tmp_path, cache, namespaces):
    root = autograder_tree(gradescope_zip, tmp_path / "autograder", {"acceleration.py": REFERENCE})
    fake = refusing_bwrap(tmp_path / "fakebin") if namespaces == "refused" else None
    # With namespaces refused, a root whose interpreter a fresh uid cannot read (pyenv under /root)
    # has no boundary left, and grade refuses such a run unless allowed (tests/test_cli.py checks
    # that); here the reference is graded, allowed, to see the lower level recorded.
    allow = {ALLOW_UNSANDBOXED_ENV: "1"} if namespaces == "refused" else None
    results = run_autograder(root, cache, path_first=fake, extra_env=allow)
    held = results["extra_data"]["machine"]["sandbox"]
    if namespaces == "refused":
        assert held["level"] in ("uid", "none") and "bubblewrap refused" in held["why"], held
    elif os.getuid() == 0 and shutil.which("bwrap"):
        assert held["level"] == "bwrap+uid" and held["complete"], held
    assert results["score"] == KERNEL_POINTS
    assert sum(t["max_score"] for t in results["tests"]) == KERNEL_POINTS
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in results["tests"])
    graded = [i for i in SHIPPED["items"] if i["category"] in FAST_CATEGORIES.split(",")]
    assert {t["extra_data"]["check_id"]: t["visibility"] for t in results["tests"]} == \
        {i["check"]: i["visibility"] for i in graded}  # the rubric's visibility, in Gradescope's words
    assert {t["visibility"] for t in results["tests"]} <= GRADESCOPE_VISIBILITY
    assert isinstance(results["execution_time"], int) and isinstance(results["output"], str)
    assert results["leaderboard"] == []  # speed was not graded, so nothing to rank
    assert list((root / "results").iterdir()) == [root / "results" / "results.json"]


def test_run_autograder_picks_the_solution_among_other_files(gradescope_zip, tmp_path, cache):
    # Gradescope hands over whatever was uploaded: notes, a helper module, a nested folder.
    root = autograder_tree(gradescope_zip, tmp_path / "autograder", {
        "work/acceleration.py": REFERENCE, "helpers.py": "X = 1\n", "NOTES.md": "# notes\n"})
    results = run_autograder(root, cache)
    assert results["score"] == KERNEL_POINTS
    assert "graded work/acceleration.py" in results["output"]


@pytest.mark.parametrize("case", ["empty", "ambiguous", "grader-error", "no-python"])
def test_run_autograder_always_writes_results(gradescope_zip, tmp_path, cache, case):
    files: dict[str, Path | str] = {
        "empty": {}, "ambiguous": {"a.py": "x = 1\n", "b.py": "y = 2\n"},
        "grader-error": {"acceleration.py": REFERENCE}, "no-python": {"acceleration.py": REFERENCE},
    }[case]
    root = autograder_tree(gradescope_zip, tmp_path / "autograder", files)
    kwargs = {"grader-error": {"grade_args": "--categories nosuch"},
              "no-python": {"python": str(tmp_path / "no-such-python")}}.get(case, {})
    results = run_autograder(root, cache, **kwargs)
    assert results["score"] == 0
    assert isinstance(results["tests"], list) and isinstance(results["output"], str) and results["output"]
    if case == "empty":
        assert "No files were submitted" in results["output"]
        assert results["tests"][0]["max_score"] == SHIPPED["total"]
    elif case == "ambiguous":  # graded (to zero) with the intake's plain message
        assert "could not tell which file" in results["output"]
        assert sum(t["max_score"] for t in results["tests"]) == KERNEL_POINTS
    elif case == "grader-error":
        assert "grade exited 2" in results["output"] and "nosuch" in results["output"]
    else:
        assert "could not start" in results["output"]


def test_leaderboard_carries_the_fused_gelu_speedup():
    def results(data: dict) -> dict:
        return {"tests": [{"extra_data": {"check_id": "gelu.values", "data": {}}},
                          {"extra_data": {"check_id": "speed.fused_gelu", "data": data}}]}

    board = leaderboard(results({"speed": {"student_speedup": {"median": 1.23456, "ci_low": 1.1}}}))
    assert board == [{"name": "Fused GELU speedup", "value": 1.235, "order": "desc"}]
    assert leaderboard(results({"too_slow": "timed out"}))[0]["value"] == 0.0  # ran, could not time it
    assert leaderboard({"tests": [{"extra_data": {"check_id": "gelu.values"}}]}) is None


def test_export_checks_its_options_before_writing(tmp_path, capsys, cache):
    out = tmp_path / "a.zip"
    assert main(["export", "gradescope", "--out", str(out), "--grade-args", "--categories nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert main(["export", "canvas"]) == 2
    assert not out.exists()


# ======================================================================= CI gates and JUnit

def junit(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_gate_fails_the_empty_template(tmp_path, fast_rubric, cache):
    upload = copy(TEMPLATE, tmp_path / "upload.py")
    xml = tmp_path / "out.xml"
    # --categories leaves the roofline items out: they must show as skipped, not vanish.
    code = main([str(upload), "--min-score", "30", "--junit", str(xml), "--out", str(tmp_path / "o"),
                 "--rubric", str(fast_rubric), "--categories", "correctness,integration", "--quiet"])
    assert code == 1
    root = junit(xml)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    rubric_items = yaml.safe_load(fast_rubric.read_text())["items"]
    assert len(cases) == len(rubric_items) == int(root.get("tests"))
    skipped = [c for c in cases if c.find("skipped") is not None]
    failed = [c for c in cases if c.find("failure") is not None]
    assert {c.get("name").split(":")[0] for c in skipped} == ROOFLINE_FORMULAS
    assert len(failed) == len(cases) - len(skipped) == int(suite.get("failures"))
    assert int(suite.get("skipped")) == 4
    for case in cases:
        check_id = case.get("name").split(":")[0]
        item = next(i for i in rubric_items if i["check"] == check_id)
        assert case.get("classname") == item["category"]
    for case in failed:
        failure = case.find("failure")
        assert failure.get("message") and "Hint:" in failure.text and "points" in failure.text
    assert any("NotImplementedError" in c.find("failure").text for c in failed)


def test_gate_passes_the_reference(tmp_path, fast_rubric, cache):
    upload = copy(REFERENCE, tmp_path / "upload.py")
    xml = tmp_path / "out.xml"
    code = main([str(upload), "--min-score", "60", "--junit", str(xml), "--out", str(tmp_path / "o"),
                 "--rubric", str(fast_rubric), "--quiet"])
    assert code == 0
    root = junit(xml)
    assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("skipped") == "0"
    (suite,) = root.findall("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == props["max_score"] == "60.0"
    assert results_of(tmp_path / "o", "upload")["score"] == 60  # results.json as well


def test_gate_grader_error_exits_2(tmp_path, capsys):
    xml = tmp_path / "out.xml"
    assert main(["/no/such/path", "--min-score", "60", "--junit", str(xml)]) == 2
    assert "/no/such/path" in capsys.readouterr().err
    assert not xml.exists()


def test_self_check_junit_lists_public_checks_only(tmp_path, fast_rubric, cache):
    xml = tmp_path / "out.xml"
    code = main(["--self-check", str(copy(REFERENCE, tmp_path / "acceleration.py")), "--junit", str(xml),
                 "--out", str(tmp_path), "--rubric", str(fast_rubric)])
    assert code == 0
    names = {c.get("name").split(":")[0] for c in junit(xml).iter("testcase")}
    visible = {i["check"] for i in yaml.safe_load(fast_rubric.read_text())["items"] if i["visibility"] == "visible"}
    assert names == visible  # hidden checks are not even named


def _result(items: list[ItemScore], **kw) -> GradeResult:
    sub = Submission("evil", "1", "Evil <b>&", Path("evil.py"), "x", "abc")
    return GradeResult(sub, items, [CategoryScore("correctness", 1, 5)], 1.0, 5.0, 2.5, **kw)


def test_junit_is_valid_xml_for_hostile_text_and_grader_errors():
    items = [ItemScore("matmul.square", "Square", "correctness", 1.0, 3.0, "visible", "partial",
                       "got \x1b[31m<script>&\x00 \ud800", hint="use np.matmul"),
             ItemScore("gelu.values", "GELU", "correctness", 0.0, 2.0, "hidden", "passed", "ok")]
    text = junit_xml([_result(items, stdout="printed ]]> stuff", grader_error="Traceback: boom")], "A&B")
    root = ET.fromstring(text.encode("utf-8"))
    suite = root.find("testsuite")
    assert suite.get("name") == "Evil <b>& (evil)"
    failure = suite.find("testcase/failure")
    assert failure.get("type") == "partial" and "1.0 / 3.0 points" in failure.get("message")
    assert "<script>" in failure.text and "Hint: use np.matmul" in failure.text
    error = suite.find("testcase[@classname='grader']/error")
    assert error is not None and "boom" in error.text
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    assert "]]>" in suite.find("system-out").text


# ======================================================================= Canvas roster, shards and merge

ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Acceleration (98765),Other (1)\r\n"
    "    Points Possible,,,,,100,10\r\n"
    '"Lovelace, Ada",10001,S-001,alovelace,CS 249 L01,,\r\n'
    '"Hopper, Grace",10002,S-002,ghopper,CS 249 L02,,\r\n'
    '"Knuth, Donald",10004,S-004,dknuth,CS 249 L01,,\r\n'
    '"Absent, Student",19999,S-999,absent,CS 249 L02,,\r\n'
)


CLASS = ["lovelace_10001_20001_acceleration.py", "hopper_10002_20002_acceleration.py",
         "knuth_10004_20004_acceleration.py", "template_10005_20005_acceleration.py"]


@dataclass
class ClassRuns:
    full: Path
    shards: list[Path]
    merged: Path
    codes: dict[str, int]
    slugs: list[str]


@pytest.fixture(scope="module")
def class_runs(tmp_path_factory, cache) -> ClassRuns:
    """The demo class graded three ways: in one run, as shards 1/2 and 2/2, and those merged."""
    base = tmp_path_factory.mktemp("class")
    roster = base / "roster.csv"
    roster.write_bytes(ROSTER.encode("utf-8"))
    for name in CLASS:  # four of the demo class: full marks, two partial grades, the untouched template
        copy(EXAMPLES / name, base / "submissions" / name)
    common = [str(base / "submissions"), "--seed", str(SEED), "--categories", FAST_CATEGORIES, "--roster", str(roster),
              "--quiet"]
    codes = {"full": main([*common, "--out", str(base / "full")])}
    shards = []
    for i in (1, 2):
        shards.append(base / f"shard-{i}")
        codes[f"shard{i}"] = main([*common, "--shard", f"{i}/2", "--out", str(shards[-1])])
    codes["merge"] = main(["merge", *map(str, shards), "--out", str(base / "merged"), "--quiet"])
    slugs = sorted(p.name for p in (base / "full").iterdir() if p.is_dir())
    return ClassRuns(base / "full", shards, base / "merged", codes, slugs)


def scores(out: Path) -> dict[str, float]:
    return {row["student"]: row["score"] for row in json.loads((out / "summary.json").read_text())["students"]}


def test_every_run_succeeded(class_runs):
    assert class_runs.codes == {"full": 0, "shard1": 0, "shard2": 0, "merge": 0}
    assert class_runs.slugs == ["hopper_10002", "knuth_10004", "lovelace_10001", "template_10005"]


def test_shards_split_the_class_without_overlap(class_runs):
    shard_sets = [set(scores(s)) for s in class_runs.shards]
    assert shard_sets[0] and shard_sets[1] and not shard_sets[0] & shard_sets[1]
    assert shard_sets[0] | shard_sets[1] == set(class_runs.slugs)
    for i, shard in enumerate(class_runs.shards, start=1):
        summary = json.loads((shard / "summary.json").read_text())
        assert summary["shard"]["label"] == f"{i}/2" and summary["shard"]["class_size"] == 4
        assert summary["machine"]["id"] and summary["machine"]["hostname"]
        assert all(shard_of(s, 2) == i for s in scores(shard))  # the documented rule


def test_merge_gives_the_same_scores_as_one_run(class_runs):
    full, merged = scores(class_runs.full), scores(class_runs.merged)
    assert merged == full
    assert len(set(full.values())) > 2  # a class with different grades, not all zeros
    for slug in class_runs.slugs:
        one, joined = results_of(class_runs.full, slug), results_of(class_runs.merged, slug)
        # Same seed, same inputs: even the failure messages quoting random inputs agree.
        assert [(t["name"], t["score"], t["output"]) for t in joined["tests"]] == \
            [(t["name"], t["score"], t["output"]) for t in one["tests"]]
        assert (class_runs.merged / slug / "report.html").is_file()
        assert OutputFolder(class_runs.merged).saved(slug) is not None  # mergeable again


def test_merged_class_files_match_one_run(class_runs):
    assert (class_runs.merged / "grades.csv").read_text() == (class_runs.full / "grades.csv").read_text()
    summary = json.loads((class_runs.merged / "summary.json").read_text())
    full = json.loads((class_runs.full / "summary.json").read_text())
    assert summary["counts"] == full["counts"] and summary["scores"] == full["scores"]
    assert [(c["check_id"], c["passed"]) for c in summary["checks"]] == \
        [(c["check_id"], c["passed"]) for c in full["checks"]]
    listing = summary["merged_from"]
    assert [m["shard"]["label"] for m in listing] == ["1/2", "2/2"]
    for m in listing:
        assert m["fingerprint_id"] == full["machine"]["id"] and m["hostname"]
        assert m["calibration_id"] is None  # nothing measured, so no calibration was used
    page = (class_runs.merged / "index.html").read_text()
    assert "shard 1/2" in page and "shard 2/2" in page and f"fingerprint {full['machine']['id']}" in page


def test_roster_names_and_sis_columns(class_runs):
    rows = list(csv.reader(io.StringIO((class_runs.full / "grades.csv").read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Acceleration (98765)"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == "100"  # the assignment's points in Canvas
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["10001"][:5] == ["Lovelace, Ada", "10001", "S-001", "alovelace", "CS 249 L01"]
    assert by_id["10002"][:5] == ["Hopper, Grace", "10002", "S-002", "ghopper", "CS 249 L02"]
    assert by_id["10005"][:5] == ["template", "10005", "", "", ""]  # not on the roster: download name kept
    assert "19999" not in by_id  # on the roster, handed nothing in: no row (Canvas keeps its grade)
    assert len(rows) == 2 + 4
    summary = json.loads((class_runs.full / "summary.json").read_text())
    assert summary["roster"]["matched"] == 3 and summary["roster"]["without_submission"] == ["Absent, Student"]
    names = {r["student"]: r["display_name"] for r in summary["students"]}
    assert names["lovelace_10001"] == "Lovelace, Ada"  # the folder keeps its slug
    assert "Lovelace, Ada" in (class_runs.full / "index.html").read_text()


def test_merge_refuses_overlapping_or_foreign_folders(class_runs, tmp_path, capsys):
    assert main(["merge", str(class_runs.full), str(class_runs.shards[0]), "--out", str(tmp_path / "m")]) == 2
    assert "both" in capsys.readouterr().err
    assert main(["merge", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "summary.json" in capsys.readouterr().err


def test_shard_rule_is_stable_and_partitions():
    # Fixed values: a student must land on the same shard on every node and Python version.
    assert [shard_of("lovelace_10001", n) for n in (1, 2, 3, 7)] == [1, 1, 3, 6]
    slugs = [f"student_{i}" for i in range(200)]
    for n in (1, 2, 3, 5):
        shards = [parse_shard(f"{i}/{n}").select([Submission(s, None, s, Path(s), "", "") for s in slugs])
                  for i in range(1, n + 1)]
        assert sorted(s.student for shard in shards for s in shard) == sorted(slugs)
        assert all(len(shard) > 200 / n / 2 for shard in shards)  # roughly even
    for bad in ("0/2", "3/2", "2", "a/b", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_bad_shard_or_roster_exits_2(tmp_path, capsys):
    assert main([str(REFERENCE), "--shard", "3/2", "--out", str(tmp_path / "o")]) == 2
    assert "--shard" in capsys.readouterr().err
    bad = tmp_path / "roster.csv"
    bad.write_text("Name,Email\nAda,ada@example.org\n")
    assert main([str(REFERENCE), "--roster", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "Student" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_roster_parsing(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(ROSTER.encode("utf-8"))
    roster = load_roster(path)
    assert sorted(roster.entries) == ["10001", "10002", "10004", "19999"]  # no "Points Possible" row
    assert roster.get("10004").section == "CS 249 L01" and roster.get(None) is None
    assert roster.assignment_column("Acceleration") == "Acceleration (98765)"
    assert roster.assignment_column("Other assignment") is None
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(IntakeError):
        load_roster(tmp_path / "empty.csv")


# ======================================================================= what students hand in

def _lines(code: str) -> list[str]:
    return [line + "\n" for line in code.splitlines()]


def notebook_v40(code: str) -> str:
    """nbformat 4.0: sources as lists of lines, no cell ids, outputs from a real run."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Acceleration\n", "My solution, with `%magic` text."]},
        {"cell_type": "code", "execution_count": 1, "metadata": {"collapsed": False},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["installed\n"]}],
         "source": ["%matplotlib inline\n", "%load_ext autoreload\n", "!pip install numpy\n"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [], "source": _lines(code)},
        {"cell_type": "code", "execution_count": 3, "metadata": {},
         "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {},
                      "data": {"text/plain": ["array([1.])"]}},
                     {"output_type": "display_data", "metadata": {},
                      "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]}}],
         "source": ["%%time\n", "x = np.ones((4, 4), dtype=np.float32)\n", "fused_gelu(x)\n"]},
        {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [],
         "source": ["%timeit fused_gelu(x)\n", "fused_gelu?\n", "!ls -la\n"]},
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 0, "cells": cells,
                       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}})


def notebook_v45(code: str) -> str:
    """nbformat 4.5: cell ids, sources as one string, a cell magic whose body is Python."""
    cells = [
        {"id": "a1", "cell_type": "markdown", "metadata": {}, "source": "## Part 1\nSee below."},
        {"id": "b2", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": "%%capture\n" + code},
        {"id": "c3", "cell_type": "code", "execution_count": 7, "metadata": {},
         "outputs": [{"output_type": "error", "ename": "NameError", "evalue": "x", "traceback": ["..."]}],
         "source": "%%bash\necho this is shell\nexit 1\n"},
        {"id": "d4", "cell_type": "raw", "metadata": {}, "source": "raw text %%not code"},
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def handins(tmp_path_factory, cache) -> Path:
    """The reference solution handed in every way students do, graded in one batch."""
    base = tmp_path_factory.mktemp("handins")
    code = REFERENCE.read_text(encoding="utf-8")
    ins = base / "in"
    paths = [
        copy(REFERENCE, ins / "plain.py"),
        ins / "nb40.ipynb", ins / "nb45.ipynb",
        make_zip(ins / "nested.zip", {"Project/src/accel/acceleration.py": code, "Project/README.md": "# hi\n",
                                      "Project/data/notes.txt": "notes", "__MACOSX/Project/._x": "junk"}),
        make_zip(ins / "nbzip.zip", {"hw/week9/submission/acceleration.ipynb": notebook_v45(code)}),
        ins / "class",  # a class folder holding one student's folder, the solution two levels down
        make_zip(ins / "ambiguous.zip", {"a/one.py": code, "b/two.py": code}),
    ]
    paths[1].write_text(notebook_v40(code), encoding="utf-8")
    paths[2].write_text(notebook_v45(code), encoding="utf-8")
    copy(REFERENCE, ins / "class" / "folder" / "deep" / "er" / "acceleration.py")
    (ins / "class" / "folder" / "deep" / "notes.md").write_text("# not code\n")
    out = base / "out"
    assert main([*map(str, paths), "--out", str(out), "--seed", str(SEED), "--categories", FAST_CATEGORIES,
                 "--quiet"]) == 0
    return out


@pytest.mark.parametrize("student", ["nb40", "nb45", "nested", "nbzip", "folder"])
def test_every_hand_in_form_grades_like_the_py(handins, student):
    plain, other = results_of(handins, "plain"), results_of(handins, student)
    assert plain["score"] == KERNEL_POINTS
    assert other["score"] == plain["score"]
    assert [(t["name"], t["score"]) for t in other["tests"]] == [(t["name"], t["score"]) for t in plain["tests"]]


def test_hand_in_notes_say_what_was_removed_and_graded(handins):
    assert "5 IPython magics and 2 shell escapes removed" in results_of(handins, "nb40")["output"]
    assert "%%bash" in results_of(handins, "nb45")["output"]
    assert "graded Project/src/accel/acceleration.py from nested.zip" in results_of(handins, "nested")["output"]
    assert "graded hw/week9/submission/acceleration.ipynb from nbzip.zip" in results_of(handins, "nbzip")["output"]
    assert "graded deep/er/acceleration.py from folder folder" in results_of(handins, "folder")["output"]
    assert sorted(p.name for p in handins.iterdir() if p.is_dir()) == \
        ["ambiguous", "folder", "nb40", "nb45", "nbzip", "nested", "plain"]


def test_ambiguous_zip_gets_a_clear_message(handins):
    results = results_of(handins, "ambiguous")
    assert results["score"] == 0
    assert "could not tell which file in ambiguous.zip is the solution: a/one.py, b/two.py" in results["output"]
    assert "name it acceleration.py" in results["output"]


# ======================================================================= TinyTorch files of different vintages

VINTAGES = ["tinytorch_style", "tinytorch_function_import", "tinytorch_package_export",
            "tinytorch_upstream_module", "tinytorch_stubs_none", "tinytorch_no_numpy_import"]


@pytest.fixture(scope="module")
def vintages(tmp_path_factory, fast_rubric, cache) -> Path:
    out = tmp_path_factory.mktemp("vintages") / "out"
    files = [str(FIXTURES / f"{name}.py") for name in VINTAGES]
    assert main([*files, "--out", str(out), "--seed", str(SEED), "--rubric", str(fast_rubric), "--quiet"]) == 0
    return out


def lost(results: dict) -> set[str]:
    return {cid for cid, t in by_check(results).items() if t["score"] < t["max_score"]}


@pytest.mark.parametrize("name", ["tinytorch_style", "tinytorch_function_import", "tinytorch_package_export",
                                  "tinytorch_upstream_module"])
def test_tinytorch_kernels_only_files_lose_just_the_roofline(vintages, name):
    results = results_of(vintages, name)
    assert results["score"] == KERNELS_ALL
    assert lost(results) == ROOFLINE_FORMULAS
    assert results["extra_data"]["functions_missing"] == ROOFLINE_FUNCTIONS
    assert "import-error" not in results["extra_data"]["flags"]
    for fn in ROOFLINE_FUNCTIONS:
        assert f"{fn} is missing from your file" in results["output"]


def test_upstream_module_tests_run_at_import_and_output_is_captured(vintages):
    state = OutputFolder(vintages).saved("tinytorch_upstream_module")
    assert state is not None
    stdout = state.result.stdout
    assert "Unit Test: Tiled Matrix Multiplication" in stdout and "ALL TESTS PASSED" in stdout
    assert "fused" in stdout and "ms vs unfused" in stdout  # the module-level benchmark ran too
    assert "ALL TESTS PASSED" in (vintages / "tinytorch_upstream_module" / "report.html").read_text()


def test_stubs_returning_none_lose_only_their_checks(vintages):
    results = results_of(vintages, "tinytorch_stubs_none")
    tiled = {"tiled.exact_tiles", "tiled.ragged_edges", "tiled.tile_sizes", "tiled.errors"}
    assert lost(results) == tiled | {"integration.tiled_block", "roofline.operation_cost"}
    tests = by_check(results)
    for cid in lost(results):
        assert tests[cid]["score"] == 0 and "returned None" in tests[cid]["output"], tests[cid]["output"]
    assert results["score"] == 60 - 10 - 3 - 4


def test_forgotten_numpy_import_costs_the_functions_that_use_it(vintages):
    results = results_of(vintages, "tinytorch_no_numpy_import")
    tests = by_check(results)
    uses_np = {cid for cid in tests if cid.startswith(("gelu.", "tiled.", "integration."))}
    assert lost(results) == uses_np
    for cid in uses_np:
        assert "NameError" in tests[cid]["output"] and "'np' is not defined" in tests[cid]["output"]
    assert all(tests[cid]["status"] == "passed" for cid in tests if cid.startswith("matmul."))
    assert all(tests[cid]["status"] == "passed" for cid in ROOFLINE_FORMULAS)
    assert "import-error" not in results["extra_data"]["flags"]


# ======================================================================= the shipped examples

def test_ci_and_cluster_examples(tmp_path):
    action = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    steps = action["jobs"]["grade"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "grade acceleration.py --min-score 60 --junit out.xml" in runs
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert "out.xml" in upload["with"]["path"] and upload["if"] == "always()"
    matrix = yaml.safe_load((ROOT / "examples" / "ci" / "matrix.yml").read_text())
    assert matrix["jobs"]["grade"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert "grade merge" in " ".join(s.get("run", "") for s in matrix["jobs"]["merge"]["steps"])

    # Run the Slurm script as array task 3 of 0..3 with a stand-in `grade` that records its arguments.
    fake = tmp_path / "bin" / "grade"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GRADE_ARGS_FILE"\n')
    fake.chmod(0o755)
    record = tmp_path / "args"
    env = dict(os.environ, PATH=f"{fake.parent}:{os.environ['PATH']}", GRADE_ARGS_FILE=str(record),
               SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_MIN="0", SLURM_ARRAY_TASK_COUNT="4",
               SLURM_ARRAY_JOB_ID="777", TMPDIR=str(tmp_path))
    proc = subprocess.run(["bash", str(ROOT / "examples" / "cluster" / "slurm.sbatch"), "subs/"], env=env,
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = record.read_text().split("\n")
    assert args[:1] == ["subs/"]
    assert args[args.index("--shard") + 1] == "3/4" and args[args.index("--seed") + 1] == "777"
    assert args[args.index("--out") + 1] == "grades-shards/shard-3"
