"""``tinytorch.core.activations``: element-wise activations on float32 arrays (forward only)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["GELU", "ReLU", "Sigmoid", "Tanh", "Softmax"]

_SQRT_2_OVER_PI = np.float32(np.sqrt(2.0 / np.pi))
_GELU_CUBIC = np.float32(0.044715)


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)


class _Activation:
    def forward(self, x: Any) -> Tensor:
        return Tensor(self._apply(_array(x)))

    def __call__(self, x: Any) -> Tensor:
        return self.forward(x)

    def _apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def parameters(self) -> list[Tensor]:
        return []


class GELU(_Activation):
    """Tanh approximation, float32 constants (no upcast)."""

    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)))


class ReLU(_Activation):
    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, np.float32(0.0))


class Sigmoid(_Activation):
    def _apply(self, x: np.ndarray) -> np.ndarray:
        # Split by sign so exp never overflows.
        out = np.empty_like(x)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        return out


class Tanh(_Activation):
    def _apply(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)


class Softmax(_Activation):
    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def _apply(self, x: np.ndarray) -> np.ndarray:
        shifted = np.exp(x - np.max(x, axis=self.dim, keepdims=True))
        return shifted / np.sum(shifted, axis=self.dim, keepdims=True)
