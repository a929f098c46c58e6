"""Shared logic of the measured checks: turn a measurement into a verdict with feedback."""
from __future__ import annotations

from grader.checks.plugin import Verdict
from grader.measure.specs import SPEED_SPECS
from grader.measure.timing import SpeedResult, TooSlow
from grader.models import FLAG_NOISY, FLAG_TAMPERING


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


def judge_speed(measure, profile, verdict: Verdict, check_id: str, slow_hint: str) -> SpeedResult | None:
    """Record the measured speedup, its CI and the threshold; the rubric's curve gives the credit."""
    spec = SPEED_SPECS[check_id]
    verdict.record(what=spec.what)
    try:
        r = measure.speed(check_id)
    except TooSlow as exc:
        verdict.record(too_slow=str(exc))
        verdict.hint = slow_hint
        raise AssertionError(f"too slow to time: {exc}") from None
    threshold = r.threshold if r.threshold is not None else spec.threshold(
        r.reference.median if r.reference else 1.0)
    verdict.record(speed=r.as_dict(), threshold=threshold, threshold_origin=threshold_origin(profile, check_id),
                   score_input={"value": r.student.median, "threshold": threshold})
    if r.tampering:
        verdict.flag(FLAG_TAMPERING, "; ".join(r.tampering))
        raise AssertionError("no credit: measurement tampering suspected (" + "; ".join(r.tampering) + ")")
    ref = f"; the reference reached {r.reference.median:.3g}x" if r.reference else ""
    message = (f"{spec.what}: speedup {r.student.median:.3g}x (95% CI {r.student.low:.3g}-{r.student.high:.3g}, "
               f"{r.rounds} rounds){ref}; threshold {threshold:.3g}x")
    if r.noisy:
        verdict.flag(FLAG_NOISY, f"the confidence interval still straddled the threshold after {r.rounds} rounds")
        message += " [noisy: decided on the median]"
    if r.student.median < threshold:
        verdict.hint = slow_hint
    verdict.credit(1.0, message)
    return r
