"""The machine profile: what calibration measured, saved as YAML, cached per fingerprint."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.atomic import write_text_atomic


class ProfileError(Exception):
    """A profile that cannot be used here; the message says why and what to do."""


@dataclass
class Profile:
    fingerprint: dict[str, Any]
    created: str
    quick: bool
    threads: int
    peak_gflops: float  # single precision, with ``threads`` BLAS threads: what grading runs with
    peak_gflops_single_thread: float
    peak_gflops_all_threads: float
    bandwidth_gbs: float  # best STREAM-style kernel, GB/s
    stream_gbs: dict[str, float] = field(default_factory=dict)
    speed: dict[str, dict[str, Any]] = field(default_factory=dict)  # per speed check
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)  # per memory check
    roofline: dict[str, Any] = field(default_factory=dict)  # the reference model's accuracy here
    seconds: float = 0.0  # how long calibration took
    id: str = ""

    def compute_id(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "id"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def summary(self) -> dict[str, Any]:
        """The few facts reports show next to a threshold."""
        return {"id": self.id, "created": self.created, "quick": self.quick, "peak_gflops": self.peak_gflops,
                "bandwidth_gbs": self.bandwidth_gbs, "fingerprint_id": self.fingerprint.get("id"),
                "threads": self.threads}


def cache_dir() -> Path:
    base = os.environ.get("ACCELGRADE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "accelgrade")
    return Path(base)


def cached_path(fingerprint_id: str) -> Path:
    return cache_dir() / f"profile-{fingerprint_id}.yaml"


def save(profile: Profile, path: Path) -> None:
    """Write the profile; its id is a hash of exactly what is written, so edits are detectable."""
    rounded = Profile(**_plain({k: v for k, v in asdict(profile).items() if k != "id"}))
    profile.id = rounded.compute_id()
    rounded.id = profile.id
    header = "# accelgrade machine profile (grade calibrate). Thresholds derive from these figures.\n"
    write_text_atomic(path, header + yaml.safe_dump(asdict(rounded), sort_keys=False))


def load(path: Path) -> Profile:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such calibration file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ProfileError(f"{path}: not valid YAML{where}; this calibration is unusable, run grade calibrate again") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the calibration file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: not a calibration profile")
    try:
        profile = Profile(**data)
    except TypeError:
        raise ProfileError(f"{path}: not a calibration profile of this version; this calibration is unusable, run grade calibrate again") from None
    _validate(profile, path)
    if profile.id != profile.compute_id():
        raise ProfileError(f"{path}: edited or damaged (its id does not match its figures); "
                           "run grade calibrate again")
    return profile


def _validate(profile: Profile, path: Path) -> None:
    """Every figure grading reads must be there and be a positive number."""
    from grader.measure.specs import MEMORY_SPECS, SPEED_SPECS

    def positive(value: Any, key: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
            raise ProfileError(f"{path}: {key} must be a positive number, got {value!r}; this calibration is unusable, run grade calibrate again")

    for key in ("peak_gflops", "peak_gflops_single_thread", "peak_gflops_all_threads", "bandwidth_gbs"):
        positive(getattr(profile, key), key)
    if not isinstance(profile.fingerprint, dict) or not profile.fingerprint.get("id"):
        raise ProfileError(f"{path}: fingerprint.id is missing; this calibration is unusable, run grade calibrate again")
    for table, specs, keys in (("speed", SPEED_SPECS, ("reference_speedup", "threshold", "fraction")),
                               ("memory", MEMORY_SPECS, ("reference_reduction", "threshold", "fraction"))):
        entries = getattr(profile, table)
        for check_id in specs:
            entry = entries.get(check_id) if isinstance(entries, dict) else None
            if not isinstance(entry, dict):
                raise ProfileError(f"{path}: {table}.{check_id} is missing; this calibration is unusable, run grade calibrate again")
            for key in keys:
                positive(entry.get(key), f"{table}.{check_id}.{key}")


def check_fingerprint(profile: Profile, current: dict[str, Any], path: Path, force: bool) -> None:
    """Thresholds from another machine would grade the machine, not the code: refuse unless forced."""
    theirs, ours = profile.fingerprint.get("id"), current.get("id")
    if theirs != ours and not force:
        diff = [k for k in ("cpu_model", "cores", "numpy", "blas", "blas_version", "threads", "caches")
                if profile.fingerprint.get(k) != current.get(k)]
        raise ProfileError(
            f"{path} was calibrated on another machine (differs in: {', '.join(diff) or 'fingerprint'}); "
            "run 'grade calibrate' here, or pass --force-calibration to use it anyway")


def _plain(obj: Any) -> Any:
    """YAML-safe: numpy scalars and tuples become plain numbers and lists."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    if isinstance(obj, float):
        return round(obj, 6) if obj == obj else None
    return obj
