"""Similarity flags: a renamed copy is flagged on the class page and in summary.json, honest
solutions are not, no score changes, and grade merge compares across shards.

The class (tests/fixtures/similarity/) is one solution (ada), a copy of it with every name,
comment and message changed (brook), and three solutions written independently (carmen,
dmitri, eun). Grading uses only unmeasured categories: nothing here needs a calibration
or depends on timing.
"""
from __future__ import annotations

import fcntl
import html
import json
import shutil
from pathlib import Path

import pytest

from grader.cli import main
from grader.measure import load, lock
from grader.similarity import DEFAULT_THRESHOLD, Entry, boilerplate_sources, compare

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
EXAMPLES = ROOT / "examples" / "submissions"
CORPUS = ROOT / "tests" / "corpus"
SEED = 1313
FAST = ["--categories", "integration", "--seed", str(SEED), "--quiet"]
COPY_PAIR = {"ada_20101", "brook_20102"}


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def entries(paths: list[Path]) -> list[Entry]:
    return [Entry(p.stem, p.stem, None, p.read_text(encoding="utf-8", errors="replace")) for p in paths]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cache) -> dict[str, Path]:
    """The class graded with similarity, without it, as shards 1/3..3/3 (the copy pair split), merged."""
    base = tmp_path_factory.mktemp("similar")
    shutil.copytree(FIXTURES, base / "class")
    out = {"with": base / "with", "without": base / "without", "merged": base / "merged"}
    assert main([str(base / "class"), "--out", str(out["with"]), *FAST]) == 0
    assert main([str(base / "class"), "--out", str(out["without"]), "--no-similarity", *FAST]) == 0
    shards = []
    for i in (1, 2, 3):
        shards.append(base / f"shard-{i}")
        assert main([str(base / "class"), "--shard", f"{i}/3", "--out", str(shards[-1]), *FAST]) == 0
    out.update({f"shard-{i}": s for i, s in enumerate(shards, start=1)})
    assert main(["merge", *map(str, shards), "--out", str(out["merged"]), "--quiet"]) == 0
    return out


def test_the_copy_pair_and_only_it_is_flagged(runs):
    data = summary(runs["with"])
    pairs = data["similarity"]["pairs"]
    assert [set(p["students"]) for p in pairs] == [COPY_PAIR]
    assert pairs[0]["score"] >= DEFAULT_THRESHOLD and pairs[0]["overlap_tokens"] > 0
    assert data["similarity"]["submissions"] == 5 and data["similarity"]["pairs_compared"] == 10
    rows = {r["student"]: r for r in data["students"]}
    assert "similar to brook" in rows["ada_20101"]["flags"] and "similar to ada" in rows["brook_20102"]["flags"]
    assert [s["student"] for s in rows["ada_20101"]["similar_to"]] == ["brook_20102"]
    for slug in set(rows) - COPY_PAIR:
        assert rows[slug]["similar_to"] == [] and not any(f.startswith("similar") for f in rows[slug]["flags"])
    assert data["counts"]["flags"]["similar"] == 2


def test_the_class_page_lists_the_pair_with_a_side_by_side_view(runs):
    page = (runs["with"] / "index.html").read_text(encoding="utf-8")
    view = summary(runs["with"])["similarity"]["pairs"][0]["view"]
    assert 'id="similarity"' in page and f'href="{view}"' in page
    assert page.count("similar to ") >= 2  # a badge on both students
    side = (runs["with"] / view).read_text(encoding="utf-8")
    assert "<mark>" in side and "tiled_matmul" in side and "no score was changed" in side
    assert "default-src 'none'" in html.unescape(side)  # self-contained: nothing fetched, no script
    assert "http://" not in side and "https://" not in side


def test_similarity_changes_no_score_and_no_student_file(runs):
    with_, without = summary(runs["with"]), summary(runs["without"])
    assert {r["student"]: r["score"] for r in with_["students"]} == \
        {r["student"]: r["score"] for r in without["students"]}
    assert (runs["with"] / "grades.csv").read_text() == (runs["without"] / "grades.csv").read_text()
    assert "similarity" not in without and not (runs["without"] / "_similarity").exists()
    assert 'id="similarity"' not in (runs["without"] / "index.html").read_text()
    # A classmate's name never lands in what a student may see.
    for me, other in (("ada_20101", "brook"), ("brook_20102", "ada")):
        results = (runs["with"] / me / "results.json").read_text()
        assert f"similar to {other}" not in results
        assert "similar to" not in (runs["with"] / me / "report.html").read_text()


def test_merge_compares_across_shards(runs):
    shard_of = {r["student"]: name for name in ("shard-1", "shard-2", "shard-3")
                for r in summary(runs[name])["students"]}
    assert shard_of["ada_20101"] != shard_of["brook_20102"]  # the pair is split across nodes
    assert all(not summary(runs[f"shard-{i}"])["similarity"]["pairs"] for i in (1, 2, 3))
    merged = summary(runs["merged"])
    assert [set(p["students"]) for p in merged["similarity"]["pairs"]] == [COPY_PAIR]
    assert (runs["merged"] / merged["similarity"]["pairs"][0]["view"]).is_file()


def test_honest_classes_raise_no_flag():
    """The false-flag rate at the default threshold: zero on the example class and on the hostile
    corpus's own files (each written separately)."""
    for paths in (sorted(EXAMPLES.glob("*.py")), sorted(CORPUS.rglob("*.py"))):
        report, _ = compare(entries(paths), boilerplate_sources())
        assert report.submissions == len(paths) and report.pairs == [], [(p.a, p.b, p.score) for p in report.pairs]


def test_the_copy_stands_out_in_a_larger_class():
    report, _ = compare(entries(sorted(FIXTURES.glob("*.py")) + sorted(EXAMPLES.glob("*.py"))), boilerplate_sources())
    assert [{p.a, p.b} for p in report.pairs] == [{"ada_20101_30101_acceleration", "brook_20102_30102_acceleration"}]


def test_hostile_text_is_read_never_run(tmp_path):
    marker = tmp_path / "ran"
    solution = (EXAMPLES / "lovelace_10001_20001_acceleration.py").read_text()
    payload = "# </pre><script>alert(1)</script>\n"
    hostile = [
        Entry("writer", "writer", None, f"open({str(marker)!r}, 'w').write('x')\nimport os\nos._exit(3)\n" * 50),
        Entry("binaryish", "binaryish", None, "\x00\x1b[31m\ufffd" * 2000 + "def f(:\n  )))"),
        Entry("empty", "empty", None, ""),
        Entry("huge", "huge", None, "x = 1\n" * 200_000),
        Entry("html", "html", None, payload + solution),
        Entry("html2", "html2", None, solution.replace("def ", payload + "def ")),
    ]
    report, regions = compare(hostile, boilerplate_sources())
    assert not marker.exists()
    assert {s["student"] for s in report.skipped} == {"empty", "huge"}
    assert [{p.a, p.b} for p in report.pairs] == [{"html", "html2"}]
    from grader.similarity.view import render_pair

    page = render_pair(report.pairs[0], report, hostile[4], hostile[5], regions[("html", "html2")])
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_bad_threshold_is_a_clear_error(tmp_path, capsys):
    assert main([str(FIXTURES), "--similarity-threshold", "abc", "--out", str(tmp_path / "o")]) == 2
    assert main([str(FIXTURES), "--similarity-threshold", "150", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--similarity-threshold" in err and "Traceback" not in err


def test_a_lower_threshold_in_percent_is_honoured():
    from grader.similarity.options import threshold

    assert threshold("60") == threshold("60%") == threshold("0.6") == 0.6


# ------------------------------------------------------------------ the machine in the record

def test_lock_waits_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELGRADE_LOCK", str(tmp_path / "lock"))
    real = fcntl.flock

    def busy_first(fd, op):  # another grader holds it at the first try
        if op & fcntl.LOCK_NB:
            raise BlockingIOError
        return real(fd, op)

    mark = lock.lock_mark()
    with lock.machine_lock(exclusive=False):
        pass
    assert lock.lock_waits_since(mark).waits == 0
    monkeypatch.setattr(lock.fcntl, "flock", busy_first)
    with lock.machine_lock(exclusive=True):
        pass
    waited = lock.lock_waits_since(mark)
    assert waited.waits == 1 and waited.seconds >= 0 and waited.longest == waited.seconds  # noqa: timing (a count, and a duration only checked to be recorded)


def test_machine_state_from_proc_stat_counters():
    before = load.Snapshot(0.0, (1.0, 1.0, 1.0),
                           dict.fromkeys(("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"), 0.0),
                           own_cpu=0.0)
    after = load.Snapshot(10.0, (2.0, 1.5, 1.0), {"user": 8.0, "nice": 0.0, "system": 2.0, "idle": 8.0,
                                                  "iowait": 0.0, "irq": 0.0, "softirq": 0.0, "steal": 2.0},
                          own_cpu=4.0)
    state = load.machine_state(before, after, lock.LockWaits(2, 3.0, 2.5)).as_dict()
    assert state["others_cpu_share"] == 0.3 and state["steal_share"] == 0.1 and state["own_cpu_share"] == 0.2
    assert state["lock_waits"] == {"waits": 2, "seconds": 3.0, "longest": 2.5}
    line = load.describe(state)
    assert "other processes used 30.0%" in line and "steal 10.0%" in line and "waited 2 time(s)" in line


def test_batch_records_the_machine_state(runs):
    state = summary(runs["with"])["machine_state"]
    assert state["cpus"] >= 1 and state["lock_waits"]["waits"] >= 0
    assert state["loadavg_before"] and state["others_cpu_share"] is not None
    assert 'id="machine-state"' in (runs["with"] / "index.html").read_text()
    merged = summary(runs["merged"])
    assert set(merged["machine_state"]) == {"shard 1/3", "shard 2/3", "shard 3/3"}
    assert all(m["machine_state"]["lock_waits"] is not None for m in merged["merged_from"])
    results = json.loads((runs["with"] / "ada_20101" / "results.json").read_text())
    assert "lock_waits" in results["extra_data"]["machine"]
