"""Hostile corpus case `syntax_error` (tests/test_hostile.py asserts its verdict).

A syntax error at the end of an otherwise good file.
Expected: 0 points, import-error, message names SyntaxError.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
def broken(:
    pass
