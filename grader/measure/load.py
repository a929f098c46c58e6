"""The machine's state while a batch measured: load, other processes' CPU use, steal, lock waits.

Speed is judged as ratios measured in the same run, which a busy machine
disturbs less than absolute times, but not never. So the batch records what
the machine was doing: the load average and /proc/stat's CPU counters before
and after the batch, from which come the share of CPU time other processes
used (all busy time minus this grader's own, its workers included) and the
share stolen by the hypervisor; and how often, and how long, graders waited
for the machine-wide measurement lock (measure/lock.py). The same readings, around each speed
check, decide whether to wait for a quiet machine (below). Read from /proc, getrusage and
psutil's view of this process's descendants; on a system without /proc the figures are absent,
never guessed.
"""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import psutil

from grader.measure.lock import LockWaits

_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
_BUSY = ("user", "nice", "system", "irq", "softirq")  # guest time is counted inside user


@dataclass(frozen=True)
class Snapshot:
    """One reading: when, the load averages, the CPU counters (seconds, all CPUs) and our own CPU."""

    monotonic: float
    loadavg: tuple[float, float, float] | None
    cpu: dict[str, float] | None  # /proc/stat's first line, in seconds
    own_cpu: float  # user + system seconds of this process and its descendants, live and reaped


def _loadavg() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = os.getloadavg()
        return (one, five, fifteen)
    except OSError:
        return None


def _proc_stat(path: Path = Path("/proc/stat")) -> dict[str, float] | None:
    try:
        first = path.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not first or first[0] != "cpu":
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    values = [int(v) for v in first[1:1 + len(_FIELDS)]]
    values += [0] * (len(_FIELDS) - len(values))
    return {name: v / hz for name, v in zip(_FIELDS, values)}


def _own_cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def tree_cpu() -> float:
    """User + system seconds of this process and all its descendants, live (the sandboxed workers,
    whatever uid they run under) and reaped."""
    total = _own_cpu()
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
        except psutil.Error:  # it ended between the listing and the reading
            continue
        total += t.user + t.system
    return total


def snapshot() -> Snapshot:
    return Snapshot(time.monotonic(), _loadavg(), _proc_stat(), tree_cpu())


@dataclass(frozen=True)
class MachineState:
    """What the machine did between two snapshots, in shares of its CPU time."""

    seconds: float
    cpus: int
    load_before: tuple[float, float, float] | None
    load_after: tuple[float, float, float] | None
    others_share: float | None  # CPU time other processes used / all CPU time available
    steal_share: float | None  # time the hypervisor gave to other guests / all CPU time
    own_share: float | None  # this grader (and its workers)
    lock: LockWaits

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "seconds": round(self.seconds, 3), "cpus": self.cpus,
            "loadavg_before": [round(x, 2) for x in self.load_before] if self.load_before else None,
            "loadavg_after": [round(x, 2) for x in self.load_after] if self.load_after else None,
            "others_cpu_share": r(self.others_share), "steal_share": r(self.steal_share),
            "own_cpu_share": r(self.own_share),
            "lock_waits": self.lock.as_dict(),
            "source": "/proc/stat and getloadavg before and after the batch; lock waits from the graders",
        }


def machine_state(before: Snapshot, after: Snapshot, lock: LockWaits = LockWaits()) -> MachineState:
    cpus = os.cpu_count() or 1
    seconds = max(0.0, after.monotonic - before.monotonic)
    others = steal = own = None
    if before.cpu and after.cpu:
        delta = {k: max(0.0, after.cpu[k] - before.cpu[k]) for k in _FIELDS}
        total = sum(delta.values())
        if total > 0:
            mine = max(0.0, after.own_cpu - before.own_cpu)
            busy = sum(delta[k] for k in _BUSY)
            own = min(1.0, mine / total)
            others = max(0.0, busy - mine) / total
            steal = delta["steal"] / total
    return MachineState(seconds, cpus, before.loadavg, after.loadavg, others, steal, own, lock)


def state_rows(state: Any) -> list[tuple[str, str]]:
    """The class page's lines: one state, or {shard label: state} after a merge."""
    if not isinstance(state, dict) or not state:
        return []
    if "lock_waits" not in state:  # merged: a line per shard
        return [(str(label), describe(s)) for label, s in state.items() if isinstance(s, dict)]
    return [("during grading", describe(state))]


def describe(state: dict[str, Any]) -> str:
    """One line in words: what else ran, what was stolen, who waited for the lock."""
    parts = []
    before, after = state.get("loadavg_before"), state.get("loadavg_after")
    if before and after:
        parts.append(f"load average {before[0]:.2f} before, {after[0]:.2f} after (1 min, {state.get('cpus')} CPUs)")
    if state.get("others_cpu_share") is not None:
        parts.append(f"other processes used {100 * state['others_cpu_share']:.1f}% of the CPU time")
    if state.get("steal_share") is not None:
        parts.append(f"steal {100 * state['steal_share']:.1f}%")
    waits = state.get("lock_waits") or {}
    if waits.get("waits"):
        parts.append(f"graders waited {waits['waits']} time(s) for the measurement lock, "
                     f"{waits.get('seconds', 0):.1f} s in all (longest {waits.get('longest', 0):.1f} s)")
    else:
        parts.append("no grader waited for the measurement lock")
    return "; ".join(parts) if parts else "not recorded"


def batch_state(before: Snapshot, graded: list[Any]) -> dict[str, Any]:
    """summary.json's ``machine_state``: this batch from ``before`` to now, with the lock waits of
    the submissions it graded (each GradeResult records its own, whichever process graded it)."""
    waits = LockWaits()
    for result in graded:
        got = (getattr(result, "machine", None) or {}).get("lock_waits") or {}
        waits = waits + LockWaits(int(got.get("waits", 0)), float(got.get("seconds", 0.0)),
                                  float(got.get("longest", 0.0)))
    return machine_state(before, snapshot(), waits).as_dict()


# --- one measured check: how quiet the machine stayed, and a second try after it settles --------
#
# A speed verdict is a ratio of contestants timed in turns, which survives a steady neighbour
# better than absolute times do, but not a neighbour that comes and goes. Around every speed check
# the grader reads the share of CPU time other processes used and the share the hypervisor stole.
# Above BUSY_SHARE or BUSY_STEAL it waits (bounded) for the machine to settle and measures again;
# a check whose measurement still ran on a busy machine is marked busy, with the figures.

BUSY_SHARE = 0.25  # of all CPUs' time: half a core on a 2-core VM
BUSY_STEAL = 0.10
SETTLE_WINDOW = 0.3  # seconds per reading while waiting
SETTLE_MAX = 6.0  # seconds a check waits for quiet before it keeps its busy measurement


@dataclass(frozen=True)
class Quiet:
    """How busy the machine was while one measured check was taken."""

    others_share: float | None  # CPU time of processes outside this grader's tree / all CPU time
    steal_share: float | None
    busy: bool
    waited: float = 0.0  # seconds spent waiting for quiet after a busy first try
    tries: int = 1

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {"others_cpu_share": r(self.others_share), "steal_share": r(self.steal_share), "busy": self.busy,
                "waited_s": round(self.waited, 2), "tries": self.tries, "busy_share": BUSY_SHARE,
                "busy_steal": BUSY_STEAL}

    def describe(self) -> str:
        parts = []
        if self.others_share is not None:
            parts.append(f"other processes used {100 * self.others_share:.0f}% of the CPU time")
        if self.steal_share is not None:
            parts.append(f"the hypervisor stole {100 * self.steal_share:.0f}%")
        if self.tries > 1:
            parts.append(f"measured again after waiting {self.waited:.1f} s for quiet")
        return ", ".join(parts)


def is_busy(state: MachineState) -> bool:
    return (state.others_share or 0.0) >= BUSY_SHARE or (state.steal_share or 0.0) >= BUSY_STEAL


def settle(max_wait: float = SETTLE_MAX, window: float = SETTLE_WINDOW,
           read: Callable[[], Snapshot] = snapshot,
           sleep: Callable[[float], None] = time.sleep) -> tuple[bool, float]:
    """Wait until one ``window`` shows a quiet machine, at most ``max_wait`` seconds: (quiet, waited)."""
    started = read().monotonic
    while True:
        before = read()
        sleep(window)
        after = read()
        if not is_busy(machine_state(before, after)):
            return True, after.monotonic - started
        if after.monotonic - started + window > max_wait:
            return False, after.monotonic - started


def watched(measure: Callable[[], Any], max_wait: float = SETTLE_MAX,
            read: Callable[[], Snapshot] = snapshot,
            sleep: Callable[[float], None] = time.sleep) -> tuple[Any, Quiet]:
    """Run ``measure`` and read how busy the machine was meanwhile; when busy, wait for quiet
    (bounded) and measure once more. Returns the last measurement and its reading."""
    before = read()
    value = measure()
    state = machine_state(before, read())
    if not is_busy(state):
        return value, Quiet(state.others_share, state.steal_share, False)
    quiet, waited = settle(max_wait, read=read, sleep=sleep)
    if not quiet:
        return value, Quiet(state.others_share, state.steal_share, True, waited)
    before = read()
    value = measure()
    state = machine_state(before, read())
    return value, Quiet(state.others_share, state.steal_share, is_busy(state), waited, 2)
