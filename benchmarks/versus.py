#!/usr/bin/env python
"""This tree against a previous release, side by side in one run: grading time, calibration time,
and whether the verdicts agree.

    python benchmarks/versus.py [--before e077136] [--pairs 3] [--calibration FILE] [--no-calibrate]

Checks out ``--before`` (default e077136: the release before bubblewrap, a uid per worker,
freezing, checked timed answers and sequential rounds) into a temporary git worktree. Both
versions grade against one quick calibration (or ``--calibration``) and one seed. Each subject is
graded by the previous release and by this tree in turn (before, after, before, after, ...), each
in a fresh ``python -m grader.cli`` process, so a quiet or busy spell of the shared VM falls on
both. Per pair it takes the process's wall time and the submission's own ``execution_time``
(results.json), and prints the after/before ratios and whether the two versions gave the same
score and the same status on every check. Then ``grade calibrate`` (full) likewise, in pairs.

Subjects: a strong solution (every category), a GELU with a float64 constant, the unfused GELU
under the fused name, the blank starter file (every function a stub), and a file that does not
parse.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.measured.build import materialise  # noqa: E402  (the measured fixtures the tests grade)


def subjects(work: Path) -> dict[str, Path]:
    broken = work / "subjects" / "broken.py"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("import numpy as np\n\ndef fused_gelu(x:\n    return x\n", encoding="utf-8")
    return {
        "strong": ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py",
        "float64 constant": materialise("fused_f64const", work / "subjects"),
        "unfused as fused": materialise("unfused_renamed", work / "subjects"),
        "stub (blank template)": ROOT / "student_template" / "acceleration.py",
        "broken (syntax error)": broken,
    }


def grade(tree: Path, submission: Path, work: Path, profile: Path, seed: int) -> dict:
    out = Path(tempfile.mkdtemp(dir=work))
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache"))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(submission), "--out", str(out), "--single",
                           "--calibration", str(profile), "--seed", str(seed), "--quiet"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=900, check=False)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grading with {tree} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = json.loads(next(out.glob("*/results.json")).read_text())
    shutil.rmtree(out, ignore_errors=True)
    statuses = {t["extra_data"]["check_id"]: t["extra_data"].get("status") for t in results["tests"]}
    return {"wall": wall, "seconds": float(results["execution_time"]), "score": results["score"],
            "statuses": statuses}


def calibrate(tree: Path, work: Path) -> float:
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache-calibrate"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader.cli", "calibrate", "--out", str(work / "full.yaml")],
                   cwd=tree, env=env, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - started


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="e077136", help="the release to compare against (a git ref)")
    parser.add_argument("--pairs", type=int, default=3, help="before/after pairs per subject")
    parser.add_argument("--calibration", type=Path, help="a profile both versions grade against")
    parser.add_argument("--no-calibrate", action="store_true", help="skip the calibration pairs")
    parser.add_argument("--only", help="grade only the subjects whose name contains this")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="accelgrade-versus-"))
    before = work / "before"
    agreed = True
    try:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.before],
                       check=True, capture_output=True)
        profile = args.calibration
        if profile is None:
            profile = work / "profile.yaml"
            subprocess.run([sys.executable, "-m", "grader.cli", "calibrate", "--quick", "--out", str(profile)],
                           cwd=ROOT, env=dict(os.environ, ACCELGRADE_CACHE=str(work / "cache")), check=True,
                           capture_output=True)
        print(f"before: {args.before}; after: this tree ({ROOT}); profile {profile}; seed {args.seed}")
        print("| subject | before wall s | after wall s | after/before wall | after/before execution_time "
              "| scores (before, after) | verdicts agree |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, submission in subjects(work).items():
            if args.only and args.only not in name:
                continue
            pairs = []
            for _ in range(args.pairs):
                b = grade(before, submission, work, profile, args.seed)
                a = grade(ROOT, submission, work, profile, args.seed)
                pairs.append((b, a))
            same = all(b["score"] == a["score"] and b["statuses"] == a["statuses"] for b, a in pairs)
            agreed &= same
            differing = sorted({c for b, a in pairs for c in set(b["statuses"]) | set(a["statuses"])
                                if b["statuses"].get(c) != a["statuses"].get(c)})
            print(f"| {name} | {statistics.median(b['wall'] for b, _ in pairs):.2f} "
                  f"| {statistics.median(a['wall'] for _, a in pairs):.2f} "
                  f"| {spread([a['wall'] / b['wall'] for b, a in pairs])} "
                  f"| {spread([a['seconds'] / max(b['seconds'], 1e-3) for b, a in pairs])} "
                  f"| {', '.join('(%g, %g)' % (b['score'], a['score']) for b, a in pairs)} "
                  f"| {'yes' if same else 'no: ' + ', '.join(differing)} |", flush=True)
        if not args.no_calibrate:
            times = [(calibrate(before, work), calibrate(ROOT, work)) for _ in range(args.pairs)]
            print(f"| grade calibrate (full) | {statistics.median(b for b, _ in times):.1f} "
                  f"| {statistics.median(a for _, a in times):.1f} | {spread([a / b for b, a in times])} | | | |")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("verdicts agree on every subject" if agreed else "verdicts differ: see the table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
