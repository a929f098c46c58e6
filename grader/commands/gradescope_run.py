"""Gradescope's side of ``grade export gradescope``: grade one submission, write results.json.

This file is copied to the root of the autograder zip and run by
``run_autograder`` for every submission. It uses only the standard library so
that it can still write a results.json when accelgrade itself failed to
install or import: Gradescope shows a submission without one as a broken
autograder, and the student sees nothing useful.

Environment (all optional; tests use the first three):

- ``ACCELGRADE_AUTOGRADER_ROOT``: the Gradescope tree (default ``/autograder``),
  holding ``submission/``, ``source/`` and ``results/``.
- ``ACCELGRADE_PYTHON``: the interpreter that has accelgrade (default: this one).
- ``ACCELGRADE_GRADE_ARGS``: extra ``grade`` options, e.g.
  ``--categories correctness,integration`` (default: what the export baked in).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Filled in by `grade export gradescope` (see grader/commands/export.py).
DEFAULT_GRADE_ARGS = ""
THREADS = "1"
ASSIGNMENT = "acceleration"
LEADERBOARD_CHECK = "speed.fused_gelu"
LEADERBOARD_NAME = "Fused GELU speedup"


def leaderboard(results: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Gradescope leaderboard entries from a results dict; None when the speed check did not run.

    The figure is the assignment's leaderboard check (the fused-GELU speedup: the student's median
    per-round speedup over the unfused baseline, measured in the grading run); a check that ran
    but could not time the function (it crashed, say) enters the board at 0.
    """
    for test in results.get("tests") or []:
        extra = test.get("extra_data") or {}
        if extra.get("check_id") != LEADERBOARD_CHECK:
            continue
        speed = ((extra.get("data") or {}).get("speed") or {}).get("student_speedup") or {}
        median = speed.get("median")
        value = round(float(median), 3) if isinstance(median, (int, float)) else 0.0
        return [{"name": LEADERBOARD_NAME, "value": value, "order": "desc"}]
    return None


def rubric_total(rubric: Path) -> float:
    """The rubric's total points, for a results.json written when grading failed."""
    try:
        m = re.search(r"^total:\s*([0-9.]+)", rubric.read_text(encoding="utf-8"), re.M)
        return float(m.group(1)) if m else 0.0
    except (OSError, ValueError):
        return 0.0


def failure(message: str, max_score: float, started: float) -> dict[str, Any]:
    """A valid results.json for a submission the harness could not grade: zero, and why."""
    return {
        "score": 0.0,
        "execution_time": int(time.monotonic() - started),
        "output": message,
        "output_format": "text",
        "tests": [{"name": "Submission could not be graded", "score": 0.0, "max_score": max_score,
                   "status": "failed", "output": message, "visibility": "visible"}],
        "leaderboard": [],
        "extra_data": {"grader_error": message},
    }


def grade(root: Path, started: float) -> dict[str, Any]:
    source, submission = root / "source", root / "submission"
    rubric = source / "rubric.yaml"
    total = rubric_total(rubric)
    if not submission.is_dir() or not any(submission.iterdir()):
        return failure("No files were submitted. Upload acceleration.py (or a notebook or zip holding it).",
                       total, started)
    python = os.environ.get("ACCELGRADE_PYTHON") or sys.executable
    extra = shlex.split(os.environ.get("ACCELGRADE_GRADE_ARGS", DEFAULT_GRADE_ARGS))
    out = Path(tempfile.mkdtemp(prefix="accelgrade-gs-"))
    try:
        cmd = [python, "-m", "grader.cli", str(submission), "--single", "--out", str(out), "--rubric", str(rubric),
               "--assignment", ASSIGNMENT, "--threads", THREADS, "--quiet", *extra]
        print("running:", " ".join(shlex.quote(c) for c in cmd), flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        # Gradescope shows this script's output to instructors only.
        sys.stdout.write(proc.stdout)
        sys.stdout.write(proc.stderr)
        found = sorted(out.glob("*/results.json"))
        if proc.returncode not in (0, 1) or len(found) != 1:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return failure(f"The autograder failed (grade exited {proc.returncode}: {tail}). "
                           "Course staff have been told; resubmitting will not change this.", total, started)
        results = json.loads(found[0].read_text(encoding="utf-8"))
        board = leaderboard(results)
        if board is not None:
            results["leaderboard"] = board
        return results
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    started = time.monotonic()
    root = Path(os.environ.get("ACCELGRADE_AUTOGRADER_ROOT") or "/autograder")
    target = root / "results" / "results.json"
    try:
        results = grade(root, started)
    except Exception as exc:  # whatever broke, Gradescope still gets a results.json
        results = failure(f"The autograder failed ({type(exc).__name__}: {exc}).",
                          rubric_total(root / "source" / "rubric.yaml"), started)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".results.json.tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    print(f"wrote {target}: {results.get('score')} points", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
