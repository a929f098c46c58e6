"""vectorized_matmul: np.matmul semantics through BLAS, with clear errors."""
import numpy as np
import pytest

from grader.checks.expect import assert_close, assert_raises, matmul_tolerance

HINT_SHAPES = "Use np.matmul (or @) on the Tensors' .data: it handles batched and broadcast shapes for you."


def _case(student, rng, a_shape, b_shape, what):
    a = rng.standard_normal(a_shape, dtype=np.float32)
    b = rng.standard_normal(b_shape, dtype=np.float32)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    out = student.vectorized_matmul(a, b)
    assert_close(out, expected, f"vectorized_matmul {what} {a_shape} @ {b_shape}", **matmul_tolerance(a_shape[-1]))


@pytest.mark.check("matmul.square", hint=HINT_SHAPES)
def test_square(student, rng):
    """Matmul of square 2-D matrices"""
    n = int(rng.integers(24, 48))
    _case(student, rng, (n, n), (n, n), "square")


@pytest.mark.check("matmul.nonsquare", hint=HINT_SHAPES)
def test_nonsquare(student, rng):
    """Matmul of non-square 2-D matrices"""
    m, k, n = (int(v) for v in rng.integers(3, 40, size=3))
    _case(student, rng, (m, k), (k, n), "non-square")
    _case(student, rng, (1, k), (k, 1), "row times column")


@pytest.mark.check("matmul.batched", hint=HINT_SHAPES)
def test_batched(student, rng):
    """Batched matmul, (2,3,5) @ (2,5,4)-style"""
    _case(student, rng, (2, 3, 5), (2, 5, 4), "batched")
    _case(student, rng, (2, 3, 4, 6), (2, 3, 6, 2), "4-D batched")


@pytest.mark.check("matmul.broadcast", hint=HINT_SHAPES)
def test_broadcast(student, rng):
    """Broadcast matmul, (3,4) @ (2,4,5)"""
    _case(student, rng, (3, 4), (2, 4, 5), "broadcast")
    _case(student, rng, (2, 1, 3, 4), (5, 4, 2), "broadcast batch dims")


@pytest.mark.check("matmul.error_mismatch",
                   hint="Compare a.shape[-1] with b.shape[-2] and raise ValueError with both shapes in the message.")
def test_error_mismatch(student, rng):
    """ValueError for an inner-dimension mismatch"""
    a = rng.standard_normal((3, 4), dtype=np.float32)
    b = rng.standard_normal((5, 2), dtype=np.float32)
    assert_raises(student, "ValueError", "vectorized_matmul", a, b, why="for (3,4) @ (5,2)")


@pytest.mark.check("matmul.error_ndim", hint="Check a.ndim and b.ndim first: matmul needs at least 2-D inputs.")
def test_error_ndim(student, rng):
    """ValueError for inputs under 2-D"""
    v = rng.standard_normal(4, dtype=np.float32)
    m = rng.standard_normal((4, 4), dtype=np.float32)
    assert_raises(student, "ValueError", "vectorized_matmul", v, m, why="for a 1-D first input")
    assert_raises(student, "ValueError", "vectorized_matmul", m, v, why="for a 1-D second input")
