#!/usr/bin/env python
"""Benchmark of the grader's measured checks: cost per phase, spread of ratios, A/A false fails.

One command, one run:

    python benchmarks/run.py [--repeats N] [--calibration FILE | --quick-calibration] [--out DIR]

1. makes a machine profile (``grade calibrate``, full unless --quick-calibration) or uses
   --calibration FILE, and prints how long it took;
2. grades each of a fixed set of tests/fixtures/measured/ submissions once with the shipped rubric (all categories),
   and the reference copy N times (--repeats, default 10) with fresh seeds;
3. prints, side by side:
   - grading wall time per submission, split by phase (setup: workers, import, scoring and
     reports; correctness + integration checks; speed; memory; roofline), from the per-check
     durations and per-measurement times recorded in process (results.json carries no
     durations), with shared measurements charged to the phase that measures them;
   - every measured ratio of every submission, and for the reference the spread across the
     N runs (median, the sequential rule's interval, robust CV);
   - the A/A false-fail rate: how many of the N reference runs lost any measured point;
   - the wall time of one ``grade --self-check`` of the reference.

Everything is also written to DIR/benchmark.json (default: a temporary folder).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The fixed set: the measured-check fixtures the tests also grade, and the reference itself.
BENCHMARKED = ("fused_f32", "fused_f64const", "inplace_out", "naive_matmul", "unfused_renamed")
REFERENCE = ROOT / "reference" / "acceleration.py"
sys.path.insert(0, str(ROOT))

from grader.cli import main as grade  # noqa: E402
from grader.measure.stats import estimate  # noqa: E402

PHASES = ("setup", "correctness", "speed", "memory", "roofline")
MEASURED_PREFIXES = ("speed.", "memory.", "roofline.measured")


# ---------------------------------------------------------------------------
# In-process instrumentation (read-only wrappers; nothing in grader/ is changed)
# ---------------------------------------------------------------------------

class Recorder:
    """Per-check durations and the time of each shared measurement, for one grading run."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.checks: dict[str, float] = {}  # check id -> seconds (pytest setup to report)
        self.measurements: list[tuple[str | None, str, float]] = []  # (check running, key, seconds)
        self.installed = False

    def reset(self) -> None:
        self.current = None
        self.checks = {}
        self.measurements = []

    def install(self) -> None:
        try:
            from grader import grading
            from grader.checks import plugin
            from grader.measure import session
        except ImportError as exc:  # pragma: no cover - the grader moved: report totals only
            print(f"benchmark: no per-phase split ({exc})", file=sys.stderr)
            return
        rec = self
        orig_setup = plugin.GradingPlugin.pytest_runtest_setup
        orig_cached = session.Measurements._cached
        orig_run_checks = grading.run_checks

        def pytest_runtest_setup(self, item):  # noqa: ANN001 - pluggy reads the argument names
            info = plugin.check_marker(item)
            rec.current = info.check_id if info else None
            return orig_setup(self, item)

        def _cached(self, key, make):  # noqa: ANN001
            if key in self._cache:
                return orig_cached(self, key, make)
            t0 = time.perf_counter()
            try:
                return orig_cached(self, key, make)
            finally:
                rec.measurements.append((rec.current, key, time.perf_counter() - t0))

        def run_checks(context, timeout=120.0):  # noqa: ANN001
            results = orig_run_checks(context, timeout=timeout)
            rec.checks.update({cid: r.duration for cid, r in results.items()})
            return results

        plugin.GradingPlugin.pytest_runtest_setup = pytest_runtest_setup
        session.Measurements._cached = _cached
        grading.run_checks = run_checks
        self.installed = True

    def phases(self, total: float, category_of: dict[str, str]) -> dict[str, float]:
        """Seconds per phase; a measurement counts for what it measures, not for the check that asked first."""
        out = dict.fromkeys(PHASES, 0.0)
        nested: dict[str | None, float] = defaultdict(float)
        for check, key, secs in self.measurements:
            nested[check] += secs
            kind = key.split(":", 1)[0]
            out[{"speed": "speed", "memory": "memory"}.get(kind, "roofline")] += secs
        for cid, secs in self.checks.items():
            cat = category_of.get(cid, "correctness")
            phase = cat if cat in ("speed", "memory", "roofline") else "correctness"
            out[phase] += max(0.0, secs - nested.get(cid, 0.0))
        out["setup"] = max(0.0, total - sum(self.checks.values()))
        return out


RECORDER = Recorder()


# ---------------------------------------------------------------------------
# Running the grader
# ---------------------------------------------------------------------------

def run_cli(argv: list[str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = grade(argv)
    return code, time.perf_counter() - t0


def calibrate(args: argparse.Namespace, work: Path) -> tuple[Path, float | None]:
    if args.calibration:
        return Path(args.calibration), None
    path = work / "profile.yaml"
    argv = ["calibrate", "--out", str(path)] + (["--quick"] if args.quick_calibration else [])
    print(f"calibrating ({'quick' if args.quick_calibration else 'full'}) ...", file=sys.stderr, flush=True)
    code, secs = run_cli(argv)
    if code != 0:
        sys.exit(f"benchmark: grade calibrate exited {code}")
    return path, secs


def grade_one(path: Path, out: Path, profile: Path, seed: int, category_of: dict[str, str]) -> dict:
    RECORDER.reset()
    code, total = run_cli([str(path), "--out", str(out), "--calibration", str(profile), "--seed", str(seed),
                           "--quiet"])
    if code != 0:
        sys.exit(f"benchmark: grading {path.name} exited {code}")
    results = json.loads((out / path.stem / "results.json").read_text())
    items = {}
    for t in results["tests"]:
        e = t["extra_data"]
        si = (e.get("data") or {}).get("score_input") or {}
        items[e["check_id"]] = {"score": t["score"], "max": t["max_score"], "status": e["status"],
                                "flags": e["flags"], "value": si.get("value"), "threshold": si.get("threshold")}
    phases = RECORDER.phases(total, category_of) if RECORDER.installed else {}
    return {"submission": path.stem, "seed": seed, "total": total, "phases": phases, "score": results["score"],
            "flags": results["extra_data"]["flags"], "items": items}


def lost_measured(run: dict) -> list[str]:
    return [f"{cid} {i['score']:g}/{i['max']:g}" for cid, i in run["items"].items()
            if cid.startswith(MEASURED_PREFIXES) and i["score"] < i["max"]]


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------

def table(rows: list[list[str]], title: str) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title]
    for n, r in enumerate(rows):
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def spread(values: list[float]) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    e = estimate(vals)
    return f"{e.median:.3g} [{e.low:.3g}-{e.high:.3g}] cv {e.cv * 100:.0f}%"


def report(cal_seconds: float | None, profile: Path, once: list[dict], ref_runs: list[dict],
           selfcheck: float | None) -> str:
    import yaml

    prof = yaml.safe_load(profile.read_text())
    out = []
    cal = f"{cal_seconds:.1f} s" if cal_seconds is not None else "given (--calibration)"
    out.append(f"calibration: {cal}; quick={prof.get('quick')}; peak {prof['peak_gflops']:.1f} GFLOP/s, "
               f"bandwidth {prof['bandwidth_gbs']:.1f} GB/s; id {prof.get('id')}")

    # Phase table: each submission once; the reference as the median over its N runs.
    rows = [["submission", *PHASES, "total s", "score"]]
    for r in once:
        rows.append([r["submission"], *(fmt(r["phases"].get(p), 3) for p in PHASES), f"{r['total']:.1f}",
                     f"{r['score']:g}"])
    if ref_runs:
        med = {p: statistics.median(r["phases"].get(p, 0.0) for r in ref_runs) for p in PHASES}
        totals = [r["total"] for r in ref_runs]
        rows.append([f"reference x{len(ref_runs)} (median)", *(fmt(med[p], 3) for p in PHASES),
                     f"{statistics.median(totals):.1f} (max {max(totals):.1f})",
                     f"{statistics.median(r['score'] for r in ref_runs):g}"])
    out.append(table(rows, "\nGrading wall time per submission, by phase (seconds):"))
    if selfcheck is not None:
        out.append(f"grade --self-check (reference): {selfcheck:.1f} s")

    # Ratios side by side.
    ids = sorted({cid for r in once + ref_runs for cid in r["items"] if cid.startswith(("speed.", "memory."))})
    rows = [["measured ratio", *(r["submission"] for r in once), f"reference x{len(ref_runs)}: median [CI] cv",
             "threshold"]]
    for cid in ids:
        thr = next((r["items"][cid]["threshold"] for r in once + ref_runs
                    if cid in r["items"] and r["items"][cid]["threshold"] is not None), None)
        cells = []
        for r in once:
            i = r["items"].get(cid, {})
            mark = "" if i.get("score") == i.get("max") else "*"
            cells.append(("too slow" if i.get("value") is None and i.get("status") == "failed" else fmt(i.get("value")))
                         + mark)
        rows.append([cid, *cells, spread([r["items"].get(cid, {}).get("value") for r in ref_runs]), fmt(thr)])
    out.append(table(rows, "\nMeasured ratios (speedups; memory: reduction over unfused); * = lost points:"))

    # A/A false fails.
    lost = [(n, lost_measured(r)) for n, r in enumerate(ref_runs, 1)]
    failed = [(n, l) for n, l in lost if l]
    out.append(f"\nA/A false-fail rate: {len(failed)}/{len(ref_runs)} reference runs lost a measured point")
    for n, l in failed:
        out.append(f"  run {n}: " + "; ".join(l))
    scores = sorted({r["score"] for r in ref_runs})
    out.append(f"  reference scores seen: {', '.join(f'{s:g}' for s in scores)}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=10, help="reference runs for the A/A rate and spreads (10)")
    p.add_argument("--calibration", type=Path, default=None, help="use this profile instead of calibrating")
    p.add_argument("--quick-calibration", action="store_true", help="calibrate with --quick")
    p.add_argument("--out", type=Path, default=None, help="where to write grades and benchmark.json")
    p.add_argument("--seed", type=int, default=1000, help="seed of the single runs; reference runs use seed+i")
    p.add_argument("--no-self-check", action="store_true", help="skip timing grade --self-check")
    args = p.parse_args(argv)

    work = args.out or Path(tempfile.mkdtemp(prefix="accelgrade-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["ACCELGRADE_CACHE"] = str(work / "cache")  # never the user's cache
    RECORDER.install()

    from grader.checks import catalogue
    from grader.commands.options import DEFAULT_RUBRIC
    from grader.scoring import load_rubric

    rubric = load_rubric(DEFAULT_RUBRIC, known_checks=catalogue().keys())
    category_of = {i.check_id: i.category for i in rubric.items}

    started = time.perf_counter()
    profile, cal_seconds = calibrate(args, work)
    if cal_seconds is not None:
        print(f"calibration took {cal_seconds:.1f} s", file=sys.stderr, flush=True)

    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.measured.build import materialise  # base solution + each fixture's overrides

    subs = [materialise(name, work / "submissions") for name in BENCHMARKED]
    once = []
    for s in subs:
        r = grade_one(s, work / "grades" / "once", profile, args.seed, category_of)
        print(f"  {s.stem}: {r['score']:g} in {r['total']:.1f} s", file=sys.stderr, flush=True)
        once.append(r)
    ref_runs = []
    for n in range(args.repeats):
        r = grade_one(REFERENCE, work / "grades" / f"reference{n}", profile, args.seed + 1 + n, category_of)
        print(f"  reference run {n + 1}/{args.repeats}: {r['score']:g} in {r['total']:.1f} s"
              + (f" (lost: {'; '.join(lost_measured(r))})" if lost_measured(r) else ""), file=sys.stderr, flush=True)
        ref_runs.append(r)
    selfcheck = None
    if not args.no_self_check:
        sc_dir = work / "selfcheck"
        sc_dir.mkdir(exist_ok=True)
        shutil.copyfile(REFERENCE, sc_dir / "acceleration.py")
        code, selfcheck = run_cli(["--self-check", str(sc_dir / "acceleration.py"), "--calibration", str(profile),
                                   "--out", str(sc_dir), "--quiet"])
        if code not in (0, 1):
            selfcheck = None

    text = report(cal_seconds, profile, once, ref_runs, selfcheck)
    print(text)
    print(f"\nbenchmark wall time {time.perf_counter() - started:.0f} s; outputs in {work}")
    (work / "benchmark.json").write_text(json.dumps(
        {"calibration_seconds": cal_seconds, "profile": str(profile), "single_runs": once,
         "reference_runs": ref_runs, "selfcheck_seconds": selfcheck}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
