"""Hostile corpus case `daemon_clean_env` (tests/test_hostile.py asserts its verdict).

At import: a double-fork daemon (setsid, parent exits, stdio closed) that execs
`sleep 301` with an empty environment, so it carries nothing inherited from the worker.
Expected: graded normally; after the batch the daemon is not alive.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os


def _daemonise():
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)  # the intermediate exits at once
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, 4096)
        os.execve("/bin/sleep", ["sleep", "301"], {})  # a clean environment
    finally:
        os._exit(0)  # never fall back into the import


_daemonise()
