"""Grading one submission: sandbox it, run the checks, score, return a GradeResult.

This is the trunk every verb (batch grading, self-check, CI gate, Gradescope)
goes through. It never raises for anything a submission does; a fault of the
harness itself becomes a ``grader_error`` on that one result.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import reference
from grader import assignments
from grader.assignments import Assignment
from grader.checks import CheckContext, catalogue, run_checks
from grader.checks.plugin import MEASURED_PREFIXES
from grader.models import (FLAG_GRADER_ERROR, FLAG_IMPORT_ERROR, FLAG_MISSING, FLAG_TAMPERING, CheckResult,
                           GradeResult, Submission)
from grader.measure.load import SETTLE_MAX
from grader.measure.lock import lock_mark, lock_waits_since
from grader.sandbox import Sandbox, SandboxConfig, WorkerFailed
from grader.scoring import Rubric, score_all

log = logging.getLogger(__name__)

def reference_source() -> str:
    """The reference worker's module (every reference file, for every assignment)."""
    return reference.worker_source()


@dataclass
class GradeOptions:
    seed: int
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    check_timeout: float = 180.0
    select: set[str] | None = None  # only these checks (self-check: the visible ones)
    # Items the result lists; those not in ``select`` show as "not graded" (a self-check lists the
    # hidden checks so it can say how many are graded after submission). None: those selected.
    listed: set[str] | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    profile: Any = None  # machine profile from calibration, for measured checks
    assignment: Assignment = field(default_factory=lambda: assignments.get(None))
    quiet_wait: float = SETTLE_MAX  # seconds a timed check waits for a busy machine to settle


class Grader:
    """Grades submissions one after another, sharing one reference worker."""

    def __init__(self, rubric: Rubric, options: GradeOptions):
        self.rubric = rubric
        self.options = options
        self.catalogue = catalogue()
        self._reference: Sandbox | None = None

    def reference(self) -> Sandbox:
        if self._reference is None:
            # The reference always runs on accelgrade's own shim, whatever --tinytorch the students get.
            config = dataclasses.replace(self.options.sandbox, tinytorch=None)
            self._reference = Sandbox(reference_source(), config, label="reference")
        return self._reference

    def close(self) -> None:
        if self._reference is not None:
            self._reference.close()
            self._reference = None

    def __enter__(self) -> "Grader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------
    def selected(self) -> set[str]:
        ids = {i.check_id for i in self.rubric.items}
        return ids if self.options.select is None else ids & self.options.select

    def _scored(self) -> set[str] | None:
        if self.options.listed is None:
            return self.selected()
        return self.options.listed | self.selected()

    def grade(self, submission: Submission) -> GradeResult:
        started = time.perf_counter()
        mark = lock_mark()
        try:
            result = self._grade(submission)
        except Exception as exc:  # a harness fault: record it on this one submission, go on
            log.error("grader error on %s: %s: %s", submission.student, type(exc).__name__, exc)
            result = self._empty(submission, f"grader error: {type(exc).__name__}: {exc}")
            result.grader_error = "".join(traceback.format_exception(exc)).strip()
            result.flags.append(FLAG_GRADER_ERROR)
        result.execution_time = time.perf_counter() - started
        # Did this submission's checks wait for another grader's measurement? (measure/lock.py)
        result.machine = dict(result.machine, lock_waits=lock_waits_since(mark).as_dict())
        return result

    def _unimportable(self, sandbox: Sandbox) -> dict[str, CheckResult]:
        """Every check would end at the same import error: record it on each without running the
        suite or starting the reference (a broken file grades in the time its import takes)."""
        failed = WorkerFailed(sandbox.import_message(), FLAG_IMPORT_ERROR)
        return {cid: CheckResult(cid, False, 0.0, str(failed), failed.hint, [FLAG_IMPORT_ERROR])
                for cid in sorted(self.selected())}

    def _empty(self, submission: Submission, why: str) -> GradeResult:
        """A result with every item at zero: the submission could not be run at all."""
        items, cats, total, max_total = score_all(self.rubric, {}, self.catalogue, self._scored())
        for item in items:
            item.output = why
        return GradeResult(submission, items, cats, total, max_total, 0.0, assignment=self.rubric.assignment,
                           machine=self.options.machine, seed=self.options.seed, messages=[why])

    def _grade(self, submission: Submission) -> GradeResult:
        if submission.code is None:
            result = self._empty(submission, f"not graded: {submission.intake_error}")
            result.flags.append(FLAG_IMPORT_ERROR)
            return result
        sandbox = Sandbox(submission.code, self.options.sandbox)
        try:
            # When measured checks will need it, the batch's reference worker boots on the other
            # core while the student's imports; it is waited for (and frozen) when first asked for.
            if any(c.startswith(MEASURED_PREFIXES) for c in self.selected()):
                self.reference().begin()
            ready = sandbox.start()
            if ready.get("import_error"):
                check_results = self._unimportable(sandbox)
            else:
                context = CheckContext(student=sandbox, reference=self.reference, seed=self.options.seed,
                                       select=self.selected(), profile=self.options.profile,
                                       quiet_wait=self.options.quiet_wait)
                # The reference worker is shared by the whole batch: it runs only trusted code, and a
                # warm one times the same way for every student.
                check_results = run_checks(context, timeout=self.options.check_timeout)
        finally:
            sandbox.close()
        items, cats, total, max_total = score_all(self.rubric, check_results, self.catalogue, self._scored())
        stdout, stderr = sandbox.output()
        # Which boundary held around this submission, as the parent saw it in /proc.
        isolation = sandbox.held.as_dict() if sandbox.held else {"level": "none", "why": "no worker started"}
        result = GradeResult(submission, items, cats, total, max_total, 0.0, assignment=self.rubric.assignment,
                             stdout=stdout, stderr=stderr, machine=dict(self.options.machine, sandbox=isolation),
                             seed=self.options.seed)
        flags: set[str] = {f for item in items for f in item.flags}
        flags.update(flag for flag, _ in sandbox.events)
        if ready.get("import_error"):
            flags.add(FLAG_IMPORT_ERROR)
            result.messages.append(sandbox.import_message())
            tb = (ready["import_error"].get("traceback") or "").strip()
            if tb:
                result.stderr = (tb + "\n" + result.stderr).strip()
        else:
            chosen = self.options.assignment
            result.functions_missing = [f for f in chosen.functions if f not in sandbox.functions]
            if result.functions_missing:
                flags.add(FLAG_MISSING)
                result.messages.append("missing from the file: " + ", ".join(result.functions_missing)
                                       + " (only the checks that use them lose points)")
            other = assignments.better_fit(sandbox.functions, chosen)
            if other is not None:
                result.suggested_assignment = other.name
                result.messages.append(
                    f"these functions fit assignment {other.name} better than {chosen.name}, the assignment "
                    f"this was graded as: grade it with --assignment {other.name}")
        patched = ready.get("patched") or []
        if patched:
            flags.add(FLAG_TAMPERING)
            result.messages.append("measurement tampering suspected: the file replaced "
                                   + ", ".join(map(str, patched[:10])) + " when imported")
        result.flags = sorted(flags)
        return result
