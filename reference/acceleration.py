"""Reference implementation of the Acceleration assignment's student API.

This file doubles as a "submission": the grader runs it inside the same kind
of sandboxed worker as a student's file, so it must stay standalone (numpy
only, no imports from the rest of accelgrade). Every function accepts plain
ndarrays or Tensor-like objects (anything with an ndarray ``.data``) and
returns a plain ``np.ndarray``.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

__all__ = [
    "vectorized_matmul",
    "fused_gelu",
    "unfused_gelu",
    "tiled_matmul",
    "arithmetic_intensity",
    "operation_cost",
    "roofline_predict",
    "classify_bound",
]

# GELU constants as float32 scalars. Under NumPy 2 (NEP 50) a np.float64 scalar
# times a float32 array gives float64, so np.sqrt(2 / np.pi) would silently
# upcast the whole computation; np.float32 constants keep it in float32.
_SQRT_2_OVER_PI = np.float32(np.sqrt(2.0 / np.pi))
_GELU_CUBIC = np.float32(0.044715)
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)

# Bytes per float32 element, the seed convention for every roofline count.
_F32_BYTES = 4.0


def _unwrap(x: Any) -> np.ndarray:
    """Return the ndarray behind ``x`` (an ndarray, a Tensor, or array-like).

    The ndarray check comes first because ``ndarray.data`` is a memoryview,
    not the array, so a blind ``getattr(x, "data")`` would be wrong for arrays.
    """
    if isinstance(x, np.ndarray):
        return x
    inner = getattr(x, "data", None)
    if isinstance(inner, np.ndarray):
        return inner
    return np.asarray(x)


def _as_float32(x: Any) -> np.ndarray:
    # No copy when the input is already float32 (the common case).
    return np.asarray(_unwrap(x), dtype=np.float32)


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------


def vectorized_matmul(a: Any, b: Any) -> np.ndarray:
    """Batched/broadcast matrix product through numpy's BLAS-backed ``matmul``."""
    a_arr, b_arr = _unwrap(a), _unwrap(b)
    # np.matmul would accept 1-D operands (vector semantics); the assignment
    # asks for matrices only, so reject them explicitly.
    if a_arr.ndim < 2 or b_arr.ndim < 2:
        raise ValueError(
            f"vectorized_matmul needs inputs with at least 2 dimensions; "
            f"got {a_arr.ndim}-D {a_arr.shape} and {b_arr.ndim}-D {b_arr.shape}"
        )
    if a_arr.shape[-1] != b_arr.shape[-2]:
        raise ValueError(
            f"inner dimensions do not match: a.shape[-1]={a_arr.shape[-1]} "
            f"vs b.shape[-2]={b_arr.shape[-2]} (shapes {a_arr.shape} @ {b_arr.shape})"
        )
    # Batch dimensions that cannot broadcast make np.matmul raise ValueError itself.
    return np.matmul(a_arr, b_arr)


def fused_gelu(x: Any) -> np.ndarray:
    """Tanh-approximation GELU as one expression, every constant float32.

    One expression lets numpy reuse its temporaries (temporary elision), so it
    allocates about three input-sized arrays instead of the unfused version's
    seven-plus. It is the bar for "fused": a student who goes further (in place
    with ``out=``) is leaner than the reference and still gets full credit.
    """
    xf = _as_float32(x)
    return _HALF * xf * (_ONE + np.tanh(_SQRT_2_OVER_PI * (xf + _GELU_CUBIC * xf * xf * xf)))


def unfused_gelu(x: Any) -> np.ndarray:
    """The same GELU written step by step, one named temporary per operation.

    This is deliberately wasteful: it is the baseline that fusion is graded
    against, so each step allocates (and later reads back) a full-size array.
    """
    xf = _as_float32(x)
    x_squared = xf * xf
    x_cubed = x_squared * xf
    cubic_term = _GELU_CUBIC * x_cubed
    inner = xf + cubic_term
    scaled = _SQRT_2_OVER_PI * inner
    tanh_part = np.tanh(scaled)
    one_plus = _ONE + tanh_part
    half_x = _HALF * xf
    return half_x * one_plus


def tiled_matmul(a: Any, b: Any, tile_size: int = 64) -> np.ndarray:
    """Blocked 2-D matrix product: loop over (i, j, k) tiles, BLAS inside each tile.

    Slicing past the end of an axis just yields a shorter block, so the ragged
    last tile in each dimension is handled without special cases.
    """
    try:
        ts = operator.index(tile_size)  # rejects floats such as 64.0 or 2.5
    except TypeError:
        raise TypeError(f"tile_size must be an integer, got {type(tile_size).__name__}") from None
    if ts < 1:
        raise ValueError(f"tile_size must be at least 1, got {ts}")
    a_arr, b_arr = _unwrap(a), _unwrap(b)
    if a_arr.ndim != 2 or b_arr.ndim != 2:
        raise ValueError(
            f"tiled_matmul needs 2-D inputs; got shapes {a_arr.shape} and {b_arr.shape}"
        )
    m, k_dim = a_arr.shape
    k_b, n = b_arr.shape
    if k_dim != k_b:
        raise ValueError(
            f"inner dimensions do not match: a.shape[1]={k_dim} vs b.shape[0]={k_b}"
        )
    out = np.zeros((m, n), dtype=np.result_type(a_arr, b_arr))
    for i0 in range(0, m, ts):
        i1 = min(i0 + ts, m)
        for j0 in range(0, n, ts):
            j1 = min(j0 + ts, n)
            # A view into the output: accumulating the k tiles straight into it
            # avoids a separate per-tile buffer.
            c_tile = out[i0:i1, j0:j1]
            for k0 in range(0, k_dim, ts):
                k1 = min(k0 + ts, k_dim)
                c_tile += a_arr[i0:i1, k0:k1] @ b_arr[k0:k1, j0:j1]
    return out


# ---------------------------------------------------------------------------
# Roofline analysis
# ---------------------------------------------------------------------------


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    """FLOPs per byte of memory traffic."""
    if bytes_moved <= 0:
        raise ValueError(f"bytes_moved must be positive, got {bytes_moved}")
    return float(flops) / float(bytes_moved)


def operation_cost(op: str, n: int) -> tuple[float, float]:
    """``(flops, bytes_moved)`` for ``op`` on ``n`` float32 elements (n x n for matmul).

    Seed conventions: add reads 2 and writes 1 array; fused GELU reads 1 and
    writes 1; unfused GELU does 16 loads/stores per element across its steps;
    square matmul reads A and B and writes C once.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer, got {n!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    nf = float(n)
    if op == "add":
        return nf, 3 * _F32_BYTES * nf
    if op == "gelu":
        return 8.0 * nf, 2 * _F32_BYTES * nf
    if op == "gelu_unfused":
        return 8.0 * nf, 16 * _F32_BYTES * nf
    if op == "matmul":
        return 2.0 * nf**3, 3 * _F32_BYTES * nf**2
    raise ValueError(
        f"unknown op {op!r}; expected one of 'add', 'gelu', 'gelu_unfused', 'matmul'"
    )


def roofline_predict(
    flops: float, bytes_moved: float, peak_gflops: float, peak_bandwidth_gbs: float
) -> float:
    """Attainable GFLOP/s: the lower of the compute roof and the bandwidth slope."""
    intensity = arithmetic_intensity(flops, bytes_moved)
    # FLOP/byte * GB/s = GFLOP/s, so the units line up with peak_gflops.
    return float(min(float(peak_gflops), intensity * float(peak_bandwidth_gbs)))


def classify_bound(
    flops: float, bytes_moved: float, peak_gflops: float, peak_bandwidth_gbs: float
) -> str:
    """``"memory"`` when bandwidth caps performance below the compute peak, else ``"compute"``.

    Exactly at the ridge point the two roofs meet; we call that compute-bound.
    """
    intensity = arithmetic_intensity(flops, bytes_moved)
    return "memory" if intensity * float(peak_bandwidth_gbs) < float(peak_gflops) else "compute"
