"""``tinytorch.core.layers``: the layer base class and a dense layer, enough for notebooks to import."""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["Layer", "Linear"]

# Deterministic but distinct initial weights: each new layer takes the next seed, so two layers of
# one shape do not start identical.
_SEEDS = itertools.count()


def next_seed() -> int:
    return next(_SEEDS)


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Layer:
    """Callable module: ``layer(x)`` is ``layer.forward(x)``; ``parameters()`` lists what trains."""

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.forward(*args, **kwargs)

    def parameters(self) -> list[Tensor]:
        return []


class Linear(Layer):
    """``y = x @ weight + bias`` with weight (in, out), initialised deterministically at 1/sqrt(in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed: int | None = None) -> None:
        rng = np.random.default_rng(next_seed() if seed is None else seed)
        scale = 1.0 / np.sqrt(max(1, in_features))
        self.in_features, self.out_features = in_features, out_features
        self.weight = Tensor(rng.uniform(-scale, scale, (in_features, out_features)), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True) if bias else None

    def forward(self, x: Any) -> Tensor:
        out = _tensor(x) @ self.weight
        return out + self.bias if self.bias is not None else out

    def parameters(self) -> list[Tensor]:
        return [self.weight] + ([self.bias] if self.bias is not None else [])

    def __repr__(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"
