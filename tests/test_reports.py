"""Tests for grader.reports: every output format, built from hand-made GradeResults."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from grader.models import (
    FLAG_GRADER_ERROR,
    FLAG_IMPORT_ERROR,
    FLAG_MISSING,
    FLAG_NOISY,
    FLAG_TAMPERING,
    CategoryScore,
    GradeResult,
    ItemScore,
    Submission,
)
from grader.reports import (
    format_selfcheck,
    render_index,
    render_report,
    render_selfcheck,
    results_dict,
    summary_dict,
    write_bytes_atomic,
    write_grades_csv,
    write_outputs,
    write_results_json,
    write_student_outputs,
    write_text_atomic,
)

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_STDOUT = "<script>alert(1)</script>"
GS_TEST_FIELDS = {"name", "score", "max_score", "status", "output", "visibility", "tags", "extra_data"}
GS_TOP_FIELDS = {"score", "execution_time", "output", "output_format", "visibility",
                 "stdout_visibility", "tests", "leaderboard", "extra_data"}


def _sub(student: str, name: str, sid: str | None = "12345", **kw) -> Submission:
    return Submission(student=student, student_id=sid, display_name=name,
                      source_path=Path(f"/subs/{student}_acceleration.py"),
                      code="def f(): pass\n", code_hash="ab" * 32, **kw)


def _item(check_id: str, score: float, max_score: float, status: str, *, visibility: str = "visible",
          category: str = "correctness", hint: str = "", flags=None, data=None, output: str = "ok") -> ItemScore:
    return ItemScore(check_id=check_id, name=check_id.replace("_", " "), category=category,
                     score=score, max_score=max_score, visibility=visibility, status=status,
                     output=output, hint=hint, flags=list(flags or []), data=dict(data or {}))


@pytest.fixture
def strong() -> GradeResult:
    items = [
        _item("matmul_correct", 10, 10, "passed", data={"max_err": np.float32(1.5e-7), "shape": (64, 64)}),
        _item("gelu_speed", 7.5, 10, "partial", category="speed", flags=[FLAG_NOISY],
              hint="Compute GELU in one numpy expression to avoid temporaries.",
              data={"ratio": np.float64(1.73), "ci": (np.float64(1.6), np.float64(1.9)),
                    "rounds": np.int64(12), "nan": float("nan"), "arr": np.arange(3)}),
        _item("tiled_hidden", 20, 20, "passed", visibility="hidden", category="tiling"),
        _item("roofline_after", 0, 10, "failed", visibility="after_published", category="roofline",
              hint="Check the bytes formula for matmul: 12 n^2."),
    ]
    return GradeResult(
        submission=_sub("smith", "Smith, Ann"),
        items=items,
        categories=[CategoryScore("correctness", 10, 10), CategoryScore("speed", 7.5, 10),
                    CategoryScore("tiling", 20, 20), CategoryScore("roofline", 0, 10)],
        score=37.5, max_score=50, execution_time=12.6,
        machine={"cpu": "Test CPU", "cores": 8, "peak_gflops": np.float64(123.456789),
                 "blas": {"name": "openblas", "threads": 1}},
        seed=1234,
    )


@pytest.fixture
def broken() -> GradeResult:
    sub = _sub("jones", "Jones", sid=None, intake_error="the zip holds no .py or .ipynb file")
    sub.code = None
    return GradeResult(submission=sub, items=[], categories=[], score=0, max_score=50,
                       execution_time=0.2, flags=[FLAG_GRADER_ERROR],
                       grader_error="RuntimeError: worker pool exhausted")


@pytest.fixture
def hostile() -> GradeResult:
    items = [
        _item("matmul_correct", 0, 10, "failed", output=f"raised ValueError: {XSS_STDOUT}",
              hint="Raise ValueError only for bad shapes."),
        _item("tiled_missing", 0, 10, "failed", category="tiling", flags=[FLAG_MISSING],
              visibility="hidden", output="tiled_matmul is not defined"),
    ]
    return GradeResult(
        submission=_sub("evil", XSS_NAME, sid="=HYPERLINK(\"http://x\")"),
        items=items,
        categories=[CategoryScore("correctness", 0, 10), CategoryScore("tiling", 0, 10)],
        score=0, max_score=20, execution_time=3.4,
        stdout=XSS_STDOUT + "\n\x1b[31mred\x1b[0m", stderr="Traceback: <b>boom</b>",
        flags=[FLAG_IMPORT_ERROR, FLAG_TAMPERING],
        messages=[f"Import failed: SyntaxError {XSS_STDOUT}"],
        functions_missing=["tiled_matmul"],
        machine={"cpu": "Test CPU"}, seed=1234,
    )


# ---------------------------------------------------------------- results.json

def test_results_json_has_gradescope_fields(strong: GradeResult) -> None:
    d = results_dict(strong)
    assert GS_TOP_FIELDS <= d.keys()
    assert d["output_format"] == "text" and d["visibility"] == "visible"
    assert d["stdout_visibility"] == "hidden" and d["leaderboard"] == []
    assert d["execution_time"] == 13 and isinstance(d["execution_time"], int)
    assert d["score"] == 37.5
    for test in d["tests"]:
        assert GS_TEST_FIELDS <= test.keys()
        assert test["extra_data"].keys() >= {"check_id", "category", "status", "flags", "data"}
    assert sum(t["max_score"] for t in d["tests"]) == strong.max_score
    extra = d["extra_data"]
    for key in ("student", "student_id", "display_name", "code_hash", "seed", "machine", "flags",
                "functions_missing", "grader_error", "categories", "max_score"):
        assert key in extra
    assert extra["categories"][1] == {"name": "speed", "score": 7.5, "max_score": 10.0}
    assert "37.5 / 50.0" in d["output"]


def test_results_json_status_visibility_tags_hint(strong: GradeResult) -> None:
    tests = {t["extra_data"]["check_id"]: t for t in results_dict(strong)["tests"]}
    assert tests["matmul_correct"]["status"] == "passed"
    assert tests["gelu_speed"]["status"] == "failed"  # partial is "failed" for Gradescope
    assert tests["gelu_speed"]["extra_data"]["status"] == "partial"
    assert tests["roofline_after"]["status"] == "failed"
    assert tests["tiled_hidden"]["visibility"] == "hidden"
    assert tests["roofline_after"]["visibility"] == "after_published"
    assert tests["gelu_speed"]["tags"] == ["speed", FLAG_NOISY]
    assert tests["gelu_speed"]["output"] == "ok\nHint: Compute GELU in one numpy expression to avoid temporaries."
    assert tests["matmul_correct"]["output"] == "ok"


def test_results_json_dumps_numpy_and_odd_data(strong: GradeResult, tmp_path: Path) -> None:
    strong.items[0].data["weird"] = {1: {np.float32(2.0)}, "obj": object(), "path": Path("/x")}
    text = json.dumps(results_dict(strong), allow_nan=False)  # strict JSON, no NaN
    data = json.loads(text)["tests"][1]["extra_data"]["data"]
    assert data["ratio"] == 1.73 and data["rounds"] == 12 and data["ci"] == [1.6, 1.9]
    assert data["nan"] is None and data["arr"] == [0, 1, 2]
    write_results_json(strong, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 37.5


def test_results_json_broken_submission(broken: GradeResult) -> None:
    d = results_dict(broken)
    json.dumps(d)
    assert "zip holds no .py" in d["output"] and "worker pool exhausted" in d["output"]
    # A placeholder test keeps Gradescope's max consistent and says why.
    assert sum(t["max_score"] for t in d["tests"]) == broken.max_score
    assert d["tests"][0]["status"] == "failed"
    assert d["extra_data"]["grader_error"].startswith("RuntimeError")


def test_results_json_mentions_missing_functions(hostile: GradeResult) -> None:
    assert "tiled_matmul is missing from your file" in results_dict(hostile)["output"]


# ---------------------------------------------------------------- grades.csv

def _read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_csv_header_and_points_row(strong, broken, tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    write_grades_csv([strong, broken], path, "Acceleration", 100)
    rows = _read_csv(path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Acceleration (100)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100"]
    body = {r[0]: r for r in rows[2:]}
    assert body["Smith, Ann"] == ["Smith, Ann", "12345", "", "", "", "37.5"]
    assert body["Jones"] == ["Jones", "", "", "", "", "0"]
    assert len(rows) == 4


def test_csv_formula_injection(hostile, tmp_path: Path) -> None:
    hostile.submission.display_name = "=cmd|' /C calc'!A0"
    others = []
    for i, prefix in enumerate("+-@"):
        r = GradeResult(submission=_sub(f"s{i}", f"{prefix}SUM(A1)"), items=[], categories=[],
                        score=1.234, max_score=2, execution_time=0)
        others.append(r)
    path = tmp_path / "grades.csv"
    write_grades_csv([hostile, *others], path, "Acceleration", 62.5)
    rows = _read_csv(path)
    assert rows[0][-1] == "Acceleration (62.5)"
    for row in rows[2:]:
        for cell in row[:5]:
            assert not cell.startswith(("=", "+", "-", "@")), row
    names = {r[0] for r in rows[2:]}
    assert "'=cmd|' /C calc'!A0" in names and "'+SUM(A1)" in names and "'@SUM(A1)" in names
    assert any(r[1] == "'=HYPERLINK(\"http://x\")" for r in rows[2:])
    assert {r[5] for r in rows[2:]} >= {"1.23"}


# ---------------------------------------------------------------- summary.json

def test_summary_dict(strong, broken, hostile) -> None:
    s = summary_dict([strong, broken, hostile], "Acceleration", 100, {"cpu": np.str_("x")}, 7)
    json.dumps(s, allow_nan=False)
    assert s["counts"]["submissions"] == 3
    assert s["counts"]["grader_errors"] == 1 and s["counts"]["intake_errors"] == 1
    # Grader errors are excluded from statistics.
    assert s["scores"]["n"] == 2 and s["scores"]["mean"] == 18.75 and s["scores"]["max"] == 37.5
    assert s["scores"]["median"] == 18.75 and s["scores"]["min"] == 0
    checks = {c["check_id"]: c for c in s["checks"]}
    mc = checks["matmul_correct"]
    assert (mc["passed"], mc["partial"], mc["failed"], mc["not_run"]) == (1, 0, 1, 1)
    assert checks["gelu_speed"]["partial"] == 1
    rows = {r["student"]: r for r in s["students"]}
    assert rows["smith"]["report"] == "smith/report.html"
    assert FLAG_TAMPERING in rows["evil"]["flags"]
    assert s["grader_version"] and s["seed"] == 7


# ---------------------------------------------------------------- HTML

_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _assert_self_contained(page: str) -> None:
    assert not _EXTERNAL.search(page), _EXTERNAL.search(page)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()


def test_report_escapes_student_strings(hostile: GradeResult) -> None:
    page = render_report(hostile)
    assert XSS_STDOUT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>boom</b>" not in page
    assert "\x1b" not in page
    assert "tiled_matmul is missing from your file" in page
    _assert_self_contained(page)


def test_index_escapes_and_orders(strong, broken, hostile) -> None:
    page = render_index([strong, broken, hostile], "Acceleration", 100, {"cpu": "<i>cpu</i>"})
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<i>cpu</i>" not in page
    _assert_self_contained(page)
    # Flagged submissions first (grader error, then tampering), clean ones last.
    assert page.index("jones/report.html") < page.index("evil/report.html") < page.index("smith/report.html")
    assert "18.75" in page  # mean


def test_report_contents(strong: GradeResult) -> None:
    page = render_report(strong)
    _assert_self_contained(page)
    for text in ("Smith, Ann", "37.5 / 50.0", "matmul correct", "tiled hidden", "hidden",
                 "after published", "Compute GELU in one numpy expression", "Test CPU", "<svg"):
        assert text in page, text


def test_broken_report_renders(broken: GradeResult) -> None:
    page = render_report(broken)
    assert "worker pool exhausted" in page and "zip holds no .py" in page
    assert "No checks ran" in page


def test_selfcheck_omits_hidden_items(strong: GradeResult, hostile: GradeResult) -> None:
    page = render_selfcheck(strong)
    _assert_self_contained(page)
    assert "matmul correct" in page and "gelu speed" in page
    assert "tiled hidden" not in page and "tiled_hidden" not in page
    assert "roofline after" not in page and "roofline_after" not in page
    assert "17.5 / 20.0" in page  # visible items only
    assert "tiling" not in page  # category bars from visible items only
    assert "tiled_missing" not in render_selfcheck(hostile)


# ---------------------------------------------------------------- writer / atomic

def test_write_outputs_writes_every_file(strong, broken, hostile, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs([strong, broken, hostile], out, "Acceleration", 100, {"cpu": "x"}, 7)
    expected = {"index.html", "grades.csv", "summary.json"}
    for r in (strong, broken, hostile):
        expected |= {f"{r.submission.student}/report.html", f"{r.submission.student}/results.json"}
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == expected  # and no temp files left behind
    for r in (strong, broken, hostile):
        json.loads((out / r.submission.student / "results.json").read_text())


def test_render_failure_still_leaves_a_report(hostile, tmp_path: Path, monkeypatch) -> None:
    import grader.reports.writer as writer

    def broken_render(result):
        raise RuntimeError("template bug <x>")

    monkeypatch.setattr(writer, "render_report", broken_render)
    hostile.execution_time = float("nan")
    folder = write_student_outputs(hostile, tmp_path)
    page = (folder / "report.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and XSS_NAME not in page
    assert "template bug &lt;x&gt;" in page
    assert json.loads((folder / "results.json").read_text())["execution_time"] == 0


def test_student_dir_cannot_escape(strong, tmp_path: Path) -> None:
    strong.submission.student = "../../etc"
    folder = write_student_outputs(strong, tmp_path / "out")
    assert folder.resolve().is_relative_to((tmp_path / "out").resolve())
    assert (folder / "report.html").exists()


def test_atomic_writer(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    write_text_atomic(target, "one\r\ntwo")
    write_text_atomic(target, "three")
    assert target.read_bytes() == b"three"
    write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["b.bin", "f.txt", "sub"]


def test_atomic_writer_failure_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    import grader.reports.atomic as atomic

    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# ---------------------------------------------------------------- terminal

@pytest.mark.parametrize("width", [60, 80, 120])
def test_terminal_table_fits(strong, hostile, broken, width: int) -> None:
    strong.items[1].hint = "A very long hint " * 12
    for result in (strong, hostile, broken):
        text = format_selfcheck(result, width=width)
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines), [l for l in lines if len(l) > width]
        assert lines[-1].startswith("Total: ") and lines[-1].endswith("(public checks)")
        assert "\x1b" not in text


def test_terminal_visible_only(strong, hostile) -> None:
    text = format_selfcheck(strong, width=60)
    assert text.splitlines()[-1] == "Total: 17.5 / 20.0 (public checks)"
    assert "tiled hidden" not in text and "roofline after" not in text
    assert "PARTIAL" in text and "hint:" in text and "Compute GELU" in text
    hostile_text = format_selfcheck(hostile, width=60)
    assert "tiled missing" not in hostile_text
    assert "tiled_matmul is missing from your file" in hostile_text
    wide = format_selfcheck(strong, width=120)
    assert any(line.startswith("Check") and line.rstrip().endswith("Hint") for line in wide.splitlines())
