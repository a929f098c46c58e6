"""Hostile corpus case `rigged_object` (tests/test_hostile.py asserts its verdict).

fused_gelu returns an object that equals everything, with .data holding zeros.
Expected: the GELU value checks fail (shape and dtype checks may pass).

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
class _Liar:
    def __init__(self, shape):
        self.data = np.zeros(shape, np.float32)
        self.shape = shape
        self.dtype = np.float32

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__

    def __bool__(self):
        return True

    def __array__(self, *args, **kwargs):
        return self.data


def fused_gelu(x):
    return _Liar(_arr(x).shape)
