"""Shared fixtures for the harness's own tests.

The expensive part, grading the demo class, runs once per session through the
real CLI (``grader.cli.main``) into a temporary folder; the tests read what it
wrote. Only fixtures named ``graded_*`` / ``run_*`` live here, so other test
modules can define their own fixtures freely.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples" / "submissions"
FIXTURE_SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
REFERENCE_FILE = ROOT / "reference" / "acceleration.py"
TEMPLATE_FILE = ROOT / "student_template" / "acceleration.py"
SHIPPED_RUBRIC = ROOT / "rubrics" / "acceleration.yaml"

# Measured checks (speed, memory, the roofline model against this machine) need a
# calibration and a quiet machine; the session's demo-class grading uses the shipped
# rubric minus those, so it runs in the end-to-end tier beside other tests.
MEASURED_PREFIXES = ("speed.", "memory.", "roofline.measured")

# Seed for every graded run in the session, so a failure can be reproduced with
# `grade ... --seed 20240917`.
GRADED_SEED = 20240917


@dataclass
class GradedRun:
    """What one session-wide CLI grading run produced."""

    out: Path  # the --out folder
    inputs: list[Path]  # the paths handed to `grade`
    exit_code: int
    seed: int
    # output folder name (student slug) of each extra file graded besides the examples
    reference_copy: str = "reference_copy"
    template_copy: str = "starter_template"
    tinytorch_style: str = "tinytorch_style"

    def folder(self, student: str) -> Path:
        return self.out / student

    def results(self, student: str) -> dict:
        return json.loads((self.out / student / "results.json").read_text(encoding="utf-8"))

    def report(self, student: str) -> str:
        return (self.out / student / "report.html").read_text(encoding="utf-8")

    def students(self) -> list[str]:
        return sorted(p.name for p in self.out.iterdir() if p.is_dir())


# Every test file sits in one tier, so a tier runs alone (`-m unit`, `-m "not measured"`):
#   unit      no sandbox, no grading run: records in, records or files out
#   e2e       grades through the sandbox, with rubrics that time nothing
#   measured  grades or calibrates with timed checks (minutes)
TIERS = {
    "test_measure": "measured", "test_calibration": "measured", "test_boundary": "measured",
    # end to end: short tests first (a worker's test in progress holds up the measured ones), then
    # the longest groups first so the workers finish together
    "test_sandbox": "e2e", "test_hostile": "e2e", "test_slurm": "e2e",  # slurm: a real single-node cluster
    "test_integrations": "e2e", "test_batch": "e2e", "test_tinytorch": "e2e", "test_similarity": "e2e",
    "test_browser": "e2e", "test_cli": "e2e", "test_examples": "e2e",
    "test_intake": "unit", "test_rubric": "unit", "test_scoring": "unit", "test_reports": "unit",
    "test_reference": "unit", "test_shim": "unit", "test_assignments": "unit",
    "test_convolution": "unit", "test_load": "unit", "test_stats": "unit", "test_timing": "unit",
}
# Tests run measured first, while the machine is otherwise idle, then end to end, then unit (many
# small groups even out the workers' ends); within a tier in the order above.
RUN_ORDER = {module: n for n, module in enumerate(TIERS)}
# Session fixtures several files share: their tests go to one worker so the fixture runs once.
SHARED = ("graded_run",)


def _module(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""


def _tier(item: pytest.Item) -> str:
    tier = TIERS.get(_module(item))
    if tier is None:
        raise pytest.UsageError(f"{_module(item)}.py is in no test tier: add it to TIERS in tests/conftest.py")
    return tier


def _group(item: pytest.Item, tier: str) -> str:
    """The pytest-xdist group (one worker runs a group): the measured tier, else the shared session
    fixture the test uses, else its file (module fixtures run once)."""
    if tier == "measured":
        return "measured"
    shared = [name for name in SHARED if name in item.fixturenames]
    return shared[0] if shared else item.module.__name__


# Files that run the attack corpus (kill every visible process, escape as a daemon, forge outputs).
# Where the grader has no sandbox at all they would attack the machine running the tests instead.
ATTACK_MODULES = ("test_hostile", "test_boundary")


@functools.cache
def no_sandbox() -> str | None:
    """Why this machine has no sandbox at all (no bubblewrap, no uid of its own), or None."""
    from grader.sandbox.launcher import isolation_plan

    plan = isolation_plan()
    return (plan.why or "no sandbox") if plan.level == "none" else None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tiers = {item: _tier(item) for item in items}
    items.sort(key=lambda item: RUN_ORDER[_module(item)])  # stable: a file keeps its own order
    unsafe = no_sandbox() if any(_module(item) in ATTACK_MODULES for item in items) else None
    for item in items:
        if unsafe and _module(item) in ATTACK_MODULES:
            item.add_marker(pytest.mark.skip(reason=f"runs attack code, which needs a sandbox: {unsafe}"))
        item.add_marker(getattr(pytest.mark, tiers[item]))
        item.add_marker(pytest.mark.xdist_group(_group(item, tiers[item])))


class MeasuredRunAlone:
    """With pytest-xdist's workers (`-n`), a measured test runs while no other test does.

    Timed checks compare speeds on this machine; another worker's grading beside them is the busy
    neighbour the grader would wait for or mark. Every worker takes a file lock around each test:
    shared for the others, exclusive for measured ones, kept from a worker's first measured test to
    its next unmeasured one, so its run of measured tests is never interleaved. flock() favours
    no one, so a door comes first: the measured worker shuts it, the others pass it on their way
    to the shared lock and wait there while it is shut (else a worker taking the shared lock test
    after test could keep the measured ones waiting for its whole share).
    """

    def __init__(self, path: Path):
        self.lock = open(path, "a+b")  # noqa: SIM115 (held for the whole session)
        self.door = open(f"{path}.door", "a+b")  # noqa: SIM115
        self.alone = False

    def _alone(self) -> None:
        if not self.alone:
            fcntl.flock(self.door, fcntl.LOCK_EX)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            self.alone = True

    def _beside_others(self) -> None:
        if self.alone:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            fcntl.flock(self.door, fcntl.LOCK_UN)
            self.alone = False
        fcntl.flock(self.door, fcntl.LOCK_SH)
        fcntl.flock(self.lock, fcntl.LOCK_SH)
        fcntl.flock(self.door, fcntl.LOCK_UN)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: waiting is not the test's time
    def pytest_runtest_protocol(self, item: pytest.Item):
        measured = item.get_closest_marker("measured") is not None
        if measured:
            self._alone()
        else:
            self._beside_others()
        try:
            yield
        finally:
            if not measured:
                fcntl.flock(self.lock, fcntl.LOCK_UN)

    def pytest_unconfigure(self) -> None:
        self.lock.close()
        self.door.close()


class SharedLockFile:
    """pytest-xdist's controller: makes the workers' lock file, hands it to each, removes it."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="accelgrade-tests-", suffix=".lock")
        os.close(fd)

    def pytest_configure_node(self, node) -> None:  # an xdist hook: runs as each worker starts
        node.workerinput["accelgrade_lock"] = self.path

    def pytest_unconfigure(self) -> None:
        for path in (self.path, f"{self.path}.door"):
            Path(path).unlink(missing_ok=True)


def pytest_configure(config: pytest.Config) -> None:
    if os.getuid() == 0 and no_sandbox():
        # Only trusted fixtures are graded now (the attack files are skipped): let grade run them.
        from grader.commands.common import ALLOW_UNSANDBOXED_ENV

        os.environ[ALLOW_UNSANDBOXED_ENV] = "1"
    worker = getattr(config, "workerinput", None)
    if worker is not None and "accelgrade_lock" in worker:
        config.pluginmanager.register(MeasuredRunAlone(Path(worker["accelgrade_lock"])), "accelgrade-run-alone")
    elif worker is None and config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):
        config.pluginmanager.register(SharedLockFile(), "accelgrade-lock-file")


def _is_measured(check_id: str) -> bool:
    return check_id.startswith(MEASURED_PREFIXES)


@pytest.fixture(scope="session")
def graded_rubric_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped rubric without its measured checks, written to a temporary file.

    Items, categories, visibility and points are the shipped ones; category
    totals and the total are re-added from the items kept.
    """
    shipped = yaml.safe_load(SHIPPED_RUBRIC.read_text(encoding="utf-8"))
    items = [item for item in shipped["items"] if not _is_measured(item["check"])]
    categories = {}
    for name in shipped["categories"]:
        points = sum(item["points"] for item in items if item["category"] == name)
        if any(item["category"] == name for item in items):
            categories[name] = points
    fast = {"assignment": shipped.get("assignment", "Acceleration"), "total": sum(categories.values()),
            "categories": categories, "items": items}
    path = tmp_path_factory.mktemp("graded_rubric") / "unmeasured.yaml"
    path.write_text(yaml.safe_dump(fast, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def graded_rubric(graded_rubric_path: Path):
    """The rubric every session grading run uses (see graded_rubric_path), validated."""
    from grader.checks import catalogue
    from grader.scoring import load_rubric

    rubric = load_rubric(graded_rubric_path, known_checks=catalogue().keys())
    assert rubric.items and not any(_is_measured(i.check_id) for i in rubric.items)
    return rubric


@pytest.fixture(scope="session")
def graded_run(tmp_path_factory: pytest.TempPathFactory, graded_rubric_path: Path, graded_rubric) -> GradedRun:
    """Grade the demo class once: every example, the TinyTorch-style fixture, a copy
    of the reference and a copy of the untouched starter file, with a fixed seed."""
    from grader.cli import main

    extra = tmp_path_factory.mktemp("graded_inputs")
    ref_copy = extra / "reference_copy.py"
    template_copy = extra / "starter_template.py"
    shutil.copyfile(REFERENCE_FILE, ref_copy)
    shutil.copyfile(TEMPLATE_FILE, template_copy)
    tinytorch = FIXTURE_SUBMISSIONS / "tinytorch_style.py"
    out = tmp_path_factory.mktemp("graded_out") / "grades"
    inputs = [EXAMPLES_DIR, tinytorch, ref_copy, template_copy]
    with pytest.MonkeyPatch.context() as mp:
        # Nothing here should calibrate; if something does, keep it out of the user's cache.
        mp.setenv("ACCELGRADE_CACHE", str(tmp_path_factory.mktemp("graded_cache")))
        code = main([*map(str, inputs), "--out", str(out), "--seed", str(GRADED_SEED), "--quiet",
                     "--rubric", str(graded_rubric_path)])
    return GradedRun(out=out, inputs=inputs, exit_code=code, seed=GRADED_SEED)


@pytest.fixture(scope="session")
def graded_results(graded_run: GradedRun) -> dict[str, dict]:
    """results.json of every graded submission, by output folder name."""
    return {s: graded_run.results(s) for s in graded_run.students()}


@pytest.fixture
def run_isolated_cache(tmp_path, monkeypatch) -> Path:
    """A throw-away calibration cache for one test, so no test writes the user's ~/.cache."""
    cache = tmp_path / "accelgrade-cache"
    monkeypatch.setenv("ACCELGRADE_CACHE", str(cache))
    return cache
