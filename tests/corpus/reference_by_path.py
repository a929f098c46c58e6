"""Hostile corpus case `reference_by_path` (tests/test_hostile.py asserts its verdict).

Looks for the reference's source without importing it: through the editable-install
finder's MAPPING on sys.path, next to the tinytorch shim, or in any sys.path folder; execs it
and uses its fused_gelu.  Otherwise a broken fused_gelu (the identity).
Expected: graded as the broken one.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import glob
import os
import sys

ROUTE = "none"


def _reference_source():
    global ROUTE
    for folder in list(sys.path):  # an editable install's finder names the project folders
        for finder in glob.glob(os.path.join(folder, "__editable__*finder.py")):
            try:
                with open(finder) as fh:
                    text = fh.read()
                start = text.index("MAPPING")
                mapping = eval(text[text.index("{", start):text.index("}", start) + 1])
                path = os.path.join(mapping["reference"], "acceleration.py")
                with open(path) as fh:
                    ROUTE = "editable finder"
                    return fh.read()
            except (OSError, ValueError, KeyError, SyntaxError):
                pass
    import tinytorch  # the shim lives inside the grader's source tree

    here = os.path.dirname(os.path.abspath(tinytorch.__file__))
    for up in range(1, 7):
        path = os.path.join(here, *[".."] * up, "reference", "acceleration.py")
        if os.path.isfile(path):
            ROUTE = "next to the tinytorch shim"
            with open(path) as fh:
                return fh.read()
    for folder in list(sys.path):  # a regular install puts the reference in site-packages
        path = os.path.join(folder, "reference", "acceleration.py")
        if os.path.isfile(path):
            ROUTE = "site-packages"
            with open(path) as fh:
                return fh.read()
    return None


try:
    _src = _reference_source()
except Exception:
    _src = None
if _src:
    _ns = {"__name__": "stolen_reference"}
    exec(compile(_src, "stolen_reference", "exec"), _ns)
    fused_gelu = _ns["fused_gelu"]
else:
    def fused_gelu(x):  # the "broken" fallback: the identity
        return Tensor(_arr(x).copy())
print("accelgrade-hostile-corpus reference route:", ROUTE)
