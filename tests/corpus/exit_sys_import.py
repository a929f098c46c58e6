"""Hostile corpus case `exit_sys_import` (tests/test_hostile.py asserts its verdict).

sys.exit(0) at module level.
Expected: 0 points, import-error, message names SystemExit.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import sys

sys.exit(0)  # "done": nothing after the import is ever called
