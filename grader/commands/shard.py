"""``--shard i/N``: which submissions of a class this machine grades.

A submission belongs to shard ``1 + (sha256(student slug) mod N)``. Hashing the
slug (rather than taking every N-th of the sorted list) keeps a student on the
same shard when submissions are added or removed between runs, so a shard's
``--resume`` still finds its finished work; with more than a handful of
students per shard the shares come out about even. Every node must see the
same class folder: slugs are made unique across the whole batch before the
split, so two students with the same name stay apart on every node.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from grader.models import Submission

METHOD = "1 + sha256(student slug) mod N"


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as in "--shard 2/4"
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, student: str) -> bool:
        return shard_of(student, self.count) == self.index

    def select(self, submissions: list[Submission]) -> list[Submission]:
        return [s for s in submissions if self.owns(s.student)]


def shard_of(student: str, count: int) -> int:
    """The 1-based shard a student slug falls in; stable across machines and Python versions."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4); ValueError with a one-line reason otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m:
        raise ValueError(f"--shard takes i/N (e.g. 2/4), got {text!r}")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"--shard {text}: i must be between 1 and N (shards are numbered from 1)")
    return Shard(index, count)
