"""Boundary case `freeze_neighbours` (tests/test_boundary.py).

fused_gelu is the unfused GELU done twice (about half the baseline's speed). A background
thread sends SIGSTOP/SIGCONT bursts to every other process it can find in /proc, so that the
baseline and the reference, timed while it idles, look slow.
Expected: it finds nobody to signal (its own PID namespace, its own uid) and is frozen
whenever it is not being asked; its fused-speed check earns nothing, as the code deserves.
It prints what it managed, marked `accelgrade-hostile-corpus freeze:`.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os
import signal
import threading
import time

_honest_unfused = unfused_gelu
_stats = {"seen": set(), "stopped": 0, "refused": 0}


def fused_gelu(x):
    _honest_unfused(x)
    return _honest_unfused(x)


def _others():
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (me, 1):
            found.append(int(name))
    return found


def _freezer():
    last = 0.0
    while True:
        for pid in _others():
            _stats["seen"].add(pid)
            try:
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.002)
                os.kill(pid, signal.SIGCONT)
                _stats["stopped"] += 1
            except OSError:
                _stats["refused"] += 1
        if time.monotonic() - last > 1.0:
            last = time.monotonic()
            print(f"accelgrade-hostile-corpus freeze: pids seen {len(_stats['seen'])}, "
                  f"stopped {_stats['stopped']}, refused {_stats['refused']}", flush=True)
        time.sleep(0.001)


threading.Thread(target=_freezer, daemon=True).start()
