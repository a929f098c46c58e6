"""Boundary case `mutate_fast` (tests/test_boundary.py).

fused_gelu computes in place into its input's buffer and returns it: no allocation at all,
so it is fast and lean, and it destroys the caller's data.
Expected: no speed and no memory credit for fused_gelu (`mutates-input`), and the correctness
point for leaving the input alone is lost.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
_C0, _C1, _HALF, _ONE = np.float32(0.7978845608028654), np.float32(0.044715), np.float32(0.5), np.float32(1.0)


def fused_gelu(x):
    a = _arr(x)
    t = a * a
    t *= _C1
    t += _ONE
    t *= a
    t *= _C0
    np.tanh(t, out=t)
    t += _ONE
    a *= _HALF
    a *= t
    return Tensor(a)
