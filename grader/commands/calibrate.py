"""``grade calibrate``: measure this machine, print a table, write and cache the profile."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.commands.exits import EXIT_OK, Parser
from grader.grading import reference_source
from grader.measure import profile as profiles
from grader.measure.calibrate import calibrate
from grader.measure.lock import machine_lock


def table(prof: profiles.Profile) -> str:
    rows = [("machine", f"{prof.fingerprint['cpu_model']} ({prof.fingerprint['cores']} cores), "
                        f"{prof.fingerprint['blas']} {prof.fingerprint['blas_version']}, "
                        f"numpy {prof.fingerprint['numpy']}"),
            ("peak GFLOP/s", f"{prof.peak_gflops_single_thread:.1f} (1 thread), "
                             f"{prof.peak_gflops_all_threads:.1f} (all threads); grading uses {prof.peak_gflops:.1f}"),
            ("bandwidth GB/s", ", ".join(f"{k} {v:.1f}" for k, v in prof.stream_gbs.items())
             + f"; roofline slope {prof.bandwidth_gbs:.1f}")]
    for cid, e in prof.speed.items():
        rows.append((cid, f"reference {e['reference_speedup']:.3g}x, A/A noise CV {e['aa_cv'] * 100:.1f}%, "
                          f"threshold {e['threshold']:.3g}x" + ("  (weak: see profile)" if "warning" in e else "")))
    for cid, e in prof.memory.items():
        rows.append((cid, f"baseline {e['baseline_peak'] / 2**20:.0f} MB, reference {e['reference_peak'] / 2**20:.0f} MB, "
                          f"threshold {e['threshold']:.2f}x reduction"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade calibrate", description="Measure this machine: peak GFLOP/s, bandwidth, the "
                "reference's speed ratios and noise, and the thresholds derived from them.")
    p.add_argument("--out", type=Path, default=None, help="write the profile here too (YAML)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads grading will use (default 1)")
    p.add_argument("--quick", action="store_true", help="fewer repeats: faster, noisier")
    return p


def run(args: argparse.Namespace) -> int:
    with machine_lock(exclusive=True):  # no grading on this machine may run while it measures
        prof = calibrate(reference_source(), threads=args.threads, quick=args.quick,
                         progress=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    cached = profiles.cached_path(prof.fingerprint["id"])
    profiles.save(prof, cached)
    if args.out is not None:
        profiles.save(prof, args.out)
    print(table(prof))
    print(f"calibration {prof.id} took {prof.seconds:.0f} s; cached at {cached}"
          + (f" and written to {args.out}" if args.out else ""))
    return EXIT_OK
