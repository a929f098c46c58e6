"""The busy-machine watch around a measured check (grader/measure/load.py), on scripted readings:
what counts as busy, that a busy first try waits and measures again, and that a machine that
never settles is measured once and marked, with its figures."""
from __future__ import annotations

import pytest

from grader.measure import load
from grader.measure.load import BUSY_SHARE, BUSY_STEAL, Snapshot


class Clock:
    """Scripted /proc/stat readings: each step adds CPU seconds to the counters as told."""

    def __init__(self) -> None:
        self.t = 0.0
        self.cpu = {k: 0.0 for k in load._FIELDS}
        self.own = 0.0
        self.others = 0.0  # seconds per second of wall time (of 2 CPUs' worth) others use
        self.steal = 0.0
        self.mine = 0.0

    def advance(self, seconds: float) -> None:
        capacity = 2 * seconds
        self.t += seconds
        used_others, used_mine, stolen = (capacity * self.others, capacity * self.mine, capacity * self.steal)
        self.cpu["user"] += used_others + used_mine
        self.cpu["steal"] += stolen
        self.cpu["idle"] += max(0.0, capacity - used_others - used_mine - stolen)
        self.own += used_mine

    def read(self) -> Snapshot:
        return Snapshot(self.t, None, dict(self.cpu), self.own)


def test_what_counts_as_busy():
    c = Clock()
    for others, steal, busy in ((0.0, 0.0, False), (BUSY_SHARE - 0.05, 0.0, False), (BUSY_SHARE + 0.05, 0.0, True),
                                (0.0, BUSY_STEAL + 0.02, True), (0.0, BUSY_STEAL - 0.05, False)):
        c.others, c.steal, c.mine = others, steal, 0.4
        before = c.read()
        c.advance(1.0)
        assert load.is_busy(load.machine_state(before, c.read())) is busy, (others, steal)


def test_our_own_workers_never_make_the_machine_busy():
    c = Clock()
    c.mine = 0.95  # the grader and its workers, both cores flat out
    before = c.read()
    c.advance(2.0)
    assert not load.is_busy(load.machine_state(before, c.read()))


def test_a_quiet_machine_measures_once_and_waits_for_nothing():
    c = Clock()
    calls = []

    def measure():
        calls.append(c.t)
        c.advance(1.0)
        return "figures"

    value, quiet = load.watched(measure, read=c.read, sleep=c.advance)
    assert value == "figures" and calls == [0.0]
    assert not quiet.busy and quiet.tries == 1 and quiet.waited == 0.0
    assert quiet.as_dict()["others_cpu_share"] == 0.0


def test_a_passing_neighbour_is_waited_out_and_the_check_measured_again():
    c = Clock()
    results = iter(["disturbed", "clean"])

    def measure():
        c.others = 0.6 if c.t < 1.0 else 0.0  # a neighbour busy during the first try only
        c.advance(1.0)
        c.others = 0.0
        return next(results)

    value, quiet = load.watched(measure, read=c.read, sleep=c.advance)
    assert value == "clean" and quiet.tries == 2 and not quiet.busy
    assert "measured again" in quiet.describe()


def test_a_machine_that_never_settles_is_measured_once_and_marked():
    c = Clock()
    c.others = 0.8  # two busy loops on two cores
    tries = []

    def measure():
        tries.append(c.t)
        c.advance(1.0)
        return "figures"

    value, quiet = load.watched(measure, max_wait=3.0, read=c.read, sleep=c.advance)
    assert value == "figures" and len(tries) == 1
    assert quiet.busy and quiet.others_share >= BUSY_SHARE
    assert 2.0 <= quiet.waited <= 3.0 + load.SETTLE_WINDOW
    assert "other processes used 80% of the CPU time" in quiet.describe()
    assert quiet.as_dict()["busy"] is True


def test_without_a_wait_a_busy_machine_costs_one_reading():
    """After one check of a submission waited in vain, the next are given no wait: one window's
    reading, then the mark."""
    c = Clock()
    c.others = 0.8

    def measure():
        c.advance(1.0)
        return "figures"

    value, quiet = load.watched(measure, max_wait=0.0, read=c.read, sleep=c.advance)
    assert value == "figures" and quiet.busy and quiet.tries == 1
    assert quiet.waited == pytest.approx(load.SETTLE_WINDOW)
