"""The student's roofline model, fed this machine's calibrated roofs, against what was measured."""
import pytest

from grader.checks.suite.measured import gate_outputs
from grader.measure.roofline import model_error, points_from, tolerance
from grader.measure.specs import ROOFLINE_MATMUL_SIZES, SPEED_SPECS
from grader.measure.timing import TooSlow
from grader.sandbox import StudentError


def _points(measure, who):
    # The reference's matmul is the baseline of matmul_vs_reference.
    mm_who = "baseline" if who == "reference" else who
    try:
        mm = {n: measure.seconds_per_call("speed.matmul_vs_reference", f"n={n}", mm_who)
              for n in ROOFLINE_MATMUL_SIZES}
        gelu = measure.seconds_per_call("speed.fused_gelu", "2000x2000", who)
    except TooSlow as exc:
        raise AssertionError(f"your kernels were too slow to time ({exc}), so there is no measured "
                             "performance to compare the roofline with; see the speed checks") from None
    return points_from(mm, gelu, measure.add_probe())


@pytest.mark.check("roofline.measured_predict",
                   hint="Predict with min(peak, intensity x bandwidth) and compare with what your kernels reach: "
                        "a kernel far below its roof is a kernel to optimise.")
@pytest.mark.timeout(300)
def test_measured_predict(student, reference, measure, profile, verdict):
    """roofline_predict, fed this machine's roofs, comes as close to the measured GFLOP/s as the reference model"""
    peak, bw = profile.peak_gflops, profile.bandwidth_gbs
    # The kernels measured here must work first, as for the speed checks (and a stub fails before
    # anything is timed).
    for spec in (SPEED_SPECS["speed.matmul_vs_reference"], SPEED_SPECS["speed.fused_gelu"]):
        gate_outputs(student, reference, spec.cases, spec.student_fn, spec.reference_fn or spec.baseline.fn,
                     spec.what, measure.seed, verdict, measure.gates_passed)
    ours = {p.name: p for p in _points(measure, "reference")}
    rows, ok = [], 0
    for p in _points(measure, "student"):
        # The bar is how far the reference *model* is from this very measurement: a correct model
        # always meets it, whatever the machine's noise or the kernel's speed; a wrong one misses.
        ref_pred = reference.roofline_predict(p.flops, p.bytes_moved, peak, bw)
        tol = tolerance(model_error(ref_pred, p.measured_gflops))
        try:
            pred = student.roofline_predict(p.flops, p.bytes_moved, peak, bw)
        except StudentError as exc:
            pred, why = None, str(exc)
        else:
            why = ""
        err = model_error(pred, p.measured_gflops) if isinstance(pred, (int, float)) else float("inf")
        good = err <= tol
        ok += good
        rows.append({**p.as_dict(), "predicted_gflops": pred, "reference_predicted_gflops": ref_pred,
                     "reference_measured_gflops": ours[p.name].measured_gflops, "error": err,
                     "tolerance": tol, "ok": good, "problem": why})
    verdict.record(points=rows, peak_gflops=peak, bandwidth_gbs=bw, calibration=profile.id)
    missed = [r["name"] for r in rows if not r["ok"]]
    verdict.credit(ok / len(rows), f"{ok} of {len(rows)} predictions within the reference model's own accuracy "
                   "on this machine" + (f"; off on {', '.join(missed)}" if missed else ""))


@pytest.mark.check("roofline.measured_classify",
                   hint="Memory-bound when intensity x bandwidth is below the compute peak, with this "
                        "machine's calibrated figures.")
@pytest.mark.timeout(120)
def test_measured_classify(student, reference, profile, verdict):
    """classify_bound, fed this machine's roofs, classifies the measured operations correctly"""
    import reference as ref_model

    peak, bw = profile.peak_gflops, profile.bandwidth_gbs
    cases = [("matmul", n) for n in ROOFLINE_MATMUL_SIZES] + [("gelu", 2000 * 2000), ("add", 4096 * 4096)]
    wrong = []
    for op, n in cases:
        flops, moved = ref_model.operation_cost(op, n)
        expected = ref_model.classify_bound(flops, moved, peak, bw)
        got = student.classify_bound(flops, moved, peak, bw)
        if got != expected:
            wrong.append(f"{op} n={n}: {got!r}, expected {expected!r}")
    verdict.record(peak_gflops=peak, bandwidth_gbs=bw)
    assert not wrong, "classify_bound with this machine's roofs: " + "; ".join(wrong)
