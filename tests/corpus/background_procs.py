"""Hostile corpus case `background_procs` (tests/test_hostile.py asserts its verdict).

At import: a `sleep 300` in its own session and a forked child that sleeps.
Expected: graded normally (full marks); after the batch neither process is alive.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os
import subprocess
import time

subprocess.Popen(["sleep", "300"], start_new_session=True)

if os.fork() == 0:  # the child sleeps with the worker's pipes open, then would exit
    try:
        with open("/proc/self/comm", "w") as _comm:  # a name the test can find it by
            _comm.write("hostile-fork")
    except OSError:
        pass
    time.sleep(300)
    os._exit(0)
