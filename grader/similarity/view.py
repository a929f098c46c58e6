"""The side-by-side pages of flagged pairs, and what the class page shows of them.

Each flagged pair gets ``OUT/_similarity/<a>--<b>.html``: both sources with the
matching regions highlighted (copydetect's ``highlight_overlap``, which escapes
the text), in a self-contained page under the same no-script, no-fetch
Content-Security-Policy as every other page. Student text is escaped, always.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from grader.reports._common import clean_text, student_dirname
from grader.atomic import write_text_atomic
from grader.reports.scripts import content_security_policy
from grader.similarity.records import Entry, SimilarityReport, SimilarPair

_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=PackageLoader("grader.similarity", "templates"), autoescape=True,
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _env


def _highlighted(code: str, slices: np.ndarray) -> Markup:
    from copydetect.utils import highlight_overlap

    if slices.size == 0:
        return Markup(escape(clean_text(code)))
    marked, _ = highlight_overlap(code, slices.astype(int), "<mark>", "</mark>", escape_html=True)
    # Every segment of the text was escaped by highlight_overlap; control characters are made visible
    # afterwards (the regions index the raw text, so it is not changed before).
    return Markup(clean_text(marked))


def _href(student: str) -> str:
    return quote(student_dirname(student), safe="") + "/report.html"


def render_pair(pair: SimilarPair, report: SimilarityReport, a: Entry, b: Entry,
                slices: tuple[np.ndarray, np.ndarray]) -> str:
    sides = [{"name": clean_text(e.display_name), "student_id": clean_text(e.student_id or ""),
              "similarity": sim, "href": _href(e.student), "code": _highlighted(e.code, sl)}
             for e, sim, sl in ((a, pair.similarity_a, slices[0]), (b, pair.similarity_b, slices[1]))]
    return _environment().get_template("pair.html.j2").render(
        csp=content_security_policy(), a=sides[0], b=sides[1], score=pair.score, overlap=pair.overlap,
        threshold=report.threshold, method=report.method, excluded=report.excluded)


def write_views(report: SimilarityReport, entries: Mapping[str, Entry],
                regions: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]], out: Path) -> None:
    """One side-by-side page per flagged pair, under ``out/similarity/``."""
    for pair in report.pairs:
        slices = regions.get((pair.a, pair.b))
        if slices is None:
            continue
        write_text_atomic(out / pair.view, render_pair(pair, report, entries[pair.a], entries[pair.b], slices))


def index_view(report: SimilarityReport | None) -> dict[str, Any]:
    """What the class page shows: the pairs (names, score, link) and each student's partners."""
    if report is None:
        return {"similarity": None, "similar_to": {}}
    pairs = [{"a": clean_text(p.a_name), "b": clean_text(p.b_name), "percent": round(100 * p.score),
              "percent_a": round(100 * p.similarity_a), "percent_b": round(100 * p.similarity_b),
              "overlap": p.overlap, "href": quote(p.view, safe="/")} for p in report.pairs]
    similar_to: dict[str, list[dict[str, Any]]] = {}
    for p in report.pairs:
        for me in (p.a, p.b):
            _, name = p.other(me)
            similar_to.setdefault(me, []).append({"name": clean_text(name), "percent": round(100 * p.score),
                                                  "href": quote(p.view, safe="/")})
    return {"similarity": {"pairs": pairs, "threshold_percent": round(100 * report.threshold),
                           "submissions": report.submissions, "pairs_compared": report.pairs_compared,
                           "excluded": [clean_text(x) for x in report.excluded],
                           "skipped": len(report.skipped), "error": clean_text(report.error or "")},
            "similar_to": similar_to}
