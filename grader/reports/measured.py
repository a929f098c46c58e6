"""Read the measured checks' figures out of ``ItemScore.data`` into typed views.

The checks (grader/checks/suite/measured.py, test_memory.py,
test_roofline_measured.py) record speed, memory and roofline figures as plain
dicts. The reports need them in several places (the checks table, the charts,
the terminal), so they are read once here, defensively: a missing key or an
odd value gives ``None``, never an exception, and the report falls back to
the raw key/value table.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.models import ItemScore
from grader.reports._common import clean_text

MB = 1024 * 1024  # the checks' messages say "MB" for MiB; the report agrees with them


def num(value: Any) -> float | None:
    """A finite float, or None (NaN, inf, strings, None)."""
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _positive(value: Any) -> float | None:
    f = num(value)
    return f if f is not None and f > 0 else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    f = num(value)
    return int(f) if f is not None else None


def _strs(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [clean_text(v) for v in value if v]
    return [clean_text(value)] if value else []


# ---------------------------------------------------------------- formatting

def fmt_ratio(value: float | None) -> str:
    """Speedups and reductions: 3 significant digits, "x" suffix (632x, 1.8x, 0.579x)."""
    return "n/a" if value is None else fmt_num(value) + "x"


def fmt_num(value: float) -> str:
    """3 significant digits, never in e-notation above 1000 (1,074 rather than 1.07e+03)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} \u00b5s"


def fmt_mb(value_bytes: float | None) -> str:
    return "n/a" if value_bytes is None else f"{value_bytes / MB:.1f} MB"


def fmt_gflops(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g} GFLOP/s"


def fmt_sig(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


# ---------------------------------------------------------------- speed

@dataclass(frozen=True)
class Estimate:
    """A speedup: median of per-round ratios with the sequential rule's interval (measure/stats.py)."""

    median: float
    low: float | None = None
    high: float | None = None
    rounds: int | None = None
    cv: float | None = None

    def describe(self, full: bool = True) -> str:
        """``1.8x (CI 1.67-2.09, 13 rounds)``; ``full=False`` gives ``1.8x (CI 1.67-2.09)``."""
        text = fmt_ratio(self.median)
        extra = []
        if self.low is not None and self.high is not None:
            extra.append(f"CI {fmt_num(self.low)}\u2013{fmt_num(self.high)}")
        if self.rounds and full:
            extra.append(f"{self.rounds} rounds")
        return f"{text} ({', '.join(extra)})" if extra else text


def _estimate(value: Any) -> Estimate | None:
    d = _dict(value)
    median = _positive(d.get("median"))
    if median is None:
        return None
    low, high = _positive(d.get("ci_low")), _positive(d.get("ci_high"))
    return Estimate(median, low, high, _int(d.get("rounds")), num(d.get("cv")))


@dataclass(frozen=True)
class CaseTiming:
    case: str
    student: float | None
    reference: float | None
    baseline: float | None


@dataclass(frozen=True)
class SpeedView:
    check_id: str
    name: str
    visibility: str
    what: str
    student: Estimate | None
    reference: Estimate | None
    threshold: float | None
    threshold_origin: str
    noisy: bool
    too_slow: str | None
    tampering: list[str]
    cases: list[CaseTiming] = field(default_factory=list)

    @property
    def meets_threshold(self) -> bool | None:
        if self.student is None or self.threshold is None:
            return None
        return self.student.median >= self.threshold

    def summary(self, full: bool = True) -> str:
        """One line: what the student reached, against what, and the threshold."""
        if self.too_slow:
            return f"too slow to time: {self.too_slow}"
        parts = []
        if self.student:
            parts.append(f"speedup {self.student.describe(full)}")
        if self.reference:
            parts.append(f"reference {self.reference.describe(full) if full else fmt_ratio(self.reference.median)}")
        if self.threshold is not None:
            parts.append(f"needed {fmt_ratio(self.threshold)}")
        if self.noisy:
            parts.append("noisy")
        return "; ".join(parts)


def speed_view(item: ItemScore) -> SpeedView | None:
    """The speed figures of a ``speed.*`` check, or None when it recorded none."""
    data = _dict(item.data)
    speed = _dict(data.get("speed"))
    too_slow = data.get("too_slow") or speed.get("too_slow")
    if not speed and not too_slow:
        return None
    cases = []
    for case, per in _dict(speed.get("seconds_per_call")).items():
        per = _dict(per)
        cases.append(CaseTiming(clean_text(case), _positive(per.get("student")),
                                _positive(per.get("reference")), _positive(per.get("baseline"))))
    threshold = _positive(data.get("threshold"))
    if threshold is None:
        threshold = _positive(speed.get("threshold"))
    return SpeedView(
        check_id=clean_text(item.check_id), name=clean_text(item.name), visibility=item.visibility,
        what=clean_text(data.get("what") or ""),
        student=_estimate(speed.get("student_speedup")),
        reference=_estimate(speed.get("reference_speedup")),
        threshold=threshold,
        threshold_origin=clean_text(data.get("threshold_origin") or ""),
        noisy=bool(speed.get("noisy")),
        too_slow=clean_text(too_slow) if too_slow else None,
        tampering=_strs(speed.get("tampering")),
        cases=cases,
    )


# ---------------------------------------------------------------- memory

@dataclass(frozen=True)
class MemoryView:
    check_id: str
    name: str
    visibility: str
    what: str
    baseline: float | None  # tracemalloc peaks, bytes
    student: float | None
    reference: float | None
    dtypes: dict[str, str]
    threshold: float | None  # the reduction factor needed (baseline peak / student peak)
    threshold_origin: str
    tampering: list[str]
    baseline_label: str = "unfused baseline"  # what the peaks are compared against, and whose
    function: str = "fused_gelu"

    @property
    def reduction(self) -> float | None:
        if self.baseline is None or not self.student:
            return None
        return self.baseline / self.student

    @property
    def reference_reduction(self) -> float | None:
        if self.baseline is None or not self.reference:
            return None
        return self.baseline / self.reference

    @property
    def allowed_peak(self) -> float | None:
        """The largest student peak that still meets the threshold, in bytes."""
        if self.baseline is None or not self.threshold:
            return None
        return self.baseline / self.threshold

    def summary(self, full: bool = True) -> str:
        parts = [f"peak {fmt_mb(self.student)}"]
        if self.baseline is not None:
            parts.append(f"{self.baseline_label} {fmt_mb(self.baseline)}")
        if self.reduction is not None:
            parts.append(f"{fmt_ratio(self.reduction)} less")
        if self.reference is not None:
            parts.append(f"reference {fmt_mb(self.reference)}")
        if self.threshold is not None:
            parts.append(f"needed {fmt_ratio(self.threshold)} less")
        return "; ".join(parts)


def memory_view(item: ItemScore) -> MemoryView | None:
    data = _dict(item.data)
    memory = _dict(data.get("memory"))
    if not memory:
        return None

    def peak(label: str) -> float | None:
        return _positive(_dict(memory.get(label)).get("peak"))

    tampering = [clean_text(_dict(m).get("tampering")) for m in memory.values() if _dict(m).get("tampering")]
    labels = _dict(data.get("labels"))
    return MemoryView(
        check_id=clean_text(item.check_id), name=clean_text(item.name), visibility=item.visibility,
        what=clean_text(data.get("what") or ""),
        baseline=peak("baseline"), student=peak("student"), reference=peak("reference"),
        dtypes={clean_text(k): clean_text(_dict(v).get("dtype") or "") for k, v in memory.items()},
        threshold=_positive(data.get("threshold")),
        threshold_origin=clean_text(data.get("threshold_origin") or ""),
        tampering=tampering,
        baseline_label=clean_text(labels.get("baseline") or "unfused baseline"),
        function=clean_text(labels.get("function") or "fused_gelu"),
    )


# ---------------------------------------------------------------- roofline

@dataclass(frozen=True)
class RooflinePoint:
    name: str
    op: str
    intensity: float  # FLOP/byte
    measured: float | None  # GFLOP/s the student's kernel reached here
    predicted: float | None  # the student's roofline_predict, fed this machine's roofs
    reference_measured: float | None
    reference_predicted: float | None
    error: float | None
    tolerance: float | None
    ok: bool | None
    problem: str


@dataclass(frozen=True)
class RooflineView:
    check_id: str
    name: str
    visibility: str
    points: list[RooflinePoint]
    peak_gflops: float | None
    bandwidth_gbs: float | None
    calibration: str


def roofline_view(item: ItemScore, machine: Mapping[str, Any] | None = None) -> RooflineView | None:
    """The measured roofline points; the roofs come from the item, else the machine's calibration."""
    data = _dict(item.data)
    raw = data.get("points")
    if not isinstance(raw, (list, tuple)):
        return None
    points = []
    for p in raw:
        p = _dict(p)
        intensity = _positive(p.get("intensity"))
        if intensity is None:
            flops, moved = _positive(p.get("flops")), _positive(p.get("bytes_moved"))
            intensity = flops / moved if flops and moved else None
        if intensity is None:
            continue  # cannot be placed on a log axis
        ok = p.get("ok")
        points.append(RooflinePoint(
            name=clean_text(p.get("name") or p.get("op") or "?"),
            op=clean_text(p.get("op") or ""),
            intensity=intensity,
            measured=_positive(p.get("measured_gflops")),
            predicted=_positive(p.get("predicted_gflops")),
            reference_measured=_positive(p.get("reference_measured_gflops")),
            reference_predicted=_positive(p.get("reference_predicted_gflops")),
            error=num(p.get("error")),
            tolerance=num(p.get("tolerance")),
            ok=ok if isinstance(ok, bool) else None,
            problem=clean_text(p.get("problem") or ""),
        ))
    calibration = _dict(_dict(machine).get("calibration"))
    peak = _positive(data.get("peak_gflops")) or _positive(calibration.get("peak_gflops"))
    bandwidth = _positive(data.get("bandwidth_gbs")) or _positive(calibration.get("bandwidth_gbs"))
    return RooflineView(
        check_id=clean_text(item.check_id), name=clean_text(item.name), visibility=item.visibility,
        points=points, peak_gflops=peak, bandwidth_gbs=bandwidth,
        calibration=clean_text(data.get("calibration") or calibration.get("id") or ""),
    )


# Keys each view already shows; the rest of ``data`` goes to the raw table.
SPEED_KEYS = frozenset({"what", "speed", "threshold", "threshold_origin", "score_input", "too_slow",
                        "flag_reasons"})
MEMORY_KEYS = frozenset({"what", "memory", "labels", "threshold", "threshold_origin", "score_input", "flag_reasons"})
ROOFLINE_KEYS = frozenset({"points", "peak_gflops", "bandwidth_gbs", "calibration", "flag_reasons"})
