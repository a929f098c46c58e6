"""A small numpy-backed ``Tensor`` that behaves like TinyTorch's autograd-era one.

``requires_grad``, ``grad`` (a float32 ndarray, accumulating), ``_grad_fn`` and ``backward()``
work through + - * / neg pow matmul sum mean reshape transpose, and through ``Function``
subclasses driven by ``Function.apply``, as TinyTorch's own modules drive them. When nothing
requires grad no graph is recorded, so timed kernels pay one check per operation.

Only stdlib and numpy are imported: this runs inside the sandbox worker.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["Tensor", "Function"]


def _raw(value: Any) -> Any:
    """Operand for arithmetic: a Tensor's array, otherwise the value unchanged.

    Python scalars are left alone so NumPy 2's weak-scalar rule keeps float32
    results float32.
    """
    return value.data if isinstance(value, Tensor) else value


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient back down to the shape of the operand that was broadcast."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class _Op:
    """A recorded operation: its operands and how an output gradient becomes theirs.

    ``Function`` instances offer the same two things (``inputs``, ``backward``), so the graph
    walk in ``Tensor.backward`` treats both alike.
    """

    __slots__ = ("inputs", "_backward")

    def __init__(self, inputs: tuple[Any, ...], backward: Callable[[np.ndarray], tuple[Any, ...]]) -> None:
        self.inputs = inputs
        self._backward = backward

    def backward(self, grad_output: np.ndarray) -> tuple[Any, ...]:
        return self._backward(grad_output)


def _needs_grad(operands: tuple[Any, ...]) -> bool:
    return any(isinstance(o, Tensor) and o.requires_grad for o in operands)


def _result(data: Any, operands: tuple[Any, ...], backward: Callable[[np.ndarray], tuple[Any, ...]]) -> Tensor:
    out = Tensor(data)
    if _needs_grad(operands):
        out.requires_grad = True
        out._grad_fn = _Op(operands, backward)
    return out


def _matmul_grads(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # 1-D operands are promoted as np.matmul promotes them, then the added axis is dropped again.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
    gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
    ga = _unbroadcast(ga, a2.shape)
    gb = _unbroadcast(gb, b2.shape)
    return ga.reshape(a.shape), gb.reshape(b.shape)


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
        self.grad: np.ndarray | None = None
        self._grad_fn: Any = None  # the operation or Function that made this tensor

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

    # -- differentiable arithmetic -------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _result(self.data + _raw(other), (self, other), lambda g: (g, g))

    def __radd__(self, other: Any) -> Tensor:
        return _result(_raw(other) + self.data, (other, self), lambda g: (g, g))

    def __sub__(self, other: Any) -> Tensor:
        return _result(self.data - _raw(other), (self, other), lambda g: (g, -g))

    def __rsub__(self, other: Any) -> Tensor:
        return _result(_raw(other) - self.data, (other, self), lambda g: (g, -g))

    def __mul__(self, other: Any) -> Tensor:
        a, b = self.data, _raw(other)
        return _result(a * b, (self, other), lambda g: (g * b, g * a))

    def __rmul__(self, other: Any) -> Tensor:
        return self.__mul__(other)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self.data, _raw(other)
        return _result(a / b, (self, other), lambda g: (g / b, -g * a / (b * b)))

    def __rtruediv__(self, other: Any) -> Tensor:
        a, b = _raw(other), self.data
        return _result(a / b, (other, self), lambda g: (g / b, -g * a / (b * b)))

    def __pow__(self, exponent: Any) -> Tensor:
        a, p = self.data, _raw(exponent)
        return _result(a ** p, (self,), lambda g: (g * p * a ** (p - 1),))

    def __neg__(self) -> Tensor:
        return _result(-self.data, (self,), lambda g: (-g,))

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        a, b = np.asarray(_raw(other)), self.data
        return _result(np.matmul(a, b), (other, self), lambda g: _matmul_grads(a, b, g))

    def matmul(self, other: Any) -> Tensor:
        a, b = self.data, np.asarray(_raw(other))
        return _result(np.matmul(a, b), (self, other), lambda g: _matmul_grads(a, b, g))

    # -- shape manipulation ---------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        # Accept both t.reshape(2, 3) and t.reshape((2, 3)), as TinyTorch does.
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        before = self.data.shape
        return _result(self.data.reshape(shape), (self,), lambda g: (g.reshape(before),))

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        # TinyTorch semantics: with no arguments swap the last two axes,
        # otherwise swap the two given axes.
        if self.data.ndim < 2:
            return _result(self.data.copy(), (self,), lambda g: (g,))
        if dim0 is None and dim1 is None:
            dim0, dim1 = -2, -1
        elif dim0 is None or dim1 is None:
            raise ValueError("transpose needs both dim0 and dim1, or neither")
        return _result(np.swapaxes(self.data, dim0, dim1), (self,), lambda g: (np.swapaxes(g, dim0, dim1),))

    # -- reductions ------------------------------------------------------------
    def _spread(self, g: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        """A reduction's output gradient, broadcast back over the axes it reduced."""
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)
        return np.broadcast_to(g, self.data.shape).copy()

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _result(np.sum(self.data, axis=axis, keepdims=keepdims), (self,),
                       lambda g: (self._spread(g, axis, keepdims),))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        out = np.mean(self.data, axis=axis, keepdims=keepdims)
        count = self.data.size / max(1, np.size(out))  # elements averaged into each output
        return _result(out, (self,), lambda g: (self._spread(g, axis, keepdims) / np.float32(count),))

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor(np.max(self.data, axis=axis, keepdims=keepdims))  # not differentiable here

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

    # -- autograd -----------------------------------------------------------------
    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, gradient: Any = None) -> None:
        """Reverse-mode: every leaf that requires grad gets d(self)/d(leaf) added to ``.grad``.

        ``gradient`` defaults to ones of this tensor's shape (a scalar loss needs none).
        """
        if not self.requires_grad and self._grad_fn is None:
            return  # nothing was recorded: code that calls backward() out of habit must not crash
        seed = np.ones_like(self.data) if gradient is None else np.asarray(_raw(gradient), dtype=np.float32)
        order = self._topological()
        grads: dict[int, np.ndarray] = {id(self): np.broadcast_to(seed, self.data.shape).astype(np.float32)}
        for tensor in reversed(order):
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            node = tensor._grad_fn
            if node is None:  # a leaf
                if tensor.requires_grad:
                    tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g
                continue
            # A Function's instance apply is its backward, unless older code wired the node by hand
            # and overrode apply instead (z._grad_fn = AddBackward(x, y)).
            raw = node.apply(g) if isinstance(node, Function) else node.backward(g)
            parts = raw if isinstance(raw, (tuple, list)) else (raw,)
            for operand, part in zip(node.inputs, parts):
                if part is None or not isinstance(operand, Tensor) or not operand.requires_grad:
                    continue
                part = _unbroadcast(np.asarray(_raw(part), dtype=np.float32), operand.data.shape)
                key = id(operand)
                grads[key] = grads[key] + part if key in grads else part

    def _topological(self) -> list[Tensor]:
        """Tensors of the graph, each after every tensor it was computed from (iterative DFS)."""
        order: list[Tensor] = []
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:
            tensor, expanded = stack.pop()
            if expanded:
                order.append(tensor)
                continue
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            stack.append((tensor, True))
            node = tensor._grad_fn
            for operand in (getattr(node, "inputs", ()) if node is not None else ()):
                if isinstance(operand, Tensor) and id(operand) not in seen:
                    stack.append((operand, False))
        return order


class _Apply:
    """``Function.apply``, both ways TinyTorch code calls it.

    On the class (``Conv.apply(x, w, b, stride=2)``, the autograd era): a new instance whose
    keyword arguments become attributes and whose ``inputs`` are the inputs, ``forward`` on
    their arrays, and a result that remembers the instance as its ``_grad_fn``. On an instance
    (older modules, ``fn.apply(grad_output)``): that instance's ``backward``.
    """

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        if instance is not None:
            return instance.backward
        return lambda *inputs, **kwargs: _apply_class(owner, inputs, kwargs)


def _apply_class(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    try:
        fn = cls()
    except TypeError:  # a subclass whose __init__ wants arguments: build it bare
        fn = cls.__new__(cls)
    for name, value in kwargs.items():
        setattr(fn, name, value)
    fn.inputs = inputs
    out = Tensor(_raw(fn.forward(*(_raw(i) for i in inputs))))
    if _needs_grad(inputs):
        out.requires_grad = True
        out._grad_fn = fn
    return out


class Function:
    """TinyTorch's autograd ``Function``: subclasses define ``forward`` on arrays and ``backward``.

    ``backward(grad_output)`` returns one gradient per input (a tuple; fewer entries, or None,
    mean no gradient for the rest).
    """

    apply = _Apply()

    def __init__(self, *tensors: Any) -> None:
        self.saved_tensors: tuple[Any, ...] = tensors
        self.inputs: tuple[Any, ...] = tensors

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, grad_output: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")
