"""Reference implementation of TinyTorch 2026's im2col family (convolution as one matmul).

Like the other reference files this runs standalone inside the sandbox worker, concatenated with
them into one module: it imports only numpy and the tinytorch shim, and its private helpers are
all prefixed ``_conv_`` so they cannot clash with the other files' helpers.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np
from tinytorch.core.tensor import Function, Tensor

__all__ = ["im2col", "col2im", "im2col_conv2d", "Im2colConv2dFunction", "naive_conv2d"]


def _conv_array(x: Any) -> np.ndarray:
    """The float32 ndarray behind an ndarray, a Tensor or anything array-like."""
    # ndarray first: ndarray.data is a memoryview, not the array itself.
    if not isinstance(x, np.ndarray):
        inner = getattr(x, "data", None)
        x = inner if isinstance(inner, np.ndarray) else np.asarray(x)
    return np.asarray(x, dtype=np.float32)


def _conv_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as a Python int, or ValueError if it is not an integer >= ``minimum``."""
    # bool is an int subclass, but stride=True is a mistake rather than a stride of 1.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {number}")
    return number


def _conv_geometry(shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any) -> tuple[int, ...]:
    """Validated (k, s, p, OH, OW) for an (N, C, H, W) input, or ValueError."""
    k = _conv_int("kernel_size", kernel_size, 1)
    s = _conv_int("stride", stride, 1)
    p = _conv_int("padding", padding, 0)
    height, width = shape[2] + 2 * p, shape[3] + 2 * p
    if k > height or k > width:
        raise ValueError(
            f"kernel_size {k} does not fit the padded input: {shape[2]}x{shape[3]} with padding {p} "
            f"is {height}x{width}"
        )
    return k, s, p, (height - k) // s + 1, (width - k) // s + 1


def _conv_require_4d(name: str, arr: np.ndarray) -> None:
    """ValueError unless ``arr`` is 4-D."""
    if arr.ndim != 4:
        raise ValueError(f"{name} must be a 4D array (N, C, H, W); got {arr.ndim}-D shape {arr.shape}")


def _conv_im2col(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """im2col on a validated float32 (N, C, H, W) array, returning the ndarray."""
    n, c = x.shape[:2]
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    # A strided view of every k x k window (no copy); stepping it by s keeps exactly OH x OW.
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    oh, ow = windows.shape[2:4]
    # The reshape of the transposed view is the one copy: rows (n, oh, ow), columns (c, ki, kj).
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k)


def _conv_col2im(cols: np.ndarray, x_shape: tuple[int, ...], k: int, s: int, p: int,
                 oh: int, ow: int) -> np.ndarray:
    """col2im on validated float32 columns, returning the (N, C, H, W) ndarray."""
    n, c, h, w = x_shape
    patches = cols.reshape(n, oh, ow, c, k, k).transpose(0, 3, 4, 5, 1, 2)  # (n, c, ki, kj, oh, ow)
    padded = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=np.float32)
    # One kernel offset at a time: within an offset every output pixel lands on a distinct input
    # pixel, so the slice += is safe, and overlaps between offsets accumulate across iterations.
    for ki in range(k):
        for kj in range(k):
            padded[:, :, ki:ki + s * (oh - 1) + 1:s, kj:kj + s * (ow - 1) + 1:s] += patches[:, :, ki, kj]
    return padded[:, :, p:p + h, p:p + w]


def _conv_operands(x: Any, weight: Any, bias: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validated float32 (x, weight, bias) for a convolution, or ValueError."""
    x_arr, w_arr = _conv_array(x), _conv_array(weight)
    _conv_require_4d("x", x_arr)
    _conv_require_4d("weight", w_arr)
    out_ch, in_ch, kh, kw = w_arr.shape
    if kh != kw:
        raise ValueError(f"weight must have a square kernel; got {kh}x{kw} (weight shape {w_arr.shape})")
    if in_ch != x_arr.shape[1]:
        raise ValueError(
            f"weight expects {in_ch} input channels but x has {x_arr.shape[1]} channels "
            f"(x shape {x_arr.shape}, weight shape {w_arr.shape})"
        )
    b_arr = None
    if bias is not None:
        b_arr = _conv_array(bias)
        if b_arr.shape != (out_ch,):
            raise ValueError(f"bias must have shape ({out_ch},), one per output channel; got {b_arr.shape}")
    return x_arr, w_arr, b_arr


def _conv_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                  stride: Any, padding: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """(output NCHW, im2col columns, geometry) for validated operands."""
    out_ch, _, k, _ = weight.shape
    geometry = _conv_geometry(x.shape, k, stride, padding)
    _, s, p, oh, ow = geometry
    cols = _conv_im2col(x, k, s, p)
    out = cols @ weight.reshape(out_ch, -1).T
    if bias is not None:
        out += bias
    out = out.reshape(x.shape[0], oh, ow, out_ch).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out), cols, geometry


# ---------------------------------------------------------------------------
# The student API
# ---------------------------------------------------------------------------


def im2col(x: Any, kernel_size: int, stride: int = 1, padding: int = 0) -> Tensor:
    """Unfold every k x k patch of (N, C, H, W) input into one row of an (N*OH*OW, C*k*k) matrix."""
    arr = _conv_array(x)
    _conv_require_4d("x", arr)
    k, s, p, _, _ = _conv_geometry(arr.shape, kernel_size, stride, padding)
    return Tensor(_conv_im2col(arr, k, s, p))


def col2im(cols: Any, x_shape: Any, kernel_size: int, stride: int = 1, padding: int = 0) -> Tensor:
    """The adjoint of im2col: add every column entry back onto the input pixel it was copied from."""
    cols_arr = _conv_array(cols)
    dims = tuple(x_shape)
    if len(dims) != 4:
        raise ValueError(f"x_shape must be a 4D shape (N, C, H, W); got {dims!r}")
    dims = tuple(_conv_int("x_shape entry", d, 0) for d in dims)
    k, s, p, oh, ow = _conv_geometry(dims, kernel_size, stride, padding)
    expected = (dims[0] * oh * ow, dims[1] * k * k)
    if cols_arr.shape != expected:
        raise ValueError(
            f"cols shape {cols_arr.shape} does not match the {expected} im2col gives for x_shape "
            f"{dims} with kernel_size={k}, stride={s}, padding={p}"
        )
    return Tensor(_conv_col2im(cols_arr, dims, k, s, p, oh, ow))


def im2col_conv2d(x: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) as im2col followed by one matmul."""
    x_arr, w_arr, b_arr = _conv_operands(x, weight, bias)
    out, _, _ = _conv_forward(x_arr, w_arr, b_arr, stride, padding)
    return Tensor(out)


class Im2colConv2dFunction(Function):
    """Autograd function for im2col convolution; stride and padding arrive as attributes."""

    def forward(self, x: Any, weight: Any, bias: Any = None) -> np.ndarray:
        """The convolution's (N, OC, OH, OW) float32 output, keeping what backward needs."""
        x_arr, w_arr, b_arr = _conv_operands(x, weight, bias)
        out, cols, geometry = _conv_forward(
            x_arr, w_arr, b_arr, getattr(self, "stride", 1), getattr(self, "padding", 0)
        )
        self._cols, self._weight, self._x_shape = cols, w_arr, x_arr.shape
        self._geometry, self._has_bias, self._out_shape = geometry, b_arr is not None, out.shape
        return out

    def backward(self, grad_output: Any) -> tuple[np.ndarray, ...]:
        """(grad_x, grad_weight), plus grad_bias when forward had a bias."""
        if not hasattr(self, "_cols"):
            raise RuntimeError("Im2colConv2dFunction.backward called before forward")
        grad = _conv_array(grad_output)
        if grad.shape != self._out_shape:
            raise ValueError(f"grad_output shape {grad.shape} does not match the output shape {self._out_shape}")
        out_ch = self._weight.shape[0]
        k, s, p, oh, ow = self._geometry
        grad_rows = grad.transpose(0, 2, 3, 1).reshape(-1, out_ch)  # same row order as the columns
        grad_weight = (grad_rows.T @ self._cols).reshape(self._weight.shape)
        grad_cols = grad_rows @ self._weight.reshape(out_ch, -1)
        grad_x = _conv_col2im(grad_cols, self._x_shape, k, s, p, oh, ow)
        if self._has_bias:
            return grad_x, grad_weight, grad_rows.sum(axis=0)
        return grad_x, grad_weight


def naive_conv2d(x: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> Tensor:
    """Direct convolution, one numpy inner product per output element: the im2col speed baseline."""
    x_arr, w_arr, b_arr = _conv_operands(x, weight, bias)
    out_ch, _, k, _ = w_arr.shape
    _, s, p, oh, ow = _conv_geometry(x_arr.shape, k, stride, padding)
    padded = np.pad(x_arr, ((0, 0), (0, 0), (p, p), (p, p))) if p else x_arr
    kernels = w_arr.reshape(out_ch, -1)
    out = np.empty((x_arr.shape[0], out_ch, oh, ow), dtype=np.float32)
    # Deliberately unvectorised over filters too: the baseline has to be the textbook loop, so
    # that a speedup over it measures vectorisation rather than a partly vectorised rival.
    for image in range(x_arr.shape[0]):
        for i in range(oh):
            for j in range(ow):
                patch = padded[image, :, i * s:i * s + k, j * s:j * s + k].reshape(-1)
                for channel in range(out_ch):
                    out[image, channel, i, j] = np.dot(kernels[channel], patch)
    if b_arr is not None:
        out += b_arr[:, None, None]
    return Tensor(out)
