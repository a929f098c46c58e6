"""Memory: the tracemalloc peak of one call, in runs separate from timing."""
import pytest

from grader.checks.suite.measured import gate_outputs, threshold_origin
from grader.measure.specs import MEMORY_SPECS
from grader.models import (
    CAUSE_BELOW_THRESHOLD,
    CAUSE_FLOAT64_UPCAST,
    CAUSE_TAMPERING,
    CAUSE_TEMPORARIES,
    FLAG_TAMPERING,
)

MB = 2**20


def _judge_memory(measure, profile, verdict, check_id: str, baseline_name: str):
    """Gate the outputs, measure the three peaks, refuse tampering, record the threshold.

    Returns the samples, the student's reduction, the threshold and the report's message."""
    spec = MEMORY_SPECS[check_id]
    verdict.record(what=spec.what)
    gate_outputs(measure.student, measure.reference(), [spec.case], spec.student_fn, spec.reference_fn,
                 spec.what, measure.seed, verdict, measure.gates_passed)
    m = measure.memory(check_id)
    base, ref, student = m["baseline"], m["reference"], m["student"]
    verdict.record(what=spec.what, memory={k: v.as_dict() for k, v in m.items()},
                   labels={"baseline": baseline_name, "function": spec.student_fn})
    tampered = [s.tampering for s in m.values() if s.tampering]
    if tampered:
        verdict.flag(FLAG_TAMPERING, "; ".join(tampered))
        verdict.cause(CAUSE_TAMPERING)
        raise AssertionError("no credit: measurement tampering suspected (" + "; ".join(tampered) + ")")
    ref_reduction = base.peak / max(ref.peak, 1)
    entry = profile.memory.get(spec.check_id, {})
    threshold = float(entry.get("threshold", spec.threshold(ref_reduction)))
    reduction = base.peak / max(student.peak, 1)
    verdict.record(threshold=threshold, threshold_origin=threshold_origin(profile, spec.check_id),
                   score_input={"value": reduction, "threshold": threshold})
    message = (f"peak {student.peak / MB:.1f} MB against the {baseline_name}'s {base.peak / MB:.1f} MB: "
               f"{reduction:.2f}x less (reference {ref.peak / MB:.1f} MB, {ref_reduction:.2f}x); "
               f"threshold {threshold:.2f}x")
    return m, reduction, threshold, message


@pytest.mark.check("memory.im2col")
@pytest.mark.timeout(120)
def test_im2col_memory(measure, profile, verdict):
    """im2col builds its patch matrix without extra full-size copies"""
    m, reduction, threshold, message = _judge_memory(measure, profile, verdict, "memory.im2col",
                                                     "baseline (reference im2col)")
    if reduction < threshold:
        verdict.cause(CAUSE_TEMPORARIES)
        verdict.hint = (f"Your im2col peaks at {m['student'].peak / MB:.0f} MB, the reference's at "
                        f"{m['reference'].peak / MB:.0f} MB: allocate the (N*OH*OW, C*k*k) matrix once and "
                        "fill it per kernel offset (or take a strided view and copy it once); lists of "
                        "patches, np.stack and extra reshape copies each cost a whole patch matrix.")
    verdict.credit(1.0, message)


@pytest.mark.check("memory.fused_gelu")
@pytest.mark.timeout(120)
def test_fused_gelu_memory(measure, profile, verdict):
    """fused_gelu needs far less memory than the unfused GELU"""
    m, reduction, threshold, message = _judge_memory(measure, profile, verdict, "memory.fused_gelu", "unfused baseline")
    base, ref, student = m["baseline"], m["reference"], m["student"]
    if reduction < threshold:  # exactly when the rubric's curve withholds points
        if student.dtype == "float64":
            verdict.cause(CAUSE_FLOAT64_UPCAST)
            verdict.hint = ("The result is float64: a float64 constant upcasts every temporary, doubling "
                            "their size. Use np.float32 constants.")
        elif student.widest == "float64":
            verdict.cause(CAUSE_FLOAT64_UPCAST)
            verdict.hint = ("The temporaries are float64 even though the result is float32: a float64 constant "
                            "upcasts them before Tensor(...) casts back, doubling their size. Use np.float32 "
                            "constants.")
        elif student.peak >= 0.9 * base.peak:
            verdict.cause(CAUSE_TEMPORARIES)
            verdict.hint = ("Peak memory equals the unfused version's (about seven input-sized temporaries): "
                            "write GELU as one expression, or compute in place with out=.")
        elif student.peak > 1.3 * ref.peak:
            verdict.cause(CAUSE_TEMPORARIES)
            verdict.hint = ("More memory than the one-expression reference: use fewer temporaries, or in-place "
                            "operations with out= on one buffer.")
        else:
            verdict.cause(CAUSE_BELOW_THRESHOLD)
            verdict.hint = "Fewer temporaries: one expression, or in-place operations with out= on one buffer."
    verdict.credit(1.0, message)
