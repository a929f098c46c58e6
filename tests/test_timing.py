"""The round-by-round protocol of ``grader.measure.timing.compare``, on stand-in workers.

Each stand-in answers ``prepare``, ``run`` and ``result`` the way a worker does, with a clock the
test sets: a call takes ``per_call`` seconds times a seeded noise factor, and ``result`` hands back
the true answer rows (so the checked timed answers pass). Nothing is timed for real, so the
verdicts and the order of requests are exact, whatever the machine.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from grader.measure import timing
from grader.measure.specs import SPEED_SPECS
from grader.measure.verify import expected
from grader.models import FLAG_TIMEOUT
from grader.sandbox import WorkerFailed
from grader.sandbox.inputs import BLOCK, make
from grader.sandbox.process import Reply

GELU = SPEED_SPECS["speed.fused_gelu"]  # gain kind: the bar is 1 + 0.5 x (reference gain - 1)
MATMUL = SPEED_SPECS["speed.matmul_vs_reference"]  # three cases, n = 64, 256, 1024


@dataclass
class StandIn:
    """A worker whose calls of each case take ``per_call[case label]`` seconds (times noise); a
    run that would outlast its timeout ends the way a real one is ended."""

    label: str
    spec: object
    per_call: dict[str, float]
    log: list[tuple[str, str]]  # (label, case) of every timed run, in order
    noise: float = 0.0
    seed: int = 0
    prepared_cases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.prepared: dict = {}

    def _case(self):
        shapes = [shape for shape, _ in self.prepared["arrays"]]
        return next(c for c in self.spec.cases if [list(s) for s, _ in c.arrays] == shapes)

    def request(self, op: str, fn: str, timeout: float | None = None, keep_thawed: bool = False,
                **fields) -> Reply:
        if op == "prepare":
            self.prepared = fields
            self.prepared_cases.append(self._case().label)
            return Reply(True, fields["count"])
        case = self._case()
        if op == "run":
            seconds = self.prepared["count"] * self.per_call[case.label]
            if timeout is not None and seconds > timeout:
                raise WorkerFailed(f"`{fn}`: no answer within {timeout:.0f} s", FLAG_TIMEOUT)
            seconds *= float(np.exp(self.noise * self.rng.standard_normal()))
            self.log.append((self.label, case.label))
            return Reply(True, seconds, {"patched": []}, seconds=seconds)
        if op == "result":  # the true rows, made from the recipe: every checked answer is right
            seed, j, start, stop = self.prepared["seed"], fields["index"], fields["start"], fields["stop"]
            first = make(seed, j, 0, *case.arrays[0], block=start // BLOCK)[start % BLOCK:start % BLOCK + stop - start]
            others = [make(seed, j, k, shape, scale) for k, (shape, scale) in enumerate(case.arrays) if k]
            rows = [first] + [o[start:stop] for o in others]
            return Reply(True, [expected(case, fn, first, others).astype(np.float32), rows])
        raise AssertionError(f"unexpected request {op}")


def runners(spec, student_s: dict[str, float], reference_s: dict[str, float], baseline_s: dict[str, float],
            noise: float = 0.0):
    log: list[tuple[str, str]] = []
    fns = {"student": spec.student_fn, "reference": spec.reference_fn or spec.baseline.fn,
           "baseline": spec.baseline.fn}
    made = [timing.Runner(label, StandIn(label, spec, per, log, noise, seed=i), fns[label])
            for i, (label, per) in enumerate((("student", student_s), ("reference", reference_s),
                                              ("baseline", baseline_s)))]
    return (*made, log)


def gain_bar(reference_median: float | None) -> float:
    """The speed.fused_gelu bar: calibrated 1.25 (a reference gain of 1.5), lowered only by a slower
    reference in this very run."""
    live = GELU.threshold(reference_median) if reference_median is not None else None
    return min(1.25, live) if live is not None else 1.25


def test_a_clear_pass_never_times_the_reference():
    student, reference, baseline, log = runners(GELU, {"2000x2000": 0.010}, {"2000x2000": 0.010},
                                                {"2000x2000": 0.020})
    r = timing.compare(GELU, student, reference, baseline, seed=1, threshold_of=gain_bar)
    assert r.student.median == pytest.approx(2.0) and r.rounds == 3
    assert r.reference is None and not any(who == "reference" for who, _ in log)


def test_a_late_reference_runs_its_first_rounds_with_the_baseline_alone():
    # The student gains nothing (1.0x against a bar of 1.25): below after three rounds, so the
    # reference comes in; it reaches its calibrated 1.5x, the bar stays, and the student is not
    # timed again.
    student, reference, baseline, log = runners(GELU, {"2000x2000": 0.020}, {"2000x2000": 0.020 / 1.5},
                                                {"2000x2000": 0.020})
    r = timing.compare(GELU, student, reference, baseline, seed=2, threshold_of=gain_bar)
    assert r.student.below(r.threshold) and r.threshold == pytest.approx(1.25)
    assert (r.rounds, r.student.n, r.reference.n) == (6, 3, 3)
    last_three_rounds = [who for who, _ in log[-6:]]
    assert sorted(last_three_rounds) == ["baseline"] * 3 + ["reference"] * 3


def test_the_student_resumes_when_this_runs_reference_lowers_the_bar_into_its_interval():
    # This run's reference gains only 1.2x (calibration said 1.5x): the bar drops from 1.25 to 1.1,
    # inside the interval of a noisy student around 1.1x, so the student's rounds resume.
    student, reference, baseline, log = runners(GELU, {"2000x2000": 0.020 / 1.1}, {"2000x2000": 0.020 / 1.2},
                                                {"2000x2000": 0.020}, noise=0.04)
    r = timing.compare(GELU, student, reference, baseline, seed=3, threshold_of=gain_bar)
    assert r.threshold == pytest.approx(1.1, abs=0.03)
    first_reference = next(i for i, (who, _) in enumerate(log) if who == "reference")
    reference_alone = log[first_reference:first_reference + 2 + 6]  # its warm-up and probe, three rounds
    assert "student" not in [who for who, _ in reference_alone]
    assert any(who == "student" for who, _ in log[first_reference + 8:])


def test_a_contestant_too_slow_for_the_budget_is_found_on_the_heaviest_case_first():
    # A pure-Python-speed matmul: far over the budget (50x the baseline, at least 2 s) on every
    # case. Only the heaviest case, n=1024, is ever prepared for it.
    fast = {"n=64": 2e-5, "n=256": 4e-4, "n=1024": 0.016}
    student, _, baseline, _ = runners(MATMUL, {c.label: 1000.0 for c in MATMUL.cases}, fast, fast)
    with pytest.raises(timing.TooSlow) as info:
        timing.compare(MATMUL, student, None, baseline, seed=4, threshold_of=lambda m: 0.7)
    assert info.value.case == "n=1024" and student.sandbox.prepared_cases == ["n=1024"]


def test_loops_come_nearest_the_sample_length():
    # 16 ms calls against a 12 ms sample: one call per sample, not two; 1 ms calls: twelve.
    assert GELU.min_sample == pytest.approx(0.012)
    for per_call, want in ((0.016, 1), (0.001, 12)):
        student, _, _, _ = runners(GELU, {"2000x2000": per_call}, {}, {})
        loops, one = timing.loops_for(student, GELU.cases[0], GELU.min_sample, seed=5, budget=10.0,
                                      baseline_time=per_call)
        assert (loops, one) == (want, pytest.approx(per_call))
