"""Statistics for timing samples, kept apart from how the samples are taken."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """The median of per-round values with a bootstrap confidence interval."""

    median: float
    low: float
    high: float
    n: int
    cv: float  # robust coefficient of variation (1.4826 MAD / median) of the per-round values: the noise

    def straddles(self, threshold: float) -> bool:
        return self.low < threshold <= self.high

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "ci_low": self.low, "ci_high": self.high, "rounds": self.n, "cv": self.cv}


def estimate(values: list[float] | np.ndarray, confidence: float = 0.95, resamples: int = 2000,
             seed: int = 0) -> Estimate:
    """Median and a percentile-bootstrap CI of the median (seeded: the same samples give the same CI)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    med = float(np.median(x))
    if x.size == 1:
        return Estimate(med, med, med, 1, 0.0)
    rng = np.random.default_rng(seed)
    boot = np.median(x[rng.integers(0, x.size, size=(resamples, x.size))], axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    # MAD-based, so one round disturbed by a neighbour on the VM does not read as noise everywhere.
    cv = float(1.4826 * np.median(np.abs(x - med)) / med) if med else float("nan")
    return Estimate(med, float(low), float(high), int(x.size), cv)


def geomean(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(np.exp(np.mean(np.log(v)))) if v.size and np.all(v > 0) else float("nan")
