"""``tinytorch.core.autograd``: where later TinyTorch modules import ``Function`` from.

The shim's Tensor records its graph itself, so ``enable_autograd()`` has nothing to switch on.
"""
from __future__ import annotations

from .tensor import Function, Tensor

__all__ = ["Function", "Tensor", "enable_autograd"]


def enable_autograd() -> None:
    """Accepted for compatibility: autograd is always on in the shim."""
    return None
