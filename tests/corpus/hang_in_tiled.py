"""Hostile corpus case `hang_in_tiled` (tests/test_hostile.py asserts its verdict).

tiled_matmul never returns.
Expected: tiled checks lost with flag timeout, everything else kept, the batch goes on.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
def tiled_matmul(a, b, tile_size=64):
    while True:
        pass
