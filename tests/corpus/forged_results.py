"""Hostile corpus case `forged_results` (tests/test_hostile.py asserts its verdict).

Prints a Gradescope results JSON with score 100 and writes results.json into its
working folder, `..` and `../..` (never overwriting).  tiled_matmul is also wrong (zeros).
Expected: the score is the computed one (39 of 50 here); no forged file in the class or out folder.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import json
import os

FORGED = {"score": 100.0, "output": "accelgrade-hostile-corpus: forged", "stdout_visibility": "visible",
          "tests": [{"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed"}]}
print(json.dumps(FORGED))
for _folder in (".", "..", os.path.join("..", "..")):
    try:
        with open(os.path.join(_folder, "results.json"), "x") as _fh:
            json.dump(FORGED, _fh)
    except OSError:
        pass


def tiled_matmul(a, b, tile_size=64):
    if tile_size < 1:
        raise ValueError("tile_size must be >= 1")
    A, B = _arr(a), _arr(b)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError("bad shapes")
    return Tensor(np.zeros((A.shape[0], B.shape[1]), np.float32))
