"""The wire format between the trusted parent and an untrusted worker.

A message is one frame: a 4-byte big-endian length, a JSON header of that
length, then the raw bytes of each blob the header lists. Arrays travel as
``.npy`` blobs and are read with ``allow_pickle=False``: nothing from a worker is
ever unpickled. JSON and .npy are data formats, so the worst a worker can send
is wrong data, which the trusted checks then judge.

This module is loaded by the worker by file path, so it imports only the
stdlib and numpy.
"""
from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from typing import Any

import numpy as np

MAX_HEADER = 1 << 20  # 1 MiB of JSON is far more than any honest message needs
MAX_FRAME = 512 << 20  # arrays in this assignment are at most ~64 MB

_LEN = struct.Struct(">I")


class WireError(Exception):
    """The other side sent something that is not a valid frame, or hung up."""


class WireTimeout(WireError):
    pass


def encode_array(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def decode_array(raw: bytes) -> np.ndarray:
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # malformed .npy, object dtype, ...
        raise WireError(f"invalid array payload: {exc}") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
        raise WireError("array payload is not numeric")
    return arr


def pack_value(value: Any, blobs: list[bytes]) -> Any:
    """Turn a plain value (array, number, str, tuple/list, dict of those) into JSON + blobs."""
    if isinstance(value, np.ndarray):
        blobs.append(encode_array(value))
        return {"t": "array", "i": len(blobs) - 1}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": float(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (tuple, list)):
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "v": [pack_value(v, blobs) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": {str(k): pack_value(v, blobs) for k, v in value.items()}}
    raise TypeError(f"cannot send a {type(value).__name__}")


def unpack_value(node: Any, blobs: list[bytes]) -> Any:
    """Inverse of pack_value; validates every node (the sender may be hostile)."""
    if not isinstance(node, dict) or "t" not in node:
        raise WireError("malformed value")
    t = node["t"]
    if t == "array":
        i = node.get("i")
        if not isinstance(i, int) or not 0 <= i < len(blobs):
            raise WireError("array index out of range")
        return decode_array(blobs[i])
    if t == "bool":
        return bool(node.get("v"))
    if t == "int":
        v = node.get("v")
        if not isinstance(v, int):
            raise WireError("malformed int")
        return v
    if t == "float":
        v = node.get("v")
        if not isinstance(v, (int, float)):
            raise WireError("malformed float")
        return float(v)
    if t == "str":
        v = node.get("v")
        if not isinstance(v, str):
            raise WireError("malformed str")
        return v
    if t == "none":
        return None
    if t in ("tuple", "list"):
        items = [unpack_value(v, blobs) for v in node.get("v", [])]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        v = node.get("v", {})
        if not isinstance(v, dict):
            raise WireError("malformed dict")
        return {str(k): unpack_value(x, blobs) for k, x in v.items()}
    raise WireError(f"unknown value type {t!r}")


def send(fd: int, header: dict, blobs: list[bytes] | None = None) -> None:
    blobs = blobs or []
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header).encode()
    _write_all(fd, _LEN.pack(len(head)) + head)
    for b in blobs:
        _write_all(fd, b)


def recv(fd: int, deadline: float | None = None, max_frame: int = MAX_FRAME) -> tuple[dict, list[bytes]]:
    """Read one frame. ``deadline`` is a time.monotonic() instant; None waits forever."""
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline))
    if n > MAX_HEADER:
        raise WireError(f"header of {n} bytes exceeds the limit")
    try:
        header = json.loads(_read_exact(fd, n, deadline))
    except ValueError:
        raise WireError("header is not JSON") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise WireError("malformed blob list")
    if sum(sizes) > max_frame:
        raise WireError(f"message of {sum(sizes)} bytes exceeds the limit of {max_frame}")
    blobs = [_read_exact(fd, s, deadline) for s in sizes]
    return header, blobs


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise WireTimeout("timed out")
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise WireTimeout("timed out")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise WireError("connection closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
