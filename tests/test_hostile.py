"""The hostile corpus (issue 5): whatever a submission does, it gets a fair verdict and a report,
the batch finishes, nothing it starts outlives the batch and nothing it writes lands outside
the output and temporary folders.

Every case is a submission in ``tests/corpus/`` (the lovelace example solution plus one hostile
part, so a case's damage shows as points lost exactly where expected) or is built here at test
time (binary, zip, notebook and symlink cases). The whole corpus is graded ONCE per session
through the real CLI (``grader.cli.main``) with the unmeasured categories; every test then reads
what that batch wrote.

One case, ``tests/corpus/cli_only/forge_out_folder.py``, needs the ``grade`` command to be its
parent process (it reads ``--out`` from the parent's command line), so it is graded in a small
batch of its own through ``python -m grader.cli``.

Cases marked ``xfail(strict=True)`` are product bugs or gaps: the test states the right
behaviour, the reason says what goes wrong.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
LOVELACE = ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py"
RUBRIC = ROOT / "rubrics" / "acceleration.yaml"
CATEGORIES = ("correctness", "integration")
SEED = 7
# Every file a corpus case writes, and every line it prints on purpose, carries this.
MARKER = "accelgrade-hostile-corpus"
FORGED = f"{MARKER}: forged"  # the output line of every forged results.json
# The per-call timeout defaults to 60 s; the infinite-loop case would cost 3 x 60 s, so the session
# passes --call-timeout 1: the correctness checks call on small inputs, 50 ms at most (measured on the
# demo class), so a second is twenty times that.
CALL_TIMEOUT = 1.0

# ---- which checks call which function (correctness + integration) -------------------------------
MATMUL_VALUES = {"matmul.square", "matmul.nonsquare", "matmul.batched", "matmul.broadcast"}
MATMUL_ERRORS = {"matmul.error_mismatch", "matmul.error_ndim"}
GELU_FUSED = {"gelu.values", "gelu.zero_monotonic", "gelu.extremes", "gelu.dtype_shape",
              "gelu.input_unchanged", "gelu.unfused_matches"}
GELU_VALUES = {"gelu.values", "gelu.zero_monotonic", "gelu.extremes", "gelu.unfused_matches"}
USES_UNFUSED = {"gelu.input_unchanged", "gelu.unfused_matches", "integration.tiled_block"}
MLP = {"integration.mlp_block", "integration.batched_block"}  # vectorized_matmul + fused_gelu
TILED = {"tiled.exact_tiles", "tiled.ragged_edges", "tiled.tile_sizes", "tiled.errors",
         "integration.tiled_block"}


def _points() -> dict[str, float]:
    rubric = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    return {i["check"]: float(i["points"]) for i in rubric["items"] if i["category"] in CATEGORIES}


POINTS = _points()
ALL = set(POINTS)

# case (output folder) -> checks it must lose; every other check keeps its points
LOST: dict[str, set[str]] = {
    "exit_sys_import": ALL,
    "exit_os_import": ALL,
    "exit_os_in_gelu": GELU_FUSED | MLP,
    "exit_os_in_both_gelus": GELU_FUSED | MLP | {"integration.tiled_block"},
    "sys_exit_in_fn": USES_UNFUSED,
    "hang_in_tiled": TILED,
    "memory_blowup": MATMUL_VALUES | MATMUL_ERRORS | MLP,
    "background_procs": set(),
    "daemon_escape": set(),
    "daemon_clean_env": set(),
    "big_output": set(),
    "forged_results": TILED - {"tiled.errors"},
    "patched_numpy": MATMUL_VALUES | MLP,
    "rigged_subclass": MATMUL_VALUES | MLP,
    "rigged_object": GELU_VALUES | MLP | {"gelu.input_unchanged"},  # unchanged but wrong earns nothing
    "memo_first_answer": {"gelu.zero_monotonic", "gelu.extremes", "gelu.dtype_shape",
                          "gelu.unfused_matches", "gelu.input_unchanged"} | MLP,
    "import_reference": {"gelu.values", "gelu.extremes", "gelu.unfused_matches", "gelu.input_unchanged"} | MLP,
    "reference_by_path": {"gelu.values", "gelu.extremes", "gelu.unfused_matches", "gelu.input_unchanged"} | MLP,
    "mutate_input": {"gelu.input_unchanged"},
    "mutate_input_patched_eq": {"gelu.input_unchanged"},
    "wrong_types": MATMUL_VALUES | MLP | GELU_FUSED,
    "syntax_error": ALL,
    "smith_10001": set(),
    "smith_10001-2": TILED,
    # built at test time
    "not_utf8": ALL,
    "notebook_broken_cell": ALL,
    "zip_traversal": set(),
    "zip_bomb": ALL,
    "zip_symlink": set(),
    "folder_link_outside": ALL,
    "folder_with_etc_link": set(),
}

XFAIL: dict[str, str] = {}  # case -> reason, for product bugs still open


def _expected_score(case: str) -> float:
    return sum(POINTS.values()) - sum(POINTS[c] for c in LOST[case])


# ---- building the class folder ------------------------------------------------------------------
def _base_source() -> str:
    text = LOVELACE.read_text(encoding="utf-8")
    return text[: text.index('if __name__ == "__main__":')].rstrip() + "\n"


BASE_LINE = "# BASE: the lovelace example solution goes here"


def corpus_source(case: Path) -> str:
    """A corpus case as graded: its docstring, the working base solution, then its hostile part."""
    text = case.read_text(encoding="utf-8")
    head, _, rest = text.partition(BASE_LINE)
    if not rest:
        return text
    return head + _base_source() + "\n" + rest.split("\n", 1)[1]


def _zip_info(name: str, *, symlink: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 9, 17, 12, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so external_attr carries a mode
    mode = (stat.S_IFLNK | 0o777) if symlink else (stat.S_IFREG | 0o644)
    info.external_attr = mode << 16
    return info


def build_binary_cases(class_dir: Path, outside: Path) -> None:
    """The cases that are not one .py file: a latin-1 file, a notebook, zips, folders with links."""
    base = _base_source()
    # A file that is not UTF-8: a latin-1 é in a comment.
    (class_dir / "not_utf8.py").write_bytes(
        b"# Hostile corpus case not_utf8: saved as latin-1 (caf\xe9), not UTF-8.\n" + base.encode("utf-8"))
    # A notebook whose last code cell raises when run.
    notebook = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Acceleration\n"]},
            {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": base},
            {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
             "source": f"raise RuntimeError('{MARKER}: this cell is broken')\n"},
        ],
    }
    (class_dir / "notebook_broken_cell.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    # A zip with path-traversal members next to a good acceleration.py.
    evil = f"open('{MARKER}-evil.txt', 'w').write('{MARKER}')\n"
    with zipfile.ZipFile(class_dir / "zip_traversal.zip", "w") as zf:
        zf.writestr(_zip_info("../../evil.py"), evil)
        zf.writestr(_zip_info("/tmp/evil_abs.py"), evil)
        zf.writestr(_zip_info("acceleration.py"), base)
    # A zip bomb: 100 MB of zeros that deflate to ~100 KB.
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(class_dir / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("acceleration.py", "w") as member:
        for _ in range(100):
            member.write(chunk)
    # A zip whose acceleration.py is a symlink to /etc/passwd; the real file sits in lab/.
    with zipfile.ZipFile(class_dir / "zip_symlink.zip", "w") as zf:
        zf.writestr(_zip_info("acceleration.py", symlink=True), "/etc/passwd")
        zf.writestr(_zip_info("lab/acceleration.py"), base)
    # A folder whose acceleration.py is a symlink to a (correct) file outside it.
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "acceleration.py").write_text(base, encoding="utf-8")
    linked = class_dir / "folder_link_outside"
    linked.mkdir()
    (linked / "acceleration.py").symlink_to(outside / "acceleration.py")
    # A folder holding a valid file plus a symlink to /etc.
    etc = class_dir / "folder_with_etc_link"
    etc.mkdir()
    (etc / "acceleration.py").write_text(base, encoding="utf-8")
    (etc / "etc").symlink_to("/etc")


# ---- what the batch must not leave behind --------------------------------------------------------
_NOISE_DIRS = {".git", "__pycache__", ".pytest_cache", "node_modules", ".mypy_cache", ".ruff_cache"}
_OUTPUT_NAMES = {"results.json", "report.html", "summary.json", "index.html", "grades.csv", "evil.py",
                 "evil_abs.py"}


def _snapshot(root: Path, *, skip_hidden_dirs: bool = False, limit: int = 200_000) -> dict[str, tuple]:
    """relative path -> (size, mtime_ns) of every file and link under root (not following links)."""
    found: dict[str, tuple] = {}
    stack = [root]
    while stack and len(found) < limit:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name in _NOISE_DIRS or entry.name.endswith(".egg-info"):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not (skip_hidden_dirs and entry.name.startswith(".")):
                        stack.append(Path(entry.path))
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[os.path.relpath(entry.path, root)] = (st.st_size, st.st_mtime_ns)
    return found


def _ours(path: Path, names: set[str]) -> bool:
    """Could this new file have come from the corpus or from grading it (not from a colleague's work)?"""
    if path.name in _OUTPUT_NAMES or MARKER in path.name:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    return MARKER in head or any(f'"{n}"' in head for n in names)


_SLEEPERS = (["sleep", "300"], ["sleep", "301"])
_NAMED = ("hostile-fork", "hostile-daemon")


def _corpus_processes(since: float) -> list[psutil.Process]:
    """Live processes the corpus starts: `sleep 300/301` and the renamed forked children."""
    found = []
    for p in psutil.process_iter(["name", "cmdline", "create_time", "status"]):
        try:
            if (p.info["create_time"] or 0) < since - 1 or p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if p.info["name"] in _NAMED or (p.info["cmdline"] or [])[:2] in _SLEEPERS:
                found.append(p)
        except psutil.Error:
            continue
    return found


def _describe(p: psutil.Process) -> str:
    try:
        return f"pid {p.pid} {p.name()} {' '.join(p.cmdline()[:3])[:80]}"
    except psutil.Error:
        return f"pid {p.pid}"


def _live_children() -> set[tuple[int, float]]:
    out = set()
    for c in psutil.Process().children(recursive=True):
        try:
            # multiprocessing's resource tracker (started for --jobs) lives as long as this test
            # process by design: it is the standard library's, not a worker or anything it started.
            if c.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(c.cmdline()):
                out.add((c.pid, c.create_time()))
        except psutil.Error:
            continue
    return out


def _shorter_call_timeout(mp: pytest.MonkeyPatch) -> list[str]:
    """CLI arguments that bring the per-call timeout down to CALL_TIMEOUT (hangs cost less)."""
    return ["--call-timeout", f"{CALL_TIMEOUT:g}"]


@dataclass
class HostileBatch:
    class_dir: Path
    out: Path
    worker_tmp: Path  # the grader's temporary folder during the batch
    outside: Path
    exit_code: int
    seconds: float
    cases: list[str]
    leaked: list[str]  # corpus processes alive right after the batch (then ended by the fixture)
    new_children: set
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    evil_abs_before: tuple | None = None

    def results(self, case: str) -> dict:
        return json.loads((self.out / case / "results.json").read_text(encoding="utf-8"))

    def report(self, case: str) -> str:
        return (self.out / case / "report.html").read_text(encoding="utf-8")

    def tests(self, case: str) -> dict[str, dict]:
        return {t["extra_data"]["check_id"]: t for t in self.results(case)["tests"]}

    def failed(self, case: str) -> set[str]:
        return {cid for cid, t in self.tests(case).items() if t["score"] < t["max_score"]}

    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))


def _stat_or_none(path: Path) -> tuple | None:
    try:
        st = path.lstat()
        return (st.st_size, st.st_mtime_ns)
    except OSError:
        return None


@pytest.fixture(scope="session")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory) -> HostileBatch:
    """Grade the whole corpus once, watching processes and the file system around it."""
    from grader.cli import main

    class_dir = tmp_path_factory.mktemp("hostile_class")
    out = tmp_path_factory.mktemp("hostile_out") / "grades"
    worker_tmp = tmp_path_factory.mktemp("hostile_tmp")
    outside = tmp_path_factory.mktemp("hostile_outside")
    cache = tmp_path_factory.mktemp("hostile_cache")
    for case in sorted(CORPUS.glob("*.py")):
        (class_dir / case.name).write_text(corpus_source(case), encoding="utf-8")
    build_binary_cases(class_dir, outside)
    cases = sorted(LOST)

    home = Path.home()
    roots = {"project": (ROOT, False), "home": (home, True), "class": (class_dir, False)}
    before = {k: _snapshot(p, skip_hidden_dirs=h) for k, (p, h) in roots.items()}
    evil_abs_before = _stat_or_none(Path("/tmp/evil_abs.py"))
    children_before = _live_children()
    since = time.time()
    started = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCELGRADE_CACHE", str(cache))
        # Workers' folders go here, so what they leave behind (and `..` of their cwd) is visible
        # (TMPDIR for the --jobs processes, which start fresh interpreters).
        mp.setattr(tempfile, "tempdir", str(worker_tmp))
        mp.setenv("TMPDIR", str(worker_tmp))
        extra = _shorter_call_timeout(mp)
        # Two grading processes, as a class is graded: the corpus's hangs and timeouts overlap.
        code = main([str(class_dir), "--out", str(out), "--categories", ",".join(CATEGORIES),
                     "--seed", str(SEED), "--quiet", "--jobs", "2", "--no-similarity", *extra])
    seconds = time.monotonic() - started

    # Let killed processes be reaped, then record (and end) whatever the corpus left running.
    deadline = time.monotonic() + 3
    while _corpus_processes(since) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _corpus_processes(since)
    leaked = [_describe(p) for p in left]
    new_children = _live_children() - children_before
    for p in left:  # started by this test's submissions: end them by pid
        try:
            p.kill()
        except psutil.Error:
            pass
    after = {k: _snapshot(p, skip_hidden_dirs=h) for k, (p, h) in roots.items()}
    return HostileBatch(class_dir=class_dir, out=out, worker_tmp=worker_tmp, outside=outside, exit_code=code,
                        seconds=seconds, cases=cases, leaked=leaked, new_children=new_children,
                        before=before, after=after, evil_abs_before=evil_abs_before)


# ---- the batch as a whole ------------------------------------------------------------------------
def test_batch_completes_with_one_result_per_submission(hostile_batch: HostileBatch):
    assert hostile_batch.exit_code == 0
    # _similarity holds the class's pair pages (every case is the lovelace solution plus its damage)
    folders = sorted(p.name for p in hostile_batch.out.iterdir() if p.is_dir() and p.name != "_similarity")
    assert folders == hostile_batch.cases
    for case in hostile_batch.cases:
        files = [p.name for p in (hostile_batch.out / case).iterdir()]
        assert files.count("results.json") == 1 and files.count("report.html") == 1, (case, files)
        assert hostile_batch.results(case)["extra_data"]["student"] == case
    listed = sorted(s["student"] for s in hostile_batch.summary()["students"])
    assert listed == hostile_batch.cases
    assert hostile_batch.summary()["counts"]["submissions"] == len(hostile_batch.cases)


def test_a_hanging_function_is_waited_for_three_times_at_most(hostile_batch: HostileBatch):
    # A hang must not stall the batch: after three timeouts the function is not called again.
    outputs = [t["output"] for t in hostile_batch.tests("hang_in_tiled").values()]
    waited = sum("no answer within" in o and "not called again" not in o for o in outputs)
    assert 1 <= waited <= 3, outputs
    assert any("not called again" in o for o in outputs), outputs


def test_summary_scores_match_results(hostile_batch: HostileBatch):
    for entry in hostile_batch.summary()["students"]:
        assert entry["score"] == hostile_batch.results(entry["student"])["score"], entry["student"]


def _verdict_params():
    for case in sorted(LOST):
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[case])] if case in XFAIL else []
        yield pytest.param(case, marks=marks, id=case)


@pytest.mark.parametrize("case", list(_verdict_params()))
def test_case_verdict(hostile_batch: HostileBatch, case: str):
    """Exactly the expected checks lose their points; every other check keeps them."""
    assert hostile_batch.failed(case) == LOST[case], hostile_batch.results(case)["output"]
    assert hostile_batch.results(case)["score"] == pytest.approx(_expected_score(case))


def test_no_check_blames_the_grader(hostile_batch: HostileBatch):
    """Nothing in the corpus is a harness fault (wrong_types has its own xfail test)."""
    for case in hostile_batch.cases:
        results = hostile_batch.results(case)
        assert "grader-error" not in results["extra_data"]["flags"], case
        assert results["extra_data"]["grader_error"] is None, case


# ---- exits ---------------------------------------------------------------------------------------
def test_sys_exit_at_import(hostile_batch: HostileBatch):
    results = hostile_batch.results("exit_sys_import")
    assert results["score"] == 0
    assert "import-error" in results["extra_data"]["flags"]
    assert "SystemExit" in results["output"]
    assert "SystemExit" in hostile_batch.report("exit_sys_import")


def test_os_exit_at_import(hostile_batch: HostileBatch):
    results = hostile_batch.results("exit_os_import")
    assert results["score"] == 0
    assert "import-error" in results["extra_data"]["flags"]
    assert "exited with code 0" in results["output"]
    assert (hostile_batch.out / "exit_os_import" / "report.html").stat().st_size > 0


def test_os_exit_in_one_function_is_a_crash_of_those_checks_only(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("exit_os_in_gelu")
    for cid in LOST["exit_os_in_gelu"]:
        assert "crash" in tests[cid]["extra_data"]["flags"], cid
        assert "exited with code 1" in tests[cid]["output"], cid
    for cid in ALL - LOST["exit_os_in_gelu"]:
        assert tests[cid]["status"] == "passed" and not tests[cid]["extra_data"]["flags"], cid


def test_sys_exit_in_a_function_is_its_answer_not_a_crash(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("sys_exit_in_fn")
    for cid in LOST["sys_exit_in_fn"]:
        assert "SystemExit" in tests[cid]["output"], cid
        assert "crash" not in tests[cid]["extra_data"]["flags"], cid


# ---- hangs and memory ----------------------------------------------------------------------------
def test_infinite_loop_is_a_timeout_of_those_checks_only(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("hang_in_tiled")
    for cid in LOST["hang_in_tiled"]:
        assert "timeout" in tests[cid]["extra_data"]["flags"], cid
    assert "timeout" in hostile_batch.results("hang_in_tiled")["extra_data"]["flags"]


def test_memory_blowup_is_flagged(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("memory_blowup")
    for cid in LOST["memory_blowup"]:
        assert "MemoryError" in tests[cid]["output"], cid
    # The error checks expect a ValueError and report "got MemoryError" as their own failure;
    # the checks that wanted a value carry the flag.
    for cid in MATMUL_VALUES | MLP:
        assert "memory-limit" in tests[cid]["extra_data"]["flags"], cid
    assert "memory-limit" in hostile_batch.results("memory_blowup")["extra_data"]["flags"]


# ---- processes -----------------------------------------------------------------------------------
def test_background_processes_do_not_outlive_the_batch(hostile_batch: HostileBatch):
    """`sleep 300` in its own session, a forked sleeper, a double-fork daemon: none survive."""
    leaked = [p for p in hostile_batch.leaked if "301" not in p]  # the clean-env daemon: next test
    assert not leaked


def test_clean_environment_daemon_does_not_outlive_the_batch(hostile_batch: HostileBatch):
    assert not [p for p in hostile_batch.leaked if "301" in p]


def test_no_worker_or_child_of_the_grader_is_left(hostile_batch: HostileBatch):
    assert not hostile_batch.new_children
    # Each worker's temporary folder is removed when it ends.
    assert not [p for p in hostile_batch.worker_tmp.glob("accelgrade-*") if p.is_dir()]


# ---- output --------------------------------------------------------------------------------------
_TRUNCATED = re.compile(r"\[accelgrade: (\d+) more (?:bytes|characters) not shown\]")


def test_megabytes_of_output_are_capped(hostile_batch: HostileBatch):
    report = hostile_batch.report("big_output")
    assert _TRUNCATED.search(report), "no truncation marker in the report"
    assert "stdout spam" in report and "stderr spam" in report
    assert (hostile_batch.out / "big_output" / "report.html").stat().st_size < 1_000_000
    assert (hostile_batch.out / "big_output" / "results.json").stat().st_size < 1_000_000


def test_truncation_marker_counts_what_was_dropped(hostile_batch: HostileBatch):
    """The marker says how much was hidden (about 5 MB each), not the length of an inner marker."""
    report = hostile_batch.report("big_output")
    counts = [int(n) for n in _TRUNCATED.findall(report)]
    assert len(counts) >= 2, counts  # stdout and stderr
    assert all(n > 4_000_000 for n in counts), counts


# ---- forged results ------------------------------------------------------------------------------
def test_forged_results_are_not_believed(hostile_batch: HostileBatch):
    results = hostile_batch.results("forged_results")
    assert results["score"] == pytest.approx(_expected_score("forged_results"))
    assert results["score"] != 100
    assert FORGED not in json.dumps(results)


def test_no_results_file_but_the_graders(hostile_batch: HostileBatch):
    in_class = [str(p) for p in hostile_batch.class_dir.rglob("results.json")]
    assert not in_class
    expected = {hostile_batch.out / case / "results.json" for case in hostile_batch.cases}
    found = set(hostile_batch.out.rglob("results.json"))
    assert found == expected
    for path in found:
        text = path.read_text(encoding="utf-8")
        assert FORGED not in text, path
        assert json.loads(text)["extra_data"]["student"] == path.parent.name


@pytest.fixture(scope="session")
def hostile_cli_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lovelace (graded first) and forge_out_folder, through the `grade` command, out relative to cwd."""
    work = tmp_path_factory.mktemp("hostile_cli")
    class_dir = work / "class"
    class_dir.mkdir()
    shutil.copyfile(LOVELACE, class_dir / LOVELACE.name)
    (class_dir / "zz_forge_out_folder.py").write_text(corpus_source(CORPUS / "cli_only" / "forge_out_folder.py"))
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache"), TMPDIR=str(work))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "class", "--out", "grades", "--categories",
                           ",".join(CATEGORIES), "--seed", str(SEED), "--quiet"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr
    return work / "grades"


def test_a_submission_cannot_rewrite_other_students_results(hostile_cli_batch: Path):
    summary = json.loads((hostile_cli_batch / "summary.json").read_text(encoding="utf-8"))
    for entry in summary["students"]:
        text = (hostile_cli_batch / entry["student"] / "results.json").read_text(encoding="utf-8")
        assert FORGED not in text, entry["student"]
        assert json.loads(text)["score"] == entry["score"], entry["student"]


_SYSTEM_TMP = Path(tempfile.gettempdir()).resolve()
_TMP_PARENT_WRITABLE = os.access(_SYSTEM_TMP.parent, os.W_OK)


@pytest.fixture(scope="session")
def hostile_default_tmp_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """forged_results graded by `grade` with the system's own temporary folder (no override).

    Its worker's folder is then <system tmp>/accelgrade-XXXX, so `..` is the system temp folder
    and `../..` its parent. Returns, per target, whether the forged results.json appeared there;
    files this run created are removed again (only those carrying the forgery marker).
    """
    work = tmp_path_factory.mktemp("hostile_default_tmp")
    (work / "forged_results.py").write_text(corpus_source(CORPUS / "forged_results.py"))
    targets = {"tmp": _SYSTEM_TMP / "results.json", "tmp_parent": _SYSTEM_TMP.parent / "results.json"}
    existed = {k: p.exists() for k, p in targets.items()}
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "forged_results.py", "--out", "grades",
                           "--categories", ",".join(CATEGORIES), "--seed", str(SEED), "--quiet"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=240, check=False)
    created = {}
    for key, path in targets.items():
        created[key] = False
        if existed[key] or not path.exists():
            continue
        try:
            ours = FORGED in path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            ours = False
        if ours:
            created[key] = True
            path.unlink()
    assert proc.returncode == 0, proc.stderr
    return {"existed_" + k: v for k, v in existed.items()} | created


def test_forged_results_stay_inside_the_system_temp_folder(hostile_default_tmp_run: dict[str, bool]):
    if hostile_default_tmp_run["existed_tmp_parent"]:
        pytest.skip(f"{_SYSTEM_TMP.parent / 'results.json'} existed before the run; cannot tell")
    assert not hostile_default_tmp_run["tmp_parent"]


# ---- tampering and rigged answers ----------------------------------------------------------------
def test_patched_numpy_is_flagged(hostile_batch: HostileBatch):
    results = hostile_batch.results("patched_numpy")
    assert "tampering" in results["extra_data"]["flags"]
    for cid in MATMUL_VALUES:
        assert "values wrong" in hostile_batch.tests("patched_numpy")[cid]["output"], cid


def test_rigged_objects_are_judged_by_their_numbers(hostile_batch: HostileBatch):
    for case, cid in (("rigged_subclass", "matmul.square"), ("rigged_object", "gelu.values")):
        output = hostile_batch.tests(case)[cid]["output"]
        assert "values wrong" in output, (case, output)
    # The object's shape and dtype are right: those checks are not what catches it.
    assert hostile_batch.tests("rigged_object")["gelu.dtype_shape"]["status"] == "passed"


def test_memoised_answers_fail_on_fresh_inputs(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("memo_first_answer")
    assert tests["gelu.values"]["status"] == "passed"  # the first call computes honestly
    assert "shape" in tests["gelu.zero_monotonic"]["output"]


def test_reference_and_grader_are_not_importable(hostile_batch: HostileBatch):
    report = hostile_batch.report("import_reference")
    assert f"{MARKER} reference refused: ImportError" in report
    assert f"{MARKER} grader refused: ImportError" in report


def test_mutating_the_input_is_seen(hostile_batch: HostileBatch):
    output = hostile_batch.tests("mutate_input")["gelu.input_unchanged"]["output"]
    assert "modified its input" in output


# ---- wrong return types --------------------------------------------------------------------------
def test_wrong_return_types_get_plain_messages(hostile_batch: HostileBatch):
    tests = hostile_batch.tests("wrong_types")
    for cid in MATMUL_VALUES:
        assert "returned list" in tests[cid]["output"], cid
    for cid in GELU_FUSED - {"gelu.input_unchanged"}:
        assert "returned str" in tests[cid]["output"], cid
    for cid in LOST["wrong_types"]:
        assert "crash" not in tests[cid]["extra_data"]["flags"], cid


def test_wrong_return_types_are_not_grader_errors(hostile_batch: HostileBatch):
    results = hostile_batch.results("wrong_types")
    for cid, test in hostile_batch.tests("wrong_types").items():
        assert "grader-error" not in test["extra_data"]["flags"], (cid, test["output"])
        assert "grader error" not in test["output"], cid
    assert "grader-error" not in results["extra_data"]["flags"]


# ---- broken files --------------------------------------------------------------------------------
def test_syntax_error_is_named(hostile_batch: HostileBatch):
    results = hostile_batch.results("syntax_error")
    assert results["score"] == 0
    assert "SyntaxError" in results["output"]
    assert "import-error" in results["extra_data"]["flags"]


def test_non_utf8_file_gets_an_intake_error(hostile_batch: HostileBatch):
    results = hostile_batch.results("not_utf8")
    assert results["score"] == 0
    assert "UTF-8" in (results["extra_data"]["intake_error"] or "")
    assert "UTF-8" in hostile_batch.report("not_utf8")


def test_notebook_with_a_broken_cell(hostile_batch: HostileBatch):
    results = hostile_batch.results("notebook_broken_cell")
    assert results["score"] == 0
    assert "import-error" in results["extra_data"]["flags"]
    assert "RuntimeError" in results["output"]
    assert "RuntimeError" in hostile_batch.report("notebook_broken_cell")


# ---- zips and links ------------------------------------------------------------------------------
def test_zip_traversal_members_are_ignored_and_never_written(hostile_batch: HostileBatch):
    results = hostile_batch.results("zip_traversal")
    assert "../../evil.py" in results["output"] and "/tmp/evil_abs.py" in results["output"]
    for folder in (hostile_batch.class_dir, hostile_batch.class_dir.parent, hostile_batch.class_dir.parent.parent,
                   hostile_batch.out.parent, hostile_batch.worker_tmp):
        assert not (folder / "evil.py").exists(), folder
        assert not list(folder.glob(f"*{MARKER}*")), folder
    assert _stat_or_none(Path("/tmp/evil_abs.py")) == hostile_batch.evil_abs_before


def test_zip_bomb_is_refused_quickly(hostile_batch: HostileBatch):
    from grader.intake import load_submission

    results = hostile_batch.results("zip_bomb")
    assert results["extra_data"]["intake_error"]
    # Refused from the archive's directory alone: nothing is ever decompressed.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("the bomb was decompressed"))
        sub = load_submission(hostile_batch.class_dir / "zip_bomb.zip")
    assert sub.code is None and sub.intake_error


def test_zip_symlink_member_is_ignored_with_a_note(hostile_batch: HostileBatch):
    results = hostile_batch.results("zip_symlink")
    assert "symbolic link" in results["output"]
    assert "lab/acceleration.py" in results["output"]
    assert "root:" not in hostile_batch.report("zip_symlink")


def test_folder_symlink_to_outside_is_not_read(hostile_batch: HostileBatch):
    results = hostile_batch.results("folder_link_outside")
    assert results["score"] == 0
    assert results["extra_data"]["intake_error"]
    assert "outside" in results["output"]


def test_folder_with_a_link_to_etc_grades_the_valid_file(hostile_batch: HostileBatch):
    results = hostile_batch.results("folder_with_etc_link")
    assert results["extra_data"]["intake_error"] is None
    assert "root:" not in hostile_batch.report("folder_with_etc_link")


# ---- two hand-ins, one student id ----------------------------------------------------------------
def test_same_student_id_twice_keeps_both(hostile_batch: HostileBatch):
    first, second = hostile_batch.results("smith_10001"), hostile_batch.results("smith_10001-2")
    assert first["extra_data"]["student_id"] == second["extra_data"]["student_id"] == "10001"
    assert first["extra_data"]["code_hash"] != second["extra_data"]["code_hash"]
    assert (first["score"], second["score"]) == (_expected_score("smith_10001"), _expected_score("smith_10001-2"))
    for results in (first, second):
        assert "smith_10001_1_acceleration.py" in results["output"]
        assert "smith_10001_2_acceleration.py" in results["output"]
    ids = [s["student_id"] for s in hostile_batch.summary()["students"] if s["student"].startswith("smith")]
    assert ids == ["10001", "10001"]


# ---- the file system around the batch ------------------------------------------------------------
def test_class_folder_is_untouched(hostile_batch: HostileBatch):
    assert hostile_batch.after["class"] == hostile_batch.before["class"]


@pytest.mark.parametrize("where", ["project", "home"])
def test_nothing_written_outside_out_and_temp(hostile_batch: HostileBatch, where: str):
    """New files in the project tree or $HOME that the corpus or its grading could have made.

    Others edit the project while this runs, so a new file counts only when it looks like ours:
    a grader output name, or content carrying the corpus marker or a case's name.
    """
    root = ROOT if where == "project" else Path.home()
    new = set(hostile_batch.after[where]) - set(hostile_batch.before[where])
    ours = sorted(p for p in new if _ours(root / p, set(hostile_batch.cases)))
    assert not ours
