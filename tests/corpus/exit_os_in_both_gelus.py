"""Hostile corpus case `exit_os_in_both_gelus` (tests/test_hostile.py asserts its verdict).

fused_gelu and unfused_gelu both call os._exit(1): nine checks crash a worker.
Expected: only the GELU checks are lost; matmul and tiled checks keep their points.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os


def fused_gelu(x):
    os._exit(1)


def unfused_gelu(x):
    os._exit(1)
