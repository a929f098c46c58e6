"""Checking what timed calls returned: one call per sample, chosen after the run.

The worker keeps every answer of a timed run. Afterwards the parent picks one call and one
block of rows at random (``secrets``: nothing the worker can predict), fetches those rows of the
answer and of the inputs, remakes the same rows of the inputs itself (``sandbox/inputs.py``),
and checks both: the answer against the float64 mathematics of the function, with the
measured checks' correctness tolerance, and the inputs against what they were (a function
that wrote into them has changed them). Every measured case is row-separable in its first
input, so a block of rows of the answer needs only that block of it (and the other inputs whole).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from grader.measure.specs import Case
from grader.sandbox import StudentError
from grader.sandbox.inputs import BLOCK, blocks, make

RTOL = 1e-3  # the measured checks' own tolerance (checks/suite/measured.py gate_outputs)


def gelu64(x: np.ndarray) -> np.ndarray:
    """The tanh-approximation GELU in float64: the yardstick."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def conv64(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int = 0) -> np.ndarray:
    """A 2-D convolution (NCHW, square kernel) in float64, one kernel offset at a time: the yardstick."""
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    weight = np.asarray(weight, np.float64)
    k = weight.shape[-1]
    oh, ow = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], weight.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            patch = x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    if bias is not None:
        out += np.asarray(bias, np.float64)[None, :, None, None]
    return out


def _apply(fn: str, args: list[np.ndarray], kwargs: dict) -> np.ndarray:
    if fn.endswith("matmul"):
        return np.asarray(args[0], np.float64) @ np.asarray(args[1], np.float64)
    if fn.endswith("gelu"):
        return gelu64(args[0])
    if fn == "im2col_conv2d":
        return conv64(args[0], args[1], **kwargs)
    raise KeyError(f"no float64 model of {fn}")


def expected(case: Case, fn: str, first_rows: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The answer's rows, in float64, from the first input's rows and the other inputs."""
    arrays = [first_rows, *others]
    if not case.pipeline:
        return _apply(fn, arrays, case.kwargs)
    prev = None
    for step in case.pipeline:
        prev = _apply(step["fn"], [prev if r == "prev" else arrays[r] for r in step["args"]], step.get("kwargs", {}))
    return prev


@dataclass(frozen=True)
class Pick:
    index: int  # which timed call
    block: int  # which block of rows
    start: int
    stop: int


CHECKED_ROWS = 8  # rows of the answer one verification recomputes (within one block of the recipe)


def pick(case: Case, loops: int) -> Pick:
    """A timed call, and CHECKED_ROWS consecutive rows of its answer inside one block of rows.

    Eight rows rather than the whole block: the float64 yardstick of the MLP block on 64 rows cost
    more than the timed call itself. A kernel that skips a share of its rows is still caught with
    about that probability per checked call, wherever the rows lie."""
    shape = case.arrays[0][0]
    b = secrets.randbelow(blocks(shape))
    first, last = b * BLOCK, min(shape[0], (b + 1) * BLOCK)
    start = first + secrets.randbelow(max(1, last - first - CHECKED_ROWS + 1))
    return Pick(secrets.randbelow(loops), b, start, min(last, start + CHECKED_ROWS))


@dataclass
class Check:
    wrong: str | None = None  # why the answer is not accepted (None: it is right)
    mutated: bool = False  # the inputs differ from what they were made as


def check_call(sandbox, fn: str, case: Case, seed: int, loops: int) -> Check:
    """Fetch and check one timed call of the last run of ``sandbox``."""
    p = pick(case, loops)
    try:
        reply = sandbox.request("result", fn or "pipeline", index=p.index, start=p.start, stop=p.stop)
    except StudentError as exc:
        return Check(wrong=f"the answer of timed call {p.index + 1} could not be read back ({exc})")
    value = reply.value
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], np.ndarray)
            and isinstance(value[1], list) and len(value[1]) == len(case.arrays)):
        return Check(wrong=f"the answer of timed call {p.index + 1} came back malformed")
    got, rows_now = value
    block_start = p.block * BLOCK
    first = make(seed, p.index, 0, case.arrays[0][0], case.arrays[0][1],
                 block=p.block)[p.start - block_start:p.stop - block_start]
    others = [make(seed, p.index, k, shape, scale) for k, (shape, scale) in enumerate(case.arrays) if k]
    made_rows = [first] + [o[p.start:p.stop] for o in others]
    mutated = any(not (isinstance(now, np.ndarray) and now.shape == made.shape and np.array_equal(now, made))
                  for now, made in zip(rows_now, made_rows))
    want = expected(case, fn, first, others)
    if got.shape != want.shape:
        return Check(f"timed call {p.index + 1} returned shape {got.shape} where rows {p.start}-{p.stop - 1} "
                     f"of the answer have shape {want.shape}", mutated)
    k = case.arrays[0][0][-1] if len(case.arrays[0][0]) > 1 else 1
    err = np.abs(got.astype(np.float64) - want)
    bad = ~(err <= 1e-4 * max(1.0, k) ** 0.5 + RTOL * np.abs(want))  # NaN counts as bad
    if bad.any():
        return Check(f"the answer of timed call {p.index + 1} is wrong in {int(bad.sum())} of {bad.size} checked "
                     f"values (largest error {float(np.nanmax(err)) if np.isfinite(err).any() else float('nan'):.3g}): "
                     "a cached, stale or skipped result", mutated)
    return Check(None, mutated)
