"""Hostile corpus case `exit_os_in_gelu` (tests/test_hostile.py asserts its verdict).

fused_gelu calls os._exit(1): the worker dies in every fused_gelu call.
Expected: only the checks calling fused_gelu are lost (flag crash); a fresh worker serves the rest.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import os


def fused_gelu(x):
    os._exit(1)
