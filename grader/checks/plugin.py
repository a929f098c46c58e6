"""The pytest plugin that runs the check suite against one submission.

Checks are ordinary pytest tests in ``grader/checks/suite/``, marked with
``@pytest.mark.check(id, hint=...)``. This plugin gives them their fixtures
(``student``, ``reference``, ``rng``, ``verdict``, ``context``), keeps only the
checks asked for, and turns each test's outcome into a ``CheckResult``.
Everything here runs in the trusted grading process.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

from grader.measure.load import SETTLE_MAX
from grader.measure.lock import machine_lock
from grader.models import FLAG_GRADER_ERROR, FLAG_TIMEOUT, CheckInfo, CheckResult
from grader.sandbox import Sandbox, StudentError


# Checks whose verdict rests on timing or memory measured on this machine.
MEASURED_PREFIXES = ("speed.", "memory.", "roofline.measured")


@dataclass
class CheckContext:
    """What one run of the suite needs; handed to checks as the ``context`` fixture."""

    student: Sandbox
    reference: Callable[[], Sandbox]  # started on first use, shared across a batch
    seed: int
    select: set[str] | None = None  # check ids to run; None runs all
    profile: Any = None  # the machine profile (calibration), for measured checks
    quiet_wait: float = SETTLE_MAX  # seconds a timed check waits for a busy machine to settle
    options: dict[str, Any] = field(default_factory=dict)


class Verdict:
    """What a check reports besides pass/fail: measured figures, partial-credit input, hints."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.fraction: float | None = None
        self.hint: str | None = None
        self.flags: list[str] = []
        self.message: str | None = None
        self.causes: list[str] = []

    def record(self, **data: Any) -> None:
        self.data.update(data)

    def credit(self, fraction: float, message: str, hint: str | None = None) -> None:
        """Partial credit: the check passes with ``fraction`` of the points (0..1)."""
        self.fraction = max(0.0, min(1.0, float(fraction)))
        self.message = message
        if hint:
            self.hint = hint

    def cause(self, *codes: str) -> None:
        """Why credit is lost (models.CAUSE_*), in the order a student should look at them."""
        for code in codes:
            if code not in self.causes:
                self.causes.append(code)

    def flag(self, flag: str, why: str | None = None) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
        if why:
            self.data.setdefault("flag_reasons", {})[flag] = why


def check_marker(item: pytest.Item) -> CheckInfo | None:
    mark = item.get_closest_marker("check")
    if mark is None or not mark.args:
        return None
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
    return CheckInfo(
        check_id=str(mark.args[0]),
        name=mark.kwargs.get("name") or (doc[0].rstrip(".") if doc else str(mark.args[0])),
        hint=mark.kwargs.get("hint", ""),
        module=item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else "",
    )


class CollectPlugin:
    """Collect-only: lists the checks that exist (for rubric validation)."""

    def __init__(self) -> None:
        self.checks: dict[str, CheckInfo] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(id, name=None, hint=''): a graded check")
        # Verdicts are read from the exception itself; pytest's own failure report is never shown,
        # so it is built the cheap way (the default re-parses every frame's source with ast: about
        # 30 ms per failed check, a second for a blank template).
        config.option.tbstyle = "native"

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = check_marker(item)
            if info:
                self.checks[info.check_id] = info


class GradingPlugin(CollectPlugin):
    """Runs the selected checks for one submission and records a CheckResult for each."""

    def __init__(self, context: CheckContext) -> None:
        super().__init__()
        self.ctx = context
        self.results: dict[str, CheckResult] = {}
        self._verdicts: dict[str, Verdict] = {}
        self._started: dict[str, float] = {}

    # --- selection ----------------------------------------------------------
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        super().pytest_collection_modifyitems(items)
        keep, drop = [], []
        for item in items:
            info = check_marker(item)
            wanted = info is not None and (self.ctx.select is None or info.check_id in self.ctx.select)
            (keep if wanted else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    # --- fixtures -----------------------------------------------------------
    @pytest.fixture(scope="session")
    def context(self) -> CheckContext:
        return self.ctx

    @pytest.fixture(scope="session")
    def student(self) -> Sandbox:
        return self.ctx.student

    @pytest.fixture(scope="session")
    def reference(self) -> Sandbox:
        return self.ctx.reference()

    @pytest.fixture(scope="session")
    def profile(self) -> Any:
        if self.ctx.profile is None:
            pytest.skip("no machine calibration is loaded, so measured checks cannot be graded")
        return self.ctx.profile

    @pytest.fixture(scope="session")
    def measure(self) -> Any:
        # One per submission: speed, memory and roofline checks share what was measured.
        from grader.measure.session import Measurements

        return Measurements(self.ctx.student, self.ctx.reference, self.ctx.seed, self.ctx.profile,
                            quiet_wait=self.ctx.quiet_wait)

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        # Seeded per grading run and per check: repeatable with --seed, not precomputable.
        info = check_marker(request.node)
        salt = zlib.crc32((info.check_id if info else request.node.name).encode())
        return np.random.default_rng([self.ctx.seed, salt])

    @pytest.fixture
    def verdict(self, request: pytest.FixtureRequest) -> Verdict:
        v = Verdict()
        info = check_marker(request.node)
        if info:
            self._verdicts[info.check_id] = v
        return v

    # --- outcomes -----------------------------------------------------------
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        # Measured checks run alone on the machine; the rest may overlap with each other.
        info = check_marker(item)
        measured = info is not None and info.check_id.startswith(MEASURED_PREFIXES)
        with machine_lock(exclusive=measured):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        info = check_marker(item)
        if info is None:
            return
        # The call phase decides; a failing setup or teardown decides when there was no call.
        decisive = report.when == "call" or (not report.passed and info.check_id not in self.results)
        if not decisive:
            return
        self.results[info.check_id] = self._result(info, report, call)

    def _result(self, info: CheckInfo, report: pytest.TestReport, call: pytest.CallInfo) -> CheckResult:
        verdict = self._verdicts.get(info.check_id) or Verdict()
        duration = time.perf_counter() - self._started.get(report.nodeid, time.perf_counter())
        flags = list(verdict.flags)
        hint = verdict.hint if verdict.hint is not None else info.hint
        if report.passed:
            fraction = 1.0 if verdict.fraction is None else verdict.fraction
            message = verdict.message or "passed"
            # A measured check below its bar still passes (scoring applies the curve), so its own
            # hint is kept; otherwise the catalogue's hint only matters when credit was lost.
            shown = verdict.hint or (info.hint if fraction < 1 else "")
            return CheckResult(info.check_id, True, fraction, message, shown, flags, verdict.data, duration,
                               list(verdict.causes))
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, StudentError):
            message = str(exc)
            if exc.flag:
                flags.append(exc.flag)
            hint = exc.hint or hint
        elif isinstance(exc, AssertionError):
            message = str(exc).strip() or "check failed"
        elif call.excinfo is not None and call.excinfo.typename == "Failed" and "Timeout" in str(exc):
            message = "the check ran out of time (an infinite loop or a very slow implementation?)"
            flags.append(FLAG_TIMEOUT)
        elif call.excinfo is not None and call.excinfo.typename == "Skipped":
            message = f"skipped: {exc}"
        else:
            # A fault of the harness, not the student: say so, never blame them.
            message = f"grader error in this check: {call.excinfo.typename if call.excinfo else 'unknown'}: {exc}"
            flags.append(FLAG_GRADER_ERROR)
        return CheckResult(info.check_id, False, 0.0, message, hint, sorted(set(flags)), verdict.data, duration,
                           list(verdict.causes))
