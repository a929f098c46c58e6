"""Hostile corpus case `mutate_input` (tests/test_hostile.py asserts its verdict).

fused_gelu writes its (right) answer into x.data in place and returns x.
Expected: loses gelu.input_unchanged only.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
_real_fused_gelu = fused_gelu


def fused_gelu(x):
    v = _arr(x)
    v[...] = _real_fused_gelu(x).data
    return x
