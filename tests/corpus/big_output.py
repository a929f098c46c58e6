"""Hostile corpus case `big_output` (tests/test_hostile.py asserts its verdict).

Prints 5 MB to stdout and 5 MB to stderr at import.
Expected: graded normally; captured output capped with a truncation marker; report.html small.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import sys

sys.stdout.write("stdout spam accelgrade-hostile-corpus\n" * (5 * 1024 * 1024 // 38))
sys.stdout.flush()
sys.stderr.write("stderr spam accelgrade-hostile-corpus\n" * (5 * 1024 * 1024 // 38))
sys.stderr.flush()
