"""Interleaved timing: student, reference and baseline, round by round, in their workers.

The parent's clock is the one that counts: it times each round trip of a
``run`` request (inputs are made beforehand, outside the timed region, fresh
for every call). The worker's own figure is only a cross-check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from grader.measure import verify
from grader.measure.load import Quiet
from grader.measure.specs import Case, SpeedSpec
from grader.measure.stats import Estimate, estimate, geomean
from grader.models import FLAG_TIMEOUT
from grader.sandbox import Sandbox, WorkerFailed

POOL_BYTES = 384 << 20  # fresh inputs and the answers kept for checking, held at once per worker
TOO_FAST = 0.5  # a call under half the time the calibrated roofs allow is not believed (see floor_of)
# Calls per sample at most. A 64x64 matmul takes ~20 us and a request ~0.3 ms around it, with
# outliers of several ms: 64 calls made 1.3 ms samples whose rounds swung a ratio by 25%, 256 make
# 5 ms ones. More would cost more in making fresh inputs (~30 us a small set) than the calls take.
MAX_LOOPS = 256


class TooSlow(Exception):
    """One call took longer than the budget: the verdict is clear without timing it further."""

    def __init__(self, label: str, case: str, budget: float, baseline: float):
        super().__init__(f"one call on {case} took over {budget:.1f} s, where the baseline takes {baseline * 1e3:.1f} ms")
        self.label, self.case, self.budget, self.baseline = label, case, budget, baseline


@dataclass
class Runner:
    """A contestant bound to its worker."""

    label: str  # "student" | "reference" | "baseline"
    sandbox: Sandbox
    fn: str


@dataclass
class Sample:
    parent: float  # seconds per call, parent's clock
    worker: float  # seconds per call, as the worker reported it
    patched: list[str]
    check: verify.Check | None = None  # one timed call's answer, checked after the run


@dataclass
class SpeedResult:
    check_id: str
    student: Estimate  # per-round speedup of the student over the baseline
    reference: Estimate | None  # the reference's, measured in the same rounds (None: it is the baseline)
    threshold: float | None
    noisy: bool
    rounds: int
    per_case: dict[str, dict[str, float]] = field(default_factory=dict)  # median seconds per call
    loops: dict[str, dict[str, int]] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)
    too_slow: str | None = None
    student_rounds: list[float] = field(default_factory=list)  # per-round speedups, in order
    reference_rounds: list[float] = field(default_factory=list)
    unverified: str | None = None  # why a checked timed answer was not accepted
    mutated: bool = False  # a timed call wrote into its input
    too_fast: str | None = None  # a timed call faster than this machine's roofs allow
    checked_calls: int = 0
    machine: Quiet | None = None  # how busy the machine was meanwhile (set by measure/session.py)

    def as_dict(self) -> dict[str, Any]:
        return {
            "student_speedup": self.student.as_dict(),
            "reference_speedup": self.reference.as_dict() if self.reference else None,
            "threshold": self.threshold, "noisy": self.noisy, "rounds": self.rounds,
            "seconds_per_call": self.per_case, "loops": self.loops, "tampering": self.tampering,
            "too_slow": self.too_slow, "unverified": self.unverified, "mutated": self.mutated,
            "too_fast": self.too_fast, "checked_calls": self.checked_calls,
            "machine": self.machine.as_dict() if self.machine else None,
        }


def sample(runner: Runner, case: Case, loops: int, seed: int, timeout: float | None = None,
           check: bool = False) -> Sample:
    """Time ``loops`` calls, each on a fresh input set made before the clock starts; with
    ``check``, then verify one of those calls, chosen after the run."""
    fn = runner.fn or "pipeline"
    runner.sandbox.request("prepare", fn, seed=seed, count=loops, keep_thawed=True,
                           arrays=[[list(shape), scale] for shape, scale in case.arrays])
    # A case's keyword arguments (tile_size) belong to the function under test, not the baseline.
    kwargs = {} if runner.label == "baseline" else case.kwargs
    reply = runner.sandbox.request("run", fn, timeout=timeout, kwargs=kwargs, pipeline=list(case.pipeline))
    worker = float(reply.value) if isinstance(reply.value, (int, float)) else float("nan")
    patched = [str(p) for p in reply.meta.get("patched", [])][:20]
    checked = verify.check_call(runner.sandbox, runner.fn, case, seed, loops) if check else None
    return Sample(reply.seconds / loops, worker / loops, patched, checked)


def cross_check(label: str, s: Sample) -> str | None:
    """A worker claiming to be much faster than the parent saw has a patched clock or protocol."""
    if s.patched:
        return f"{label}: replaced {', '.join(s.patched)}"
    if not math.isfinite(s.worker) or s.worker < 0.7 * s.parent - 0.002:
        return f"{label}: reported {s.worker * 1e3:.2f} ms per call, the parent measured {s.parent * 1e3:.2f} ms"
    return None


def loops_for(runner: Runner, case: Case, min_sample: float, seed: int, budget: float,
              baseline_time: float | None, known: float | None = None,
              warm_sample: bool = False) -> tuple[int, float]:
    """Warm up (discarded), time one call, pick loops so one sample lasts about ``min_sample``, and with
    ``warm_sample`` warm up once more at that many calls (discarded too), raising the count when
    that sample shows the call shorter than one call's figure did (the request's own time).

    The second warm-up is the first time a fresh worker holds a whole sample's inputs and answers:
    that memory's first touch (page faults, the allocator growing its heap) once made a student's
    first counted round 3x slow, and one such round keeps the interval wide for six more. The
    reference worker serves the whole batch, so its heap is grown once and stays.
    ``known``: seconds per call of this trusted code on this machine (calibration's figure),
    which saves timing one call; the warm-ups still run."""
    try:
        sample(runner, case, 1, seed, timeout=budget + 0.5)  # warm-up: caches, first-touch, imports
        one = known if known else sample(runner, case, 1, seed + 1, timeout=budget + 0.5).parent
        if one > budget:
            raise TooSlow(runner.label, case.label, budget, baseline_time or 0.0)
        cap = max(1, POOL_BYTES // max(1, 2 * case.nbytes()))  # inputs, and answers about as large
        # The nearest count, not the next one up: a 16 ms call runs once, not twice (a sample is then
        # 2/3 to 3/2 of min_sample, which the parent's clock resolves as well).
        loops = max(1, min(MAX_LOOPS, cap, round(min_sample / max(one, 1e-7))))
        if warm_sample and loops > 1:
            warm = sample(runner, case, loops, seed + 2, timeout=loops * budget + 0.5)
            # Many calls amortise the request's own time, which one call's figure carries in full:
            # a short call may deserve more calls per sample (warmed up at that count too).
            better = max(1, min(MAX_LOOPS, cap, round(min_sample / max(warm.parent, 1e-7))))
            if better > loops:
                loops = better
                sample(runner, case, loops, seed + 3, timeout=loops * budget + 0.5)
    except WorkerFailed as exc:
        if exc.flag == FLAG_TIMEOUT:
            raise TooSlow(runner.label, case.label, budget, baseline_time or 0.0) from None
        raise
    return loops, one


def compare(spec: SpeedSpec, student: Runner, reference: Runner | None, baseline: Runner,
            seed: int, threshold_of: Callable[[float | None], float | None],
            rounds: int | None = None, max_rounds: int | None = None,
            floor_of: Callable[[Case], float | None] = lambda case: None,
            known: dict[str, dict[str, float]] | None = None) -> SpeedResult:
    """Interleave the contestants round by round; stop as soon as the evidence decides.

    ``threshold_of(None)`` is the bar before the reference is measured (the calibrated one),
    ``threshold_of(reference_median)`` the bar once it is: the reference only ever lowers it (when
    it ran slower in this very run), so it joins the rounds only when the student has not cleared
    the calibrated bar, and then runs its first rounds with the baseline alone (the student's
    resume only if the bar it sets is still inside the student's interval). A ``threshold_of``
    that gives None (calibration) measures every contestant in every round, at least ``rounds`` and at most ``max_rounds``, until each ratio's interval
    spans less than STABLE. Otherwise a look after every round from ``rounds`` on
    applies the sequential rule of ``stats`` (decided above or below the bar), up to
    ``max_rounds``. Every student sample has one call checked after the run; ``floor_of(case)``
    is the least time one call can take on this machine (its roofs), when known; ``known`` gives,
    per case and contestant, calibration's seconds per call of the trusted ones (the baseline
    and the reference), so their loops need no probe.
    """
    known = known or {}
    first = rounds or spec.rounds
    max_rounds = max(first, max_rounds or spec.max_rounds)
    sequential = threshold_of(None) is not None
    rng = np.random.default_rng([seed, 7])
    every = [r for r in (student, reference, baseline) if r is not None]
    active = [student, baseline] if sequential and reference is not None else list(every)
    loops: dict[str, dict[str, int]] = {}
    budgets: dict[str, tuple[float, float]] = {}  # per case: (budget, baseline seconds per call)

    def calibrate_loops(r: Runner) -> None:
        # The heaviest case first: a contestant too slow for the budget is found on its first call.
        for ci, case in sorted(enumerate(spec.cases), key=lambda ic: -budgets[ic[1].label][1]):
            budget, base_one = budgets[case.label]
            loops[case.label][r.label] = loops_for(r, case, spec.min_sample, seed + ci, budget, base_one,
                                                   known.get(case.label, {}).get(r.label),
                                                   warm_sample=r is student)[0]

    for ci, case in enumerate(spec.cases):
        base_loops, base_one = loops_for(baseline, case, spec.min_sample, seed + ci, budget=120.0,
                                         baseline_time=None, known=known.get(case.label, {}).get("baseline"))
        loops[case.label] = {"baseline": base_loops}
        # A contestant may be slower than the baseline, but not absurdly: the budget keeps
        # a pure-Python matmul at n=1024 from taking minutes to confirm it is slow.
        budgets[case.label] = (max(2.0, 50 * base_one), base_one)
    for r in active:
        if r is not baseline:
            calibrate_loops(r)

    nan = float("nan")
    times: dict[str, dict[str, list[float]]] = {r.label: {c.label: [] for c in spec.cases} for r in every}
    tampering: list[str] = []
    unverified: str | None = None
    mutated = False
    too_fast: str | None = None
    checked = 0
    done = 0
    joined_at: int | None = None if reference in active or reference is None else -1  # -1: not yet
    hard_cap = max_rounds + first  # a late-joining reference still gets its first batch of rounds
    while True:
        for ci, case in enumerate(spec.cases):
            order = list(active)
            rng.shuffle(order)  # no contestant always runs first (or last) in a round
            round_seed = int(rng.integers(1 << 30))
            for r in every:
                if r not in active:
                    times[r.label][case.label].append(nan)
            for r in order:
                s = sample(r, case, loops[case.label][r.label], round_seed, check=r is student)
                times[r.label][case.label].append(s.parent)
                why = cross_check(r.label, s)
                if why and why not in tampering:
                    tampering.append(why)
                if s.check is not None:
                    checked += 1
                    unverified = unverified or (f"{case.label}: {s.check.wrong}" if s.check.wrong else None)
                    mutated = mutated or s.check.mutated
                floor = floor_of(case) if r is student else None
                if floor and s.parent < TOO_FAST * floor and too_fast is None:
                    too_fast = (f"{case.label}: {s.parent * 1e6:.1f} us per call, where this machine's roofs "
                                f"allow no less than {floor * 1e6:.1f} us")
        done += 1
        if unverified or too_fast:
            break  # the check is void whatever more rounds would show
        if done < first:
            continue
        if not sequential:  # calibration: stop once every contestant's ratio is pinned down
            if done >= max_rounds or all(_stable(estimate(_speedups(times, r.label, spec)))
                                         for r in every if r is not baseline):
                break
            continue
        est = estimate(_speedups(times, "student", spec))
        bar = threshold_of(None)
        if joined_at == -1:
            if est.above(bar):
                break  # the reference could only lower the bar: decided without it
            if est.below(bar) or done >= max(first, max_rounds // 2):
                # The reference's own rounds (against the baseline) first, without the student: they
                # say whether this run lowers the bar. The student's rounds resume only if that
                # lowered bar is still inside its interval.
                active = [reference, baseline]
                calibrate_loops(reference)
                joined_at = done
            elif done >= max_rounds:
                break
            continue
        ref_est = estimate(_speedups(times, "reference", spec)) if reference is not None else None
        threshold = threshold_of(ref_est.median if ref_est and ref_est.n else None)
        ref_ready = joined_at is None or done - joined_at >= first
        if ref_ready and (est.above(threshold) or est.below(threshold)):
            break
        if ref_ready and student not in active:
            active = [student, reference, baseline]
        if done >= max_rounds and (ref_ready or done >= hard_cap):
            break
    stud = _finite(_speedups(times, "student", spec))
    ref = _finite(_speedups(times, "reference", spec)) if reference is not None else []
    est = estimate(stud)
    ref_est = estimate(ref) if ref else None
    threshold = threshold_of(ref_est.median if ref_est else None)
    per_case = {c.label: {r.label: float(np.nanmedian(times[r.label][c.label])) for r in every
                          if np.isfinite(times[r.label][c.label]).any()}
                for c in spec.cases}
    noisy = threshold is not None and est.straddles(threshold) and not (unverified or too_fast)
    return SpeedResult(spec.check_id, est, ref_est, threshold, noisy, done, per_case, loops, tampering,
                       student_rounds=stud, reference_rounds=ref, unverified=unverified,
                       mutated=mutated, too_fast=too_fast, checked_calls=checked)


STABLE = 1.12  # calibration stops when a ratio's interval spans less than this factor (about +-6%)


def _stable(e: Estimate) -> bool:
    return e.n >= 2 and e.high / e.low < STABLE


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _speedups(times: dict[str, dict[str, list[float]]], label: str, spec: SpeedSpec) -> list[float]:
    """Per round: geometric mean over cases of baseline time / contestant time."""
    n = len(next(iter(times[label].values())))  # a round the contestant sat out is NaN
    return [geomean([times["baseline"][c.label][i] / times[label][c.label][i] for c in spec.cases])
            for i in range(n)]
