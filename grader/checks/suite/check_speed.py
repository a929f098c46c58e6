"""Speed, as ratios measured on this machine in this run: never absolute times."""
import pytest

from grader.checks.suite.measured import Diagnosis, judge_speed
from grader.models import CAUSE_BELOW_THRESHOLD, CAUSE_FLOAT64_UPCAST, CAUSE_SLOW_POWER, CAUSE_TEMPORARIES

MATMUL_HINT = ("Hand the whole product to BLAS: np.matmul(a.data, b.data) (or @). Python loops, "
               "np.einsum without optimize=True, or float64 copies cost orders of magnitude.")


@pytest.mark.check("speed.matmul_vs_naive", hint=MATMUL_HINT)
@pytest.mark.timeout(300)
def test_matmul_vs_naive(measure, profile, verdict):
    """vectorized_matmul is far faster than a Python triple loop"""
    judge_speed(measure, profile, verdict, "speed.matmul_vs_naive", MATMUL_HINT)


@pytest.mark.check("speed.matmul_vs_reference", hint=MATMUL_HINT)
@pytest.mark.timeout(300)
def test_matmul_vs_reference(measure, profile, verdict):
    """vectorized_matmul keeps up with the reference at n = 64 to 1024"""
    judge_speed(measure, profile, verdict, "speed.matmul_vs_reference", MATMUL_HINT)


@pytest.mark.check("speed.fused_gelu")
@pytest.mark.timeout(300)
def test_fused_gelu(measure, profile, verdict):
    """fused_gelu beats the unfused GELU"""
    judge_speed(measure, profile, verdict, "speed.fused_gelu", lambda r: _gelu_hint(measure, r))


def _gelu_hint(measure, result) -> Diagnosis:
    """Why a fused GELU is not faster, from deterministic evidence about it: the dtypes and ufuncs
    a probe call saw and the tracemalloc peaks (never from how close the speedup came to the bar)."""
    try:
        mem = measure.memory("memory.fused_gelu")
    except Exception:  # the memory check reports its own failure
        mem = None
    student = mem["student"] if mem else None
    if student and student.dtype == "float64":
        return Diagnosis(CAUSE_FLOAT64_UPCAST, (
            "Your fused_gelu returns float64: a float64 constant (np.sqrt(2/np.pi), np.pi, a np.float64 "
            "scalar) upcasts the whole expression, doubling the memory traffic. Wrap constants in "
            "np.float32(...)."))
    if student and student.widest == "float64":
        return Diagnosis(CAUSE_FLOAT64_UPCAST, (
            "Your fused_gelu computes in float64 before its result is cast back: a float64 constant "
            "(np.sqrt(2/np.pi), np.pi, a np.float64 scalar) upcasts every temporary, doubling the memory "
            "traffic. Wrap constants in np.float32(...)."))
    if student and "power" in student.ufuncs:
        return Diagnosis(CAUSE_SLOW_POWER, (
            "Your fused_gelu uses x ** 3 (np.power): on float32 that runs numpy's slow general power "
            "routine. Write x * x * x."))
    if student and student.peak >= 0.9 * mem["baseline"].peak:
        return Diagnosis(CAUSE_TEMPORARIES, (
            f"Your fused_gelu allocates {student.peak / 2**20:.0f} MB, as much as the unfused one "
            f"({mem['baseline'].peak / 2**20:.0f} MB, about seven temporaries): it is not fused yet."))
    if result is not None and result.student.high < 1.0:
        return Diagnosis(CAUSE_BELOW_THRESHOLD, (
            "Your fused_gelu is slower than the unfused one: look for a float64 constant, x ** 3, or a "
            "copy of the input (np.array(x) or astype) inside the expression."))
    return Diagnosis(CAUSE_BELOW_THRESHOLD, "Write GELU as one expression so numpy can reuse its temporaries.")


@pytest.mark.check("speed.tiled_matmul")
@pytest.mark.timeout(300)
def test_tiled_matmul(measure, profile, verdict):
    """tiled_matmul stays within reach of BLAS"""
    judge_speed(measure, profile, verdict, "speed.tiled_matmul",
                "Loop only over tiles and multiply each tile pair with @ (BLAS inside the tile); "
                "element-wise Python loops inside a tile are thousands of times slower.")


@pytest.mark.check("speed.mlp_block")
@pytest.mark.timeout(300)
def test_mlp_block(measure, profile, verdict):
    """The MLP block built from your kernels keeps up with the reference's"""
    judge_speed(measure, profile, verdict, "speed.mlp_block",
                "The block is two matmuls and a GELU: make each fast (BLAS matmul, float32 fused GELU).")


CONV_HINT = ("Build the patch matrix with array operations (one copy per kernel offset, or a strided view), "
             "then one matmul with weight.reshape(out_channels, -1): no Python loop over output pixels.")


@pytest.mark.check("speed.conv_vs_naive", hint=CONV_HINT)
@pytest.mark.timeout(300)
def test_conv_vs_naive(measure, profile, verdict):
    """im2col_conv2d is far faster than a direct loop convolution"""
    judge_speed(measure, profile, verdict, "speed.conv_vs_naive", CONV_HINT)


@pytest.mark.check("speed.conv_vs_reference", hint=CONV_HINT)
@pytest.mark.timeout(300)
def test_conv_vs_reference(measure, profile, verdict):
    """im2col_conv2d keeps up with the reference's"""
    judge_speed(measure, profile, verdict, "speed.conv_vs_reference", CONV_HINT)
