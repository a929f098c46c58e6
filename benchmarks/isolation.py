#!/usr/bin/env python
"""What the sandbox boundary costs: per-submission grading time, this tree against a previous release.

One command, one run, side by side:

    python benchmarks/isolation.py [--before e077136] [--pairs 3] [--calibration FILE]

Checks out ``--before`` (default: e077136, the release before bubblewrap, uid-per-worker,
freezing and checked timed answers) into a temporary git worktree, makes one quick calibration
(or takes --calibration) that both versions grade against, then grades each subject with the
previous release and with this tree in turn (before, after, before, after, ...), each in a fresh
``python -m grader.cli`` process with the same seed. Per pair it takes the submission's own
grading time (``execution_time`` in results.json: workers, checks, measurements, scoring;
not interpreter start-up) and prints the after/before ratio per pair, their median, and
whether the two versions gave the same score. Subjects: a strong solution graded with every
category, and the blank starter file (every function a stub).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = {
    "strong (lovelace, all categories)": ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py",
    "blank template": ROOT / "student_template" / "acceleration.py",
}


def grade(tree: Path, submission: Path, work: Path, profile: Path, seed: int) -> dict:
    out = Path(tempfile.mkdtemp(dir=work))
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(submission), "--out", str(out), "--single",
                           "--calibration", str(profile), "--seed", str(seed), "--quiet"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grading with {tree} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = json.loads(next(out.glob("*/results.json")).read_text())
    held = results["extra_data"].get("machine", {}).get("sandbox", {})
    return {"seconds": float(results["execution_time"]), "score": results["score"],
            "level": held.get("level", "(not recorded)")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="e077136", help="the release to compare against (a git ref)")
    parser.add_argument("--pairs", type=int, default=3, help="before/after pairs per subject")
    parser.add_argument("--calibration", type=Path, help="a profile both versions grade against")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="accelgrade-bench-iso-"))
    before = work / "before"
    try:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.before],
                       check=True, capture_output=True)
        profile = args.calibration
        if profile is None:
            profile = work / "profile.yaml"
            subprocess.run([sys.executable, "-m", "grader.cli", "calibrate", "--quick", "--out", str(profile)],
                           cwd=ROOT, env=dict(os.environ, ACCELGRADE_CACHE=str(work / "cache")), check=True,
                           capture_output=True)
        print(f"before: {args.before} ({before}); after: this tree ({ROOT}); profile {profile}")
        for name, submission in SUBJECTS.items():
            ratios, rows = [], []
            for i in range(args.pairs):
                b = grade(before, submission, work, profile, args.seed)
                a = grade(ROOT, submission, work, profile, args.seed)
                ratios.append(a["seconds"] / b["seconds"])
                rows.append((b, a))
                print(f"  {name} pair {i + 1}: before {b['seconds']:.2f} s (score {b['score']:g}), "
                      f"after {a['seconds']:.2f} s (score {a['score']:g}, sandbox {a['level']}), "
                      f"ratio {ratios[-1]:.3f}")
            same = all(b["score"] == a["score"] for b, a in rows)
            print(f"{name}: median after/before {statistics.median(ratios):.3f} "
                  f"(min {min(ratios):.3f}, max {max(ratios):.3f}); "
                  f"median seconds before {statistics.median(b['seconds'] for b, _ in rows):.2f}, "
                  f"after {statistics.median(a['seconds'] for _, a in rows):.2f}; scores agree: {same}")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
