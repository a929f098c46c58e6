"""accelgrade's reference solution and the baselines speed is graded against."""
from .acceleration import (
    arithmetic_intensity,
    classify_bound,
    fused_gelu,
    operation_cost,
    roofline_predict,
    tiled_matmul,
    unfused_gelu,
    vectorized_matmul,
)
from .baselines import naive_matmul


def _shim_fallback() -> None:
    """Make ``tinytorch`` importable in the grader's own process when no real TinyTorch is installed.

    convolution.py imports ``tinytorch.core.tensor`` like a student's file; the sandbox worker
    provides the shim, but the host (``import reference`` in grader.grading) otherwise has none.
    """
    import importlib.util
    import sys
    from pathlib import Path

    if importlib.util.find_spec("tinytorch") is None:
        shim = Path(__file__).resolve().parent.parent / "grader" / "sandbox" / "shim"
        sys.path.append(str(shim))


_shim_fallback()

from .convolution import Im2colConv2dFunction, col2im, im2col, im2col_conv2d, naive_conv2d  # noqa: E402

__all__ = [
    "vectorized_matmul",
    "fused_gelu",
    "unfused_gelu",
    "tiled_matmul",
    "arithmetic_intensity",
    "operation_cost",
    "roofline_predict",
    "classify_bound",
    "naive_matmul",
    "im2col",
    "col2im",
    "im2col_conv2d",
    "Im2colConv2dFunction",
    "naive_conv2d",
]


# The reference worker runs one module: these files in this order (baselines.py imports the
# unfused GELU defined above it; convolution.py is needed by the im2col assignment's checks).
WORKER_FILES = ("acceleration.py", "baselines.py", "convolution.py")


def worker_source() -> str:
    """The reference worker's module: every reference file, one after another.

    Each file starts with ``from __future__ import annotations``, which is legal only at the top
    of a module, so it is said once, first.
    """
    from pathlib import Path

    here = Path(__file__).resolve().parent
    future = "from __future__ import annotations"
    parts = [future]
    for name in WORKER_FILES:
        # A missing file is a broken install, not an optional part: fail here rather than grade
        # against a worker that lacks the functions.
        path = here / name
        body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() != future)
        parts.append(f"# ---- {name} ----\n{body}")
    return "\n\n".join(parts) + "\n"
