"""The grading machine's fingerprint and calibration, in words people read.

``GradeResult.machine`` holds the fingerprint (grader/measure/fingerprint.py)
and, when measured checks ran, the calibration used. Known keys get labels
and units in a fixed order; unknown keys are still shown, under their own
name, so a new fingerprint field never disappears from the report.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from grader.reports._common import clean_text, to_jsonable

# (key, label) in display order.
_FINGERPRINT = [
    ("cpu_model", "CPU"),
    ("machine", "architecture"),
    ("cores", "cores"),
    ("caches", "caches"),
    ("threads", "BLAS threads used for grading"),
    ("blas", "BLAS"),
    ("blas_version", "BLAS version"),
    ("blas_arch", "BLAS kernel"),
    ("blas_max_threads", "BLAS threads available"),
    ("numpy", "numpy"),
    ("python", "Python"),
    ("hostname", "host"),
    ("id", "fingerprint id"),
]
_CALIBRATION = [
    ("id", "calibration id"),
    ("created", "created"),
    ("quick", "kind"),
    ("peak_gflops", "peak compute"),
    ("bandwidth_gbs", "memory bandwidth"),
    ("threads", "threads"),
    ("fingerprint_id", "for fingerprint"),
]


def _bytes(value: Any) -> str:
    try:
        n = float(value)
    except (TypeError, ValueError):
        return clean_text(value)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n:g} B"


def display_value(value: Any) -> str:
    """Any fingerprint value as one line of text."""
    value = to_jsonable(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return clean_text(json.dumps(value, ensure_ascii=False))
    return "n/a" if value is None else clean_text(value)


def _fingerprint_value(key: str, value: Any) -> str:
    if key == "caches" and isinstance(value, Mapping):
        return ", ".join(f"{clean_text(k)} {_bytes(v)}" for k, v in value.items())
    return display_value(value)


def _calibration_value(key: str, value: Any) -> str:
    if key == "quick":
        return "quick (fewer rounds; rerun `grade calibrate` for a full one)" if value else "full"
    if key == "peak_gflops":
        return f"{display_value(value)} GFLOP/s (large float32 matmul)"
    if key == "bandwidth_gbs":
        return f"{display_value(value)} GB/s (STREAM-style kernels)"
    return display_value(value)


def _rows(mapping: Mapping[str, Any], known: list[tuple[str, str]], fmt, skip: set[str]) -> list[tuple[str, str]]:
    rows = [(label, fmt(key, mapping[key])) for key, label in known if key in mapping]
    known_keys = {key for key, _ in known} | skip
    rows += [(clean_text(k), display_value(v)) for k, v in mapping.items() if k not in known_keys]
    return rows


def machine_rows(machine: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The fingerprint table (the calibration has its own table)."""
    if not isinstance(machine, Mapping):
        return []
    return _rows(machine, _FINGERPRINT, _fingerprint_value, {"calibration", "sandbox", "lock_waits", "state"})


_LEVELS = {
    "bwrap+uid": "bubblewrap namespaces and a uid of its own",
    "bwrap": "bubblewrap namespaces, under the grader's uid",
    "uid": "a uid of its own, no namespaces",
    "none": "process limits only: no namespaces, the grader's uid",
}


def isolation(machine: Mapping[str, Any] | None) -> dict[str, Any]:
    """What held around one submission's workers, in words (the record is machine["sandbox"])."""
    held = machine.get("sandbox") if isinstance(machine, Mapping) else None
    if not isinstance(held, Mapping):
        return {"level": "unknown", "complete": False, "text": "not recorded", "why": ""}
    level = clean_text(str(held.get("level", "unknown")))
    parts = [_LEVELS.get(level, level)]
    spaces = [clean_text(str(n)) for n in held.get("namespaces") or []]
    if spaces:
        parts.append("own " + ", ".join(spaces) + " namespaces")
    if held.get("uid") is not None:
        parts.append(f"uid {display_value(held['uid'])}")
    parts.append("no network" if held.get("network") else "network reachable")
    parts.append("class, outputs and grader not mounted" if held.get("paths")
                 else "the file system is visible (read-only where permissions say so)")
    parts.append(f"frozen when idle by {clean_text(str(held.get('freezer', 'signals')))}")
    return {"level": level, "complete": bool(held.get("complete")), "text": "; ".join(parts),
            "why": clean_text(str(held.get("why") or ""))}


def calibration(machine: Mapping[str, Any] | None) -> Mapping[str, Any]:
    cal = machine.get("calibration") if isinstance(machine, Mapping) else None
    return cal if isinstance(cal, Mapping) else {}


def calibration_rows(machine: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return _rows(calibration(machine), _CALIBRATION, _calibration_value, set())


def machine_summary(machine: Mapping[str, Any] | None) -> str:
    """One line for the terminal: CPU, cores, numpy, BLAS and the calibration id."""
    if not isinstance(machine, Mapping) or not machine:
        return ""
    parts = []
    if machine.get("cpu_model"):
        parts.append(clean_text(machine["cpu_model"]))
    if machine.get("cores"):
        parts.append(f"{display_value(machine['cores'])} cores")
    if machine.get("numpy"):
        parts.append(f"numpy {display_value(machine['numpy'])}")
    if machine.get("blas"):
        parts.append(" ".join(display_value(machine[k]) for k in ("blas", "blas_version") if machine.get(k)))
    cal = calibration(machine)
    if cal.get("id"):
        parts.append(f"calibration {display_value(cal['id'])}" + (" (quick)" if cal.get("quick") else ""))
    return ", ".join(parts)
