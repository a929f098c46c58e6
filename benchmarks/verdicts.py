#!/usr/bin/env python
"""Are verdicts the same every time? Repeated gradings on this machine, counted.

    python benchmarks/verdicts.py [--calibration FILE] [--reference-runs 20] [--gelu-runs 10] [--repeat 3]

Against one calibration (a quick one made here unless given) and one seed:

- the reference, copied ``--reference-runs`` times into one class and graded with every category:
  how many copies score 100%;
- unfused code under the name ``fused_gelu``, a GELU with a float64 constant, and a strong in-place
  GELU (``out=``), ``--gelu-runs`` copies each, graded on ``speed.fused_gelu``: how many lose fused
  speed credit (the first two should in every run, the last in none);
- a strong solution, the float64 constant and the unfused one, each graded ``--repeat`` times by
  separate ``grade`` processes with the same seed: whether the totals agree.

Each class is one ``grade`` process, so copies are graded one after another by the same grader, as a
class is. Prints a table and the wall time of every grading process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.measured.build import materialise  # noqa: E402

SEED = 31


def grade(paths: list[Path], out: Path, env: dict, profile: Path, *extra: str) -> tuple[dict[str, dict], float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", *map(str, paths), "--out", str(out),
                           "--calibration", str(profile), "--seed", str(SEED), "--quiet", "--no-similarity", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"grade failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = {d.name: json.loads((d / "results.json").read_text()) for d in out.iterdir()
               if (d / "results.json").exists()}
    return results, time.perf_counter() - started


def copies(source: Path, folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        shutil.copyfile(source, folder / f"copy{i:02d}.py")
    return folder


def item(results: dict, check_id: str) -> dict:
    return next(t for t in results["tests"] if t["extra_data"]["check_id"] == check_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--reference-runs", type=int, default=20)
    parser.add_argument("--gelu-runs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="accelgrade-verdicts-"))
    env = dict(os.environ, ACCELGRADE_CACHE=str(work / "cache"))
    try:
        profile = args.calibration
        if profile is None:
            profile = work / "profile.yaml"
            subprocess.run([sys.executable, "-m", "grader.cli", "calibrate", "--quick", "--out", str(profile)],
                           cwd=ROOT, env=env, check=True, capture_output=True)
        subjects = work / "subjects"
        strong = ROOT / "examples" / "submissions" / "lovelace_10001_20001_acceleration.py"
        f64 = materialise("fused_f64const", subjects)
        unfused = materialise("unfused_renamed", subjects)
        inplace = materialise("inplace_out", subjects)
        print(f"calibration {profile}; seed {SEED}")
        print("| what | runs | outcome | wall s per grading |")
        print("| --- | --- | --- | --- |")

        ref, secs = grade([copies(ROOT / "reference" / "acceleration.py", work / "ref", args.reference_runs)],
                          work / "ref-out", env, profile)
        full = sum(r["score"] == max(sum(t["max_score"] for t in r["tests"]), 1e-9) for r in ref.values())
        print(f"| reference, every category | {len(ref)} | {full} of {len(ref)} at 100% | "
              f"{secs / len(ref):.2f} |", flush=True)

        rubric = work / "fused.yaml"
        shipped = yaml.safe_load((ROOT / "rubrics" / "acceleration.yaml").read_text())
        fused_item = next(dict(i) for i in shipped["items"] if i["check"] == "speed.fused_gelu")
        rubric.write_text(yaml.safe_dump({"assignment": "Acceleration", "total": fused_item["points"],
                                          "categories": {fused_item["category"]: fused_item["points"]},
                                          "items": [fused_item]}))
        for name, source, expect_loss in (("unfused as fused", unfused, True), ("float64 constant", f64, True),
                                          ("strong in-place (out=)", inplace, False)):
            got, secs = grade([copies(source, work / name.split()[0], args.gelu_runs)], work / f"{name.split()[0]}-out",
                              env, profile, "--rubric", str(rubric))
            lost = sum(item(r, "speed.fused_gelu")["score"] < item(r, "speed.fused_gelu")["max_score"]
                       for r in got.values())
            kept = len(got) - lost
            print(f"| {name}: speed.fused_gelu | {len(got)} | lost credit in {lost} of {len(got)} "
                  f"({'expected: all' if expect_loss else 'expected: none'}; kept in {kept}) | "
                  f"{secs / len(got):.2f} |", flush=True)

        for name, source in (("strong", strong), ("float64 constant", f64), ("unfused as fused", unfused)):
            totals, walls = [], []
            for k in range(args.repeat):
                out = work / f"rep-{name.split()[0]}-{k}"
                got, secs = grade([source], out, env, profile, "--single")
                totals.append(next(iter(got.values()))["score"])
                walls.append(secs)
            same = len(set(totals)) == 1
            print(f"| {name}, same seed, separate processes | {args.repeat} | totals {totals}: "
                  f"{'the same' if same else 'DIFFER'} | {sum(walls) / len(walls):.2f} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
