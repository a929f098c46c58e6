"""Assertions the checks share, written to give a student a readable failure message."""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.measure.verify import conv64  # noqa: F401  (the checks' yardstick too)
from grader.sandbox import Sandbox, StudentRaised


def gelu64(x: np.ndarray) -> np.ndarray:
    """The tanh-approximation GELU evaluated in float64: the yardstick for correctness."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def as_array(value: Any, what: str) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{what} returned None: does the function end without `return`?")
    assert isinstance(value, np.ndarray), f"{what} returned {type(value).__name__}, expected an array or Tensor"
    return value


def assert_close(actual: Any, expected: np.ndarray, what: str, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Shape first, then values, each with a message that says where it went wrong."""
    actual = as_array(actual, what)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(actual[np.isfinite(expected)])):
        raise AssertionError(f"{what}: result contains NaN or inf where the answer is finite")
    err = np.abs(actual.astype(np.float64) - expected)
    bad = err > atol + rtol * np.abs(expected)
    if bad.any():
        idx = np.unravel_index(np.argmax(np.where(bad, err, -1)), err.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} values wrong; at index {tuple(int(i) for i in idx)} "
            f"got {actual[idx]:.6g}, expected {expected[idx]:.6g}"
        )


def matmul_tolerance(k: int) -> dict[str, float]:
    # float32 sums of k products: error grows about with sqrt(k)
    return {"rtol": 1e-4, "atol": 1e-5 * max(1.0, float(k)) ** 0.5 * 10}


def assert_raises(student: Sandbox, exc_name: str | tuple[str, ...], fn: str, *args: Any, why: str,
                  **kwargs: Any) -> None:
    """The student's ``fn`` must raise ``exc_name`` (or a subclass; a tuple allows any of them)."""
    names = (exc_name,) if isinstance(exc_name, str) else tuple(exc_name)
    expected = " or ".join(names)
    try:
        value = student.call(fn, *args, **kwargs).value
    except StudentRaised as raised:
        fits = any(raised.is_a(name) for name in names)
        if raised.flag and not fits:
            raise  # a MemoryError is the sandbox's limit speaking: keep its flag
        assert fits, f"`{fn}` {why}: expected {expected}, got {raised.etype}: {raised.detail}"
        return
    shape = getattr(value, "shape", None)
    got = f"an array of shape {shape}" if shape is not None else repr(value)[:80]
    raise AssertionError(f"`{fn}` {why}: expected {expected}, but it returned {got}")


def assert_scalar(actual: Any, expected: float, what: str, rel: float = 1e-6) -> None:
    assert isinstance(actual, (int, float)) and not isinstance(actual, bool), (
        f"{what}: returned {type(actual).__name__}, expected a number")
    assert abs(actual - expected) <= rel * max(1.0, abs(expected)), f"{what}: got {actual:.6g}, expected {expected:.6g}"
