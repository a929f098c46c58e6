"""Hostile corpus case `smith_10001_2_acceleration` (tests/test_hostile.py asserts its verdict).

Second hand-in of student 10001; tiled_matmul was deleted.
Expected: graded separately from the first (tiled checks lost).

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
del tiled_matmul
