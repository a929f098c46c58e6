"""Hostile corpus case `exit_os_import` (tests/test_hostile.py asserts its verdict).

os._exit(0) at module level: the worker dies before it can report.
Expected: 0 points, import-error, message says the worker exited.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os

os._exit(0)
