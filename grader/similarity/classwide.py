"""The class-wide call the verbs make: compare, write the pair pages, annotate summary.json."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.similarity.defaults import DEFAULT_THRESHOLD, METHOD, MIN_OVERLAP
from grader.similarity.detect import compare
from grader.similarity.records import Entry, SimilarityReport
from grader.similarity.view import write_views

if TYPE_CHECKING:
    from grader.models import GradeResult

log = logging.getLogger(__name__)


def boilerplate_sources() -> list[tuple[str, str]]:
    """(label, text) of what every submission may share: the starter files and the reference."""
    import reference
    from grader.assignments import ASSIGNMENTS

    reference_dir = Path(reference.__file__).resolve().parent
    candidates = [(f"student_template/{a.starter_file}", a.starter) for a in ASSIGNMENTS.values()]
    candidates += [(f"reference/{name}", reference_dir / name) for name in reference.WORKER_FILES]
    found = []
    for label, path in candidates:
        try:
            found.append((label, path.read_text(encoding="utf-8")))
        except OSError:
            log.warning("similarity: %s not found; not excluded", label)
    return found


def entries_of(results: Sequence[GradeResult]) -> tuple[list[Entry], list[dict[str, str]]]:
    entries, skipped = [], []
    for r in results:
        sub = r.submission
        if sub.code is None:
            skipped.append({"student": sub.student, "why": "could not be read"})
        else:
            entries.append(Entry(sub.student, sub.display_name, sub.student_id, sub.code))
    return entries, skipped


def similarity_for_class(results: Sequence[GradeResult], out: Path,
                         threshold: float = DEFAULT_THRESHOLD) -> SimilarityReport:
    """Compare the class, write the flagged pairs' pages under ``out``; never raises."""
    entries, unread = entries_of(results)
    sources = boilerplate_sources()
    if len(entries) < 2:  # one upload (a CI gate, Gradescope): nothing to compare, no tokeniser loaded
        return SimilarityReport(threshold=threshold, min_overlap=MIN_OVERLAP, method=METHOD,
                                excluded=[label for label, _ in sources], submissions=len(entries), skipped=unread)
    try:
        started = time.perf_counter()
        report, regions = compare(entries, sources, threshold=threshold)
        write_views(report, {e.student: e for e in entries}, regions, out)
        report.seconds = time.perf_counter() - started  # comparing and writing the pages
    except Exception as exc:  # a fault of ours must not cost the batch its class page
        log.warning("similarity comparison failed: %s: %s", type(exc).__name__, exc)
        report = SimilarityReport(threshold=threshold, min_overlap=MIN_OVERLAP, method=METHOD,
                                  excluded=[label for label, _ in sources],
                                  error=f"{type(exc).__name__}: {exc}")
    report.skipped = unread + report.skipped
    return report


def annotate_summary(data: dict[str, Any], report: SimilarityReport) -> None:
    """summary.json: the report under ``similarity``, and "similar to <other>" on both students' rows."""
    data["similarity"] = report.as_dict()
    counts = data.get("counts", {}).get("flags")
    for row in data.get("students", []):
        partners = report.partners(str(row.get("student")))
        row["similar_to"] = [{"student": slug, "name": name, "score": round(p.score, 4), "view": p.view}
                             for slug, name, p in partners]
        flags = report.flags_for(str(row.get("student")))
        row["flags"] = list(row.get("flags", [])) + flags
        if flags:
            if isinstance(counts, dict):
                counts["similar"] = counts.get("similar", 0) + 1
            if not row.get("needs_attention") and "needs_attention" in data.get("counts", {}):
                data["counts"]["needs_attention"] += 1
            row["needs_attention"] = True  # as on the class page: a human should look
