"""The YAML rubric: loaded, validated with file:line:key messages, turned into plain data.

Format (see rubrics/acceleration.yaml)::

    assignment: Acceleration
    total: 100
    categories:            # name: points; items in each must add up to it
      correctness: 40
    items:
      - check: matmul.square   # a check id from the suite
        category: correctness
        points: 3
        visibility: visible    # visible | hidden | after_published
        name: ...              # optional; defaults to the check's own name
        partial:               # optional, for checks that report a measured value
          floor: 0.5           # fraction of the threshold that still earns something
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from grader.models import VISIBILITIES

TOP_KEYS = {"assignment", "total", "categories", "items", "description"}
ITEM_KEYS = {"check", "category", "points", "visibility", "name", "partial"}
PARTIAL_KEYS = {"floor"}


class RubricError(Exception):
    """A rubric problem, already phrased as ``file:line: key: what is wrong``."""


@dataclass(frozen=True)
class Partial:
    floor: float  # credit is 0 at floor * threshold and full at the threshold, linear between


@dataclass(frozen=True)
class RubricItem:
    check_id: str
    category: str
    points: float
    visibility: str = "visible"
    name: str | None = None
    partial: Partial | None = None


@dataclass(frozen=True)
class Rubric:
    path: Path
    assignment: str
    total: float
    categories: dict[str, float]
    items: tuple[RubricItem, ...]
    digest: str = ""  # sha256 of the file: part of the --resume key
    description: str = ""
    category_order: tuple[str, ...] = field(default=())

    def item(self, check_id: str) -> RubricItem | None:
        return next((i for i in self.items if i.check_id == check_id), None)

    def visible_checks(self) -> set[str]:
        return {i.check_id for i in self.items if i.visibility == "visible"}


def load_rubric(path: Path, known_checks: Iterable[str] | None = None) -> Rubric:
    """Read and validate a rubric; every problem raises RubricError naming file, line and key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise RubricError(f"{path}: no such rubric file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: cannot read the rubric ({exc})") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RubricError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    v = _Validator(path)
    rubric = v.rubric(root, known_checks)
    return Rubric(**{**rubric.__dict__, "digest": hashlib.sha256(raw).hexdigest()})


class _Validator:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: yaml.Node | None, key: str, problem: str) -> RubricError:
        line = node.start_mark.line + 1 if node is not None else 1
        return RubricError(f"{self.path}:{line}: {key}: {problem}")

    def mapping(self, node: yaml.Node, key: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping of keys to values")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, val in node.value:
            name = str(k.value)
            if name in out:
                raise self.fail(k, f"{key}.{name}" if key else name, "duplicate key")
            out[name] = (k, val)
        return out

    def scalar(self, node: yaml.Node, key: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, key, "expected a single value")
        return yaml.safe_load(yaml.serialize(node)) if node.tag != "tag:yaml.org,2002:str" else node.value

    def number(self, node: yaml.Node, key: str, allow_zero: bool = True) -> float:
        value = self.scalar(node, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(node, key, f"expected a number, got {value!r}")
        if value < 0 or (not allow_zero and value == 0):
            raise self.fail(node, key, f"must be {'>= 0' if allow_zero else '> 0'}, got {value}")
        return float(value)

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.scalar(node, key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, key, f"expected text, got {value!r}")
        return value

    def unknown(self, fields: dict, allowed: set[str], key: str) -> None:
        for name, (knode, _) in fields.items():
            if name not in allowed:
                raise self.fail(knode, f"{key}.{name}" if key else name,
                                f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def rubric(self, root: yaml.Node | None, known_checks: Iterable[str] | None) -> Rubric:
        if root is None:
            raise RubricError(f"{self.path}:1: the rubric is empty")
        if not isinstance(root, yaml.MappingNode):
            raise self.fail(root, "rubric", "expected a mapping with total, categories and items")
        top = self.mapping(root, "")
        self.unknown(top, TOP_KEYS, "")
        for required in ("total", "categories", "items"):
            if required not in top:
                raise self.fail(root, required, "missing")
        total = self.number(top["total"][1], "total", allow_zero=False)
        assignment = self.text(top["assignment"][1], "assignment") if "assignment" in top else "Acceleration"
        description = self.text(top["description"][1], "description") if "description" in top else ""

        cat_node = top["categories"][1]
        categories: dict[str, float] = {}
        cat_keys: dict[str, yaml.Node] = {}
        for name, (knode, vnode) in self.mapping(cat_node, "categories").items():
            categories[name] = self.number(vnode, f"categories.{name}")
            cat_keys[name] = knode
        if abs(sum(categories.values()) - total) > 1e-9:
            raise self.fail(cat_node, "categories",
                            f"categories add up to {sum(categories.values()):g}, but total is {total:g}")

        items_node = top["items"][1]
        if not isinstance(items_node, yaml.SequenceNode):
            raise self.fail(items_node, "items", "expected a list of items")
        known = set(known_checks) if known_checks is not None else None
        items: list[RubricItem] = []
        seen: set[str] = set()
        for idx, node in enumerate(items_node.value):
            items.append(self.item(node, f"items[{idx}]", categories, known, seen))

        for name, points in categories.items():
            got = sum(i.points for i in items if i.category == name)
            if abs(got - points) > 1e-9:
                raise self.fail(cat_keys[name], f"categories.{name}",
                                f"items in '{name}' add up to {got:g}, but the category is worth {points:g}")
        return Rubric(self.path, assignment, total, categories, tuple(items), description=description,
                      category_order=tuple(categories))

    def item(self, node: yaml.Node, key: str, categories: dict[str, float], known: set[str] | None,
             seen: set[str]) -> RubricItem:
        fields = self.mapping(node, key)
        self.unknown(fields, ITEM_KEYS, key)
        for required in ("check", "category", "points"):
            if required not in fields:
                raise self.fail(node, f"{key}.{required}", "missing")
        check_node = fields["check"][1]
        check = self.text(check_node, f"{key}.check")
        if known is not None and check not in known:
            close = sorted(k for k in known if k.split(".")[0] == check.split(".")[0])
            extra = f" (checks in that group: {', '.join(close)})" if close else ""
            raise self.fail(check_node, f"{key}.check", f"no check named '{check}'{extra}")
        if check in seen:
            raise self.fail(check_node, f"{key}.check", f"'{check}' appears twice")
        seen.add(check)
        category = self.text(fields["category"][1], f"{key}.category")
        if category not in categories:
            raise self.fail(fields["category"][1], f"{key}.category",
                            f"unknown category '{category}' (declared: {', '.join(categories)})")
        points = self.number(fields["points"][1], f"{key}.points")
        visibility = "visible"
        if "visibility" in fields:
            visibility = self.text(fields["visibility"][1], f"{key}.visibility")
            if visibility not in VISIBILITIES:
                raise self.fail(fields["visibility"][1], f"{key}.visibility",
                                f"'{visibility}' is not one of {', '.join(VISIBILITIES)}")
        name = self.text(fields["name"][1], f"{key}.name") if "name" in fields else None
        partial = None
        if "partial" in fields:
            pfields = self.mapping(fields["partial"][1], f"{key}.partial")
            self.unknown(pfields, PARTIAL_KEYS, f"{key}.partial")
            if "floor" not in pfields:
                raise self.fail(fields["partial"][1], f"{key}.partial.floor", "missing")
            floor = self.number(pfields["floor"][1], f"{key}.partial.floor")
            if floor >= 1:
                raise self.fail(pfields["floor"][1], f"{key}.partial.floor", f"must be below 1, got {floor:g}")
            partial = Partial(floor)
        return RubricItem(check, category, points, visibility, name, partial)
