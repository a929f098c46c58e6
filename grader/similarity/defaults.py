"""The similarity settings, on their own so the command line can name them without loading anything."""

METHOD = "copydetect winnowing"
# copydetect's defaults: a match shorter than 25 filtered characters is noise, one of 25 or more is found.
NOISE = 25
GUARANTEE = 25
WINDOW = GUARANTEE - NOISE + 1
# A pair is flagged when this share of one submission's code (boilerplate removed) appears in the
# other. Chosen from the example class and the hostile corpus (benchmarks/similarity.py --false-flags):
# honest pairs there reach 0.45 at most, renamed copies 0.95 and more.
DEFAULT_THRESHOLD = 0.6
# ... and when at least this many filtered characters match: two tiny files can share a large
# share of very little (a couple of lines of a hostile snippet), which is not evidence.
MIN_OVERLAP = 100
# Larger sources are not compared (a generated blob is no hand-written solution).
MAX_CHARS = 500_000
