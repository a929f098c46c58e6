"""Hostile corpus case `mutate_input_patched_eq` (tests/test_hostile.py asserts its verdict).

Like mutate_input, and also replaces np.array_equal (which the worker uses to see
whether inputs changed) with `lambda *a, **k: True`.
Expected: still loses gelu.input_unchanged; flag tampering.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
np.array_equal = lambda *args, **kwargs: True

_real_fused_gelu = fused_gelu


def fused_gelu(x):
    v = _arr(x)
    v[...] = _real_fused_gelu(x).data
    return x
