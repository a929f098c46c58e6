"""What machine this is: the facts that make two measurements comparable.

Collected in one place (as pyperf keeps its metadata apart) so calibration,
grading and the reports all describe the machine the same way.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_sizes() -> dict[str, int]:
    """Cache sizes in bytes by level/type, from sysfs (cpu0)."""
    sizes: dict[str, int] = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for idx in sorted(base.glob("index*")):
        try:
            level = (idx / "level").read_text().strip()
            kind = (idx / "type").read_text().strip().lower()
            raw = (idx / "size").read_text().strip().upper()
        except OSError:
            continue
        mult = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(raw[-1:], 1)
        value = int(raw[:-1]) if raw[-1:] in "KMG" else int(raw)
        key = f"L{level}" + ("" if kind == "unified" else kind[0])
        sizes[key] = value * mult
    return sizes


def last_level_cache() -> int:
    sizes = _cache_sizes()
    return max(sizes.values()) if sizes else 32 * 1024**2


def _blas() -> dict[str, Any]:
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return {"blas": pool.get("internal_api"), "blas_version": pool.get("version"),
                        "blas_max_threads": pool.get("num_threads"),
                        "blas_arch": pool.get("architecture")}
    except Exception:  # threadpoolctl missing or confused: not fatal
        pass
    return {"blas": "unknown", "blas_version": None, "blas_max_threads": None, "blas_arch": None}


def fingerprint(threads: int = 1) -> dict[str, Any]:
    """The machine facts recorded with every result; ``id`` keys the calibration cache."""
    facts: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "caches": _cache_sizes(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        **_blas(),
        "threads": threads,
    }
    # The id covers what changes speed ratios; not the hostname, so identical nodes share one.
    keyed = {k: facts[k] for k in ("cpu_model", "cores", "caches", "machine", "numpy", "blas",
                                    "blas_version", "threads")}
    facts["id"] = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    facts["hostname"] = platform.node()
    return facts
