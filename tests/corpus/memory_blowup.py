"""Hostile corpus case `memory_blowup` (tests/test_hostile.py asserts its verdict).

vectorized_matmul asks for a 4 TiB scratch buffer (MemoryError under the address-space limit).
Expected: checks calling vectorized_matmul lost with flag memory-limit, the rest kept.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
def vectorized_matmul(a, b):
    scratch = np.ones((1 << 40,), np.float32)  # 4 TiB
    return Tensor(_arr(a) @ _arr(b) + scratch[:1])
