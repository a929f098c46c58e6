"""Hostile corpus case `wrong_types` (tests/test_hostile.py asserts its verdict).

vectorized_matmul returns a list of lists; fused_gelu returns a string.
Expected: those checks fail with a plain message, no grader-error flag.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
_real_vectorized_matmul = vectorized_matmul


def vectorized_matmul(a, b):
    return _real_vectorized_matmul(a, b).data.tolist()


def fused_gelu(x):
    return "gelu"
