"""Boundary case `memo_by_id` (tests/test_boundary.py).

fused_gelu and vectorized_matmul cache their answers keyed on id(x.data): timed inputs are
fresh arrays, but freed arrays come back at the same addresses, so almost every timed call
returns a stale answer at once.
Expected: the answers of timed calls are checked after the run; both speed checks are void
(`unverified-output`) and earn nothing.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
_cache = {}
_honest_gelu, _honest_matmul = fused_gelu, vectorized_matmul


def fused_gelu(x):
    key = ("gelu", id(_arr(x)))
    if key not in _cache:
        _cache[key] = _honest_gelu(x)
    return _cache[key]


def vectorized_matmul(a, b):
    key = ("mm", id(_arr(a)), id(_arr(b)))
    if key not in _cache:
        _cache[key] = _honest_matmul(a, b)
    return _cache[key]
