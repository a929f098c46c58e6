"""The similarity records: what was compared, which pairs look alike, and how alike.

Plain dataclasses, the one shape every consumer reads (summary.json, the class
page, the side-by-side views). A pair is evidence for a human, never a verdict:
nothing here touches a score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One submission as similarity sees it: who, and the source text (never imported)."""

    student: str  # slug, unique in the class
    display_name: str
    student_id: str | None
    code: str


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions whose code matches above the threshold.

    ``similarity_a`` is the fraction of a's fingerprinted code (boilerplate
    removed) that also appears in b, and the other way round for
    ``similarity_b``; ``overlap`` counts the matching tokens of a.
    """

    a: str
    b: str
    a_name: str
    b_name: str
    similarity_a: float
    similarity_b: float
    overlap: int
    view: str  # the side-by-side page, relative to the output folder

    @property
    def score(self) -> float:
        """How alike: the larger share, so copying one file into a longer one still shows."""
        return max(self.similarity_a, self.similarity_b)

    def other(self, student: str) -> tuple[str, str]:
        """(slug, display name) of the partner of ``student`` in this pair."""
        return (self.b, self.b_name) if student == self.a else (self.a, self.a_name)

    def as_dict(self) -> dict[str, Any]:
        return {"students": [self.a, self.b], "names": [self.a_name, self.b_name],
                "score": round(self.score, 4),
                "similarity": {self.a: round(self.similarity_a, 4), self.b: round(self.similarity_b, 4)},
                "overlap_tokens": self.overlap, "view": self.view}


@dataclass
class SimilarityReport:
    """The outcome of comparing a class pairwise."""

    threshold: float
    min_overlap: int
    method: str
    excluded: list[str]  # what was removed as boilerplate before comparing
    submissions: int = 0  # compared (had readable code)
    pairs_compared: int = 0
    pairs: list[SimilarPair] = field(default_factory=list)  # above the threshold, most alike first
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"student", "why"}: not compared
    seconds: float = 0.0
    error: str | None = None  # similarity itself failed; grading is unaffected

    def partners(self, student: str) -> list[tuple[str, str, SimilarPair]]:
        """(slug, name, pair) of everyone ``student`` was found similar to, most alike first."""
        return [(*p.other(student), p) for p in self.pairs if student in (p.a, p.b)]

    def flags_for(self, student: str) -> list[str]:
        return [f"similar to {name}" for _, name, _ in self.partners(student)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "threshold": self.threshold,
            "min_overlap_tokens": self.min_overlap,
            "excluded": list(self.excluded),
            "submissions": self.submissions,
            "pairs_compared": self.pairs_compared,
            "flagged": len(self.pairs),
            "pairs": [p.as_dict() for p in self.pairs],
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "note": "evidence for a human, never a penalty: no score changed",
        }
