"""Roofline formulas against the reference, on a table of cases (seed conventions).

The student's function is called before the reference's: a stub fails its check without the
reference worker ever starting."""
import pytest

from grader.checks.expect import assert_scalar

CONVENTIONS = ("float32; add: 1 FLOP and 12 bytes per element; gelu: 8 FLOPs and 8 bytes; gelu_unfused: "
               "8 FLOPs and 16 memory operations (64 bytes); matmul n x n: 2n^3 FLOPs and 12n^2 bytes.")

# (flops, bytes, peak GFLOP/s, bandwidth GB/s): both sides of the ridge point and on it
ROOF_CASES = [
    (1e6, 12e6, 100.0, 15.0),  # add-like, memory bound
    (8e6, 8e6, 100.0, 15.0),  # gelu-like, memory bound
    (2 * 512**3, 12 * 512**2, 100.0, 15.0),  # matmul, compute bound
    (2 * 16**3, 12 * 16**2, 100.0, 15.0),  # small matmul: intensity 2.7, memory bound
    (600.0, 100.0, 90.0, 15.0),  # exactly on the ridge
    (5e9, 1e8, 3.5, 0.8),
]


@pytest.mark.check("roofline.intensity", hint="Arithmetic intensity is FLOPs per byte moved.")
def test_intensity(student, reference):
    """arithmetic_intensity on a table of cases"""
    for flops, moved in [(1e6, 12e6), (2e9, 1.2e7), (8.0, 8.0), (3.0, 0.5)]:
        got = student.arithmetic_intensity(flops, moved)
        assert_scalar(got, reference.arithmetic_intensity(flops, moved), f"arithmetic_intensity({flops:g}, {moved:g})")


@pytest.mark.check("roofline.operation_cost", hint="Use the assignment's conventions: " + CONVENTIONS)
def test_operation_cost(student, reference):
    """operation_cost for add, gelu, gelu_unfused and matmul"""
    for op in ("add", "gelu", "gelu_unfused", "matmul"):
        for n in (1, 64, 1000, 2048):
            got = student.operation_cost(op, n)
            expected = reference.operation_cost(op, n)
            assert isinstance(got, (tuple, list)) and len(got) == 2, (
                f"operation_cost({op!r}, {n}) returned {got!r}, expected a (flops, bytes_moved) pair")
            assert_scalar(got[0], expected[0], f"FLOPs of operation_cost({op!r}, {n})")
            assert_scalar(got[1], expected[1], f"bytes of operation_cost({op!r}, {n})")


@pytest.mark.check("roofline.predict", hint="Attainable GFLOP/s = min(peak, intensity * bandwidth).")
def test_predict(student, reference):
    """roofline_predict on both sides of the ridge point"""
    for case in ROOF_CASES:
        got = student.roofline_predict(*case)
        assert_scalar(got, reference.roofline_predict(*case),
                      "roofline_predict(flops=%g, bytes=%g, peak=%g, bandwidth=%g)" % case)


@pytest.mark.check("roofline.classify", hint="Memory-bound when intensity * bandwidth is below the compute peak.")
def test_classify(student, reference):
    """classify_bound on both sides of the ridge point"""
    for case in ROOF_CASES:
        if case == (600.0, 100.0, 90.0, 15.0):
            continue  # on the ridge either answer is defensible
        got = student.classify_bound(*case)
        expected = reference.classify_bound(*case)
        assert got == expected, "classify_bound(flops=%g, bytes=%g, peak=%g, bandwidth=%g)" % case + (
            f" returned {got!r}, expected {expected!r}")
