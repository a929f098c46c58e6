"""How timed inputs are made: one recipe, run by the worker and again by the parent.

Array ``k`` of input set ``j`` is made in blocks of ``BLOCK`` rows, block ``b`` from the
generator seeded ``[seed, j, k, b]``. So the parent can remake any block of any set
(to check the answer of one timed call, chosen after the run) at the cost of that block alone.
Loaded by the worker by file path (like wire.py): stdlib and numpy only.
"""
from __future__ import annotations

import math

import numpy as np

BLOCK = 64  # rows per block: the rows one verification checks


def blocks(shape) -> int:
    return max(1, math.ceil(shape[0] / BLOCK)) if len(shape) else 1


def make(seed: int, j: int, k: int, shape, scale: float, block: int | None = None) -> np.ndarray:
    """Array ``k`` of set ``j`` (all of it, or only rows of ``block``), float32.

    Uniform on [-sqrt(3), sqrt(3)) times ``scale``: the variance of a standard normal
    times ``scale``, at a fifth of the cost (making fresh inputs for every timed call
    had cost more than timing the calls).
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return _uniform(np.random.default_rng([seed, j, k, 0]), (), scale)
    n, rest = shape[0], shape[1:]
    todo = range(blocks(shape)) if block is None else [block]
    if len(todo) == 1:
        b = todo[0]
        return _uniform(np.random.default_rng([seed, j, k, b]), (min(BLOCK, n - b * BLOCK),) + rest, scale)
    out = np.empty((n,) + rest, dtype=np.float32)
    for b in todo:  # each block straight into its rows: no concatenation
        rows = out[b * BLOCK:(b + 1) * BLOCK]
        np.random.default_rng([seed, j, k, b]).random(rows.shape, dtype=np.float32, out=rows)
    return _affine(out, scale)


def _uniform(rng: np.random.Generator, shape, scale: float) -> np.ndarray:
    return _affine(np.asarray(rng.random(shape, dtype=np.float32), dtype=np.float32), scale)


def _affine(u: np.ndarray, scale: float) -> np.ndarray:
    """[0, 1) to [-sqrt(3), sqrt(3)) x scale, in place."""
    half = np.float32(math.sqrt(3.0) * scale)
    u *= np.float32(2.0) * half
    u -= half
    return u
