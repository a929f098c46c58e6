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
    """Array ``k`` of set ``j`` (all of it, or only rows of ``block``), float32."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return np.random.default_rng([seed, j, k, 0]).standard_normal((), dtype=np.float32) * np.float32(scale)
    n, rest = shape[0], shape[1:]
    todo = range(blocks(shape)) if block is None else [block]
    parts = [np.random.default_rng([seed, j, k, b]).standard_normal((min(BLOCK, n - b * BLOCK),) + rest,
                                                                     dtype=np.float32)
             for b in todo]
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    out *= np.float32(scale)
    return out
