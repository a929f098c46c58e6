"""What each measured check times, against what, and how its threshold is derived.

One table used by both the checks (grading a student) and calibration
(measuring the reference on this machine), so the two always measure the
same thing.

Threshold kinds, with S_r the reference's speedup over the baseline on this
machine (from calibration) and f the spec's fraction:

- ``gain``:     T = 1 + f * (S_r - 1)  (a fraction of the reference's *gain*: fused GELU
                over unfused, where "no gain" is 1.0 and the gain itself is small)
- ``relative``: T = f * S_r            (a fraction of the reference's speed ratio)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GELU_SHAPE = (2000, 2000)  # 16 MB of float32: what the assignment's lore measures on


@dataclass(frozen=True)
class Case:
    """One workload: the inputs (shape, scale) made fresh for every call, and the call."""

    label: str
    arrays: tuple[tuple[tuple[int, ...], float], ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    pipeline: tuple[dict[str, Any], ...] = ()  # a chain of the module's functions instead of one
    flops: float = 0.0  # the work one call must do, and the bytes it must move at least
    bytes_moved: float = 0.0  # (the roofs turn these into the least time a call can take)

    def nbytes(self) -> int:
        total = 0
        for shape, _ in self.arrays:
            n = 4
            for d in shape:
                n *= d
            total += n
        return total


@dataclass(frozen=True)
class Contestant:
    """Who runs a case: 'student' or 'reference' worker, and which function."""

    who: str
    fn: str


@dataclass(frozen=True)
class SpeedSpec:
    check_id: str
    what: str  # a sentence for the report
    student_fn: str
    baseline: Contestant  # what speedups are measured against
    cases: tuple[Case, ...]
    kind: str  # "gain" | "relative"
    fraction: float
    reference_fn: str | None = None  # None: the reference *is* the baseline (S_r = 1 by definition)
    rounds: int = 3  # rounds before the first look of the sequential rule (measure/stats.py)
    max_rounds: int = 19  # the last look: undecided there, the median decides and the item is noisy
    min_sample: float = 0.012  # seconds: loops per sample are calibrated to come nearest this

    def threshold(self, reference_speedup: float) -> float:
        if self.kind == "gain":
            return 1.0 + self.fraction * (reference_speedup - 1.0)
        return self.fraction * reference_speedup


def _mm(n: int) -> Case:
    return Case(f"n={n}", (((n, n), 1.0), ((n, n), 1.0)), flops=2.0 * n**3, bytes_moved=12.0 * n * n)


def _gelu_case() -> Case:
    n = GELU_SHAPE[0] * GELU_SHAPE[1]
    return Case("2000x2000", ((GELU_SHAPE, 3.0),), flops=8.0 * n, bytes_moved=8.0 * n)


_MLP_FLOPS = 2.0 * 256 * 512 * 2048 + 8.0 * 256 * 2048 + 2.0 * 256 * 2048 * 512
_MLP_BYTES = 4.0 * (256 * 512 + 512 * 2048 + 2048 * 512 + 256 * 512)


_BLOCK = (
    {"fn": "vectorized_matmul", "args": [0, 1]},
    {"fn": "fused_gelu", "args": ["prev"]},
    {"fn": "vectorized_matmul", "args": ["prev", 2]},
)

# A CIFAR-sized conv layer: 8 images of 16x32x32, 32 filters of 3x3, padding 1 (TinyTorch 2026's im2col).
_CONV_N, _CONV_C, _CONV_HW, _CONV_OC, _CONV_K = 8, 16, 32, 32, 3
_CONV_FLOPS = 2.0 * _CONV_N * _CONV_OC * _CONV_HW**2 * _CONV_C * _CONV_K**2
_CONV_BYTES = 4.0 * (_CONV_N * _CONV_C * _CONV_HW**2 + _CONV_OC * _CONV_C * _CONV_K**2
                     + _CONV_N * _CONV_OC * _CONV_HW**2)


def _conv_case() -> Case:
    return Case("8x16x32x32, 32 3x3 filters", (((_CONV_N, _CONV_C, _CONV_HW, _CONV_HW), 1.0),
                                              ((_CONV_OC, _CONV_C, _CONV_K, _CONV_K), 0.1)),
                kwargs={"padding": 1}, flops=_CONV_FLOPS, bytes_moved=_CONV_BYTES)


def _patches_case() -> Case:
    return Case("8x16x32x32, kernel 3", (((_CONV_N, _CONV_C, _CONV_HW, _CONV_HW), 1.0),),
                kwargs={"kernel_size": _CONV_K, "padding": 1})


SPEED_SPECS: dict[str, SpeedSpec] = {s.check_id: s for s in [
    SpeedSpec(
        "speed.matmul_vs_naive", "vectorized_matmul against a pure-Python triple loop (64x64)",
        student_fn="vectorized_matmul", baseline=Contestant("reference", "naive_matmul"),
        reference_fn="vectorized_matmul", cases=(_mm(64),), kind="relative", fraction=0.1,
        max_rounds=9),
    SpeedSpec(
        "speed.matmul_vs_reference", "vectorized_matmul against the reference at n = 64, 256 and 1024",
        student_fn="vectorized_matmul", baseline=Contestant("reference", "vectorized_matmul"),
        cases=(_mm(64), _mm(256), _mm(1024)), kind="relative", fraction=0.7),
    SpeedSpec(
        "speed.fused_gelu", "fused_gelu against the unfused GELU on a 2000x2000 float32 input",
        student_fn="fused_gelu", baseline=Contestant("reference", "unfused_gelu"),
        reference_fn="fused_gelu", cases=(_gelu_case(),), kind="gain",
        fraction=0.5, max_rounds=25),
    SpeedSpec(
        "speed.tiled_matmul", "tiled_matmul (tile 64) against BLAS vectorized_matmul at n = 384",
        student_fn="tiled_matmul", baseline=Contestant("reference", "vectorized_matmul"),
        reference_fn="tiled_matmul", cases=(Case("n=384", (((384, 384), 1.0), ((384, 384), 1.0)),
                                                  kwargs={"tile_size": 64}, flops=2.0 * 384**3,
                                                  bytes_moved=12.0 * 384**2),),
        kind="relative", fraction=0.4),
    SpeedSpec(
        "speed.mlp_block", "the MLP block x @ W1, GELU, @ W2 (256x512, hidden 2048) against the reference's",
        student_fn="", baseline=Contestant("reference", ""),
        cases=(Case("256x512x2048", (((256, 512), 1.0), ((512, 2048), 0.05), ((2048, 512), 0.03)),
                    pipeline=_BLOCK, flops=_MLP_FLOPS, bytes_moved=_MLP_BYTES),),
        kind="relative", fraction=0.7),
    SpeedSpec(
        "speed.conv_vs_naive", "im2col_conv2d against a direct loop convolution (8x16x32x32, 32 3x3 filters)",
        student_fn="im2col_conv2d", baseline=Contestant("reference", "naive_conv2d"),
        reference_fn="im2col_conv2d", cases=(_conv_case(),), kind="relative", fraction=0.2,
        max_rounds=9),
    SpeedSpec(
        "speed.conv_vs_reference", "im2col_conv2d against the reference's (8x16x32x32, 32 3x3 filters)",
        student_fn="im2col_conv2d", baseline=Contestant("reference", "im2col_conv2d"),
        cases=(_conv_case(),), kind="relative", fraction=0.6),
]}


@dataclass(frozen=True)
class MemorySpec:
    check_id: str
    what: str
    student_fn: str
    baseline: Contestant
    reference_fn: str
    case: Case
    fraction: float  # threshold: this fraction of the reference's reduction over the baseline

    def threshold(self, reference_reduction: float) -> float:
        return self.fraction * reference_reduction


MEMORY_SPECS: dict[str, MemorySpec] = {s.check_id: s for s in [
    MemorySpec("memory.fused_gelu", "tracemalloc peak of one fused_gelu call on 2000x2000 float32, "
               "against the unfused GELU", student_fn="fused_gelu",
               baseline=Contestant("reference", "unfused_gelu"), reference_fn="fused_gelu",
               case=_gelu_case(), fraction=0.8),
    # The patch matrix is 9x the image here; a reduction "against" the reference's own im2col is at
    # most about 1, so the threshold allows this many times the reference's peak: 1 / fraction.
    MemorySpec("memory.im2col", "tracemalloc peak of one im2col call on 8x16x32x32 (kernel 3, padding 1), "
               "against the reference's im2col", student_fn="im2col",
               baseline=Contestant("reference", "im2col"), reference_fn="im2col",
               case=_patches_case(), fraction=0.6),
]}

# Roofline probes: (operation_cost op, n, the case timed, who runs it, which function)
ROOFLINE_MATMUL_SIZES = (64, 256, 1024)
ADD_SHAPE = (4096, 4096)  # 64 MB per array: beyond any last-level cache here
