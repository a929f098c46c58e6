"""From command-line paths to a batch of Submissions."""
from __future__ import annotations

import os
from pathlib import Path

from grader.intake.errors import IntakeError
from grader.intake.extract import (
    SOLUTION_NAMES,
    SOURCE_SUFFIXES,
    Extracted,
    code_sha256,
    extract,
    is_junk,
    sha256_hex,
)
from grader.intake.naming import assign_unique_slugs, name_from_stem, parse_canvas_name
from grader.models import Submission

SUBMISSION_SUFFIXES = SOURCE_SUFFIXES + (".zip",)
# Staff files that sit next to submissions in a class folder.
IGNORED_SUFFIXES = {".md", ".txt", ".csv", ".rst"}
# Files a student keeps next to acceleration.py that are not another hand-in.
_HELPER_FILES = {"conftest.py", "setup.py", "__init__.py"}


def _stem(path: Path) -> str:
    if path.is_dir():
        # "." or ".." (self-check in the current folder) has no useful name.
        return path.name if path.name not in ("", ".", "..") else path.resolve().name
    return path.stem


def load_submission(path: Path) -> Submission:
    """One submission, whatever it holds; bad content gives ``code=None`` and an ``intake_error``."""
    path = Path(path)
    try:
        name = name_from_stem(_stem(path))
    except OSError:
        name = name_from_stem(path.name or "submission")
    try:
        ex = extract(path)
    except Exception as exc:  # noqa: BLE001 - a report beats a crashed batch
        ex = Extracted(code=None, error=f"{path.name} could not be read ({exc})", raw_hash=sha256_hex(b""))
    code_hash = code_sha256(ex.code) if ex.code is not None else ex.raw_hash
    return Submission(
        student=name.slug,
        student_id=name.student_id,
        display_name=name.display_name,
        source_path=path,
        code=ex.code,
        code_hash=code_hash,
        intake_error=ex.error,
        notes=list(ex.notes),
    )


def _is_helper(name: str) -> bool:
    lower = name.lower()
    return lower in _HELPER_FILES or lower.startswith("test_") or lower.endswith("_test.py")


def _looks_like_another_submission(entry: Path) -> bool:
    """Would this entry, next to acceleration.py, make the folder a class folder?"""
    if entry.is_dir():
        # A folder that holds its own acceleration.py or a Canvas-named file is
        # another student's; a package folder (e.g. a local tinytorch/) is not.
        try:
            children = [c for c in entry.iterdir() if not is_junk(c.name)]
        except OSError:
            return False
        return any(
            c.is_file() and (
                c.name.lower() in SOLUTION_NAMES
                or (c.suffix.lower() in SUBMISSION_SUFFIXES and parse_canvas_name(c.stem))
            )
            for c in children
        )
    suffix = entry.suffix.lower()
    if suffix == ".zip":
        return True
    return suffix in SOURCE_SUFFIXES and not _is_helper(entry.name)


def _class_entry(entry: Path) -> bool:
    if entry.is_dir():
        return True
    if not entry.is_file():
        return False
    suffix = entry.suffix.lower()
    if suffix in SUBMISSION_SUFFIXES:
        return True
    # A Canvas-named upload in the wrong format (.pdf, .docx, .tar.gz) is still
    # a student's hand-in: grade it (as an intake error) rather than drop it.
    return suffix not in IGNORED_SUFFIXES and parse_canvas_name(entry.stem) is not None


def _holds_several_students(folder: Path) -> bool:
    """Canvas-named files of two or more student ids directly inside: a class folder.

    Lets ``grade course/`` work when the submissions sit one level down (e.g.
    ``course/submissions/``) instead of grading that folder as one student.
    """
    try:
        ids = {
            parsed[1]
            for c in folder.iterdir()
            if not is_junk(c.name) and c.is_file() and (parsed := parse_canvas_name(c.stem))
        }
    except OSError:
        return False
    return len(ids) >= 2


def _expand_folder(folder: Path, depth: int = 0) -> list[Path]:
    try:
        entries = sorted((e for e in folder.iterdir() if not is_junk(e.name)), key=lambda e: e.name)
    except OSError as exc:
        raise IntakeError(f"cannot read folder {folder}: {exc.strerror}") from None
    solutions = [e for e in entries if e.is_file() and e.name.lower() in SOLUTION_NAMES]
    if solutions and not any(_looks_like_another_submission(e) for e in entries if e not in solutions):
        return [folder]  # one student's folder
    found: list[Path] = []
    for entry in entries:
        if not _class_entry(entry):
            continue
        if depth < 2 and entry.is_dir() and _holds_several_students(entry):
            found.extend(_expand_folder(entry, depth + 1))
        else:
            found.append(entry)
    if not found:
        raise IntakeError(
            f"nothing to grade in {folder}: no .py, .ipynb or .zip files and no student folders"
        )
    return found


def discover(paths: list[Path]) -> list[Submission]:
    """All submissions named by command-line paths, in sorted order, with unique slugs.

    Raises IntakeError for a path that does not exist or a folder with nothing
    gradable in it; anything wrong with a submission's content goes into that
    submission's ``intake_error`` instead.
    """
    if not paths:
        raise IntakeError("no submissions given")
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise IntakeError(f"no such file or folder: {path}")
        found.extend(_expand_folder(path) if path.is_dir() else [path])

    # The same file named twice (`grade subs/ subs/a.py`) is graded once.
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.realpath(path), path)
    ordered = sorted(unique.values(), key=lambda p: (str(p), p.name))
    subs = [load_submission(p) for p in ordered]
    assign_unique_slugs(subs)
    return subs
