"""Real TinyTorch files, each graded under its own assignment as a fair instructor would.

The fixtures in tests/fixtures/tinytorch/ reproduce each release's imports, names, signatures and
conventions (see its README). Nothing here measures: the unmeasured categories are chosen with
--categories, as a course would for a quick pass.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "tinytorch"
SEED = 2026
UNMEASURED = {
    "tinytorch-2026": "matmul,gelu,fusion,tiled,im2col,im2col_conv2d,col2im,function,integration",
    "tinytorch-2025": "matmul,gelu,fusion,tiled,integration",
}
FILES = {
    "tinytorch-2026": ["official_2026.py", "blank_2026.py", "package_2026.py", "notebook_2026.ipynb",
                       "fork_2026.py"],
    "tinytorch-2025": ["official_2025.py", "official_2025_nov.py", "blank_2025.py"],
}


def unmeasured_points(assignment: str) -> float:
    rubric = yaml.safe_load((ROOT / "rubrics" / f"{assignment}.yaml").read_text(encoding="utf-8"))
    return float(sum(rubric["categories"][c] for c in UNMEASURED[assignment].split(",")))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Nothing here measures; if something tried to calibrate, keep it out of the user's cache."""
    path = tmp_path_factory.mktemp("calibration-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", str(path))
        yield path


# The broken 2026 variants: official_2026.py with one defect each, as (replace this, with that).
DEFECTS = {
    # columns ordered (kernel row, kernel column, channel)
    "im2col_wrong_order": [("windows.transpose(0, 2, 3, 1, 4, 5)", "windows.transpose(0, 2, 3, 4, 5, 1)")],
    # overlapping patches overwrite instead of adding up
    "col2im_overwrites": [("kj:kj + stride * ow:stride] += patches", "kj:kj + stride * ow:stride] = patches")],
    # im2col_conv2d takes a bias and ignores it
    "conv_no_bias": [("    b = None if bias is None else _as_array(bias)\n"
                      "    out, _ = _conv_forward(_as_array(x), _as_array(weight), b, stride, padding)",
                      "    out, _ = _conv_forward(_as_array(x), _as_array(weight), None, stride, padding)")],
    # backward's grad_weight is all zeros
    "backward_no_weight_grad": [("grad_weight = (grad_rows.T @ cols).reshape(weight.shape)",
                                 "grad_weight = np.zeros(weight.shape, dtype=np.float32)")],
    # tiled_matmul validates nothing but the inner dimensions
    "tiled_no_validation": [
        ('raise ValueError(f"tiled_matmul works on 2D matrices, got shapes {a_data.shape} and {b_data.shape}")',
         "return Tensor(np.matmul(a_data, b_data))"),
        ('    if not _is_count(tile_size, 1):\n'
         '        raise ValueError(f"tile_size must be an integer >= 1, got {tile_size!r}")\n', ""),
        ("    t = int(tile_size)\n", "    t = int(tile_size) if tile_size >= 1 else max(m, n, k_total, 1)\n"),
    ],
}


def write_defects(folder: Path) -> list[Path]:
    """Each broken variant written out; every edit must apply exactly once, or the variant is not one."""
    official = (FIXTURES / "official_2026.py").read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, edits in DEFECTS.items():
        text = official
        for old, new in edits:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        paths.append(folder / f"{name}.py")
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def grade_release(assignment: str, tmp_path_factory) -> tuple[str, Path]:
    """Every fixture of one release, graded in one run under that release's assignment."""
    out = tmp_path_factory.mktemp(assignment) / "out"
    files = [str(FIXTURES / f) for f in FILES[assignment]]
    if assignment == "tinytorch-2026":
        files += [str(p) for p in write_defects(out.parent / "broken")]
    code = main([*files, "--out", str(out), "--seed", str(SEED), "--quiet", "--no-similarity",
                 "--assignment", assignment, "--categories", UNMEASURED[assignment]])
    assert code == 0
    return assignment, out


@pytest.fixture(scope="module")
def graded_2026(tmp_path_factory, cache) -> tuple[str, Path]:
    return grade_release("tinytorch-2026", tmp_path_factory)


@pytest.fixture(scope="module")
def graded_2025(tmp_path_factory, cache) -> tuple[str, Path]:
    return grade_release("tinytorch-2025", tmp_path_factory)


@pytest.fixture(params=sorted(FILES))
def graded(request) -> tuple[str, Path]:
    """Each release's graded run in turn."""
    return request.getfixturevalue("graded_" + request.param.rsplit("-", 1)[1])


def results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


def lost(res: dict) -> dict[str, str]:
    return {t["extra_data"]["check_id"]: t["output"] for t in res["tests"] if t["score"] < t["max_score"]}


def slug(file: str) -> str:
    return Path(file).stem


def test_official_style_files_earn_every_unmeasured_point(graded):
    assignment, out = graded
    officials = {"tinytorch-2026": ["official_2026", "package_2026", "notebook_2026", "fork_2026"],
                 "tinytorch-2025": ["official_2025", "official_2025_nov"]}[assignment]
    for name in officials:
        res = results(out, name)
        assert lost(res) == {}, (name, lost(res))
        assert res["score"] == unmeasured_points(assignment), name
        assert "import-error" not in res["extra_data"]["flags"], name
        assert res["extra_data"].get("suggested_assignment") is None, name


def test_blank_templates_score_exactly_zero(graded):
    assignment, out = graded
    res = results(out, {"tinytorch-2026": "blank_2026", "tinytorch-2025": "blank_2025"}[assignment])
    assert res["score"] == 0
    assert len(res["tests"]) == len(lost(res)) > 0  # every check was graded, none passed
    assert "import-error" not in res["extra_data"]["flags"]


def test_the_notebook_imports_the_other_tinytorch_modules(graded_2026):
    assignment, out = graded_2026
    text = (FIXTURES / "notebook_2026.ipynb").read_text(encoding="utf-8")
    for module in ("tinytorch.core.layers", "tinytorch.core.activations", "tinytorch.core.spatial"):
        assert module in text  # what the test is about: these imports, and the file grading in full
    assert results(out, "notebook_2026")["score"] == unmeasured_points(assignment)


# Each broken variant loses the checks about its defect, and at most the checks built on the broken
# function; nothing else.
BROKEN = {
    "im2col_wrong_order": ({"im2col.hand_patches", "im2col.grid"},
                           {"conv.values", "conv.bias", "function.forward", "function.backward",
                            "integration.conv_block"}),
    "col2im_overwrites": ({"col2im.adjoint", "col2im.overlap"}, {"function.backward"}),
    "conv_no_bias": ({"conv.bias"}, {"integration.conv_block", "function.forward", "function.backward"}),
    "backward_no_weight_grad": ({"function.backward"}, set()),
    "tiled_no_validation": ({"tiled.errors", "tiled.strict_args"}, set()),
}
assert set(BROKEN) == set(DEFECTS)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_defect_fails_its_own_checks(graded_2026, name):
    _, out = graded_2026
    must, may = BROKEN[name]
    missed = set(lost(results(out, name)))
    assert must <= missed <= must | may, (name, sorted(missed))


def test_a_2026_solution_under_the_default_assignment_names_tinytorch_2026(tmp_path, cache, capfd):
    out = tmp_path / "out"
    code = main([str(FIXTURES / "official_2026.py"), "--out", str(out), "--seed", str(SEED), "--quiet",
                 "--no-similarity", "--categories", "correctness"])
    assert code == 0
    err = capfd.readouterr().err
    assert "official_2026" in err and "--assignment tinytorch-2026" in err
    assert results(out, "official_2026")["extra_data"]["suggested_assignment"] == "tinytorch-2026"
    assert "--assignment tinytorch-2026" in (out / "official_2026" / "report.html").read_text(encoding="utf-8")


# The official file under TinyTorch's own name is found without naming it; the blank one is named.
@pytest.mark.parametrize(("file", "saved_as", "named", "expected"), [
    ("official_2026.py", "17_acceleration.py", False, "full"),
    ("blank_2026.py", "my_work.py", True, 0.0),
])
def test_self_check_grades_under_tinytorch_2026(tmp_path, cache, capfd, monkeypatch, file, saved_as, named, expected):
    (tmp_path / saved_as).write_text((FIXTURES / file).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["--self-check", *([saved_as] if named else []), "--assignment", "tinytorch-2026",
                 "--categories", "im2col,im2col_conv2d,col2im,function"])
    text = capfd.readouterr().out
    assert code == 0
    assert (tmp_path / "self-check.html").exists()
    total = [line for line in text.splitlines() if line.startswith("Total:")]
    assert total, text
    got, possible = (float(v) for v in total[0].split(":")[1].split("(")[0].split("/"))
    assert possible > 0
    assert got == (possible if expected == "full" else expected), total[0]


def test_the_gradescope_export_carries_the_2026_assignment(tmp_path, cache):
    zip_path = tmp_path / "autograder.zip"
    assert main(["export", "gradescope", "--assignment", "tinytorch-2026", "--out", str(zip_path)]) == 0
    with zipfile.ZipFile(zip_path) as zf:
        rubric = yaml.safe_load(zf.read("rubric.yaml"))
        driver = zf.read("gradescope_run.py").decode()
        names = set(zf.namelist())
    assert rubric["assignment"] == "TinyTorch 17 Acceleration"
    assert {i["check"] for i in rubric["items"]} >= {"im2col.grid", "col2im.adjoint", "function.backward"}
    assert "ASSIGNMENT = 'tinytorch-2026'" in driver or 'ASSIGNMENT = "tinytorch-2026"' in driver
    assert "accelgrade/student_template/tinytorch_2026.py" in names
