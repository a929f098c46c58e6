"""Measurements of one submission, taken once and shared by the checks that need them.

The speed checks, the memory check and the roofline-against-measurement
checks all read from here, so a matmul timed for speed is not timed again
for the roofline.
"""
from __future__ import annotations

from typing import Callable

from grader.measure import load
from grader.measure.memory import MemorySample, measure_peak
from grader.measure.profile import Profile
from grader.measure.roofline import time_add
from grader.measure.specs import ADD_SHAPE, MEMORY_SPECS, SPEED_SPECS, Case
from grader.measure.timing import Runner, SpeedResult, compare
from grader.sandbox import Sandbox


BEYOND_CACHE = 64 << 20  # bytes: more than any last-level cache of these machines holds


class Measurements:
    def __init__(self, student: Sandbox, reference: Callable[[], Sandbox], seed: int,
                 profile: Profile | None, quiet_wait: float = load.SETTLE_MAX):
        self.student = student
        self.reference = reference
        self.seed = seed
        self.profile = profile
        self.quiet_wait = quiet_wait  # seconds a timed check waits for a busy machine to settle
        self._cache: dict[str, object] = {}
        self.gates_passed: set = set()  # the output gates this submission passed (checks/suite/measured.py)
        self._never_settled = False  # a check of this submission waited for quiet in vain

    def _cached(self, key: str, make: Callable[[], object]):
        if key not in self._cache:
            try:
                self._cache[key] = make()
            except Exception as exc:  # remembered: a failed measurement is not retried by the next check
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, Exception):
            raise value
        return value

    def threshold(self, check_id: str) -> float | None:
        """The threshold fixed by calibration, so every submission in a batch faces the same bar."""
        if self.profile is None:
            return None
        entry = self.profile.speed.get(check_id) or self.profile.memory.get(check_id) or {}
        value = entry.get("threshold")
        return float(value) if value is not None else None

    def floor(self, case: Case) -> float | None:
        """The least seconds one call of ``case`` can take here: its FLOPs at the calibrated peak,
        and, for data far beyond the caches (where DRAM is the limit), its bytes at the
        calibrated bandwidth. Both roofs are best-of-N figures of this machine, so honest code
        stays above them; timing.TOO_FAST halves them again for frequency drift and timer noise."""
        if self.profile is None or not self.profile.peak_gflops:
            return None
        seconds = case.flops / (self.profile.peak_gflops * 1e9)
        if case.bytes_moved >= BEYOND_CACHE and self.profile.bandwidth_gbs:
            seconds = max(seconds, case.bytes_moved / (self.profile.bandwidth_gbs * 1e9))
        return seconds or None

    def speed(self, check_id: str) -> SpeedResult:
        def make() -> SpeedResult:
            spec = SPEED_SPECS[check_id]
            ref = self.reference()
            student = Runner("student", self.student, spec.student_fn)
            reference = Runner("reference", ref, spec.reference_fn) if spec.reference_fn else None
            baseline = Runner("baseline", ref, spec.baseline.fn)
            fixed = self.threshold(check_id)

            def threshold_of(reference_median: float | None) -> float:
                # The calibrated bar, lowered when the reference itself ran slower in this very run
                # (a busy machine): the reference must always clear its own bar.
                live = spec.threshold(reference_median) if reference_median is not None else None
                candidates = [t for t in (fixed, live) if t is not None]
                return min(candidates) if candidates else spec.threshold(1.0)

            calibrated = ((self.profile.speed.get(check_id) or {}) if self.profile else {}).get("seconds_per_call", {})
            known = {case: {who: float(s) for who, s in per.items() if who != "student" and isinstance(s, (int, float))}
                     for case, per in calibrated.items() if isinstance(per, dict)}
            # Once the machine failed to settle for one check, the next are marked without waiting
            # again: a class graded on a busy machine is not also held up for minutes.
            result, quiet = load.watched(lambda: compare(spec, student, reference, baseline, self.seed,
                                                         threshold_of, floor_of=self.floor, known=known),
                                         max_wait=0.0 if self._never_settled else self.quiet_wait)
            self._never_settled = self._never_settled or (quiet.busy and quiet.tries == 1)
            result.machine = quiet
            return result

        return self._cached(f"speed:{check_id}", make)

    def seconds_per_call(self, check_id: str, case: str, who: str) -> float:
        """Median seconds per call of ``who`` on ``case`` in speed check ``check_id``: this run's
        figure, or, for the reference when the student's verdict did not need it timed again
        (measure/timing.compare), calibration's figure of the same code on this machine."""
        per = self.speed(check_id).per_case.get(case, {})
        if who in per:
            return per[who]
        entry = (self.profile.speed.get(check_id) or {}) if self.profile else {}
        calibrated = entry.get("seconds_per_call", {}).get(case, {}).get(who)
        if who != "reference" or calibrated is None:
            raise KeyError(f"{check_id} measured no {who} on {case}")
        return float(calibrated)

    def memory(self, check_id: str) -> dict[str, MemorySample]:
        """The tracemalloc peaks of the baseline, the reference and the student on the check's case.

        The trusted ones come from calibration when it kept them: a peak of fixed code on a fixed
        case is the same in every run on this numpy (the profile's fingerprint), so a batch need
        not trace them again for each student."""
        def make() -> dict[str, MemorySample]:
            spec = MEMORY_SPECS[check_id]
            entry = (self.profile.memory.get(check_id) or {}) if self.profile else {}
            kept = entry.get("samples") if isinstance(entry.get("samples"), dict) else {}
            samples = {who: MemorySample.from_dict(kept.get(who)) for who in ("baseline", "reference")}
            for who, fn in (("baseline", spec.baseline.fn), ("reference", spec.reference_fn)):
                if samples[who] is None:
                    samples[who] = measure_peak(self.reference(), fn, spec.case, self.seed, who)
            samples["student"] = measure_peak(self.student, spec.student_fn, spec.case, self.seed, "student")
            return samples

        return self._cached(f"memory:{check_id}", make)

    def add_probe(self) -> float:
        """Seconds per numpy add of two 4096x4096 float32 arrays: a pure memory-bound probe.

        It is the reference's own add, so calibration's figure serves every submission;
        it is measured here only when the profile lacks it.
        """
        point = (self.profile.roofline.get("points", {}).get("add 4096x4096") if self.profile else None) or {}
        gflops = point.get("measured_gflops")
        if isinstance(gflops, (int, float)) and gflops > 0:
            return ADD_SHAPE[0] * ADD_SHAPE[1] / (gflops * 1e9)  # 1 FLOP per element
        return self._cached("add_probe", lambda: time_add(self.reference(), self.seed))
