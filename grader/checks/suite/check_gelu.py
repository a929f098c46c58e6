"""fused_gelu / unfused_gelu: the tanh-approximation GELU, float32 in and out."""
import numpy as np
import pytest

from grader.checks.expect import as_array, assert_close, gelu64

FORMULA = "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))"
HINT_VALUES = f"Use the tanh approximation {FORMULA}, not erf."
HINT_DTYPE = ("Keep every constant float32 (np.float32(...)): a float64 constant or np.sqrt(2/np.pi) "
              "upcasts the whole expression to float64.")


@pytest.mark.check("gelu.values", hint=HINT_VALUES)
def test_values(student, rng):
    """fused_gelu matches the formula evaluated in float64"""
    x = (rng.standard_normal((64, 96)) * 3).astype(np.float32)
    assert_close(student.fused_gelu(x), gelu64(x), "fused_gelu", rtol=1e-4, atol=1e-5)


@pytest.mark.check("gelu.zero_monotonic", hint=HINT_VALUES)
def test_zero_monotonic(student):
    """GELU(0) = 0 and GELU increases through 0, 1, 3"""
    out = as_array(student.fused_gelu(np.array([0.0, 1.0, 3.0], dtype=np.float32)), "fused_gelu")
    assert out.shape == (3,), f"fused_gelu: shape {out.shape} for a (3,) input"
    assert abs(out[0]) < 1e-7, f"fused_gelu(0) = {out[0]:.3g}, expected 0"
    assert out[0] < out[1] < out[2], f"fused_gelu at 0, 1, 3 gave {out.tolist()}, which does not increase"


@pytest.mark.check("gelu.extremes", hint="Large |x| overflows x**3 in float32; tanh saturates to +-1, so the "
                   "result should still be finite (about x for large x, 0 for very negative x).")
def test_extremes(student):
    """GELU is finite and right at +-10 and at large magnitudes"""
    x = np.array([-1e4, -100.0, -10.0, 10.0, 100.0, 1e4], dtype=np.float32)
    out = as_array(student.fused_gelu(x), "fused_gelu")
    assert np.all(np.isfinite(out)), f"fused_gelu gave non-finite values at {x[~np.isfinite(out)].tolist()}"
    assert_close(out, gelu64(x), "fused_gelu at large magnitudes", rtol=1e-4, atol=1e-4)


@pytest.mark.check("gelu.dtype_shape", hint=HINT_DTYPE)
def test_dtype_shape(student, rng):
    """fused_gelu keeps the shape and returns float32"""
    x = rng.standard_normal((4, 5, 6), dtype=np.float32)
    reply = student.call("fused_gelu", x)
    out = as_array(reply.value, "fused_gelu")
    assert out.shape == x.shape, f"fused_gelu: shape {out.shape}, expected {x.shape}"
    dtype = reply.meta.get("dtype")
    assert dtype == "float32", f"fused_gelu returned {dtype} for a float32 input (expected float32)"


@pytest.mark.check("gelu.input_unchanged", hint="Compute into a new array; never write into x.data.")
def test_input_unchanged(student, rng):
    """fused_gelu and unfused_gelu do not modify their input"""
    x = rng.standard_normal((32, 32), dtype=np.float32)
    for fn in ("fused_gelu", "unfused_gelu"):
        reply = student.call(fn, x)
        # Leaving the input alone is worth a point only in a function that works (a stub does too).
        assert_close(reply.value, gelu64(x), fn, rtol=1e-4, atol=1e-5)
        assert not any(reply.meta.get("inputs_changed", [])), f"{fn} modified its input array"


@pytest.mark.check("gelu.unfused_matches", hint="unfused_gelu must compute the same formula, one step at a time.")
def test_unfused_matches(student, rng):
    """unfused_gelu matches the formula and fused_gelu"""
    x = (rng.standard_normal((50, 70)) * 2).astype(np.float32)
    unfused = student.unfused_gelu(x)
    assert_close(unfused, gelu64(x), "unfused_gelu", rtol=1e-4, atol=1e-5)
    assert_close(student.fused_gelu(x), np.asarray(unfused, dtype=np.float64), "fused_gelu vs unfused_gelu",
                 rtol=1e-4, atol=1e-5)
