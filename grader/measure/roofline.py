"""The roofline model against measurement: operations, their costs, measured and predicted GFLOP/s.

Costs follow the assignment's seed conventions, computed by the trusted
reference (never by the student's operation_cost).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import reference as ref_model
from grader.measure.specs import ADD_SHAPE, GELU_SHAPE, ROOFLINE_MATMUL_SIZES, Case
from grader.measure.timing import Runner, loops_for, sample
from grader.sandbox import Sandbox

# Tolerance floor: even a perfect model is within ~35% of a real kernel at best.
MIN_TOLERANCE = math.log(1.35)
TOLERANCE_SLACK = 1.5  # a student's model may miss by 1.5x the reference model's own miss


@dataclass
class Point:
    name: str  # e.g. "matmul n=1024"
    op: str
    n: int
    flops: float
    bytes_moved: float
    seconds: float
    measured_gflops: float

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes_moved

    def as_dict(self) -> dict[str, Any]:
        return dict(asdict(self), intensity=self.intensity)


def point(op: str, n: int, seconds: float, name: str | None = None) -> Point:
    flops, moved = ref_model.operation_cost(op, n)
    return Point(name or f"{op} n={n}", op, n, flops, moved, seconds, flops / seconds / 1e9)


def model_error(predicted: float, measured: float) -> float:
    """How far a prediction is from a measurement, as |log ratio| (symmetric in over/under)."""
    if not (predicted > 0 and measured > 0):
        return float("inf")
    return abs(math.log(predicted / measured))


def points_from(matmul_seconds: dict[int, float], gelu_seconds: float, add_seconds: float) -> list[Point]:
    pts = [point("matmul", n, s, f"matmul n={n}") for n, s in sorted(matmul_seconds.items())]
    gelu_n = GELU_SHAPE[0] * GELU_SHAPE[1]
    pts.append(point("gelu", gelu_n, gelu_seconds, "gelu 2000x2000"))
    add_n = ADD_SHAPE[0] * ADD_SHAPE[1]
    pts.append(point("add", add_n, add_seconds, "add 4096x4096"))
    return pts


def tolerance(reference_error: float) -> float:
    return max(MIN_TOLERANCE, TOLERANCE_SLACK * reference_error)


def time_add(reference: Sandbox, seed: int) -> float:
    runner = Runner("reference", reference, "add_probe")
    case = Case("4096x4096", ((ADD_SHAPE, 1.0), (ADD_SHAPE, 1.0)))
    loops, _ = loops_for(runner, case, 0.04, seed, budget=30.0, baseline_time=None)
    return min(sample(runner, case, loops, seed + i).parent for i in range(5))


def reference_model_accuracy(reference: Sandbox, peak: float, bandwidth: float, seed: int,
                             speed: dict[str, dict]) -> dict[str, Any]:
    """How well the (reference) roofline model predicts the reference's kernels on this machine."""
    mm = speed["speed.matmul_vs_reference"]["seconds_per_call"]
    matmul_seconds = {n: mm[f"n={n}"]["baseline"] for n in ROOFLINE_MATMUL_SIZES}
    gelu_seconds = speed["speed.fused_gelu"]["seconds_per_call"]["2000x2000"]["reference"]
    pts = points_from(matmul_seconds, gelu_seconds, time_add(reference, seed))
    out = {}
    for p in pts:
        predicted = ref_model.roofline_predict(p.flops, p.bytes_moved, peak, bandwidth)
        err = model_error(predicted, p.measured_gflops)
        out[p.name] = {"measured_gflops": p.measured_gflops, "predicted_gflops": predicted,
                       "error": err, "tolerance": tolerance(err),
                       "bound": ref_model.classify_bound(p.flops, p.bytes_moved, peak, bandwidth)}
    return {"points": out}
