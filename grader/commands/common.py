"""Setting up a grading run from parsed arguments: rubric, machine profile, options."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from grader import assignments
from grader.assignments import Assignment, AssignmentError
from grader.checks import catalogue
from grader.checks.plugin import MEASURED_PREFIXES
from grader.commands.exits import UsageError
from grader.grading import GradeOptions, reference_source
from grader.measure import profile as profiles
from grader.measure.load import SETTLE_MAX
from grader.measure.lock import machine_lock
from grader.measure.fingerprint import fingerprint
from grader.models import GradeResult
from grader.sandbox import SandboxConfig
from grader.sandbox.launcher import isolation_plan
from grader.scoring import Rubric, load_rubric


def similarity_from(args: argparse.Namespace, results: list[GradeResult], out: Path) -> Any:
    """The class compared pairwise (grader/similarity), unless --no-similarity; None when off."""
    if getattr(args, "no_similarity", False):
        return None
    from grader.similarity import DEFAULT_THRESHOLD, similarity_for_class

    threshold = getattr(args, "similarity_threshold", None)
    return similarity_for_class(results, out, DEFAULT_THRESHOLD if threshold is None else threshold)


def assignment_from(args: argparse.Namespace) -> Assignment:
    try:
        return assignments.get(getattr(args, "assignment", None))
    except AssignmentError as exc:
        raise UsageError(f"--assignment: {exc}") from None


def rubric_from(args: argparse.Namespace) -> Rubric:
    """--rubric FILE, else the chosen assignment's own rubric."""
    path = getattr(args, "rubric", None) or assignment_from(args).rubric
    return load_rubric(path, known_checks=catalogue().keys())


def tinytorch_from(args: argparse.Namespace) -> str | None:
    """--tinytorch DIR as the package folder itself (DIR, or DIR/tinytorch), checked now."""
    given = getattr(args, "tinytorch", None)
    if given is None:
        return None
    for candidate in (given, given / "tinytorch"):
        if (candidate / "__init__.py").is_file():
            return str(candidate.resolve())
    raise UsageError(f"--tinytorch: {given} holds no tinytorch package (no __init__.py in it or in "
                     f"{given / 'tinytorch'})")


def profile_from(args: argparse.Namespace, machine: dict) -> profiles.Profile:
    """--calibration FILE, else the cached profile for this fingerprint, else a quick one (cached, announced)."""
    if args.calibration is not None:
        prof = profiles.load(args.calibration)
        profiles.check_fingerprint(prof, machine, args.calibration, args.force_calibration)
        return prof
    path = profiles.cached_path(machine["id"])
    if path.exists():
        try:
            return profiles.load(path)
        except profiles.ProfileError as exc:
            print(f"grade: ignoring a broken cached calibration ({exc})", file=sys.stderr)
    from grader.measure.calibrate import calibrate

    print(f"grade: no calibration for this machine yet; making a quick one (about 15 s), cached at {path}. "
          "Run 'grade calibrate' for a full one.", file=sys.stderr)
    with machine_lock(exclusive=True):
        prof = calibrate(reference_source(), threads=args.threads, quick=True)
    profiles.save(prof, path)
    return prof


def selection(args: argparse.Namespace, rubric: Rubric, visible_only: bool = False) -> set[str] | None:
    """The checks to run: --categories and (for students) visibility narrow the rubric."""
    chosen = {i.check_id for i in rubric.items}
    if getattr(args, "categories", None):
        wanted = {c.strip() for c in args.categories.split(",") if c.strip()}
        unknown = wanted - set(rubric.categories)
        if unknown:
            raise UsageError(f"--categories: no category {', '.join(sorted(unknown))} in {rubric.path} "
                             f"(it has {', '.join(rubric.categories)})")
        chosen = {i.check_id for i in rubric.items if i.category in wanted}
    if visible_only:
        chosen &= rubric.visible_checks()
    return None if chosen == {i.check_id for i in rubric.items} else chosen


ALLOW_UNSANDBOXED_ENV = "ACCELGRADE_ALLOW_UNSANDBOXED"  # "1": as --allow-unsandboxed (CI jobs, tests)


def require_sandbox(args: argparse.Namespace) -> str | None:
    """Refuse to run submissions as root with no boundary at all, unless asked in so many words;
    otherwise the warning to print when there is none (None when there is one).

    Without bubblewrap, and where the interpreter cannot run under a uid of its own (one installed
    in a private home such as /root/.pyenv), a worker would run with the grader's rights: as root
    it could kill every process on the machine and rewrite any file, classmates' and outputs
    included. As another user the harm stops at that user's own processes and files, so that
    grades with the warning."""
    plan = isolation_plan()
    if plan.level != "none":
        return None
    allowed = getattr(args, "allow_unsandboxed", False) or os.environ.get(ALLOW_UNSANDBOXED_ENV) == "1"
    if _as_root() and not allowed:
        raise UsageError(f"no sandbox on this machine ({plan.why}): submissions would run as root, free to "
                         "kill any process and rewrite any file. Install bubblewrap (Debian/Ubuntu: "
                         "apt-get install bubblewrap), or pass --allow-unsandboxed to grade files you trust")
    return (f"no sandbox on this machine ({plan.why}): submissions run with "
            f"{'root' if _as_root() else 'your'} rights; grade only files you trust")


def _as_root() -> bool:
    return os.getuid() == 0


def options_from(args: argparse.Namespace, rubric: Rubric, select: set[str] | None = None,
                 listed: set[str] | None = None, hide: tuple[str, ...] = ()) -> GradeOptions:
    machine = fingerprint(threads=args.threads)
    checks = select if select is not None else {i.check_id for i in rubric.items}
    prof = None
    if any(c.startswith(MEASURED_PREFIXES) for c in checks):  # calibration only when something is measured
        prof = profile_from(args, machine)
        machine = dict(machine, calibration=prof.summary())
    sandbox = SandboxConfig(threads=args.threads, hide=hide, call_timeout=getattr(args, "call_timeout", 60.0),
                            tinytorch=tinytorch_from(args))
    return GradeOptions(seed=args.seed, sandbox=sandbox, select=select, machine=machine, profile=prof,
                        listed=listed, assignment=assignment_from(args),
                        quiet_wait=max(0.0, getattr(args, "quiet_wait", SETTLE_MAX)))


def announce_better_fit(results: list[GradeResult], chosen: Assignment) -> None:
    """Say on stderr (even with --quiet: it is a warning) which files fit another assignment better."""
    for r in results:
        if r.suggested_assignment:
            print(f"grade: {r.submission.student}: its functions fit assignment {r.suggested_assignment} "
                  f"better than {chosen.name}; to grade it as that, add --assignment {r.suggested_assignment}",
                  file=sys.stderr)


def rubric_items(rubric: Rubric) -> list[tuple[str, str, str]]:
    """(check id, name, category) of every rubric item, named as the reports name them."""
    known = catalogue()
    return [(i.check_id, i.name or (known[i.check_id].name if i.check_id in known else i.check_id), i.category)
            for i in rubric.items]
