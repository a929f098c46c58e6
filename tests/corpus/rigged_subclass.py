"""Hostile corpus case `rigged_subclass` (tests/test_hostile.py asserts its verdict).

vectorized_matmul returns an ndarray subclass of zeros whose comparisons all say True.
Expected: the matmul value checks fail.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
class _AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_eq__(self, *args, **kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __bool__(self):
        return True


_real_vectorized_matmul = vectorized_matmul


def vectorized_matmul(a, b):
    right = _real_vectorized_matmul(a, b)
    return np.zeros(right.data.shape, np.float32).view(_AlwaysEqual)
