"""Hostile corpus case `daemon_escape` (tests/test_hostile.py asserts its verdict).

At import: a classic double-fork daemon (setsid, parent exits, stdio closed) that sleeps.
Expected: graded normally; after the batch the daemon is not alive.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os
import time


def _daemonise():
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)  # the intermediate exits at once
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    # The grandchild: reparented away from the worker, in its own session.
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write("hostile-daemon")
    except OSError:
        pass
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 4096)
    time.sleep(300)
    os._exit(0)


_daemonise()
