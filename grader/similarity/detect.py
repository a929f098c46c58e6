"""Pairwise comparison of a class with copydetect's winnowing (MOSS-style fingerprints).

Every submission's source text is tokenised by copydetect (pygments: names
become ``V``/``F``/``O``, strings ``S``, comments and layout vanish), so a copy
with renamed variables, new comments and other strings fingerprints like the
original. Fingerprints found in the starter file or the reference are removed
first: the signatures, docstrings and imports every student starts from, and
the canonical answer that honest solutions of this short assignment converge
on, are not evidence that two students shared code.

Submissions are read as text only (the code intake extracted), never imported.
Fingerprints use Python's ``hash`` (salted per process), so one comparison is
always made within one process; ``grade merge`` recomputes it for the whole class.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import logging
import sys
import time
import types
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from grader.similarity.defaults import DEFAULT_THRESHOLD, MAX_CHARS, METHOD, MIN_OVERLAP, NOISE, WINDOW
from grader.similarity.records import Entry, SimilarityReport, SimilarPair

log = logging.getLogger(__name__)

PSEUDO_NAME = "submission.py"  # only picks pygments' Python lexer; no file is opened


@dataclass
class _Fingerprinted:
    """A submission's fingerprints, laid out for fast pairwise comparison."""

    entry: Entry
    fp: object  # copydetect.CodeFingerprint
    positions: np.ndarray  # every fingerprinted position of the filtered code, sorted
    hashes: np.ndarray  # the hash at each of those positions
    coverage: float  # copydetect's token coverage: filtered characters under some fingerprint

    @classmethod
    def of(cls, entry: Entry, fp) -> "_Fingerprinted":
        items = sorted((int(i), int(h)) for h, idx in fp.hash_idx.items() for i in idx)
        positions = np.array([i for i, _ in items], dtype=np.int64)
        hashes = np.array([h for _, h in items], dtype=np.int64)
        return cls(entry, fp, positions, hashes, float(fp.token_coverage))


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until one of its names is used, then imports it and hands over."""

    def __getattr__(self, name: str):
        sys.modules.pop(self.__name__, None)
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


def _copydetect():
    """copydetect, without paying for the plotting library it imports and we never call.

    Its detector imports matplotlib.pyplot (a quarter of a second, most of copydetect's import) for
    its own HTML report only, which accelgrade never draws: a stand-in imports it on first use.
    """
    if "copydetect" not in sys.modules and "matplotlib.pyplot" not in sys.modules:
        sys.modules["matplotlib.pyplot"] = _OnFirstUse("matplotlib.pyplot")
    import copydetect

    return copydetect


def _fingerprint(code: str, k: int, window: int, boilerplate: np.ndarray | None = None):
    CodeFingerprint = _copydetect().CodeFingerprint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CodeFingerprint(PSEUDO_NAME, k, window, boilerplate=boilerplate, fp=io.StringIO(code),
                               language="python")  # named, not guessed from a file name: half the cost


def boilerplate_hashes(sources: Iterable[str]) -> np.ndarray:
    """Every k-gram hash of the given sources (window 1: all of them, as copydetect does)."""
    hashes: list[int] = []
    for text in sources:
        hashes.extend(_fingerprint(text, NOISE, 1).hashes)
    return np.unique(np.array(hashes, dtype=np.int64)) if hashes else np.array([], dtype=np.int64)


def compare(entries: Sequence[Entry], boilerplate: Sequence[tuple[str, str]] = (),
            threshold: float = DEFAULT_THRESHOLD, min_overlap: int = MIN_OVERLAP) -> tuple[
                SimilarityReport, dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]]:
    """Compare every pair of ``entries``; ``boilerplate`` is (label, source) pairs to exclude.

    Returns the report and, for each flagged pair (a, b), the matching regions of
    each side in its raw text (copydetect's slices: 2xN arrays of start, end).
    """
    started = time.perf_counter()  # the tokeniser's import counts too: it is part of the cost
    compare_files = _copydetect().compare_files

    report = SimilarityReport(threshold=threshold, min_overlap=min_overlap, method=METHOD,
                              excluded=[label for label, _ in boilerplate])
    excluded = boilerplate_hashes(text for _, text in boilerplate)
    done: list[_Fingerprinted] = []
    for entry in entries:
        if not entry.code.strip():
            report.skipped.append({"student": entry.student, "why": "no code"})
            continue
        if len(entry.code) > MAX_CHARS:
            report.skipped.append({"student": entry.student, "why": f"over {MAX_CHARS} characters"})
            continue
        try:
            done.append(_Fingerprinted.of(entry, _fingerprint(entry.code, NOISE, WINDOW, excluded)))
        except Exception as exc:  # pygments on hostile text: skip this one, never the batch
            report.skipped.append({"student": entry.student, "why": f"could not be tokenised ({type(exc).__name__})"})
    report.submissions = len(done)
    regions: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    pairs: list[SimilarPair] = []
    overlap = _overlaps(done, NOISE)
    coverage = np.array([d.coverage for d in done])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(coverage[:, None] > 0, overlap / coverage[:, None], 0.0)  # share[a, b]: of a, in b
    for i, left in enumerate(done):
        for j in range(i + 1, len(done)):
            right = done[j]
            if left.entry.student_id and left.entry.student_id == right.entry.student_id:
                continue  # two hand-ins of one student (Canvas resubmissions) are alike by nature
            report.pairs_compared += 1
            if max(share[i, j], share[j, i]) < threshold or overlap[i, j] < min_overlap:
                continue
            # Above the screen: copydetect compares the pair itself, for its figures and its regions.
            tokens, (sim_a, sim_b), slices = compare_files(left.fp, right.fp)
            sim_a, sim_b = float(min(sim_a, 1.0)), float(min(sim_b, 1.0))
            if max(sim_a, sim_b) < threshold or int(tokens) < min_overlap:
                continue
            a, b = left.entry, right.entry
            pairs.append(SimilarPair(a.student, b.student, a.display_name, b.display_name, sim_a, sim_b,
                                     int(tokens), view=view_path(a.student, b.student)))
            regions[(a.student, b.student)] = slices
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    report.pairs = pairs
    report.seconds = time.perf_counter() - started
    return report, regions


def _overlaps(docs: Sequence[_Fingerprinted], k: int) -> np.ndarray:
    """overlap[a, b]: copydetect's matching-token count of a against b, for every ordered pair at once.

    copydetect counts, in a, the union of the k-character windows [p, p + k) at a's fingerprint
    positions whose hash b also has: per run of positions, k plus the gaps within it, which is
    k + the sum of min(gap, k) over consecutive matching positions. One pass per b over all the
    class's positions (a lookup table of b's hashes) gives that for every a together.
    """
    n = len(docs)
    out = np.zeros((n, n))
    if n < 2:
        return out
    lengths = np.array([d.positions.size for d in docs])
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    if bounds[-1] == 0:
        return out
    positions = np.concatenate([d.positions for d in docs])
    doc = np.repeat(np.arange(n), lengths)
    _, ids = np.unique(np.concatenate([d.hashes for d in docs]), return_inverse=True)
    ids = ids.ravel()
    table = np.zeros(int(ids.max()) + 1, dtype=bool)
    for b in range(n):
        mine = ids[bounds[b]:bounds[b + 1]]
        table[mine] = True
        hit = table[ids]
        table[mine] = False
        hit[bounds[b]:bounds[b + 1]] = False  # not against itself
        pos, who = positions[hit], doc[hit]
        if pos.size == 0:
            continue
        runs = np.where(who[1:] == who[:-1], np.minimum(np.diff(pos), k), 0)
        out[:, b] = np.bincount(who[1:], weights=runs, minlength=n) + k * (np.bincount(who, minlength=n) > 0)
    return out


def view_path(a: str, b: str) -> str:
    """The side-by-side page of a pair, relative to the output folder: one safe file name."""
    from grader.reports._common import student_dirname

    name = f"{student_dirname(a)}--{student_dirname(b)}"
    if len(name.encode()) > 200:  # two long slugs: keep the name under any file system's limit
        name = name.encode()[:150].decode(errors="ignore") + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    # "_similarity": a slug never starts with "_" (intake strips it), so no student folder is this one.
    return f"_similarity/{name}.html"
