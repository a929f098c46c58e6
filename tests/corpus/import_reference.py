"""Hostile corpus case `import_reference` (tests/test_hostile.py asserts its verdict).

Tries `from reference import fused_gelu` and `import grader` at import; falls back to a
broken fused_gelu (the identity).
Expected: graded as the broken one; the report shows both imports were refused.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
try:
    from reference import fused_gelu  # the staff solution, if the grader leaves it importable
    REFERENCE_IMPORT = "reference imported"
except Exception as exc:
    REFERENCE_IMPORT = f"reference refused: {type(exc).__name__}"

    def fused_gelu(x):  # the "broken" fallback: the identity
        return Tensor(_arr(x).copy())
try:
    import grader  # noqa: F401
    GRADER_IMPORT = "grader imported"
except ImportError as exc:
    GRADER_IMPORT = f"grader refused: {type(exc).__name__}"
print("accelgrade-hostile-corpus", REFERENCE_IMPORT)
print("accelgrade-hostile-corpus", GRADER_IMPORT)
