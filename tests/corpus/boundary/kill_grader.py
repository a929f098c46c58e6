"""Boundary case `kill_grader` (tests/test_boundary.py).

On import it SIGKILLs its parent, every ancestor and every other process it can see, hoping
to end the grader and with it the class's batch.
Expected: it can reach nothing but itself; the batch finishes and grades it like the base
solution it contains. It prints what it managed, marked `accelgrade-hostile-corpus kill:`.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os
import signal

_killed = _refused = 0
_targets = {os.getppid()} | {int(p) for p in os.listdir("/proc") if p.isdigit()}
for _pid in sorted(_targets - {os.getpid(), 0}):
    try:
        os.kill(_pid, signal.SIGKILL)
        _killed += 1
    except OSError:
        _refused += 1
print(f"accelgrade-hostile-corpus kill: killed {_killed}, refused {_refused}")
