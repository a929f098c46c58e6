"""What a finished submission leaves behind so ``--resume`` can skip it.

Next to each student's results.json and report.html, a ``.grade-state.json``
holds the whole GradeResult and the key it was graded under (content hash,
rubric digest, calibration id, checks selected, seed). It is written last, so
its presence means that student's outputs are complete.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from grader.models import CategoryScore, GradeResult, ItemScore, Submission
from grader.reports import write_text_atomic

STATE_FILE = ".grade-state.json"


def resume_key(code_hash: str, rubric_digest: str, calibration_id: str | None, select: set[str] | None,
               seed: int) -> str:
    body = json.dumps([code_hash, rubric_digest, calibration_id, sorted(select) if select else None, seed])
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def save_state(result: GradeResult, folder: Path, key: str) -> None:
    data = dataclasses.asdict(result)
    data["submission"]["source_path"] = str(result.submission.source_path)
    write_text_atomic(folder / STATE_FILE, json.dumps({"key": key, "result": data}, default=str))


def load_state(folder: Path) -> tuple[str, GradeResult] | None:
    """The saved key and result, or None when there is none or it is unreadable (then: regrade)."""
    try:
        raw = json.loads((folder / STATE_FILE).read_text())
        return raw["key"], _result(raw["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def previous_seed(out_dir: Path) -> int | None:
    """The seed an interrupted run used, so resumed submissions see the same inputs."""
    for state in sorted(Path(out_dir).glob(f"*/{STATE_FILE}")):
        loaded = load_state(state.parent)
        if loaded:
            return loaded[1].seed
    return None


def _result(d: dict[str, Any]) -> GradeResult:
    sub = dict(d["submission"], source_path=Path(d["submission"]["source_path"]))
    return GradeResult(**{**d, "submission": Submission(**sub),
                          "items": [ItemScore(**i) for i in d["items"]],
                          "categories": [CategoryScore(**c) for c in d["categories"]]})
