"""Hostile corpus case `memo_first_answer` (tests/test_hostile.py asserts its verdict).

fused_gelu memoises: a cache keyed by a hash of the input bytes, but it returns the
first answer it ever computed, forever.
Expected: every fused_gelu check after the first fails (fresh inputs per call).

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import hashlib

_cache = {}
_real_fused_gelu = fused_gelu


def fused_gelu(x):
    key = hashlib.sha256(_arr(x).tobytes()).hexdigest()
    if key not in _cache:
        _cache[key] = _real_fused_gelu(x)
    return next(iter(_cache.values()))  # the first answer ever computed
