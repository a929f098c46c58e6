"""``grade calibrate``: measure this machine and derive the thresholds grading uses.

- peak single-precision GFLOP/s from large matmul (1 BLAS thread and all of them);
- memory bandwidth from in-place STREAM-style kernels (copy, add, triad with
  ``out=``) on arrays at least 4x the last-level cache, best of N as STREAM does;
- for every speed check, the reference's speedup and an A/A run (the reference
  in a second, identical worker against itself) giving the noise;
- for every memory check, the reference's and the baseline's peaks;
- the thresholds derived from them, and how well the roofline model predicts here.
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from grader.measure.fingerprint import fingerprint, last_level_cache
from grader.measure.memory import measure_peak
from grader.measure.profile import Profile
from grader.measure.roofline import reference_model_accuracy
from grader.measure.specs import MEMORY_SPECS, SPEED_SPECS
from grader.measure.stats import estimate
from grader.measure.timing import Runner, compare
from grader.sandbox import Sandbox, SandboxConfig

Progress = Callable[[str], None]
CALIBRATION_ROUNDS = {True: 7, False: 11}  # quick or full: the most rounds, when ratios stay loose
FIRST_ROUNDS = 5  # the fewest: enough for the A/A noise figure


def best_of(kernel: Callable[[], object], repeats: int, at_least: int = 3, settled: float = 0.01) -> float:
    """Best time of up to ``repeats`` runs, STREAM-style, stopping early once ``at_least`` runs are in
    and the last two did not beat the best by more than ``settled``: a figure that stopped moving."""
    times: list[float] = []
    for _ in range(repeats):
        times.append(_timed(kernel))
        if len(times) >= at_least and min(times[-2:]) >= (1 - settled) * min(times[:-2]):
            break
    return min(times)


def peak_gflops(threads: int | None, n: int = 2048, repeats: int = 5) -> float:
    """Best-of-N single-precision matmul rate: the compute roof."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)  # warm-up
        best = best_of(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * n**3 / best / 1e9


# The most bytes per STREAM array. VMs may report a socket's whole last-level cache (480 MiB seen on
# a 2-core VM), which one grading thread never has to itself; 4x that is 1.9 GiB an array, and first
# touching memory ran at 0.35 GB/s there: 11 s of a quick calibration's 30. On that VM the add figure
# was 25.5 GB/s at 256 MiB and 23.6 at 1.9 GiB (the rate one thread sees, whichever level serves it),
# so three arrays of 256 MiB lose under 10% and save most of that time.
STREAM_ARRAY_CAP = 256 * 2**20
# --quick: a quarter of the first touching. add, the roofline's slope, read 19.8-20.7 GB/s at 64, 128
# and 256 MiB on a later VM; copy (memcpy, which changes strategy with size) 11.6 at 64 and 19.2 at 256.
QUICK_STREAM_ARRAY_CAP = 64 * 2**20


def stream_bandwidth(repeats: int = 5, min_bytes: int | None = None,
                     cap: int = STREAM_ARRAY_CAP) -> dict[str, float]:
    """GB/s of copy, add and triad on arrays >= 4x the last-level cache, up to ``cap`` bytes each
    (best of N, as STREAM)."""
    size = max(min_bytes or 0, min(4 * last_level_cache(), cap)) // 4  # float32 elements
    a = np.full(size, 1.0, dtype=np.float32)
    b = np.full(size, 2.0, dtype=np.float32)
    c = np.zeros(size, dtype=np.float32)
    s = np.float32(3.0)
    nbytes = a.nbytes

    def triad() -> None:  # a = b + s*c in two in-place passes: numpy moves 5 arrays' worth
        np.multiply(c, s, out=a)
        np.add(a, b, out=a)

    kernels = {
        "copy": (lambda: np.copyto(c, a), 2 * nbytes),
        "add": (lambda: np.add(a, b, out=a), 3 * nbytes),  # in place: a += b
        "triad": (triad, 5 * nbytes),
    }
    result = {}
    for name, (kernel, moved) in kernels.items():
        kernel()  # first touch
        best = best_of(kernel, repeats)
        result[name] = moved / best / 1e9
    return result


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def calibrate(reference_source: str, threads: int = 1, quick: bool = False, seed: int = 12345,
              progress: Progress = lambda msg: None) -> Profile:
    started = time.monotonic()
    facts = fingerprint(threads=threads)
    progress(f"machine: {facts['cpu_model']}, {facts['cores']} cores, numpy {facts['numpy']}, "
             f"{facts['blas']} {facts['blas_version']}")
    repeats = 3 if quick else 5
    # Best of many: a neighbour on a shared VM only ever slows a matmul down, and one run is 0.2 s.
    peak_repeats = 6 if quick else 12
    peak_1 = peak_gflops(1, repeats=peak_repeats)
    peak_all = peak_gflops(None, repeats=peak_repeats)
    peak = peak_1 if threads == 1 else peak_gflops(threads, repeats=peak_repeats)
    progress(f"peak single-precision matmul: {peak_1:.1f} GFLOP/s (1 thread), {peak_all:.1f} (all threads)")
    stream = stream_bandwidth(repeats=repeats, cap=QUICK_STREAM_ARRAY_CAP if quick else STREAM_ARRAY_CAP)
    # The in-place add is the figure a hand-run `a += b` shows, and the roofline's slope.
    bandwidth = stream["add"]
    progress("memory bandwidth: " + ", ".join(f"{k} {v:.1f} GB/s" for k, v in stream.items()))

    config = SandboxConfig(threads=threads)
    ref_a = Sandbox(reference_source, config, label="reference")
    ref_b = Sandbox(reference_source, config, label="reference (A/A)")
    ref_a.begin()  # both import at once, each on a core (nothing is being measured yet)
    ref_b.begin()
    try:
        speed = {cid: _calibrate_speed(cid, ref_a, ref_b, seed, quick, progress) for cid in SPEED_SPECS}
        memory = {}
        for cid, spec in MEMORY_SPECS.items():
            samples = {"baseline": measure_peak(ref_a, spec.baseline.fn, spec.case, seed, "baseline"),
                       "reference": measure_peak(ref_a, spec.reference_fn, spec.case, seed, "reference")}
            base, ref = samples["baseline"].peak, samples["reference"].peak
            reduction = base / max(ref, 1)
            memory[cid] = {"baseline_peak": base, "reference_peak": ref, "reference_reduction": reduction,
                           "fraction": spec.fraction, "threshold": spec.threshold(reduction),
                           # grading reads these instead of tracing the same code for every student
                           "samples": {who: s.as_dict() for who, s in samples.items()}}
            progress(f"{cid}: baseline {spec.baseline.fn} {base / 2**20:.0f} MB, reference {ref / 2**20:.0f} MB "
                     f"(reduction {reduction:.2f}x, threshold {spec.threshold(reduction):.2f}x)")
        roofline = reference_model_accuracy(ref_a, peak, bandwidth, seed, speed)
    finally:
        ref_a.close()
        ref_b.close()
    return Profile(
        fingerprint=facts, created=datetime.now(timezone.utc).isoformat(timespec="seconds"), quick=quick,
        threads=threads, peak_gflops=peak, peak_gflops_single_thread=peak_1, peak_gflops_all_threads=peak_all,
        bandwidth_gbs=bandwidth, stream_gbs=stream, speed=speed, memory=memory, roofline=roofline,
        seconds=time.monotonic() - started)


def _calibrate_speed(check_id: str, ref_a: Sandbox, ref_b: Sandbox, seed: int, quick: bool,
                     progress: Progress) -> dict:
    """The reference's speedup, and its A/A noise: the reference (as 'student') in a second worker."""
    spec = SPEED_SPECS[check_id]
    student_fn = spec.reference_fn or spec.baseline.fn
    # Precision matters only where the bar sits near the reference. Where the reference is the
    # baseline its speedup is 1 by definition (the rounds only give the A/A noise, a warning's
    # figure), and a bar at a fifth of a ~50-800x speedup is decided by orders of magnitude: there
    # the fewest rounds do.
    loose = spec.reference_fn is None or (spec.kind == "relative" and spec.fraction <= 0.2)
    rounds = FIRST_ROUNDS if loose else CALIBRATION_ROUNDS[quick]
    result = compare(spec, Runner("student", ref_b, student_fn),
                     Runner("reference", ref_a, spec.reference_fn) if spec.reference_fn else None,
                     Runner("baseline", ref_a, spec.baseline.fn), seed, lambda _r: None,
                     rounds=FIRST_ROUNDS, max_rounds=rounds)
    # A/A: the same code in two workers; the spread of their per-round ratio is the noise.
    if result.reference is not None:
        s_r = result.reference.median
        aa = estimate([s / r for s, r in zip(result.student_rounds, result.reference_rounds)])
    else:
        s_r = 1.0  # the reference is the baseline: its speedup is 1 by definition
        aa = result.student
    aa_ratio, aa_cv = aa.median, aa.cv
    threshold = spec.threshold(s_r)
    entry = {
        "reference_speedup": s_r,
        "reference_ci": [result.reference.low, result.reference.high] if result.reference else [1.0, 1.0],
        "aa_ratio": aa_ratio,
        "aa_cv": aa_cv,
        "kind": spec.kind,
        "fraction": spec.fraction,
        "threshold": threshold,
        "rounds": result.rounds,
        "seconds_per_call": result.per_case,
    }
    if aa_cv > 0.15:
        entry["warning"] = (f"the machine was noisy while calibrating (A/A CV {aa_cv * 100:.0f}%): "
                            "run grade calibrate again when it is quiet")
    elif spec.kind == "gain" and (s_r - 1.0) < 3 * aa_cv:
        entry["warning"] = ("the reference's gain over the baseline is within 3x the noise on this machine: "
                            "this speed check separates weakly; the memory check carries the distinction")
    progress(f"{check_id}: reference {s_r:.3g}x, A/A {aa_ratio:.3f} (CV {aa_cv * 100:.1f}%), "
             f"threshold {threshold:.3g}x" + (" [weak]" if "warning" in entry else ""))
    if not math.isfinite(threshold):
        raise RuntimeError(f"calibration of {check_id} gave no usable threshold")
    return entry
