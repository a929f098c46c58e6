"""Hostile corpus case `smith_10001_1_acceleration` (tests/test_hostile.py asserts its verdict).

First of two hand-ins of student 10001 (Canvas name); a full solution.
Expected: both are kept, as smith_10001 and smith_10001-2.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
# (no damage: the full solution)
