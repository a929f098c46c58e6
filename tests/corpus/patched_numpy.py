"""Hostile corpus case `patched_numpy` (tests/test_hostile.py asserts its verdict).

Patches numpy's comparison functions at import, and vectorized_matmul returns zeros.
Expected: the matmul value checks still fail (verdicts are computed in the parent); flag tampering.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
try:
    np.ndarray.__eq__ = lambda self, other: True
except TypeError:  # a built-in type: cannot be patched
    pass

_real_vectorized_matmul = vectorized_matmul


def vectorized_matmul(a, b):
    right = _real_vectorized_matmul(a, b)  # keeps the ValueErrors
    return Tensor(np.zeros_like(right.data))
