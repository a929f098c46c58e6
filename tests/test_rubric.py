"""The rubric validator (grader/scoring/rubric.py) and how the CLI reports a bad rubric.

Every broken rubric must raise RubricError phrased ``file:line: key: problem``,
with the line where the offending text is, so staff can jump straight to it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.checks import catalogue
from grader.cli import main
from grader.models import VISIBILITIES
from grader.scoring import RubricError, load_rubric

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rubrics"
SMALL = FIXTURES / "small.yaml"
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "rubrics" / "acceleration.yaml"
EXAMPLES = ROOT / "examples" / "submissions"


# ---------------------------------------------------------------- helpers

def base_text() -> str:
    return SMALL.read_text(encoding="utf-8")


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"fixture changed: {old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found {occurrence} time(s)"
    return hits[occurrence - 1]


def write(tmp_path: Path, text: str, name: str = "rubric.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(RubricError) as info:
        load_rubric(path, known_checks=catalogue().keys())
    return str(info.value)


def assert_located(message: str, path: Path, line: int, key: str) -> None:
    """The documented shape: ``file:line: key: what is wrong``."""
    prefix = f"{path}:{line}: {key}:"
    assert message.startswith(prefix), f"expected a message starting {prefix!r}, got {message!r}"
    assert "\n" not in message


# ---------------------------------------------------------------- valid rubrics

def test_shipped_rubric_loads_against_real_catalogue():
    rubric = load_rubric(SHIPPED, known_checks=catalogue().keys())
    assert rubric.assignment == "Acceleration"
    assert rubric.total == 100
    assert sum(rubric.categories.values()) == pytest.approx(rubric.total)
    for name, points in rubric.categories.items():
        in_cat = sum(i.points for i in rubric.items if i.category == name)
        assert in_cat == pytest.approx(points), f"category {name}: items {in_cat} vs {points}"
    assert sum(i.points for i in rubric.items) == pytest.approx(100)


def test_shipped_rubric_items_are_known_unique_and_well_formed():
    rubric = load_rubric(SHIPPED, known_checks=catalogue().keys())
    ids = [i.check_id for i in rubric.items]
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(catalogue())
    assert all(i.visibility in VISIBILITIES for i in rubric.items)
    assert all(i.points >= 0 for i in rubric.items)
    # Students must be able to see some checks in --self-check, but not all of them.
    visible = rubric.visible_checks()
    assert visible and visible != set(ids)
    assert len(rubric.digest) == 64


def test_small_fixture_rubric_loads_with_every_field(tmp_path):
    rubric = load_rubric(SMALL, known_checks=catalogue().keys())
    assert rubric.assignment == "Small"
    assert rubric.total == 20
    assert rubric.categories == {"correctness": 12, "roofline": 8, "speed": 0}
    assert rubric.category_order == ("correctness", "roofline", "speed")
    square, gelu, roof = rubric.items
    assert (square.check_id, square.points, square.visibility, square.partial) == (
        "matmul.square", 5, "visible", None)
    assert gelu.partial is not None and gelu.partial.floor == 0.5
    assert gelu.visibility == "hidden"
    assert roof.name == "Intensity formula" and roof.visibility == "after_published"
    assert rubric.visible_checks() == {"matmul.square"}
    assert rubric.item("gelu.values") is gelu and rubric.item("nope") is None


def test_visibility_defaults_to_visible(tmp_path):
    text = replace_once(base_text(), "    visibility: hidden\n", "")
    rubric = load_rubric(write(tmp_path, text), known_checks=catalogue().keys())
    assert rubric.item("gelu.values").visibility == "visible"


def test_digest_changes_with_content(tmp_path):
    a = load_rubric(write(tmp_path, base_text(), "a.yaml"))
    b = load_rubric(write(tmp_path, base_text() + "# a comment\n", "b.yaml"))
    assert a.digest != b.digest


# ---------------------------------------------------------------- broken rubrics

# (case id, old text, new text, needle marking the offending line, key in the message, words in the message)
BROKEN = [
    ("unknown top-level key", "assignment: Small\n", "assignment: Small\ncolour: red\n",
     "colour: red", "colour", "unknown key"),
    ("unknown item key", "    name: Intensity formula\n", "    name: Intensity formula\n    weight: 3\n",
     "weight: 3", "items[2].weight", "unknown key"),
    ("points as text", "    points: 7\n", '    points: "five"\n',
     'points: "five"', "items[1].points", "expected a number"),
    ("negative points", "    points: 8\n", "    points: -8\n",
     "points: -8", "items[2].points", "-8"),
    ("check id that does not exist", "check: matmul.square", "check: matmul.sqaure",
     "matmul.sqaure", "items[0].check", "matmul.sqaure"),
    ("unknown category", "    category: roofline\n", "    category: roofln\n",
     "category: roofln", "items[2].category", "roofln"),
    ("unknown visibility", "visibility: visible", "visibility: secret",
     "visibility: secret", "items[0].visibility", "secret"),
    ("partial floor of 1", "      floor: 0.5\n", "      floor: 1\n",
     "floor: 1", "items[1].partial.floor", "below 1"),
    ("duplicate category key", "  speed: 0\n", "  speed: 0\n  correctness: 3\n",
     "correctness: 3", "categories.correctness", "duplicate"),
]


@pytest.mark.parametrize("case,old,new,needle,key,words", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_rubric_names_file_line_and_key(tmp_path, case, old, new, needle, key, words):
    text = replace_once(base_text(), old, new)
    path = write(tmp_path, text)
    message = load_error(path)
    assert_located(message, path, line_of(text, needle), key)
    assert words in message


def test_missing_points_points_at_the_item(tmp_path):
    text = replace_once(base_text(), "    points: 8\n", "")
    path = write(tmp_path, text)
    message = load_error(path)
    assert_located(message, path, line_of(text, "- check: roofline.intensity"), "items[2].points")
    assert "missing" in message


def test_duplicate_check_points_at_second_occurrence(tmp_path):
    text = replace_once(base_text(), "check: roofline.intensity", "check: matmul.square")
    path = write(tmp_path, text)
    message = load_error(path)
    assert_located(message, path, line_of(text, "check: matmul.square", occurrence=2), "items[2].check")
    assert "twice" in message


def test_categories_not_adding_up_to_total(tmp_path):
    text = replace_once(base_text(), "total: 20", "total: 25")
    path = write(tmp_path, text)
    message = load_error(path)
    # The sum is a property of the whole categories block: its key line or its first entry.
    allowed = {line_of(text, "categories:"), line_of(text, "correctness: 12")}
    m = re.match(rf"{re.escape(str(path))}:(\d+): categories: ", message)
    assert m and int(m.group(1)) in allowed, message
    assert "20" in message and "25" in message


def test_items_not_adding_up_to_their_category_message(tmp_path):
    text = replace_once(replace_once(base_text(), "total: 20", "total: 21"), "  roofline: 8\n", "  roofline: 9\n")
    path = write(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}:")
    assert "categories.roofline:" in message
    assert "8" in message and "9" in message


def test_items_not_adding_up_points_at_that_category_line(tmp_path):
    text = replace_once(replace_once(base_text(), "total: 20", "total: 21"), "  roofline: 8\n", "  roofline: 9\n")
    path = write(tmp_path, text)
    assert_located(load_error(path), path, line_of(text, "roofline: 9"), "categories.roofline")


def test_nan_points_rejected(tmp_path):
    text = replace_once(base_text(), "    points: 7\n", "    points: .nan\n")
    path = write(tmp_path, text)
    assert_located(load_error(path), path, line_of(text, "points: .nan"), "items[1].points")


def test_invalid_yaml_names_the_line(tmp_path):
    text = replace_once(base_text(), "    points: 7\n", "    points: 7: 8\n")
    path = write(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}:{line_of(text, 'points: 7: 8')}:"), message
    assert "YAML" in message


@pytest.mark.parametrize("text", ["", "# only a comment\n"], ids=["empty", "comment-only"])
def test_empty_rubric(tmp_path, text):
    path = write(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}:1:")
    assert "empty" in message


def test_missing_rubric_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    message = load_error(path)
    assert message.startswith(str(path))
    assert "no such" in message


def test_missing_required_top_level_key(tmp_path):
    text = replace_once(base_text(), "total: 20\n", "")
    path = write(tmp_path, text)
    message = load_error(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: total: missing", message), message


def test_unknown_check_allowed_without_catalogue(tmp_path):
    # Without a catalogue the validator cannot know check ids; everything else still holds.
    text = replace_once(base_text(), "check: matmul.square", "check: future.check")
    rubric = load_rubric(write(tmp_path, text))
    assert rubric.items[0].check_id == "future.check"


# ---------------------------------------------------------------- the CLI

def test_cli_bad_rubric_exit_2_one_line(tmp_path, capsys):
    text = replace_once(base_text(), "    points: 8\n", "    points: -8\n")
    bad = write(tmp_path, text, "bad.yaml")
    out = tmp_path / "out"
    code = main([str(EXAMPLES), "--rubric", str(bad), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1, captured.err
    assert f"{bad}:{line_of(text, 'points: -8')}" in lines[0]
    assert "items[2].points" in lines[0]
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert not out.exists(), "nothing should be graded or written with a bad rubric"


def test_cli_missing_rubric_exit_2(tmp_path, capsys):
    missing = tmp_path / "gone.yaml"
    code = main([str(EXAMPLES), "--rubric", str(missing), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1
    assert str(missing) in err and "Traceback" not in err


def test_the_check_suite_ignores_the_callers_pytest_addopts(monkeypatch):
    """A CI job's PYTEST_ADDOPTS (here options the suite's own parser does not know) is for the
    job's tests: the grader's in-process check suite must still collect, and leave it set."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "--durations=60 -rfE --no-such-option")
    checks = catalogue.__wrapped__()
    assert "matmul.square" in checks and "speed.fused_gelu" in checks
    assert load_rubric(SHIPPED, known_checks=checks.keys()).items
    import os
    assert os.environ["PYTEST_ADDOPTS"] == "--durations=60 -rfE --no-such-option"
