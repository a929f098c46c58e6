"""``grade export gradescope [--out FILE]``: a Gradescope autograder zip.

The zip holds, at its root (Gradescope unpacks it into ``/autograder/source``):

- ``setup.sh``: run once when Gradescope builds the image; installs accelgrade
  from the copy of the project in ``accelgrade/`` (pip pulls its dependencies)
  and makes a quick calibration, so the first submission has a machine profile.
- ``run_autograder``: run for every submission; grades ``/autograder/submission``
  (the solution picked by the usual intake rules) and writes
  ``/autograder/results/results.json``, always, even when grading fails.
- ``gradescope_run.py``: what run_autograder runs (standard library only).
- ``rubric.yaml``: the rubric graded against (a copy of ``--rubric``).
- ``accelgrade/``: pyproject.toml, README.md, grader/, reference/, rubrics/,
  student_template/.

Visibility is the rubric's (its names are Gradescope's); the fused-GELU
speedup goes on the leaderboard.
"""
from __future__ import annotations

import argparse
import shlex
import stat
import zipfile
from pathlib import Path

from grader.commands.exits import EXIT_OK, Parser, UsageError
from grader.commands.options import PROJECT_ROOT, assignment_option, grade_parser
from grader import assignments
from grader.assignments import Assignment
from grader.commands.common import assignment_from, rubric_from, selection

DEFAULT_OUT = Path("accelgrade-gradescope.zip")
SOURCE_PARTS = ("pyproject.toml", "README.md", "grader", "reference", "rubrics", "student_template")
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".git"}
_SKIP_SUFFIXES = (".pyc", ".pyo")
# A fixed timestamp: the same project gives the same zip, byte for byte.
_EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
# It installs accelgrade (and numpy, pytest, ... through pip) from the copy of
# the project shipped in this zip, then calibrates this machine once so the
# first submission does not pay for it.
set -euo pipefail
ROOT="${{ACCELGRADE_AUTOGRADER_ROOT:-/autograder}}"
SRC="$ROOT/source"
export ACCELGRADE_CACHE="${{ACCELGRADE_CACHE:-$ROOT/accelgrade-cache}}"

if ! command -v pip3 >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi
# bubblewrap gives each worker its own namespaces (see the README's threat model). Where the
# kernel refuses them (Docker's default seccomp), grading goes on under a uid per worker.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get update && apt-get install -y bubblewrap || echo "setup.sh: bubblewrap not installed; workers get a uid of their own only"
fi
# Newer Ubuntu images mark the system Python "externally managed"; the image is ours alone.
pip3 install "$SRC/accelgrade" || pip3 install --break-system-packages "$SRC/accelgrade"

# A quick profile (about 15 s). If Gradescope later runs submissions on
# different hardware, grading notices the other fingerprint and measures again.
grade calibrate --quick --threads {threads} || echo "setup.sh: calibration failed; grading will calibrate"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission (from /autograder/run_autograder).
# gradescope_run.py grades /autograder/submission and writes
# /autograder/results/results.json; if even Python cannot start, the fallback
# below still leaves a results.json, so the student sees a message, not an error.
ROOT="${{ACCELGRADE_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{ACCELGRADE_PYTHON:-python3}}"
export ACCELGRADE_CACHE="${{ACCELGRADE_CACHE:-$ROOT/accelgrade-cache}}"
mkdir -p "$ROOT/results"
"$PYTHON" "$ROOT/source/gradescope_run.py"
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'JSON'
{{"score": 0.0, "output": "The autograder could not start; course staff have been told.", "tests": [], "leaderboard": [], "execution_time": 0}}
JSON
fi
exit 0
"""


def _source_files(root: Path) -> list[tuple[Path, str]]:
    """(file, path inside the zip) for the project copy under accelgrade/."""
    found: list[tuple[Path, str]] = []
    for part in SOURCE_PARTS:
        path = root / part
        if path.is_file():
            found.append((path, f"accelgrade/{part}"))
            continue
        if not path.is_dir():
            raise UsageError(f"cannot export: {path} is missing from the project")
        for file in sorted(path.rglob("*")):
            rel = file.relative_to(root)
            if (not file.is_file() or any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts)
                    or file.name.endswith(_SKIP_SUFFIXES)):
                continue
            found.append((file, f"accelgrade/{rel.as_posix()}"))
    return found


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, data)


def driver_source(grade_args: str, threads: int, assignment: Assignment | None = None) -> str:
    """gradescope_run.py with this export's defaults filled in (it runs on Gradescope with the
    standard library only, so the assignment travels as constants, not as an import)."""
    a = assignment or assignments.get(None)
    text = (Path(__file__).with_name("gradescope_run.py")).read_text(encoding="utf-8")
    for line, value in (('DEFAULT_GRADE_ARGS = ""', grade_args), ('THREADS = "1"', str(threads)),
                        ('ASSIGNMENT = "acceleration"', a.name),
                        ('LEADERBOARD_CHECK = "speed.fused_gelu"', a.leaderboard_check),
                        ('LEADERBOARD_NAME = "Fused GELU speedup"', a.leaderboard_name)):
        assert line in text, line  # the driver's defaults and this list must agree
        text = text.replace(line, f"{line.split(' = ')[0]} = {value!r}", 1)
    return text


def build_zip(out: Path, rubric_path: Path, grade_args: str = "", threads: int = 1,
              project: Path = PROJECT_ROOT, assignment: Assignment | None = None) -> list[str]:
    """Write the autograder zip; returns the names inside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.format(threads=threads).encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.format().encode(), executable=True)
        _add(zf, "gradescope_run.py", driver_source(grade_args, threads, assignment).encode())
        _add(zf, "rubric.yaml", rubric_path.read_bytes())
        for file, name in _source_files(project):
            _add(zf, name, file.read_bytes())
        names = zf.namelist()
    tmp.replace(out)
    return names


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade export", description="Package accelgrade for another system.")
    p.add_argument("target", choices=["gradescope"], help="gradescope: an autograder zip")
    p.add_argument("--out", type=Path, default=None,
                   help="the zip to write (default: accelgrade-gradescope.zip)")
    assignment_option(p)
    p.add_argument("--rubric", type=Path, default=None,
                   help="rubric to ship (default: the assignment's, rubrics/<assignment>.yaml)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads when grading there (default 1)")
    p.add_argument("--grade-args", default="",
                   help="extra 'grade' options run_autograder passes, e.g. \"--categories correctness,integration\"")
    return p


def run(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise UsageError("--threads must be at least 1")
    rubric = rubric_from(args)  # a broken rubric fails here (exit 2), not on Gradescope
    try:
        extra = shlex.split(args.grade_args)
    except ValueError as exc:
        raise UsageError(f"--grade-args: {exc}") from None
    # The options run_autograder will pass must parse, and name categories the rubric has.
    grade_args = grade_parser().parse_args(["submission", *extra])
    selection(grade_args, rubric)
    out: Path = args.out or DEFAULT_OUT
    assignment = assignment_from(args)
    names = build_zip(out, rubric.path, args.grade_args, args.threads, assignment=assignment)
    print(f"wrote {out} ({len(names)} files) for assignment {assignment.name}: upload it as the autograder "
          f"of a Gradescope programming assignment worth {rubric.total:g} points")
    return EXIT_OK
