"""Tests for grader.reports: every output format, built from hand-made GradeResults."""
from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape

from grader.models import (
    FLAG_BUSY,
    FLAG_CRASH,
    FLAG_GRADER_ERROR,
    FLAG_MUTATES_INPUT,
    FLAG_TOO_FAST,
    FLAG_UNVERIFIED,
    FLAG_IMPORT_ERROR,
    FLAG_MEMORY,
    FLAG_MISSING,
    FLAG_NOISY,
    FLAG_NOT_IMPLEMENTED,
    FLAG_TAMPERING,
    FLAG_TIMEOUT,
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
    OutputFolder,
    write_results_json,
    write_text_atomic,
)
from grader.reports._common import FLAG_EXPLANATIONS
from grader.reports.charts import (
    bin_width,
    histogram,
    histogram_svg,
    memory_bars,
    memory_svg,
    roofline_plot,
    roofline_svg,
    score_bins,
    speed_panel,
    speed_svg,
)
from grader.reports.machine import calibration_rows, machine_rows, machine_summary
from grader.reports.measured import memory_view, roofline_view, speed_view
from grader.reports.progress import Progress, fmt_duration
from grader.reports.scripts import SORT_TABLE_JS, script_hash
from grader.reports.svg import LogScale, log_domain

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


def _assert_self_contained(page: str, sort_script: bool = False) -> None:
    """Nothing fetched, and no script but (on the class index) our own sort script, allowed by hash."""
    assert not _EXTERNAL.search(page), _EXTERNAL.search(page)
    assert "<link" not in page.lower()
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert found, "no Content-Security-Policy"
    csp = html.unescape(found.group(1))
    assert "default-src 'none'" in csp
    if sort_script:
        assert page.lower().count("<script") == 1
        assert f"<script>{SORT_TABLE_JS}</script>" in page
        assert f"script-src {script_hash(SORT_TABLE_JS)};" in csp
    else:
        assert "<script" not in page.lower()
        assert "script-src 'none'" in csp


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
    _assert_self_contained(page, sort_script=True)
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

def test_the_output_folder_writes_every_file(strong, broken, hostile, tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = OutputFolder(out)
    for r in (strong, broken, hostile):
        folder.write_student(r, key="k1")
    folder.publish([strong, broken, hostile], "Acceleration", 100, {"cpu": "x"}, 7, {"shard": {"label": "1/2"}})
    expected = {"index.html", "grades.csv", "summary.json"}
    for r in (strong, broken, hostile):
        expected |= {f"{r.submission.student}/{name}" for name in ("report.html", "results.json", ".grade-state.json")}
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == expected  # and no temp files left behind
    for r in (strong, broken, hostile):
        json.loads((out / r.submission.student / "results.json").read_text())
        saved = folder.saved(r.submission.student)
        assert saved.key == "k1" and saved.result.score == r.score and saved.identity is None
    assert folder.read_summary()["shard"] == {"label": "1/2"}
    assert folder.previous_seed() == strong.seed


def test_the_state_keeps_the_roster_identity_for_merge(strong, tmp_path: Path) -> None:
    from grader.intake.roster import RosterEntry

    folder = OutputFolder(tmp_path)
    who = RosterEntry("Lovelace, Ada", "12345", "sis-1", "ada", "Section 2")
    folder.write_student(strong, key="k", identity=who, score_column="Acceleration (987)")
    saved = folder.saved(strong.submission.student)
    assert saved.identity == who and saved.score_column == "Acceleration (987)"


def test_a_rewritten_results_file_is_restored(strong, tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path)
    path = folder.write_student(strong, key="k") / "results.json"
    good = path.read_text()
    path.write_text('{"score": 100}')
    assert folder.restore_tampered([strong]) == [path]
    assert path.read_text() == good and folder.restore_tampered([strong]) == []


def test_render_failure_still_leaves_a_report(hostile, tmp_path: Path, monkeypatch) -> None:
    import grader.reports.folder as folder_module

    def broken_render(result):
        raise RuntimeError("template bug <x>")

    monkeypatch.setattr(folder_module, "render_report", broken_render)
    hostile.execution_time = float("nan")
    folder = OutputFolder(tmp_path).write_student(hostile)
    page = (folder / "report.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and XSS_NAME not in page
    assert "template bug &lt;x&gt;" in page
    assert json.loads((folder / "results.json").read_text())["execution_time"] == 0


def test_student_dir_cannot_escape(strong, tmp_path: Path) -> None:
    strong.submission.student = "../../etc"
    folder = OutputFolder(tmp_path / "out").write_student(strong)
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
    import grader.atomic as atomic

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


# ================================================================ measured data, charts, flags
# Figures below are from a real run of the grader on the reference-quality example
# (lovelace, seed 1), trimmed; the tests are about what the pages make of them.

CALIBRATION = {"id": "00a6a4931b84", "created": "2026-11-25T22:32:28+00:00", "quick": False,
               "peak_gflops": 102.266, "bandwidth_gbs": 34.9246, "fingerprint_id": "826fd69f5af4384a",
               "threads": 1}
MACHINE = {"cpu_model": "AMD EPYC", "cores": 2,
           "caches": {"L1d": 32768, "L1i": 32768, "L2": 1048576, "L3": 33554432},
           "machine": "x86_64", "python": "3.11.7", "numpy": "2.4.6", "blas": "openblas",
           "blas_version": "0.3.31", "threads": 1, "id": "826fd69f5af4384a", "hostname": "vm",
           "calibration": CALIBRATION}


def _est(median: float, low: float, high: float, rounds: int) -> dict:
    return {"median": median, "ci_low": low, "ci_high": high, "rounds": rounds, "cv": 0.2}


def _speed_data(what: str, student: dict, reference: dict | None, threshold: float, origin: str,
                cases: dict, noisy: bool = False, tampering: list | None = None) -> dict:
    return {"what": what, "threshold": threshold, "threshold_origin": origin,
            "score_input": {"value": student["median"], "threshold": threshold},
            "speed": {"student_speedup": student, "reference_speedup": reference, "threshold": threshold,
                      "noisy": noisy, "rounds": student["rounds"], "seconds_per_call": cases, "loops": {},
                      "tampering": list(tampering or []), "too_slow": None}}


def _point(name: str, op: str, flops: float, moved: float, measured: float, predicted: float | None,
           ref_measured: float) -> dict:
    return {"name": name, "op": op, "n": 0, "flops": flops, "bytes_moved": moved, "seconds": flops / measured / 1e9,
            "measured_gflops": measured, "intensity": flops / moved, "predicted_gflops": predicted,
            "reference_predicted_gflops": predicted, "reference_measured_gflops": ref_measured,
            "error": 0.3, "tolerance": 0.9, "ok": True, "problem": ""}


ROOFLINE_POINTS = [
    _point("matmul n=64", "matmul", 524288.0, 49152.0, 38.16, 102.266, 43.2),
    _point("matmul n=256", "matmul", 33554432.0, 786432.0, 70.72, 102.266, 72.0),
    _point("matmul n=1024", "matmul", 2147483648.0, 12582912.0, 76.47, 102.266, 56.2),
    _point("gelu 2000x2000", "gelu", 32e6, 32e6, 2.59, 34.9246, 1.5),
    _point("add 4096x4096", "add", 16777216.0, 201326592.0, 2.07, 2.91, 2.07),
]
ORIGIN = "from calibration 00a6a4931b84"


def measured_result() -> GradeResult:
    """A strong submission with every kind of measured data the checks record."""
    items = [
        _item("matmul.square", 3, 3, "passed", output="passed"),
        _item("speed.matmul_vs_naive", 4, 4, "passed", category="speed", data=_speed_data(
            "vectorized_matmul against a pure-Python triple loop (64x64)", _est(631.8, 175.8, 881.9, 5),
            _est(736.8, 224.4, 1437.8, 5), 84.66, f"0.1 x the reference's 847x, {ORIGIN}",
            {"n=64": {"student": 2.33e-05, "reference": 1.85e-05, "baseline": 0.01494}})),
        _item("speed.matmul_vs_reference", 5, 5, "passed", category="speed", data=_speed_data(
            "vectorized_matmul against the reference at n = 64, 256 and 1024", _est(1.015, 0.716, 1.485, 7),
            None, 0.7, f"0.7 x the reference's 1x, {ORIGIN}",
            {"n=64": {"student": 1.37e-05, "baseline": 1.21e-05}, "n=1024": {"student": 0.0281, "baseline": 0.0382}})),
        _item("speed.fused_gelu", 7, 7, "passed", category="speed", data=_speed_data(
            "fused_gelu against the unfused GELU on a 2000x2000 float32 input", _est(1.804, 1.671, 2.095, 13),
            _est(1.083, 0.838, 1.265, 13), 1.126, f"1 + 0.5 x (reference gain 1.25x - 1), {ORIGIN}",
            {"2000x2000": {"student": 0.01236, "reference": 0.02132, "baseline": 0.01775}})),
        _item("speed.tiled_matmul", 5, 5, "passed", category="speed", data=_speed_data(
            "tiled_matmul (tile 64) against BLAS vectorized_matmul at n = 384", _est(0.579, 0.572, 0.616, 7),
            _est(0.565, 0.298, 0.589, 7), 0.217, f"0.4 x the reference's 0.543x, {ORIGIN}",
            {"n=384": {"student": 0.00228, "reference": 0.00252, "baseline": 0.00136}})),
        _item("speed.mlp_block", 4, 4, "passed", category="speed", visibility="hidden", data=_speed_data(
            "the MLP block against the reference's", _est(1.19, 0.989, 1.646, 7), None, 0.7,
            f"0.7 x the reference's 1x, {ORIGIN}", {"256x512x2048": {"student": 0.0152, "baseline": 0.0156}})),
        _item("memory.fused_gelu", 10, 10, "passed", category="memory", output="peak 15.3 MB", data={
            "what": "tracemalloc peak of one fused_gelu call on 2000x2000 float32, against the unfused GELU",
            "memory": {"baseline": {"peak": 144001176, "dtype": "float32", "rss_delta": 0, "tampering": None},
                       "reference": {"peak": 48000604, "dtype": "float32", "rss_delta": 0, "tampering": None},
                       "student": {"peak": 16000588, "dtype": "float32", "rss_delta": 15998976, "tampering": None}},
            "threshold": 2.4, "threshold_origin": f"0.8 x the reference's 3x reduction, {ORIGIN}",
            "score_input": {"value": 9.0, "threshold": 2.4}}),
        _item("roofline.measured_predict", 3, 3, "passed", category="roofline",
              hint="Predict with min(peak, intensity x bandwidth).",
              output="5 of 5 predictions within the reference model's own accuracy on this machine",
              data={"points": [dict(p) for p in ROOFLINE_POINTS], "peak_gflops": 102.266,
                    "bandwidth_gbs": 34.9246, "calibration": "00a6a4931b84"}),
    ]
    return GradeResult(
        submission=_sub("lovelace_10001", "lovelace", sid="10001"),
        items=items,
        categories=[CategoryScore("correctness", 3, 3), CategoryScore("speed", 25, 25),
                    CategoryScore("memory", 10, 10), CategoryScore("roofline", 3, 3)],
        score=41, max_score=41, execution_time=27.7, stdout="benchmark: 1.8x\n",
        machine=dict(MACHINE), seed=1,
    )


@pytest.fixture
def measured() -> GradeResult:
    return measured_result()


def _item_by_id(result: GradeResult, check_id: str) -> ItemScore:
    return next(i for i in result.items if i.check_id == check_id)


# ---------------------------------------------------------------- roofline plot

def test_roofline_places_matmul_at_roof_and_gelu_under_slope(measured: GradeResult) -> None:
    view = roofline_view(_item_by_id(measured, "roofline.measured_predict"), measured.machine)
    plot = roofline_plot(view)
    assert plot is not None
    # The roofs are this machine's calibrated ones.
    assert plot.peak_gflops == CALIBRATION["peak_gflops"] and plot.bandwidth_gbs == CALIBRATION["bandwidth_gbs"]
    decade_px = plot.y(10) - plot.y(100)  # pixels per factor of 10 on the y axis (y grows downwards)
    assert decade_px > 0
    matmuls = [m for m in plot.series("measured") if m.op == "matmul"]
    gelus = [m for m in plot.series("measured") if m.op == "gelu"]
    assert len(matmuls) == 3 and len(gelus) == 1
    for m in matmuls:
        assert m.intensity > plot.ridge  # compute-bound side
        assert plot.attainable(m.intensity) == plot.peak_gflops
        assert m.y >= plot.roof_y(m.intensity)  # never above the roof
        assert m.y - plot.roof_y(m.intensity) < 0.5 * decade_px  # within ~3x of the compute roof
    big = next(m for m in matmuls if m.name == "matmul n=1024")
    assert big.y - plot.roof_y(big.intensity) < 0.2 * decade_px  # within ~1.6x
    for m in gelus:
        assert m.intensity < plot.ridge  # memory-bound side
        assert plot.attainable(m.intensity) == pytest.approx(m.intensity * plot.bandwidth_gbs)
        assert m.y > plot.roof_y(m.intensity)  # under the bandwidth slope
    # Predictions on the roof are drawn exactly on it; the box holds every marker.
    for m in plot.series("predicted"):
        if m.op == "matmul":
            assert m.y == pytest.approx(plot.roof_y(m.intensity))
    for m in plot.markers:
        assert plot.box.left <= m.x <= plot.box.right and plot.box.top <= m.y <= plot.box.bottom
    assert len(plot.series("reference")) == 5


def test_roofline_roof_polyline_and_axes(measured: GradeResult) -> None:
    plot = roofline_plot(roofline_view(_item_by_id(measured, "roofline.measured_predict")))
    roof = plot.roof_pixels()
    assert len(roof) == 3
    (x0, y0), (rx, ry), (x2, y2) = roof
    assert rx == pytest.approx(plot.x(102.266 / 34.9246)) and ry == pytest.approx(plot.y(102.266))
    assert y2 == pytest.approx(ry) and x2 == pytest.approx(plot.box.right)  # flat compute roof
    assert y0 > ry and x0 < rx  # rising bandwidth slope
    # Slope 1 on log-log axes: one decade of intensity is one decade of GFLOP/s.
    px_x = plot.x(10) - plot.x(1)
    px_y = plot.y(1) - plot.y(10)
    assert (y0 - ry) / (rx - x0) == pytest.approx(px_y / px_x)
    assert plot.x.decades() == [0.1, 1.0, 10.0, 100.0]
    assert 1.0 in plot.y.decades() and 100.0 in plot.y.decades()


def test_roofline_operation_labels_sit_under_their_markers(measured: GradeResult) -> None:
    plot = roofline_plot(roofline_view(_item_by_id(measured, "roofline.measured_predict")))
    by_name = {m.name: m.x for m in plot.series("measured")}
    assert sorted(label.text for label in plot.labels) == sorted(by_name)
    for label in plot.labels:
        x0, _, x1, y1 = label.bounds()
        assert plot.box.left <= x0 and x1 <= plot.box.right and y1 <= plot.box.bottom
        if plot.box.left + 2 < x0 and x1 < plot.box.right - 2:  # not pushed in from an edge
            assert (x0 + x1) / 2 == pytest.approx(by_name[label.text])
    for a, b in itertools.combinations(plot.labels, 2):
        ax0, ay0, ax1, ay1 = a.bounds()
        bx0, by0, bx1, by1 = b.bounds()
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)  # no two overlap


def test_roofline_svg_has_markers_ticks_and_legend(measured: GradeResult) -> None:
    view = roofline_view(_item_by_id(measured, "roofline.measured_predict"))
    svg = str(roofline_svg(roofline_plot(view), view))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="mk-measured"') == 5
    assert svg.count('class="mk-predicted"') == 5
    assert svg.count('class="mk-reference"') == 5
    for label in (">0.1<", ">1<", ">10<", ">100<", "compute roof 102 GFLOP/s", "bandwidth 34.9 GB/s",
                  "arithmetic intensity (FLOP/byte)", "GFLOP/s", "submission, measured",
                  "submission, predicted", "reference, measured", "this machine"):
        assert label in svg, label
    assert "http" not in svg  # no xmlns or links: inline SVG needs none


def test_roofline_without_predictions_or_roofs(measured: GradeResult) -> None:
    item = _item_by_id(measured, "roofline.measured_predict")
    for p in item.data["points"]:
        p["predicted_gflops"] = None
    plot = roofline_plot(roofline_view(item))
    assert plot.series("predicted") == [] and len(plot.series("measured")) == 5
    # No roofs recorded on the item: the machine's calibration supplies them.
    del item.data["peak_gflops"], item.data["bandwidth_gbs"]
    assert roofline_plot(roofline_view(item)) is None
    assert roofline_plot(roofline_view(item, MACHINE)).peak_gflops == 102.266
    item.data["points"] = [{"name": "bad", "intensity": float("nan"), "measured_gflops": "x"}]
    assert roofline_plot(roofline_view(item, MACHINE)) is None


# ---------------------------------------------------------------- scales, speed, memory, histogram

def test_log_scale_and_domain() -> None:
    s = LogScale(0.1, 1000, 0, 400)
    assert s(0.1) == 0 and s(1000) == 400 and s(10) == pytest.approx(200)
    assert s.decades() == [0.1, 1.0, 10.0, 100.0, 1000.0]
    assert s.invert(s(42.0)) == pytest.approx(42.0)
    lo, hi = log_domain([1.5, 1.8])  # narrow: widened to whole decades
    assert len(LogScale(lo, hi, 0, 1).decades()) >= 2
    assert log_domain([]) == (0.1, 10.0)
    assert log_domain([0, -1, float("nan"), 5])[0] > 0


def test_speed_panel_geometry(measured: GradeResult) -> None:
    view = speed_view(_item_by_id(measured, "speed.fused_gelu"))
    panel = speed_panel(view)
    bars = {b.label: b for b in panel.bars}
    assert list(bars) == ["baseline", "reference", "submission"]
    assert bars["baseline"].value == 1.0
    # Taller bar = bigger speedup; all bars stand on the axis.
    assert bars["submission"].y < bars["reference"].y < bars["baseline"].y
    for b in panel.bars:
        assert b.y + b.height == pytest.approx(panel.box.bottom)
    hi_y, lo_y = bars["submission"].whisker
    assert hi_y < bars["submission"].y < lo_y  # the CI brackets the median
    # The threshold (1.126x) sits between the baseline (1x) and the submission (1.8x).
    assert bars["submission"].y < panel.threshold_y < bars["baseline"].y
    no_ref = speed_panel(speed_view(_item_by_id(measured, "speed.matmul_vs_reference")))
    assert [b.label for b in no_ref.bars] == ["baseline", "submission"]
    svg = str(speed_svg(panel, view))
    assert 'class="threshold"' in svg and "needed 1.13x" in svg and "1.8x" in svg


def test_memory_bars_geometry(measured: GradeResult) -> None:
    view = memory_view(_item_by_id(measured, "memory.fused_gelu"))
    chart = memory_bars(view)
    widths = {b.label: b.width for b in chart.bars}
    assert widths["unfused baseline"] > widths["reference fused_gelu"] > widths["submission fused_gelu"] > 0
    assert widths["unfused baseline"] / widths["submission fused_gelu"] == pytest.approx(144001176 / 16000588)
    assert view.reduction == pytest.approx(9.0, rel=1e-3) and view.allowed_peak == pytest.approx(144001176 / 2.4)
    assert chart.bars[0].x < chart.allowed_x < chart.bars[0].x + widths["unfused baseline"]
    svg = str(memory_svg(chart, view))
    assert "137.3 MB" in svg and "15.3 MB" in svg and "45.8 MB" in svg and "needed" in svg


def test_histogram_bins() -> None:
    edges, counts = score_bins([0, 9.99, 10, 67.4, 99.9, 100, 100, 130, -5, float("nan")], 100)
    assert edges == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert counts == [4, 1, 0, 0, 0, 0, 1, 0, 0, 4]  # full marks in the last bin
    assert score_bins([25], 50)[0][1] == 5  # about 10 bins of a round width, whatever the total
    edges, counts = score_bins([41, 0, 38.5], 41)
    assert edges == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45] and counts == [1, 0, 0, 0, 0, 0, 0, 1, 1]
    assert bin_width(62.5) == 10 and bin_width(20) == 2
    hist = histogram([0, 100, 100], 100)
    assert hist.bars[-1].height > hist.bars[0].height > 0 and hist.bars[3].height == 0
    assert "<svg" in str(histogram_svg(hist))


def test_svg_escapes_labels() -> None:
    item = _item("speed.x", 0, 1, "failed", data=_speed_data(
        '<script>alert(1)</script>"', _est(1, 0.9, 1.1, 5), None, 1.2, "<b>origin</b>", {"<i>": {"student": 1}}))
    item.name = "<img src=x onerror=alert(1)>"
    view = speed_view(item)
    svg = str(speed_svg(speed_panel(view), view))
    assert "<script>" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    page = render_report(GradeResult(submission=_sub("s", "s"), items=[item], categories=[], score=0,
                                     max_score=1, execution_time=1))
    assert "<img src=x" not in page and "<b>origin</b>" not in page and "<i>" not in page


# ---------------------------------------------------------------- the report page

def test_report_shows_measured_figures_and_charts(measured: GradeResult) -> None:
    page = render_report(measured)
    _assert_self_contained(page)
    assert page.count('class="chart speed"') == 5  # every speed check, the hidden one too
    assert 'class="chart memory"' in page and "Roofline on the grading machine" in page
    for text in ("Performance on the grading machine", "speedup 632x (CI 176\u2013882, 5 rounds)",
                 "the reference reached 737x", "0.1 x the reference&#39;s 847x, from calibration 00a6a4931b84",
                 "made 2026-11-25T22:32:28+00:00", "seconds per call", "23.3 \u00b5s", "14.9 ms",
                 "9x less than the unfused GELU", "a peak of at most 57.2 MB", "matmul n=1024",
                 "within tolerance", "L2 1 MiB", "102.266 GFLOP/s (large float32 matmul)", "AMD EPYC"):
        assert text in page, text
    # Hints are for lost points only: this item passed, so its hint is not shown.
    assert "Predict with min(peak" not in page
    assert 'class="badge vis">hidden<' in page  # the hidden speed check is marked, not hidden


def test_report_hint_per_lost_point(measured: GradeResult) -> None:
    item = _item_by_id(measured, "roofline.measured_predict")
    item.score, item.status = 2.4, "partial"
    assert "Predict with min(peak" in render_report(measured)


def test_report_too_slow_speed_item(measured: GradeResult) -> None:
    item = _item_by_id(measured, "speed.tiled_matmul")
    item.data = {"what": "tiled_matmul against BLAS", "too_slow": "one call took over 30 s"}
    item.score, item.status = 0, "failed"
    page = render_report(measured)
    assert "Too slow to time: one call took over 30 s" in page
    assert page.count('class="chart speed"') == 4


def test_selfcheck_charts_follow_visibility(measured: GradeResult) -> None:
    page = render_selfcheck(measured)
    _assert_self_contained(page)
    assert page.count('class="chart speed"') == 4  # speed.mlp_block is hidden
    assert "MLP block" not in page and "mlp_block" not in page


def test_report_survives_odd_measured_data(measured: GradeResult) -> None:
    _item_by_id(measured, "speed.fused_gelu").data["speed"] = {"student_speedup": "fast", "seconds_per_call": 3}
    _item_by_id(measured, "memory.fused_gelu").data["memory"] = {"student": {"peak": float("inf")}}
    _item_by_id(measured, "roofline.measured_predict").data["points"] = [None, 7, {"intensity": -1}]
    measured.machine = {"calibration": "not a dict", "caches": [1, 2]}
    page = render_report(measured)
    # Unreadable figures fall back to the raw values; the rest of the page is intact.
    assert page.count('class="chart speed"') == 4 and "Roofline on the grading machine" not in page
    assert "speed.fused_gelu" in page and "fast" in page
    format_selfcheck(measured, width=60)


# ---------------------------------------------------------------- flags in plain words

def _flagged(flag: str) -> GradeResult:
    """A result carrying ``flag`` the way the grader records it."""
    reasons = {
        FLAG_CRASH: "the worker exited with signal 11 (SIGSEGV)",
        FLAG_TIMEOUT: "no answer within 30 s (an infinite loop?)",
        FLAG_MEMORY: "the call needed more than 2048 MB",
        FLAG_TAMPERING: "student: time.perf_counter was replaced",
        FLAG_NOISY: "the confidence interval still straddled the threshold after 31 rounds",
        FLAG_NOT_IMPLEMENTED: "fused_gelu raises NotImplementedError",
        FLAG_UNVERIFIED: "2000x2000: the answer of timed call 3 is wrong",
        FLAG_TOO_FAST: "2000x2000: 0.01 ms per call, under the 0.4 ms this machine allows",
        FLAG_MUTATES_INPUT: "fused_gelu changed its input",
    }
    item = _item("speed.fused_gelu", 0, 7, "failed", category="speed", flags=[flag],
                  data={"flag_reasons": {flag: reasons[flag]}} if flag in reasons else {})
    result = GradeResult(submission=_sub("flaggy", "Flaggy"), items=[item], categories=[], score=0,
                         max_score=7, execution_time=1)
    if flag == FLAG_MISSING:
        result.flags, result.functions_missing = [flag], ["tiled_matmul"]
    elif flag == FLAG_IMPORT_ERROR:
        result.flags, result.messages = [flag], ["the file failed to import: NameError: name 'x'"]
    elif flag == FLAG_GRADER_ERROR:
        result.flags, result.grader_error = [flag], "RuntimeError: worker pool exhausted"
    elif flag == FLAG_TAMPERING:
        result.flags = [flag]
    return result


ALL_FLAGS = [FLAG_BUSY, FLAG_CRASH, FLAG_TIMEOUT, FLAG_MEMORY, FLAG_TAMPERING, FLAG_NOISY, FLAG_MISSING,
             FLAG_NOT_IMPLEMENTED, FLAG_IMPORT_ERROR, FLAG_GRADER_ERROR, FLAG_UNVERIFIED, FLAG_TOO_FAST,
             FLAG_MUTATES_INPUT]

# A phrase a student must be able to find for each flag.
KEY_PHRASES = {
    FLAG_CRASH: "crashed the process running it",
    FLAG_TIMEOUT: "did not finish within its time limit",
    FLAG_MEMORY: "more memory than the grader allows",
    FLAG_TAMPERING: "the clock or tracemalloc replaced",
    FLAG_NOISY: "No points are lost for this",
    FLAG_MISSING: "is not in your file",
    FLAG_NOT_IMPLEMENTED: "still raises NotImplementedError",
    FLAG_IMPORT_ERROR: "raised an error while it was being imported",
    FLAG_GRADER_ERROR: "This is not your fault",
    FLAG_UNVERIFIED: "checked the answer of a randomly chosen timed call",
    FLAG_TOO_FAST: "faster than this machine can go",
    FLAG_MUTATES_INPUT: "wrote into its input array",
    FLAG_BUSY: "grade it again on a quiet machine",
}


def test_every_grader_flag_has_an_explanation() -> None:
    from grader import models

    known = {v for k, v in vars(models).items() if k.startswith("FLAG_")}
    assert known == set(ALL_FLAGS) == set(FLAG_EXPLANATIONS)


@pytest.mark.parametrize("flag", ALL_FLAGS)
def test_flag_explained_in_report(flag: str) -> None:
    result = _flagged(flag)
    page = render_report(result)
    section = page[page.index('id="flags"'):page.index('id="checks"')]
    assert str(escape(FLAG_EXPLANATIONS[flag])) in section
    assert KEY_PHRASES[flag] in FLAG_EXPLANATIONS[flag]
    assert f">{flag}</span>" in section
    if flag == FLAG_TAMPERING:
        assert "Measured checks get no credit, and a human will look" in FLAG_EXPLANATIONS[flag]
    reason = result.items[0].data.get("flag_reasons", {}).get(flag)
    if reason:
        assert str(escape(reason)) in section  # the specific cause, next to the general words
    # The self-check (terminal and HTML) says the same words.
    assert str(escape(FLAG_EXPLANATIONS[flag])) in render_selfcheck(result)
    terminal = " ".join(format_selfcheck(result, width=60).split())
    assert " ".join(FLAG_EXPLANATIONS[flag].split()) in terminal


def test_flags_in_selfcheck_skip_hidden_items() -> None:
    result = _flagged(FLAG_TIMEOUT)
    result.items[0].visibility = "hidden"
    assert "time limit" not in render_selfcheck(result)
    assert "time limit" not in format_selfcheck(result, width=80)
    assert "time limit" in render_report(result)


def test_index_attention_reasons(measured: GradeResult, hostile: GradeResult, broken: GradeResult) -> None:
    tampered = _flagged(FLAG_TAMPERING)
    page = render_index([measured, tampered, hostile, broken], "Acceleration", 100, MACHINE)
    _assert_self_contained(page, sort_script=True)
    attention = page[page.index('id="attention"'):page.index("<h2>Scores")]
    assert "worker pool exhausted" in attention  # grader error first
    assert "tampering in 1 check: speed.fused_gelu (student: time.perf_counter was replaced)" in attention
    assert "Import failed: SyntaxError &lt;script&gt;" in attention
    assert "lovelace" not in attention  # nothing to look at
    assert attention.index("jones/report.html") < attention.index("flaggy/report.html")
    # Histogram over graded submissions; a sortable table that is complete without script.
    assert 'class="chart histogram"' in page
    table = page[page.index('<table id="students">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr data-order=") == 4
    assert 'data-key="score" data-type="number"' in table and 'data-sort="41.0"' in table
    assert table.index("jones/report.html") < table.index("lovelace_10001/report.html")


def test_machine_rows_and_summary() -> None:
    rows = dict(machine_rows(MACHINE))
    assert rows["CPU"] == "AMD EPYC" and rows["caches"] == "L1d 32 KiB, L1i 32 KiB, L2 1 MiB, L3 32 MiB"
    assert "calibration" not in rows
    cal = dict(calibration_rows(MACHINE))
    assert cal["calibration id"] == "00a6a4931b84" and cal["kind"] == "full"
    assert machine_summary(MACHINE) == "AMD EPYC, 2 cores, numpy 2.4.6, openblas 0.3.31, calibration 00a6a4931b84"
    assert machine_rows({"weird": {"a": 1}}) == [("weird", '{"a": 1}')]
    assert machine_rows(None) == [] and calibration_rows({"calibration": 3}) == []


def test_terminal_measured_lines(measured: GradeResult) -> None:
    text = format_selfcheck(measured, width=60)
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "measured: speedup 1.8x (CI 1.67-2.1); reference 1.08x;" in text
    assert "measured: peak 15.3 MB" in text
    assert "Graded on: AMD EPYC" in text
    assert "mlp" not in text.lower()  # hidden
    text.encode("ascii")  # readable in any terminal encoding


# ---------------------------------------------------------------- progress

class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_progress_plain_lines_when_not_a_tty(strong: GradeResult, hostile: GradeResult) -> None:
    out = io.StringIO()
    progress = Progress(2, out)
    progress.start("smith")
    assert out.getvalue() == ""  # no live line in a log
    progress.done(strong)
    progress.start("evil")
    progress.done(hostile)
    progress.close()
    assert out.getvalue().splitlines() == [
        "[1/2] smith: 37.5/50 (12.6s)",
        "[2/2] evil: 0/20 [import-error, tampering] (3.4s)",
    ]
    assert "\r" not in out.getvalue()


def test_progress_live_line_on_a_tty(strong: GradeResult, hostile: GradeResult) -> None:
    out, clock = _TTY(), _Clock()
    progress = Progress(4, out, clock=clock, width=80)
    progress.start("smith")
    assert out.getvalue() == "\r[0/4]  grading smith  elapsed 0s"
    clock.now += 20
    progress.done(strong)
    # 20 s for the first of 4: 60 s to go.
    assert out.getvalue().endswith("\r[1/4]  working  elapsed 20s  ETA 1m00s")
    progress.start("evil")
    clock.now += 10
    progress.done(hostile)  # flagged: printed as a permanent line above the live one
    text = out.getvalue()
    assert "\n" in text and "[2/4] evil: 0/20 [import-error, tampering] (3.4s)\n" in text
    assert text.endswith("\r[2/4]  working  elapsed 30s  ETA 30s")
    progress.close()
    assert out.getvalue().endswith("\n")
    final = out.getvalue().rsplit("\r", 1)[-1]
    assert final.startswith("[2/4]  working  elapsed 30s")


def test_progress_tty_details(strong: GradeResult) -> None:
    out, clock = _TTY(), _Clock()
    progress = Progress(3, out, already=1, clock=clock, width=30)
    progress.start("a_student_with_a_very_long_name_indeed")
    for chunk in out.getvalue().split("\r")[1:]:
        assert len(chunk) <= 29  # never wraps, so "\r" can rewrite it
    clock.now += 10
    progress.done(strong)  # resumed submissions count as done, not towards the ETA
    assert progress.done_count == 2 and progress.eta() == pytest.approx(10.0)
    progress.close()
    progress.close()  # idempotent
    assert out.getvalue().count("\n") == 1
    # A shorter line blanks out what is left of the longer one.
    progress2 = Progress(2, _TTY(), clock=clock, width=80)
    progress2.start("long_name_here")
    progress2.start("x")
    last = progress2.stream.getvalue().rsplit("\r", 1)[-1]
    assert last.rstrip() == "[0/2]  grading x  elapsed 0s" and len(last) == len("[0/2]  grading long_name_here  elapsed 0s")


def test_progress_silent_and_escaped(strong: GradeResult) -> None:
    Progress(1, None).done(strong)  # no stream: nothing to do, no error
    strong.submission.student = "x\x1b[2Jy"
    out = io.StringIO()
    Progress(1, out).done(strong)
    assert "\x1b" not in out.getvalue()
    assert fmt_duration(5) == "5s" and fmt_duration(185) == "3m05s" and fmt_duration(3720) == "1h02m"


def test_report_names_the_cause_of_a_lost_point(measured: GradeResult) -> None:
    item = _item_by_id(measured, "speed.fused_gelu")
    item.score, item.status, item.hint = 2.0, "partial", "Wrap constants in np.float32(...)."
    item.causes = ["float64_upcast"]
    page = render_report(measured)
    assert '<code class="cause">float64_upcast</code>' in page
    tests = {t["extra_data"]["check_id"]: t for t in results_dict(measured)["tests"]}
    assert tests["speed.fused_gelu"]["extra_data"]["causes"] == ["float64_upcast"]
    assert tests["matmul.square"]["extra_data"]["causes"] == []
