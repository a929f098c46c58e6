import numpy as np
from tinytorch.core.tensor import Tensor

# Acceleration assignment: vectorization, kernel fusion, tiling and the roofline model.
#
# Fill in every function below, replacing each `raise NotImplementedError(...)`.
# Keep the names and signatures exactly as they are: the autograder imports them.
#
# Rules of the road
# - Inputs arrive as `Tensor` objects; the numbers live in `x.data` (a float32
#   ndarray). Return a `Tensor` (or a plain ndarray) holding float32 values.
# - Never modify an input in place.
# - Do not print, read files or run anything at import time: put experiments
#   under `if __name__ == "__main__":` at the bottom.
#
# Check yourself with `grade --self-check` in this folder, or `python acceleration.py`.


# ---------------------------------------------------------------------------
# Part 1: vectorized matrix multiplication
# ---------------------------------------------------------------------------

def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    """Multiply two matrices (or stacks of matrices) with numpy's BLAS-backed matmul.

    Shapes: ``a`` is (..., M, K) and ``b`` is (..., K, N); the result is
    (..., M, N). Leading "batch" dimensions broadcast exactly as in
    ``np.matmul`` -- e.g. (3, 4) @ (2, 4, 5) gives (2, 3, 5).

    Errors: raise ``ValueError`` when either input has fewer than 2 dimensions,
    and when the inner dimensions differ (``a.shape[-1] != b.shape[-2]``). Say
    in the message which of the two went wrong and show the shapes.

    Hint: one library call does the real work; the checks come first. A Python
    loop over rows here will lose the speed points.
    """
    raise NotImplementedError("vectorized_matmul: check the shapes, then hand the work to np.matmul")


# ---------------------------------------------------------------------------
# Part 2: kernel fusion (GELU)
# ---------------------------------------------------------------------------

def fused_gelu(x: Tensor) -> Tensor:
    """GELU activation (tanh approximation), computed as a single fused expression.

        gelu(x) = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))

    Shape: same as ``x``. Dtype: float32 in, float32 out.

    "Fused" means: avoid materialising a named full-size array for every
    step. You are graded on peak memory against an unfused version, so fewer
    temporaries is better (numpy's ``out=`` arguments can help).

    Hint: under NumPy 2 a ``np.float64`` scalar such as ``np.sqrt(2 / np.pi)``
    turns a float32 array into float64. Keep constants float32, e.g.
    ``np.float32(0.7978845608)``. Do not change ``x.data`` in place.
    """
    raise NotImplementedError("fused_gelu: write GELU as one expression with float32 constants")


def unfused_gelu(x: Tensor) -> Tensor:
    """The same GELU, written one step at a time with a named intermediate per step.

    Compute x cubed, the scaled cubic term, the inner sum, the product with
    sqrt(2/pi), its tanh, ``1 + tanh``, and finally ``0.5 * x * (...)``, each
    stored in its own variable. This is the "before" picture for fusion:
    it should give the same numbers as ``fused_gelu`` (float32 in, float32 out).

    Hint: the same float32-constant rule applies here.
    """
    raise NotImplementedError("unfused_gelu: one named intermediate per step of the GELU formula")


# ---------------------------------------------------------------------------
# Part 3: cache blocking
# ---------------------------------------------------------------------------

def tiled_matmul(a: Tensor, b: Tensor, tile_size: int = 64) -> Tensor:
    """Blocked matrix multiply of two 2-D matrices, ``(M, K) @ (K, N) -> (M, N)``.

    Loop over tiles of the output rows (i), output columns (j) and the shared
    dimension (k); multiply each pair of tiles with ``@`` and accumulate into
    the output tile. The answer must equal ``a @ b`` for every tile size,
    including sizes that do not divide M, N or K evenly (the last tile in each
    direction is smaller).

    Errors: raise ``ValueError`` if ``tile_size < 1``, if an input is not 2-D,
    or if the inner dimensions differ.

    Hint: ``min(start + tile_size, length)`` gives the end of a tile; start the
    output as zeros of shape (M, N) and dtype float32.
    """
    raise NotImplementedError("tiled_matmul: three nested tile loops, accumulate tile products")


# ---------------------------------------------------------------------------
# Part 4: the roofline model
# ---------------------------------------------------------------------------
# Conventions: float32 (4 bytes per value); count every array read and written.

def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    """FLOPs performed per byte moved to or from memory: ``flops / bytes_moved``.

    Errors: raise ``ValueError`` when ``bytes_moved <= 0``.
    """
    raise NotImplementedError("arithmetic_intensity: FLOPs divided by bytes")


def operation_cost(op: str, n: int) -> tuple[float, float]:
    """Return ``(flops, bytes_moved)`` for one operation on float32 data.

    ``op`` is one of:
    - ``"add"``: z = x + y on n elements -- 1 FLOP per element; two arrays read,
      one written.
    - ``"gelu"``: fused GELU on n elements -- count 8 FLOPs per element; one
      array read, one written.
    - ``"gelu_unfused"``: the step-by-step GELU -- still 8 FLOPs per element,
      but 16 memory operations (loads + stores) per element.
    - ``"matmul"``: an n x n by n x n product -- 2 * n**3 FLOPs; read A and B,
      write C.

    Errors: raise ``ValueError`` for any other ``op`` or for ``n < 1``.

    Hint: bytes = (number of float32 values moved) * 4.
    """
    raise NotImplementedError("operation_cost: apply the counting conventions above")


def roofline_predict(flops: float, bytes_moved: float,
                     peak_gflops: float, peak_bandwidth_gbs: float) -> float:
    """Attainable performance in GFLOP/s under the roofline model.

    It is the smaller of the compute roof (``peak_gflops``) and what memory can
    feed: ``arithmetic intensity * peak_bandwidth_gbs`` (FLOP/byte times GB/s
    is GFLOP/s).
    """
    raise NotImplementedError("roofline_predict: min(compute roof, intensity * bandwidth)")


def classify_bound(flops: float, bytes_moved: float,
                   peak_gflops: float, peak_bandwidth_gbs: float) -> str:
    """Say what limits this operation on this machine: ``"memory"`` or ``"compute"``.

    It is memory-bound when ``intensity * peak_bandwidth_gbs`` is below
    ``peak_gflops`` (the operation sits left of the ridge point), and
    compute-bound otherwise.
    """
    raise NotImplementedError("classify_bound: compare intensity * bandwidth with the peak")


if __name__ == "__main__":
    # Quick self-tests; the autograder runs many more (and times your code).
    rng = np.random.default_rng(0)

    def values(result):
        # Accept either a Tensor or a plain ndarray as a return value.
        return result.data if isinstance(result, Tensor) else np.asarray(result)

    a = Tensor(rng.standard_normal((13, 7)))
    b = Tensor(rng.standard_normal((7, 5)))
    expected = a.data @ b.data
    assert np.allclose(values(vectorized_matmul(a, b)), expected, atol=1e-4)
    for ts in (1, 4, 64):
        assert np.allclose(values(tiled_matmul(a, b, tile_size=ts)), expected, atol=1e-4), ts

    x = Tensor(np.linspace(-4, 4, 101))
    g = values(fused_gelu(x))
    assert g.dtype == np.float32, f"fused_gelu returned {g.dtype}, expected float32"
    assert np.allclose(g, values(unfused_gelu(x)), atol=1e-6)

    assert operation_cost("add", 10) == (10, 120)
    assert classify_bound(*operation_cost("gelu", 1_000_000), 100.0, 20.0) == "memory"
    assert classify_bound(*operation_cost("matmul", 1024), 100.0, 20.0) == "compute"
    print("All self-tests passed.")
