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

    Uniform on [-sqrt(3), sqrt(3)] times ``scale``: the variance of a standard normal times
    ``scale``. Each block is the raw 64-bit output of an SFC64 generator read as signed 32-bit
    integers and scaled in one pass: about 40% cheaper than ``Generator.random(dtype=float32)``
    and an affine pass (making fresh inputs for every timed call costs about half as much as
    the calls themselves), with 24 random bits per value, as float32 holds.
    """
    shape = tuple(int(d) for d in shape)
    half = math.sqrt(3.0) * scale
    if len(shape) == 0:
        out = np.empty((), dtype=np.float32)
        _fill(np.random.SFC64([seed, j, k, 0]), out, half)
        return out
    n, rest = shape[0], shape[1:]
    todo = range(blocks(shape)) if block is None else [block]
    if len(todo) == 1:
        b = todo[0]
        out = np.empty((min(BLOCK, n - b * BLOCK),) + rest, dtype=np.float32)
        _fill(np.random.SFC64([seed, j, k, b]), out, half)
        return out
    out = np.empty((n,) + rest, dtype=np.float32)
    for b in todo:  # each block straight into its rows: no concatenation
        _fill(np.random.SFC64([seed, j, k, b]), out[b * BLOCK:(b + 1) * BLOCK], half)
    return out


def _fill(bits: np.random.SFC64, rows: np.ndarray, half: float) -> None:
    """``rows`` (C-contiguous float32) uniform on [-half, half], in place."""
    count = rows.size
    ints = bits.random_raw((count + 1) // 2).view(np.int32)[:count].reshape(rows.shape)
    np.multiply(ints, np.float32(half / 2.0**31), out=rows, dtype=np.float32, casting="unsafe")
