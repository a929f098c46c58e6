import numpy as np
from tinytorch.core.tensor import Tensor, Function

# TinyTorch 17 Acceleration (the 2026 module): vectorization, kernel fusion, tiling,
# and convolution lowered to a matrix multiply (im2col).
#
# Fill in every function below, replacing each `raise NotImplementedError(...)`.
# Keep the names and signatures exactly as they are: the autograder imports them.
#
# Rules of the road
# - The grader passes `Tensor` objects; the numbers live in `x.data` (a float32
#   ndarray). Return a `Tensor` (or a plain ndarray) holding float32 values.
# - Your own `Im2colConv2dFunction.forward` will hand plain ndarrays to the
#   im2col helpers, so those should accept both (`_values` below does the unwrapping).
# - Never modify an input in place.
# - Do not print, read files or run anything at import time: put experiments
#   under `if __name__ == "__main__":` at the bottom.
#
# Check yourself with `grade --self-check --assignment tinytorch-2026 tinytorch_2026.py`
# in this folder, or `python tinytorch_2026.py`.


def _values(x):
    """The float32 ndarray inside a Tensor, or ``x`` itself as a float32 ndarray."""
    return x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32)


# ---------------------------------------------------------------------------
# Part 1: vectorized matrix multiplication
# ---------------------------------------------------------------------------

def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    """Multiply two matrices (or stacks of matrices) with numpy's BLAS-backed matmul.

    Shapes: ``a`` is (..., M, K) and ``b`` is (..., K, N); the result is
    (..., M, N). Leading "batch" dimensions broadcast exactly as in
    ``np.matmul`` -- e.g. (3, 4) @ (2, 4, 5) gives (2, 3, 5).

    Errors: raise ``ValueError`` when either input has fewer than 2 dimensions
    (say "2D+" in the message), and when the inner dimensions differ,
    ``a.shape[-1] != b.shape[-2]`` (say "shape mismatch" and show both shapes).

    Hint: the checks come first, then one library call does the real work.
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
    """Blocked matrix multiply of two 2-D matrices, ``(M, K) @ (K, N) -> (M, N)``.

    Loop over tiles of the output rows (i), the output columns (j) and the
    shared dimension (k); multiply each pair of tiles with ``@`` and add the
    product into the output tile. The answer must equal ``a @ b`` for every
    tile size, including sizes that do not divide M, N or K (the last tile in
    each direction is smaller). Dtype: float32.

    Errors: raise ``ValueError`` if an input is not 2-D, if the inner
    dimensions differ, or if ``tile_size`` is not an integer of at least 1
    (0, -3 and 2.5 are all rejected).

    Hint: ``min(start + tile_size, length)`` gives the end of a tile; start the
    output as ``np.zeros((M, N), dtype=np.float32)``.
    """
    raise NotImplementedError("tiled_matmul: validate, then three nested tile loops that accumulate")


# ---------------------------------------------------------------------------
# Part 4: convolution as a matrix multiply (im2col)
# ---------------------------------------------------------------------------
# Sizes: for an input of height H, kernel k, stride s and padding p the output
# height is OH = (H + 2p - k) // s + 1 (the same for widths).

def im2col(x, kernel_size, stride=1, padding=0):
    """Copy every k x k receptive field of a batch of images into one row.

    Shapes: ``x`` is (N, C, H, W) (a Tensor or an ndarray); zero-pad H and W
    by ``padding`` on each side; the result is (N*OH*OW, C*k*k).

    Order matters: rows run over (image, output row, output column); within a
    row, columns run over (channel, kernel row, kernel column) -- the order of
    ``weight.reshape(out_channels, -1)``, so that
    ``im2col(x) @ weight.reshape(out_channels, -1).T`` is the convolution.

    Errors: raise ``ValueError`` for an input that is not 4-D, a
    ``kernel_size`` or ``stride`` under 1, a negative ``padding``, and a
    kernel larger than the padded image.

    Returns a Tensor or an ndarray (the grader reads either), float32.

    Hint: loop over the k*k kernel offsets (or use
    ``np.lib.stride_tricks.sliding_window_view``), never over output pixels.
    """
    raise NotImplementedError("im2col: pad, gather each window, order rows and columns as described")


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The reverse trip: add patch rows back onto an image of shape ``x_shape``.

    Shapes: ``cols`` is (N*OH*OW, C*k*k), laid out exactly as ``im2col``
    returns it; ``x_shape`` is (N, C, H, W); the result is (N, C, H, W).

    Every entry of ``cols`` goes back to the pixel it was copied from. Pixels
    covered by several patches receive the SUM of their entries (``+=``, not
    ``=``): this makes col2im the adjoint of im2col, which is what the
    backward pass of a convolution needs. Work on a zero-padded canvas and crop
    the padding at the end. Dtype: float32.

    Errors: the same ``ValueError`` rules as ``im2col`` for the shape and the
    kernel/stride/padding values.
    """
    raise NotImplementedError("col2im: scatter-add every patch onto a padded canvas, then crop")


def im2col_conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, like every deep-learning library) via im2col.

    Shapes: ``x`` is (N, C, H, W); ``weight`` is (OC, C, k, k); ``bias`` is
    (OC,) or None. The result is (N, OC, OH, OW), float32.

    Recipe: ``cols = im2col(x, k, stride, padding)``; one matmul with
    ``weight.reshape(OC, -1).T``; add ``bias[o]`` to every pixel of output
    channel ``o``; reshape the (N*OH*OW, OC) result to (N, OH, OW, OC) and move
    the channel axis forward.

    Errors: raise ``ValueError`` when ``x`` or ``weight`` is not 4-D ("4D" in
    the message) and when the weight's input channels differ from the image's.
    """
    raise NotImplementedError("im2col_conv2d: im2col, one matmul, bias per channel, reshape to NCHW")


class Im2colConv2dFunction(Function):
    """The convolution as an autograd node: a forward and a hand-written backward.

    TinyTorch drives it as ``Im2colConv2dFunction.apply(x, weight, bias,
    stride=2, padding=1)``: it makes an instance, sets every keyword argument
    as an attribute (``self.stride``, ``self.padding``), records
    ``self.inputs``, then calls ``forward`` with plain ndarrays. Later it calls
    ``backward`` with the gradient of the loss with respect to the output.
    """

    def forward(self, x, weight, bias=None):
        """Same result as ``im2col_conv2d`` for ndarrays x (N, C, H, W), weight (OC, C, k, k), bias (OC,) or None.

        Read the stride and padding from ``self.stride`` and ``self.padding``.
        Keep what backward will need on ``self`` (the im2col matrix, the
        weight, the input shape, whether there was a bias). Return an ndarray
        (N, OC, OH, OW), float32.
        """
        raise NotImplementedError("Im2colConv2dFunction.forward: im2col, matmul, save what backward needs")

    def backward(self, grad_output):
        """Gradients for ``grad_output`` (an ndarray shaped like the forward's output).

        Returns ``(grad_x, grad_weight)`` without a bias, or
        ``(grad_x, grad_weight, grad_bias)`` with one; each shaped like its
        input, float32.

        Hint: flatten ``grad_output`` to (N*OH*OW, OC) in im2col's row order.
        Then grad_weight is its transpose times the saved cols, grad_bias is a
        column sum, and grad_x is ``col2im`` of it times the flattened weight.
        """
        raise NotImplementedError("Im2colConv2dFunction.backward: three matrix products and one col2im")


if __name__ == "__main__":
    # Quick self-tests; the autograder runs many more.
    rng = np.random.default_rng(0)

    a = Tensor(rng.standard_normal((13, 7)))
    b = Tensor(rng.standard_normal((7, 5)))
    expected = a.data @ b.data
    assert np.allclose(_values(vectorized_matmul(a, b)), expected, atol=1e-4)
    for ts in (1, 4, 64):
        assert np.allclose(_values(tiled_matmul(a, b, tile_size=ts)), expected, atol=1e-4), ts

    x = Tensor(np.linspace(-4, 4, 101))
    g = _values(fused_gelu(x))
    assert g.dtype == np.float32, f"fused_gelu returned {g.dtype}, expected float32"
    assert np.allclose(g, _values(unfused_gelu(x)), atol=1e-6)

    # im2col of a 3x3 image with a 2x2 kernel: the four patches, row by row
    img = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    patches = _values(im2col(img, 2))
    assert np.array_equal(patches, [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]), patches
    # col2im of all-ones counts how many patches cover each pixel
    counts = _values(col2im(np.ones((4, 4), dtype=np.float32), (1, 1, 3, 3), 2))
    assert np.array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]]), counts

    # the convolution against a direct sum over kernel offsets
    imgs = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    out = _values(im2col_conv2d(Tensor(imgs), Tensor(weight), Tensor(bias), stride=1, padding=1))
    padded = np.pad(imgs, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = sum(np.einsum("nchw,oc->nohw", padded[:, :, i:i + 6, j:j + 6], weight[:, :, i, j])
                 for i in range(3) for j in range(3)) + bias[None, :, None, None]
    assert np.allclose(out, direct, atol=1e-4)

    # the Function, driven by hand the way apply() drives it
    fn = Im2colConv2dFunction.__new__(Im2colConv2dFunction)
    fn.stride, fn.padding = 1, 1
    assert np.allclose(_values(fn.forward(imgs, weight, bias)), direct, atol=1e-4)
    grads = fn.backward(np.ones_like(direct))
    assert len(grads) == 3 and np.allclose(_values(grads[2]), direct[0, 0].size * 2), "grad_bias"
    print("All self-tests passed.")
