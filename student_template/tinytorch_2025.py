import numpy as np
from tinytorch.core.tensor import Tensor

# TinyTorch 18 Acceleration (the 2025 module): vectorization, kernel fusion and tiling.
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
# - The profiler is optional here. It is `from tinytorch.perf.profiling import Profiler`
#   from the 2025-12 release on, and `from tinytorch.profiling.profiler import Profiler`
#   in 2025-11; the grader accepts either.
#
# Check yourself with `grade --self-check --assignment tinytorch-2025 tinytorch_2025.py`
# in this folder, or `python tinytorch_2025.py`.


# ---------------------------------------------------------------------------
# Part 1: vectorized matrix multiplication
# ---------------------------------------------------------------------------

def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    """Multiply two matrices (or stacks of matrices) with numpy's BLAS-backed matmul.

    Shapes: ``a`` is (..., M, K) and ``b`` is (..., K, N); the result is
    (..., M, N). Leading "batch" dimensions broadcast exactly as in
    ``np.matmul`` -- e.g. (3, 4) @ (2, 4, 5) gives (2, 3, 5).

    Errors: raise ``ValueError`` when either input has fewer than 2 dimensions,
    and when the inner dimensions differ (``a.shape[-1] != b.shape[-2]``). Show
    both shapes in the message.

    Hint: the checks come first, then one library call does the real work. A
    Python loop over rows here will lose the speed points.
    """
    raise NotImplementedError("vectorized_matmul: check the shapes, then hand the work to np.matmul")


# ---------------------------------------------------------------------------
# Part 2: kernel fusion (GELU)
# ---------------------------------------------------------------------------

def fused_gelu(x: Tensor) -> Tensor:
    """GELU activation (tanh approximation), computed as a single fused expression.

        gelu(x) = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))

    Shape: same as ``x``. Dtype: float32 in, float32 out.

    "Fused" means: do not materialise a named full-size array for every step.
    Peak memory is compared with an unfused version, so fewer temporaries is
    better (numpy's ``out=`` arguments help).

    Hint: under NumPy 2 a ``np.float64`` scalar such as ``np.sqrt(2 / np.pi)``
    turns a float32 array into float64. Keep constants float32, e.g.
    ``np.float32(0.7978845608)``. Do not change ``x.data`` in place.
    """
    raise NotImplementedError("fused_gelu: write GELU as one expression with float32 constants")


def unfused_gelu(x: Tensor) -> Tensor:
    """The same GELU, one step at a time with a named intermediate per step.

    x cubed, the scaled cubic term, the inner sum, the product with
    sqrt(2/pi), its tanh, ``1 + tanh``, and finally ``0.5 * x * (...)``: each in
    its own variable. It must give the same numbers as ``fused_gelu`` (float32
    in, float32 out); the same float32-constant rule applies.
    """
    raise NotImplementedError("unfused_gelu: one named intermediate per step of the GELU formula")


# ---------------------------------------------------------------------------
# Part 3: cache blocking
# ---------------------------------------------------------------------------

def tiled_matmul(a: Tensor, b: Tensor, tile_size: int = 64) -> Tensor:
    """Cache-aware multiply of two 2-D matrices, ``(M, K) @ (K, N) -> (M, N)``.

    Errors: raise ``ValueError`` if an input is not 2-D or if the inner
    dimensions differ (``a.shape[1] != b.shape[0]``).

    The 2025 module only asks you to validate and then call ``np.matmul``,
    whose BLAS kernel already works tile by tile (``tile_size`` then goes
    unused). Writing the tiles out yourself is welcome: loop over blocks of
    output rows, output columns and the shared dimension, add each tile
    product into the output tile (float32 zeros to start), and let the last
    tile in each direction be smaller. Either way the result must equal
    ``a @ b``; the speed check compares you with the reference.
    """
    raise NotImplementedError("tiled_matmul: validate the shapes, then multiply (tile loops optional)")


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
    try:
        tiled_matmul(a, a)
    except ValueError:
        pass
    else:
        raise AssertionError("tiled_matmul((13, 7), (13, 7)) should raise ValueError")

    x = Tensor(np.linspace(-4, 4, 101))
    g = values(fused_gelu(x))
    assert g.dtype == np.float32, f"fused_gelu returned {g.dtype}, expected float32"
    assert np.allclose(g, values(unfused_gelu(x)), atol=1e-6)
    print("All self-tests passed.")
