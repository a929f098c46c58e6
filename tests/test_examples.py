"""The demo class graded end to end (once per session, see conftest.graded_run): verdicts and files."""
from __future__ import annotations

import csv
import html
import json

import pytest

from grader.assignments import get as assignment

EXAMPLE_FOLDERS = {
    "lovelace": "lovelace_10001",
    "hopper": "hopper_10002",
    "turing": "turing_10003",
    "knuth": "knuth_10004",
    "template": "template_10005",
    "hamming": "hamming_10006",
}
GRADED_CATEGORIES = ("correctness", "integration", "roofline")


def lost(results: dict) -> set[str]:
    """Check ids of every item that did not earn its full points."""
    return {t["extra_data"]["check_id"] for t in results["tests"] if t["score"] < t["max_score"]}


def categories(results: dict) -> dict[str, tuple[float, float]]:
    return {c["name"]: (c["score"], c["max_score"]) for c in results["extra_data"]["categories"]}


def assert_full(results: dict, names=GRADED_CATEGORIES) -> None:
    cats = categories(results)
    for name in names:
        score, max_score = cats[name]
        assert max_score > 0 and score == max_score, f"{name}: {score}/{max_score}"


def check_ids(graded_rubric, prefix: str = "") -> set[str]:
    return {i.check_id for i in graded_rubric.items if i.check_id.startswith(prefix)}


def test_run_succeeded_and_graded_everyone(graded_run):
    assert graded_run.exit_code == 0
    expected = set(EXAMPLE_FOLDERS.values()) | {graded_run.reference_copy, graded_run.template_copy,
                                                graded_run.tinytorch_style}
    assert set(graded_run.students()) == expected


# ---------------------------------------------------------------- verdicts

def test_lovelace_full_marks(graded_results, graded_rubric):
    r = graded_results["lovelace_10001"]
    assert_full(r)
    assert r["score"] == graded_rubric.total
    assert lost(r) == set()
    assert r["extra_data"]["flags"] == []


def test_reference_copy_gets_every_point(graded_run, graded_results, graded_rubric):
    r = graded_results[graded_run.reference_copy]
    assert_full(r)
    assert lost(r) == set()
    assert r["score"] == r["extra_data"]["max_score"] == graded_rubric.total


@pytest.mark.parametrize("folder", ["template_10005", "starter_template"])
def test_template_gets_zero_and_says_not_implemented(graded_run, graded_results, folder):
    r = graded_results[folder]
    assert r["score"] == 0
    assert all(c[0] == 0 for c in categories(r).values())
    assert "not-implemented" in r["extra_data"]["flags"]
    assert r["extra_data"]["functions_missing"] == []  # defined, just not implemented
    outputs = "\n".join(t["output"] for t in r["tests"])
    page = graded_run.report(folder)
    for fn in assignment("acceleration").functions:
        assert f"`{fn}` is not implemented" in outputs, fn
        assert html.escape(f"`{fn}` is not implemented") in page or f"`{fn}` is not implemented" in page, fn


def test_template_copy_graded_like_the_example_template(graded_results):
    a, b = graded_results["template_10005"], graded_results["starter_template"]
    assert a["extra_data"]["code_hash"] == b["extra_data"]["code_hash"]  # byte-for-byte the starter file
    assert [(t["name"], t["score"], t["output"]) for t in a["tests"]] == [
        (t["name"], t["score"], t["output"]) for t in b["tests"]]


def test_knuth_loses_exactly_the_tiled_checks(graded_run, graded_results, graded_rubric):
    r = graded_results["knuth_10004"]
    assert lost(r) == check_ids(graded_rubric, "tiled.") | {"integration.tiled_block"}
    assert r["extra_data"]["functions_missing"] == ["tiled_matmul"]
    assert "missing-function" in r["extra_data"]["flags"]
    for t in r["tests"]:
        if t["extra_data"]["check_id"] in lost(r):
            assert t["score"] == 0 and "`tiled_matmul` is not defined" in t["output"]
    assert "tiled_matmul" in r["output"]
    page = graded_run.report("knuth_10004")
    assert "missing from the file: tiled_matmul" in page


def test_turing_import_crash(graded_run, graded_results):
    r = graded_results["turing_10003"]
    assert r["score"] == 0
    assert all(t["score"] == 0 for t in r["tests"])
    assert "import-error" in r["extra_data"]["flags"]
    assert "NameError" in r["output"] and "failed to import" in r["output"]
    page = graded_run.report("turing_10003")
    assert "NameError" in page
    assert "Traceback" in page  # the report shows the student's traceback


def test_hopper_loses_ragged_tiles_errors_and_dtype(graded_results):
    r = graded_results["hopper_10002"]
    assert lost(r) == {
        "tiled.ragged_edges", "tiled.tile_sizes", "integration.tiled_block",  # remainder tiles dropped
        "matmul.error_mismatch", "matmul.error_ndim",  # assert instead of ValueError
        "gelu.dtype_shape",  # np.float64 constant upcasts
    }
    by_id = {t["extra_data"]["check_id"]: t for t in r["tests"]}
    assert "expected ValueError, got AssertionError" in by_id["matmul.error_mismatch"]["output"]
    assert "values wrong" in by_id["tiled.ragged_edges"]["output"]
    assert 0 < r["score"] < 100
    assert r["extra_data"]["flags"] == []


def test_hamming_loses_only_classify(graded_results):
    r = graded_results["hamming_10006"]
    assert lost(r) == {"roofline.classify"}
    assert_full(r, ("correctness", "integration"))


def test_suite_assert_messages_survive_in_process_grading(graded_results):
    hopper = {t["extra_data"]["check_id"]: t for t in graded_results["hopper_10002"]["tests"]}
    hamming = {t["extra_data"]["check_id"]: t for t in graded_results["hamming_10006"]["tests"]}
    assert "fused_gelu returned float64 for a float32 input" in hopper["gelu.dtype_shape"]["output"]
    assert "returned 'compute', expected 'memory'" in hamming["roofline.classify"]["output"]


def test_tinytorch_style_file_grades_unmodified(graded_run, graded_results, graded_rubric):
    r = graded_results[graded_run.tinytorch_style]
    assert_full(r, ("correctness", "integration"))
    assert lost(r) == check_ids(graded_rubric, "roofline.")
    assert categories(r)["roofline"][0] == 0
    assert set(r["extra_data"]["functions_missing"]) == {
        "arithmetic_intensity", "operation_cost", "roofline_predict", "classify_bound"}
    assert "import-error" not in r["extra_data"]["flags"]


def test_scores_equal_the_sum_of_tests(graded_results):
    for student, r in graded_results.items():
        assert r["score"] == pytest.approx(sum(t["score"] for t in r["tests"])), student
        assert sum(c["score"] for c in r["extra_data"]["categories"]) == pytest.approx(r["score"]), student


# ---------------------------------------------------------------- files

def test_every_submission_has_report_and_results(graded_run):
    for student in graded_run.students():
        folder = graded_run.folder(student)
        page = (folder / "report.html").read_text(encoding="utf-8")
        assert page.lstrip().lower().startswith("<!doctype html>"), student
        json.loads((folder / "results.json").read_text(encoding="utf-8"))


GS_TOP = {"score", "execution_time", "output", "tests", "leaderboard", "extra_data"}
GS_TEST = {"name", "score", "max_score", "status", "output", "visibility"}


def test_results_json_has_gradescope_fields(graded_results, graded_rubric):
    visibility = {i.check_id: i.visibility for i in graded_rubric.items}
    for student, r in graded_results.items():
        assert GS_TOP <= set(r), student
        assert isinstance(r["score"], (int, float)) and isinstance(r["execution_time"], (int, float))
        assert isinstance(r["output"], str) and isinstance(r["leaderboard"], list)
        assert len(r["tests"]) == len(graded_rubric.items), student
        for t in r["tests"]:
            assert GS_TEST <= set(t), (student, t)
            assert t["status"] in ("passed", "failed")
            assert t["status"] == ("passed" if t["score"] >= t["max_score"] else "failed")
            assert 0 <= t["score"] <= t["max_score"]
            assert t["visibility"] == visibility[t["extra_data"]["check_id"]]
        # every rubric item is a test, so the maxima add up to the rubric's total
        # (100 for the shipped rubric, checked in test_rubric.py)
        assert sum(t["max_score"] for t in r["tests"]) == pytest.approx(graded_rubric.total), student
        assert r["extra_data"]["max_score"] == pytest.approx(graded_rubric.total), student


def test_class_files_exist(graded_run):
    for name in ("index.html", "grades.csv", "summary.json"):
        assert (graded_run.out / name).is_file(), name
    index = (graded_run.out / "index.html").read_text(encoding="utf-8")
    for student in graded_run.students():
        assert f"{student}/report.html" in index, student


def test_grades_csv_is_canvas_shaped_and_matches_results(graded_run, graded_results, graded_rubric):
    with open(graded_run.out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    total = f"{graded_rubric.total:g}"
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"Acceleration ({total})"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == total
    body = rows[2:]
    assert len(body) == len(graded_results)
    by_id = {row[1]: float(row[5]) for row in body if row[1]}
    for name, folder in EXAMPLE_FOLDERS.items():
        sid = folder.split("_")[1]
        assert by_id[sid] == graded_results[folder]["score"], name


def test_summary_json_lists_everyone(graded_run, graded_results):
    summary = json.loads((graded_run.out / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == graded_run.seed
    students = {s["student"]: s for s in summary["students"]}
    assert set(students) == set(graded_results)
    for student, r in graded_results.items():
        assert students[student]["score"] == r["score"]
