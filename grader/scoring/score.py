"""Scoring: check results weighed by the rubric into items, categories and a total."""
from __future__ import annotations

import math

from grader.models import CategoryScore, CheckInfo, CheckResult, ItemScore
from grader.scoring.rubric import Partial, Rubric, RubricItem

NOT_RUN = "not graded"


def credit(result: CheckResult, partial: Partial | None) -> float:
    """Fraction of the points earned.

    A measured check reports ``data['score_input'] = {'value': v, 'threshold': t}``
    (higher is better); the rubric's partial curve gives 0 at ``floor * t`` and
    full credit at ``t``. Without a curve it is all or nothing at the threshold.
    Other checks carry their fraction directly.
    """
    if not result.passed:
        return 0.0
    si = result.data.get("score_input")
    if not isinstance(si, dict):
        return max(0.0, min(1.0, result.fraction)) if math.isfinite(result.fraction) else 0.0
    value, threshold = float(si["value"]), float(si["threshold"])
    if not (math.isfinite(value) and math.isfinite(threshold)):
        return 0.0  # a measurement that produced no number earns nothing
    if value >= threshold:
        return 1.0
    if partial is None or threshold <= 0:
        return 0.0
    low = partial.floor * threshold
    return max(0.0, min(1.0, (value - low) / (threshold - low)))


def score_item(item: RubricItem, result: CheckResult | None, info: CheckInfo | None) -> ItemScore:
    name = item.name or (info.name if info else item.check_id)
    if result is None:
        return ItemScore(item.check_id, name, item.category, 0.0, item.points, item.visibility, "failed",
                         NOT_RUN, "", [], {})
    fraction = credit(result, item.partial)
    score = round(item.points * fraction, 2)
    if fraction >= 1.0:
        status = "passed"
    elif fraction > 0:
        status = "partial"
    else:
        status = "failed"
    hint = result.hint if status != "passed" else ""
    causes = list(result.causes) if status != "passed" else []
    return ItemScore(item.check_id, name, item.category, score, item.points, item.visibility, status,
                     result.message, hint, list(result.flags), dict(result.data), result.duration, causes)


def score_all(rubric: Rubric, results: dict[str, CheckResult], catalogue: dict[str, CheckInfo],
              only: set[str] | None = None) -> tuple[list[ItemScore], list[CategoryScore], float, float]:
    """Every rubric item (or those in ``only``) scored; categories and total summed from them."""
    items = [score_item(i, results.get(i.check_id), catalogue.get(i.check_id))
             for i in rubric.items if only is None or i.check_id in only]
    categories = []
    for name in rubric.category_order:
        in_cat = [i for i in items if i.category == name]
        if in_cat or only is None:
            categories.append(CategoryScore(name, round(sum(i.score for i in in_cat), 2),
                                            sum(i.max_score for i in in_cat)))
    total = round(sum(i.score for i in items), 2)
    max_total = sum(i.max_score for i in items)
    return items, categories, total, max_total
