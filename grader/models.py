"""Plain data passed between the stages: intake -> sandbox/checks -> scoring -> reports.

Every stage takes and returns these dataclasses; no stage reaches into another's
internals. Everything here is JSON-serialisable through ``dataclasses.asdict``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Flags a check or a submission can carry; reports explain each in plain words.
FLAG_CRASH = "crash"
FLAG_TIMEOUT = "timeout"
FLAG_MEMORY = "memory-limit"
FLAG_TAMPERING = "tampering"
FLAG_NOISY = "noisy"
FLAG_MISSING = "missing-function"
FLAG_NOT_IMPLEMENTED = "not-implemented"
FLAG_IMPORT_ERROR = "import-error"
FLAG_GRADER_ERROR = "grader-error"
FLAG_UNVERIFIED = "unverified-output"  # a timed call's answer, checked after the run, was wrong
FLAG_TOO_FAST = "too-fast"  # a timed call beat what this machine's roofs allow
FLAG_MUTATES_INPUT = "mutates-input"  # the function writes into its input: no speed or memory credit
FLAG_BUSY = "busy-machine"  # measured while other processes or the hypervisor took much of the CPU

# Why a check lost points, as codes a program can read (CI, the leaderboard, a course's own
# analysis). Each comes from deterministic evidence (a dtype, a tracemalloc peak against the
# reference's, a verification, a confidence interval's bounds), never from a point estimate near a cut.
CAUSE_FLOAT64_UPCAST = "float64_upcast"  # a float64 constant widened the temporaries or the result
CAUSE_SLOW_POWER = "slow_power"  # x ** 3 on float32 runs numpy's general power routine
CAUSE_TEMPORARIES = "temporaries"  # as much memory as the unfused code: not fused
CAUSE_MUTATES_INPUT = "mutates_input"
CAUSE_NOISY = "noisy"  # the interval still straddled the threshold: decided on the median
CAUSE_TOO_SLOW = "too_slow"  # too slow to time at all
CAUSE_TAMPERING = "tampering"
CAUSE_UNVERIFIED = "unverified_output"  # a timed call's answer was wrong
CAUSE_TOO_FAST = "too_fast"  # beat the machine's roofs
CAUSE_WRONG_OUTPUT = "wrong_output"  # the function's values failed the gate before timing
CAUSE_BELOW_THRESHOLD = "below_threshold"  # measured below the bar, no more specific cause seen
CAUSE_BUSY = "busy_machine"  # lost while the machine was busy: worth grading again on a quiet one
CAUSES = (CAUSE_FLOAT64_UPCAST, CAUSE_SLOW_POWER, CAUSE_TEMPORARIES, CAUSE_MUTATES_INPUT, CAUSE_NOISY,
          CAUSE_TOO_SLOW, CAUSE_TAMPERING, CAUSE_UNVERIFIED, CAUSE_TOO_FAST, CAUSE_WRONG_OUTPUT,
          CAUSE_BELOW_THRESHOLD, CAUSE_BUSY)

VISIBILITIES = ("visible", "hidden", "after_published")


@dataclass
class Submission:
    """One student's hand-in, after intake: the code to run and who it belongs to."""

    student: str  # a filesystem-safe slug, unique within a batch; the output folder name
    student_id: str | None  # numeric id from a Canvas download name, when there is one
    display_name: str  # what people read (e.g. "lastname" or the file stem)
    source_path: Path  # what was handed in (.py, .ipynb, .zip or a folder)
    code: str | None  # the Python source to grade; None when intake failed
    code_hash: str  # sha256 of the source (or of the raw bytes when extraction failed)
    intake_error: str | None = None  # plain-words reason extraction failed
    notes: list[str] = field(default_factory=list)  # e.g. "2 IPython magics removed"


@dataclass
class CheckInfo:
    """What the catalogue knows about a check before running it."""

    check_id: str
    name: str
    hint: str
    module: str


@dataclass
class CheckResult:
    """The verdict of one check, computed in the trusted process."""

    check_id: str
    passed: bool
    fraction: float  # credit earned, 0..1 (partial credit for measured checks)
    message: str  # what happened, student-facing
    hint: str = ""  # what to try next when credit was lost
    flags: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # measured figures, for reports
    duration: float = 0.0
    causes: list[str] = field(default_factory=list)  # CAUSE_* codes for credit not earned


@dataclass
class ItemScore:
    """One rubric item after scoring: a check result weighed by the rubric."""

    check_id: str
    name: str
    category: str
    score: float
    max_score: float
    visibility: str
    status: str  # "passed" | "partial" | "failed"
    output: str
    hint: str = ""
    flags: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0  # seconds the check took (for benchmarks and the curious)
    causes: list[str] = field(default_factory=list)  # CAUSE_* codes, when points were lost


@dataclass
class CategoryScore:
    name: str
    score: float
    max_score: float


@dataclass
class GradeResult:
    """Everything known about one graded submission; the reports' only input."""

    submission: Submission
    items: list[ItemScore]
    categories: list[CategoryScore]
    score: float
    max_score: float
    execution_time: float
    assignment: str = "Acceleration"
    stdout: str = ""  # captured from the student's worker, truncated
    stderr: str = ""
    flags: list[str] = field(default_factory=list)  # submission-level flags
    messages: list[str] = field(default_factory=list)  # submission-level notes
    functions_missing: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    grader_error: str | None = None  # a harness fault on this submission
    suggested_assignment: str | None = None  # a shipped assignment the file's functions fit clearly better
