"""A small numpy-backed ``Tensor`` that behaves like TinyTorch's for the Acceleration module.

Only stdlib and numpy are imported: this runs inside the sandbox worker.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Tensor", "Function"]


def _raw(value: Any) -> Any:
    """Operand for arithmetic: a Tensor's array, otherwise the value unchanged.

    Python scalars are left alone so NumPy 2's weak-scalar rule keeps float32
    results float32.
    """
    return value.data if isinstance(value, Tensor) else value


class Tensor:
    """A float32 ndarray plus TinyTorch's attribute names (``data``, ``shape``, ``grad``...).

    Like TinyTorch, construction always casts to float32, so arithmetic results
    wrapped back into a Tensor are float32 too.
    """

    # Makes ``ndarray <op> Tensor`` defer to Tensor's reflected operators, so a
    # mixed expression yields a Tensor rather than a bare ndarray.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data: np.ndarray = np.asarray(_raw(data), dtype=np.float32)
        self.requires_grad: bool = bool(requires_grad)
        self.grad: Tensor | None = None

    # Derived from ``data`` each time so they stay right if code reassigns ``.data``.
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> Tensor:
        return self.transpose()

    # -- numpy interop -----------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # Lets np.tanh(tensor), np.asarray(tensor) etc. work on the underlying data.
        # copy=None copies only when a dtype change forces it; copy=False then
        # raises, as NumPy 2's protocol expects.
        return np.array(self.data, dtype=dtype, copy=copy)

    def numpy(self) -> np.ndarray:
        return self.data

    # -- arithmetic ----------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return Tensor(self.data + _raw(other))

    def __radd__(self, other: Any) -> Tensor:
        return Tensor(_raw(other) + self.data)

    def __sub__(self, other: Any) -> Tensor:
        return Tensor(self.data - _raw(other))

    def __rsub__(self, other: Any) -> Tensor:
        return Tensor(_raw(other) - self.data)

    def __mul__(self, other: Any) -> Tensor:
        return Tensor(self.data * _raw(other))

    def __rmul__(self, other: Any) -> Tensor:
        return Tensor(_raw(other) * self.data)

    def __truediv__(self, other: Any) -> Tensor:
        return Tensor(self.data / _raw(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return Tensor(_raw(other) / self.data)

    def __pow__(self, exponent: Any) -> Tensor:
        return Tensor(self.data ** _raw(exponent))

    def __neg__(self) -> Tensor:
        return Tensor(-self.data)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return Tensor(np.matmul(_raw(other), self.data))

    def matmul(self, other: Any) -> Tensor:
        return Tensor(np.matmul(self.data, _raw(other)))

    # -- shape manipulation ---------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        # Accept both t.reshape(2, 3) and t.reshape((2, 3)), as TinyTorch does.
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor(self.data.reshape(shape), requires_grad=self.requires_grad)

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        # TinyTorch semantics: with no arguments swap the last two axes,
        # otherwise swap the two given axes.
        if self.data.ndim < 2:
            return Tensor(self.data.copy(), requires_grad=self.requires_grad)
        if dim0 is None and dim1 is None:
            dim0, dim1 = -2, -1
        elif dim0 is None or dim1 is None:
            raise ValueError("transpose needs both dim0 and dim1, or neither")
        return Tensor(np.swapaxes(self.data, dim0, dim1), requires_grad=self.requires_grad)

    # -- reductions ------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor(np.sum(self.data, axis=axis, keepdims=keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor(np.mean(self.data, axis=axis, keepdims=keepdims))

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor(np.max(self.data, axis=axis, keepdims=keepdims))

    # -- container protocol ------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key: Any) -> Tensor:
        return Tensor(self.data[_raw(key)])

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(data={np.array2string(self.data, precision=4)}, shape={self.shape}{grad})"

    def __str__(self) -> str:
        return f"Tensor({self.data})"

    def backward(self, gradient: Any = None) -> None:
        # Autograd is not part of this assignment; accept the call and do nothing
        # so code that calls it out of habit does not crash.
        return None


class Function:
    """Stub of TinyTorch's autograd ``Function`` base class.

    Older TinyTorch modules import it alongside Tensor; the Acceleration
    kernels graded here never run autograd, so only the shape of the API exists.
    """

    def __init__(self, *tensors: Any) -> None:
        self.saved_tensors: tuple[Any, ...] = tensors

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("autograd is not available in accelgrade's TinyTorch shim")

    def backward(self, grad_output: Any) -> Any:
        raise NotImplementedError("autograd is not available in accelgrade's TinyTorch shim")

    def apply(self, grad_output: Any) -> Any:
        return self.backward(grad_output)
