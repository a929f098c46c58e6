"""Runs the check suite in-process with pytest and returns one CheckResult per check."""
from __future__ import annotations

import contextlib
import functools
import io
import os
from pathlib import Path

import pytest

from grader.checks.plugin import CheckContext, CheckInfo, CollectPlugin, GradingPlugin
from grader.models import CheckResult

SUITE_DIR = Path(__file__).resolve().parent / "suite"


def _args(timeout: float, extra: list[str]) -> list[str]:
    return [
        str(SUITE_DIR),
        "-c", str(SUITE_DIR / "pytest.ini"),
        "--rootdir", str(SUITE_DIR),
        "--import-mode=importlib",
        "--assert=plain",  # checks write their own messages; no rewritten introspection
        "-p", "no:cacheprovider",
        "-p", "pytest_timeout",  # the one plugin the suite needs (others are not auto-loaded)
        "-p", "no:terminal",
        # These two end every run with gc.collect() (a tenth of a check suite's run) to report
        # exceptions nobody could raise; the checks' verdicts never depend on them.
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        "-o", f"timeout={timeout:g}",
        *extra,
    ]


@contextlib.contextmanager
def _own_options():
    """The suite runs with the arguments above and its own plugins only: a caller's PYTEST_ADDOPTS
    (a CI job's ``--durations``, ``-rfE``, ``-n 4``) is meant for its own tests, and the suite's parser
    rejects what its plugins do not know; plugins installed beside accelgrade (pytest-benchmark,
    pytest-xdist) would load into every grading and cost time there."""
    saved = {name: os.environ.pop(name, None) for name in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _pytest(args: list[str], plugin: object) -> int:
    # pytest writes nothing we show; its exit code tells whether collection worked.
    with _own_options(), contextlib.redirect_stdout(io.StringIO()):
        return int(pytest.main(args, plugins=[plugin]))


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, CheckInfo]:
    """Every check the suite defines, by id (a collect-only pytest run)."""
    plugin = CollectPlugin()
    code = _pytest(_args(60, ["--collect-only"]), plugin)
    if code not in (0, 5) or not plugin.checks:
        raise RuntimeError(f"the check suite failed to collect (pytest exit {code})")
    return dict(plugin.checks)


def run_checks(context: CheckContext, timeout: float = 120.0) -> dict[str, CheckResult]:
    """Run the selected checks against ``context.student``; verdicts are computed here."""
    plugin = GradingPlugin(context)
    code = _pytest(_args(timeout, []), plugin)
    if code not in (0, 1, 5):  # 1 = some checks failed, which is the student's business
        raise RuntimeError(f"the check suite could not run (pytest exit {code})")
    return plugin.results
