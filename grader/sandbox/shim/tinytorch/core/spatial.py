"""``tinytorch.core.spatial``: 2-D convolution (with autograd) and max pooling, NCHW."""
from __future__ import annotations

from typing import Any

import numpy as np

from .layers import Layer, next_seed
from .tensor import Function, Tensor

__all__ = ["Conv2d", "MaxPool2d"]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)


def _windows(xp: np.ndarray, k: int, stride: int) -> np.ndarray:
    """(N, C, OH, OW, k, k): a strided view of every k x k window of an already padded input."""
    view = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


class _ConvFunction(Function):
    """Forward by patches and one matmul; backward scatters the patch gradients back."""

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
        stride, padding = getattr(self, "stride", 1), getattr(self, "padding", 0)
        n, c = x.shape[:2]
        oc, _, k, _ = weight.shape
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        win = _windows(xp, k, stride)
        oh, ow = win.shape[2:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k)
        out = cols @ weight.reshape(oc, -1).T
        if bias is not None:
            out = out + bias
        self._saved = (cols, weight, xp.shape, x.shape, oh, ow, bias is not None)
        return out.reshape(n, oh, ow, oc).transpose(0, 3, 1, 2)

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray, ...]:
        cols, weight, padded, shape, oh, ow, has_bias = self._saved
        stride, padding = getattr(self, "stride", 1), getattr(self, "padding", 0)
        n, c = shape[:2]
        oc, _, k, _ = weight.shape
        g = grad_output.transpose(0, 2, 3, 1).reshape(n * oh * ow, oc)
        grad_w = (g.T @ cols).reshape(weight.shape)
        patches = (g @ weight.reshape(oc, -1)).reshape(n, oh, ow, c, k, k)
        gxp = np.zeros(padded, dtype=np.float32)
        for i in range(k):
            for j in range(k):
                gxp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += patches[..., i, j].transpose(0, 3, 1, 2)
        grad_x = gxp[:, :, padding:padded[2] - padding, padding:padded[3] - padding]
        if has_bias:
            return grad_x, grad_w, g.sum(axis=0)
        return grad_x, grad_w


class Conv2d(Layer):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, seed: int | None = None) -> None:
        rng = np.random.default_rng(next_seed() if seed is None else seed)
        scale = 1.0 / np.sqrt(max(1, in_channels * kernel_size * kernel_size))
        self.stride, self.padding, self.kernel_size = stride, padding, kernel_size
        self.weight = Tensor(rng.uniform(-scale, scale, (out_channels, in_channels, kernel_size, kernel_size)),
                             requires_grad=True)
        self.bias = Tensor(np.zeros(out_channels), requires_grad=True) if bias else None

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return _ConvFunction.apply(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def parameters(self) -> list[Tensor]:
        return [self.weight] + ([self.bias] if self.bias is not None else [])


class MaxPool2d(Layer):
    """Max over k x k windows (stride defaults to k); forward only."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size

    def forward(self, x: Any) -> Tensor:
        return Tensor(_windows(_array(x), self.kernel_size, self.stride).max(axis=(-2, -1)))
