"""Shared logic of the measured checks: turn a measurement into a verdict with feedback."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from grader.checks.expect import as_array, assert_close
from grader.checks.plugin import Verdict
from grader.measure.specs import SPEED_SPECS
from grader.measure.timing import SpeedResult, TooSlow
from grader.models import (
    CAUSE_BELOW_THRESHOLD,
    CAUSE_BUSY,
    CAUSE_MUTATES_INPUT,
    CAUSE_NOISY,
    CAUSE_TAMPERING,
    CAUSE_TOO_FAST,
    CAUSE_TOO_SLOW,
    CAUSE_UNVERIFIED,
    CAUSE_WRONG_OUTPUT,
    FLAG_BUSY,
    FLAG_MUTATES_INPUT,
    FLAG_NOISY,
    FLAG_TAMPERING,
    FLAG_TOO_FAST,
    FLAG_UNVERIFIED,
)


@dataclass(frozen=True)
class Diagnosis:
    """Why a measured check lost credit: a cause code (models.CAUSE_*) and the hint that goes with it."""

    cause: str
    hint: str


Hint = Union[str, Callable[[Union[SpeedResult, None]], Diagnosis]]


def threshold_origin(profile, check_id: str) -> str:
    entry = profile.speed.get(check_id) or profile.memory.get(check_id) or {}
    kind = entry.get("kind", "relative")
    f = entry.get("fraction")
    if "reference_speedup" in entry:
        ref = entry["reference_speedup"]
        rule = (f"1 + {f:g} x (reference gain {ref:.3g}x - 1)" if kind == "gain"
                else f"{f:g} x the reference's {ref:.3g}x")
    else:
        rule = f"{f:g} x the reference's {entry.get('reference_reduction', 0):.3g}x reduction"
    quick = ", quick calibration" if profile.quick else ""
    return f"{rule}, from calibration {profile.id}{quick}"


def judge_speed(measure, profile, verdict: Verdict, check_id: str, slow_hint: Hint) -> SpeedResult | None:
    """Record the measured speedup, its CI and the threshold; the rubric's curve gives the credit.

    ``slow_hint`` may be a function of the measurement that returns a Diagnosis, for causes that
    depend on what was seen.
    """
    def diagnose(r: SpeedResult | None) -> None:
        d = slow_hint(r) if callable(slow_hint) else Diagnosis(CAUSE_BELOW_THRESHOLD, slow_hint)
        verdict.cause(d.cause)
        verdict.hint = d.hint

    spec = SPEED_SPECS[check_id]
    verdict.record(what=spec.what)
    gate_outputs(measure.student, measure.reference(), spec.cases, spec.student_fn,
                 spec.reference_fn or spec.baseline.fn, spec.what, measure.seed, verdict, measure.gates_passed)
    try:
        r = measure.speed(check_id)
    except TooSlow as exc:
        verdict.record(too_slow=str(exc))
        verdict.cause(CAUSE_TOO_SLOW)
        diagnose(None)
        raise AssertionError(f"too slow to time: {exc}") from None
    threshold = r.threshold if r.threshold is not None else spec.threshold(1.0)
    origin = threshold_origin(profile, check_id)
    calibrated = (profile.speed.get(check_id) or {}).get("threshold")
    if calibrated is not None and threshold < float(calibrated) - 1e-9:
        origin += (f"; lowered from {float(calibrated):.3g}x because the reference reached only "
                   f"{r.reference.median:.3g}x in this run")
    verdict.record(speed=r.as_dict(), threshold=threshold, threshold_origin=origin,
                   score_input={"value": r.student.median, "threshold": threshold})
    if r.tampering:
        verdict.flag(FLAG_TAMPERING, "; ".join(r.tampering))
        verdict.cause(CAUSE_TAMPERING)
        raise AssertionError("no credit: measurement tampering suspected (" + "; ".join(r.tampering) + ")")
    if r.unverified:
        verdict.flag(FLAG_UNVERIFIED, r.unverified)
        verdict.cause(CAUSE_UNVERIFIED)
        raise AssertionError(f"no credit: {r.unverified}")
    if r.too_fast:
        verdict.flag(FLAG_TOO_FAST, r.too_fast)
        verdict.cause(CAUSE_TOO_FAST)
        raise AssertionError(f"no credit: faster than this machine can go ({r.too_fast})")
    if r.mutated:
        raise_mutated(verdict, spec.student_fn or "a function of the block", "during the timed runs")
    ref = f"; the reference reached {r.reference.median:.3g}x" if r.reference else ""
    message = (f"{spec.what}: speedup {r.student.median:.3g}x (CI {r.student.low:.3g}-{r.student.high:.3g}, "
               f"{r.rounds} rounds){ref}; threshold {threshold:.3g}x")
    if r.noisy:
        verdict.flag(FLAG_NOISY, f"the interval still held the threshold after {r.rounds} rounds, the most "
                                 f"this check takes")
        message += " [noisy: decided on the median]"
    if r.machine is not None and r.machine.busy:
        verdict.flag(FLAG_BUSY, r.machine.describe())
        message += f" [busy machine: {r.machine.describe()}]"
    if r.student.median < threshold:  # exactly when the rubric's curve withholds points
        diagnose(r)
        if r.noisy:
            verdict.cause(CAUSE_NOISY)
        if r.machine is not None and r.machine.busy:
            verdict.cause(CAUSE_BUSY)
    verdict.credit(1.0, message)
    return r


GATE_EDGE = 128  # probe inputs are capped at this many rows/columns: a naive kernel still answers fast


def raise_mutated(verdict: Verdict, fn: str, when: str) -> None:
    verdict.flag(FLAG_MUTATES_INPUT, f"{fn} wrote into its input {when}")
    verdict.cause(CAUSE_MUTATES_INPUT)
    verdict.hint = ("Compute into a new array: a function that overwrites its input saves the allocation "
                    "the assignment measures, so it earns no speed or memory credit.")
    raise AssertionError(f"no credit: `{fn}` modifies its input ({when})")


def gate_outputs(student, reference, cases, fn: str, reference_fn: str, what: str, seed: int,
                 verdict: Verdict | None = None, passed: set | None = None) -> None:
    """No measured credit for wrong answers: the timed function must agree with the reference first,
    and must leave its input alone.

    A fused_gelu that returns its input is very fast and very lean; it is also
    wrong, and earns nothing here. Probes use the timed cases' shapes, capped. ``passed`` holds the
    gates this submission already passed (the same probes give the same answers): a pure-Python
    matmul gated for its speed check is not gated again, a second's work, for the roofline.
    """
    key = (fn, reference_fn, tuple(c.label for c in cases), seed)
    if passed is not None and key in passed:
        return
    rng = np.random.default_rng([seed, 99])
    for case in cases:
        arrays = [(rng.standard_normal(tuple(min(d, GATE_EDGE) for d in shape)) * scale).astype(np.float32)
                  for shape, scale in case.arrays]
        if case.pipeline:
            got = _pipeline(student, case, arrays)
            want = _pipeline(reference, case, arrays)
        else:
            if fn.endswith("matmul") and len(arrays) == 2:  # capped shapes must still chain
                arrays[1] = arrays[1][: arrays[0].shape[-1]]
            reply = student.call(fn, *arrays, **case.kwargs)
            got = reply.value
            if verdict is not None and any(reply.meta.get("inputs_changed", [])):
                raise_mutated(verdict, fn, "when called on a probe input")
            want = reference.call(reference_fn, *arrays, **(case.kwargs if reference_fn == fn else {})).value
        expected = np.asarray(want, dtype=np.float64)
        k = arrays[0].shape[-1]
        try:
            assert_close(as_array(got, fn), expected, f"{what}: no credit, the timed function's answer is wrong",
                         rtol=1e-3, atol=1e-4 * max(1.0, k) ** 0.5)
        except AssertionError:
            if verdict is not None:
                verdict.cause(CAUSE_WRONG_OUTPUT)
            raise
    if passed is not None:
        passed.add(key)


def _pipeline(sandbox, case, arrays):
    prev = None
    for step in case.pipeline:
        args = [prev if r == "prev" else arrays[r] for r in step["args"]]
        args = [np.asarray(as_array(a, step["fn"]), dtype=np.float32) for a in args]
        prev = sandbox.call(step["fn"], *args, **step.get("kwargs", {})).value
    return prev
