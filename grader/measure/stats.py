"""Statistics for timing samples, kept apart from how the samples are taken.

A speed verdict is sequential: rounds are added one at a time and the check stops as soon as
the evidence is clear. The rule, stated once here and tested by simulation
(tests/test_measure.py::test_sequential_rule_error_rates):

- the interval is a one-sided ``LOOK_LEVEL`` t-interval on each side of the mean of the
  log per-round ratios (a ratio's noise is multiplicative), shown as a ratio;
- a look decides "above" when the interval's low end and the median are at or above the
  threshold, "below" when its high end and the median are under it;
- looks start at the first batch of rounds and go on to a bound; undecided at the bound,
  the median decides and the verdict is marked noisy.

One disturbed round widens the interval (more rounds) rather than deciding anything, and the
median, which grades, is untouched by it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOOK_LEVEL = 0.99  # one-sided, per look: the chance one look decides the wrong side at the threshold
# Student t quantiles at 0.99 by degrees of freedom (df > 30 uses the df = 30 value: conservative).
_T99 = (31.821, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764, 2.718, 2.681, 2.650, 2.624,
        2.602, 2.583, 2.567, 2.552, 2.539, 2.528, 2.518, 2.508, 2.500, 2.492, 2.485, 2.479, 2.473, 2.467,
        2.462, 2.457)


def t99(df: int) -> float:
    return _T99[min(max(df, 1), len(_T99)) - 1]


@dataclass(frozen=True)
class Estimate:
    """The median of per-round values with the sequential rule's interval (see the module doc)."""

    median: float
    low: float
    high: float
    n: int
    cv: float  # robust coefficient of variation (1.4826 MAD / median) of the per-round values: the noise

    def straddles(self, threshold: float) -> bool:
        return not (self.above(threshold) or self.below(threshold))

    def above(self, threshold: float) -> bool:
        """Decided at or above the threshold."""
        return self.low >= threshold and self.median >= threshold

    def below(self, threshold: float) -> bool:
        """Decided under the threshold."""
        return self.high < threshold and self.median < threshold

    def as_dict(self) -> dict[str, float]:
        def finite(v: float) -> float | None:  # one round has no interval: JSON gets null, not Infinity
            return v if math.isfinite(v) and v > 0 else None

        return {"median": self.median, "ci_low": finite(self.low), "ci_high": finite(self.high), "rounds": self.n,
                "cv": self.cv, "ci_level": LOOK_LEVEL}


def estimate(values: list[float] | np.ndarray) -> Estimate:
    """Median of the finite positive values, and the one-sided LOOK_LEVEL t-interval of their
    geometric mean on each side. Deterministic: the same values give the same estimate."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    med = float(np.median(x))
    # MAD-based, so one round disturbed by a neighbour on the VM does not read as noise everywhere.
    cv = float(1.4826 * np.median(np.abs(x - med)) / med)
    if x.size == 1:
        return Estimate(med, 0.0, math.inf, 1, 0.0)  # one round decides nothing
    logs = np.log(x)
    half = t99(x.size - 1) * float(np.std(logs, ddof=1)) / math.sqrt(x.size)
    centre = float(np.mean(logs))
    return Estimate(med, math.exp(centre - half), math.exp(centre + half), int(x.size), cv)


def geomean(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    return float(np.exp(np.mean(np.log(v)))) if v.size and np.all(v > 0) else float("nan")
