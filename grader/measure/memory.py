"""Peak memory of one call: tracemalloc in the worker, cross-checked by the parent's /proc reading."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from grader.measure.specs import Case
from grader.sandbox import Sandbox

MB = 1 << 20


@dataclass
class MemorySample:
    peak: int  # bytes, tracemalloc peak of the call (result included)
    dtype: str  # dtype of what the call returned
    rss_delta: int | None  # bytes, peak RSS during the call above RSS before it (parent's view)
    tampering: str | None = None
    # What a probe call saw (a hint's evidence, not a verdict's): the widest float dtype among the
    # call's temporaries, and the numpy ufuncs it used.
    widest: str = "?"
    ufuncs: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> "MemorySample | None":
        """A sample a calibration profile kept (``as_dict``'s shape); None when it is not one."""
        if not isinstance(data, dict) or isinstance(data.get("peak"), bool) or not isinstance(data.get("peak"), int):
            return None
        rss = data.get("rss_delta")
        ufuncs = data.get("ufuncs")
        return cls(data["peak"], str(data.get("dtype", "?")), rss if isinstance(rss, int) else None,
                   None, str(data.get("widest", "?")), tuple(map(str, ufuncs)) if isinstance(ufuncs, list) else ())


def measure_peak(sandbox: Sandbox, fn: str, case: Case, seed: int, label: str) -> MemorySample:
    """One call on fresh inputs, in a run separate from any timing."""
    sandbox.request("prepare", fn, seed=seed, count=1, keep_thawed=True,
                    arrays=[[list(shape), scale] for shape, scale in case.arrays])
    before = sandbox.rss()
    reset = sandbox.reset_peak_rss()
    reply = sandbox.request("memory", fn, kwargs=case.kwargs, pipeline=list(case.pipeline))
    hwm = sandbox.peak_rss()
    meta = reply.meta
    peak = int(meta.get("peak", 0)) if isinstance(meta.get("peak"), int) else 0
    rss_delta = (hwm - before) if (reset and hwm is not None and before is not None) else None
    tampering = None
    patched = [str(p) for p in meta.get("patched", [])][:20]
    if patched:
        tampering = f"{label}: replaced {', '.join(patched)}"
    elif not meta.get("still_tracing", True):
        tampering = f"{label}: tracemalloc was stopped during the call"
    elif rss_delta is not None and peak < 0.5 * rss_delta - 8 * MB:
        # The process grew far more than tracemalloc admits: tracing was blinded.
        tampering = (f"{label}: tracemalloc saw {peak / MB:.1f} MB but the process grew by "
                     f"{rss_delta / MB:.1f} MB during the call")
    ufuncs = meta.get("ufuncs")
    ufuncs = tuple(str(u)[:40] for u in ufuncs[:40]) if isinstance(ufuncs, list) else ()
    return MemorySample(peak, str(meta.get("dtype", "?"))[:40], rss_delta, tampering,
                        str(meta.get("widest", "?"))[:40], ufuncs)
