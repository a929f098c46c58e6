"""Baselines the grader measures speed and memory against.

Like the reference, this must run standalone inside the sandbox worker, so it
imports only numpy (plus the reference's own unfused GELU).
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # imported as part of the ``reference`` package
    from .acceleration import unfused_gelu
except ImportError:  # copied next to acceleration.py as a top-level module
    from acceleration import unfused_gelu  # type: ignore[no-redef]

__all__ = ["naive_matmul", "unfused_gelu", "add_probe"]


def _unwrap(x: Any) -> np.ndarray:
    # ndarray first: ndarray.data is a memoryview, not the array itself.
    if isinstance(x, np.ndarray):
        return x
    inner = getattr(x, "data", None)
    if isinstance(inner, np.ndarray):
        return inner
    return np.asarray(x)


def naive_matmul(a: Any, b: Any) -> np.ndarray:
    """Textbook triple loop in pure Python: the "no vectorization" speed floor.

    Works on Python lists (not ndarray indexing) so the cost is honest
    interpreter arithmetic rather than numpy's per-element boxing overhead.
    """
    a_arr, b_arr = _unwrap(a), _unwrap(b)
    if a_arr.ndim != 2 or b_arr.ndim != 2:
        raise ValueError(
            f"naive_matmul needs 2-D inputs; got shapes {a_arr.shape} and {b_arr.shape}"
        )
    m, k_dim = a_arr.shape
    k_b, n = b_arr.shape
    if k_dim != k_b:
        raise ValueError(
            f"inner dimensions do not match: a.shape[1]={k_dim} vs b.shape[0]={k_b}"
        )
    rows = a_arr.tolist()
    # Columns of B as lists, so the inner loop walks two flat sequences.
    cols = [list(col) for col in zip(*b_arr.tolist())] if k_dim else [[] for _ in range(n)]
    result = [[0.0] * n for _ in range(m)]
    for i in range(m):
        row = rows[i]
        out_row = result[i]
        for j in range(n):
            col = cols[j]
            acc = 0.0
            for k in range(k_dim):
                acc += row[k] * col[k]
            out_row[j] = acc
    return np.array(result, dtype=np.float32).reshape(m, n)


def add_probe(a: Any, b: Any) -> np.ndarray:
    """``a + b`` into a new array: 1 FLOP per 12 bytes, a pure memory-bound roofline probe."""
    return np.add(_unwrap(a), _unwrap(b))
