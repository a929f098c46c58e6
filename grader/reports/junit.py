"""JUnit XML for CI systems: one ``<testsuite>`` per student, one ``<testcase>`` per rubric item.

``classname`` is the item's category and ``name`` is ``check id: item name``,
so CI pages group checks the way the rubric does. A lost point is a
``<failure>`` carrying the check's output and its hint; a rubric item this run
did not grade (``--categories``, or a self-check's hidden items) is ``<skipped>``; a fault of the grader itself
is an ``<error>``, so CI can tell "the code is wrong" from "the grader broke".
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from grader.models import GradeResult, ItemScore
from grader.reports._common import clean_text, fmt_points, round_score, status_of, submission_messages
from grader.atomic import write_text_atomic
from grader.scoring.score import NOT_RUN

# Characters XML 1.0 cannot hold at all, even escaped (clean_text already
# replaced the C0 controls; these are the ones it leaves).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_MAX_TEXT = 20_000


def _text(value: object) -> str:
    text = _NOT_XML.sub("\ufffd", clean_text(value))
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "\n[... truncated ...]"


def _item_case(suite: ET.Element, item: ItemScore) -> str:
    """Add one item's testcase; returns what it counts as: passed, failure or skipped."""
    case = ET.SubElement(suite, "testcase", classname=_text(item.category),
                         name=_text(f"{item.check_id}: {item.name}"))
    status = status_of(item)
    if status == "passed":
        return "passed"
    if item.output == NOT_RUN and not item.score:  # listed by the rubric, left out of this run
        ET.SubElement(case, "skipped", message="not graded in this run")
        return "skipped"
    points = f"{fmt_points(item.score)} / {fmt_points(item.max_score)} points"
    first = (item.output or "").strip().splitlines()[:1]
    body = (item.output or "").strip()
    if item.hint:
        body = f"{body}\nHint: {item.hint}" if body else f"Hint: {item.hint}"
    failure = ET.SubElement(case, "failure", type=status,
                            message=_text(f"{first[0] if first else status} ({points})"))
    failure.text = _text(f"{body}\n({points})" if body else points)
    return "failure"


def _suite(parent: ET.Element, result: GradeResult, not_graded: list[tuple[str, str, str]]) -> dict[str, int]:
    sub = result.submission
    label = sub.display_name if sub.display_name == sub.student else f"{sub.display_name} ({sub.student})"
    suite = ET.SubElement(parent, "testsuite", name=_text(label),
                          time=f"{max(0.0, round_score(result.execution_time)):.2f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("student", sub.student), ("student_id", sub.student_id or ""),
                       ("score", fmt_points(result.score)), ("max_score", fmt_points(result.max_score)),
                       ("code_hash", sub.code_hash), ("seed", result.seed),
                       ("flags", ", ".join(result.flags))):
        ET.SubElement(props, "property", name=key, value=_text(value))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for item in result.items:
        outcome = _item_case(suite, item)
        counts["tests"] += 1
        if outcome == "failure":
            counts["failures"] += 1
        elif outcome == "skipped":
            counts["skipped"] += 1
    graded = {i.check_id for i in result.items}
    for check_id, name, category in not_graded:
        if check_id in graded:
            continue
        case = ET.SubElement(suite, "testcase", classname=_text(category), name=_text(f"{check_id}: {name}"))
        ET.SubElement(case, "skipped", message="not graded in this run (--categories)")
        counts["tests"] += 1
        counts["skipped"] += 1
    if result.grader_error:
        case = ET.SubElement(suite, "testcase", classname="grader", name="grader error")
        error = ET.SubElement(case, "error", type="grader-error",
                              message="the grader itself failed on this submission")
        error.text = _text(result.grader_error)
        counts["tests"] += 1
        counts["errors"] += 1
    notes = "\n".join(text for _kind, text in submission_messages(result))
    out = "\n".join(part for part in (notes, result.stdout) if part)
    if out:
        ET.SubElement(suite, "system-out").text = _text(out)
    if result.stderr:
        ET.SubElement(suite, "system-err").text = _text(result.stderr)
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def junit_xml(results: list[GradeResult], assignment: str,
              rubric_items: Iterable[tuple[str, str, str]] = ()) -> str:
    """The XML document; ``rubric_items`` are (check id, name, category) of every item, so the
    ones a run left out show as skipped."""
    root = ET.Element("testsuites", name=_text(assignment))
    items = list(rubric_items)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time = 0.0
    for result in results:
        for key, value in _suite(root, result, items).items():
            totals[key] += value
        time += max(0.0, round_score(result.execution_time))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{time:.2f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(results: list[GradeResult], path: Path | str, assignment: str,
                rubric_items: Iterable[tuple[str, str, str]] = ()) -> None:
    write_text_atomic(Path(path), junit_xml(results, assignment, rubric_items))
