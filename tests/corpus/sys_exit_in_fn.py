"""Hostile corpus case `sys_exit_in_fn` (tests/test_hostile.py asserts its verdict).

unfused_gelu calls sys.exit(3) (a SystemExit raised inside one function).
Expected: unfused_gelu's checks are lost, the worker survives, the rest are kept.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import sys


def unfused_gelu(x):
    sys.exit(3)
