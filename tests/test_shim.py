"""The sandbox's TinyTorch shim: autograd Tensor, Function.apply both ways, and the core modules."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

SHIM = Path(__file__).resolve().parents[1] / "grader" / "sandbox" / "shim"


@pytest.fixture
def tt(monkeypatch):
    """The shim imported fresh from grader/sandbox/shim (never a real TinyTorch), forgotten afterwards."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(SHIM))
    for name in [m for m in sys.modules if m == "tinytorch" or m.startswith("tinytorch.")]:
        monkeypatch.delitem(sys.modules, name)
    import tinytorch.core.tensor as tensor

    assert Path(tensor.__file__).resolve().is_relative_to(SHIM.resolve())
    yield tensor
    for name in [m for m in sys.modules if m == "tinytorch" or m.startswith("tinytorch.")]:
        sys.modules.pop(name, None)


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at x, in float64."""
    x = x.astype(np.float64)
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (f(plus) - f(minus)) / (2 * eps)
    return grad


RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((1, 4)) + 2.0  # broadcast along rows, away from zero for division
M = RNG.standard_normal((4, 2))

# (name, the op on shim Tensors, the same op on float64 arrays, inputs): every gradient is
# checked against finite differences of the float64 version, per input.
CASES = [
    ("add broadcast", lambda a, b: a + b, lambda a, b: a + b, (A, B)),
    ("sub broadcast", lambda a, b: a - b, lambda a, b: a - b, (A, B)),
    ("rsub scalar", lambda a: 1.0 - a, lambda a: 1.0 - a, (A,)),
    ("mul broadcast", lambda a, b: a * b, lambda a, b: a * b, (A, B)),
    ("div broadcast", lambda a, b: a / b, lambda a, b: a / b, (A, B)),
    ("rdiv scalar", lambda b: 3.0 / b, lambda b: 3.0 / b, (B,)),
    ("neg", lambda a: -a, lambda a: -a, (A,)),
    ("pow 3", lambda a: a ** 3, lambda a: a ** 3, (A,)),
    ("matmul", lambda a, m: a @ m, lambda a, m: a @ m, (A, M)),
    ("batched matmul", lambda a, m: a.reshape(1, 3, 4) @ m, lambda a, m: a.reshape(1, 3, 4) @ m, (A, M)),
    ("sum axis 0", lambda a: a.sum(axis=0), lambda a: a.sum(axis=0), (A,)),
    ("mean keepdims", lambda a: a.mean(axis=1, keepdims=True), lambda a: a.mean(axis=1, keepdims=True), (A,)),
    ("reshape", lambda a: a.reshape(2, 6) * 2.0, lambda a: a.reshape(2, 6) * 2.0, (A,)),
    ("transpose", lambda a, m: a.transpose() * m, lambda a, m: a.T * m[:, :1], (A, M[:, :1])),
    ("chain", lambda a, m: ((a * a) @ m).mean(), lambda a, m: ((a * a) @ m).mean(), (A, M)),
]


@pytest.mark.parametrize(("name", "op", "op64", "inputs"), CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(tt, name, op, op64, inputs):
    g = RNG.standard_normal(np.shape(op64(*inputs)))
    tensors = [tt.Tensor(x, requires_grad=True) for x in inputs]
    out = op(*tensors)
    assert out.requires_grad and out._grad_fn is not None
    out.backward(g)
    for i, (t, x) in enumerate(zip(tensors, inputs)):
        def f(v, i=i):
            args = [v if j == i else np.asarray(y, np.float64) for j, y in enumerate(inputs)]
            return float(np.sum(op64(*args) * g))

        assert isinstance(t.grad, np.ndarray) and t.grad.dtype == np.float32
        np.testing.assert_allclose(t.grad, numeric_grad(f, np.asarray(x)), rtol=1e-3, atol=1e-4, err_msg=name)


def test_scalar_loss_needs_no_gradient_and_grads_accumulate(tt):
    x = tt.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0, 9.0])
    x.zero_grad()
    assert x.grad is None


def test_a_shared_subexpression_gets_both_paths(tt):
    x = tt.Tensor([2.0], requires_grad=True)
    y = x * x
    (y + y * 3.0).backward()
    np.testing.assert_allclose(x.grad, [16.0])  # d(4 x^2)/dx at 2


def test_nothing_is_recorded_without_requires_grad(tt):
    a, b = tt.Tensor(A), tt.Tensor(M)
    out = (a @ b) * 2.0 + 1.0
    assert out._grad_fn is None and not out.requires_grad
    out.backward()  # code that calls it out of habit does not crash
    assert a.grad is None
    mixed = a * tt.Tensor(A, requires_grad=True)
    assert mixed.requires_grad and mixed._grad_fn is not None


def test_a_deep_graph_does_not_hit_the_recursion_limit(tt):
    x = tt.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0])




def test_class_level_apply_drives_a_function_as_tinytorch_does(tt):
    seen = {}

    class Affine(tt.Function):
        def forward(self, x, w, b=None):
            seen["types"] = (type(x), type(w), b)
            seen["scale"] = self.scale
            self.x, self.w = x, w
            return self.scale * x @ w

        def backward(self, grad_output):
            return self.scale * grad_output @ self.w.T, self.scale * self.x.T @ grad_output  # 2 grads, 3 inputs

    x = tt.Tensor(A, requires_grad=True)
    w = tt.Tensor(M, requires_grad=True)
    out = Affine.apply(x, w, None, scale=2.0)
    assert seen["types"] == (np.ndarray, np.ndarray, None) and seen["scale"] == 2.0
    assert isinstance(out, tt.Tensor) and isinstance(out._grad_fn, Affine)
    assert out._grad_fn.inputs == (x, w, None)
    np.testing.assert_allclose(out.data, 2.0 * A @ M, rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 2.0 * np.ones((3, 2)) @ M.T, rtol=1e-5)
    np.testing.assert_allclose(w.grad, 2.0 * A.T @ np.ones((3, 2)), rtol=1e-5)
    # without inputs that require grad, nothing is recorded
    assert Affine.apply(tt.Tensor(A), tt.Tensor(M), scale=1.0)._grad_fn is None


def test_instance_apply_is_the_legacy_backward(tt):
    class Double(tt.Function):
        def backward(self, grad_output):
            return grad_output * 2

    fn = Double(tt.Tensor([1.0]))
    assert fn.saved_tensors[0].shape == (1,)
    np.testing.assert_allclose(fn.apply(np.array([3.0])), [6.0])


def test_a_hand_wired_legacy_node_backpropagates_through_its_apply(tt):
    class AddBackward(tt.Function):  # older TinyTorch style: gradients from apply, no backward
        def apply(self, grad_output):
            return grad_output, grad_output

    x = tt.Tensor([1.0, 2.0], requires_grad=True)
    y = tt.Tensor([3.0, 4.0], requires_grad=True)
    z = tt.Tensor(x.data + y.data, requires_grad=True)
    z._grad_fn = AddBackward(x, y)
    (z * z).sum().backward()
    np.testing.assert_allclose(x.grad, [8.0, 12.0])
    np.testing.assert_allclose(y.grad, [8.0, 12.0])


def test_core_modules_import_and_compute(tt):
    from tinytorch.core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh
    from tinytorch.core.autograd import Function, enable_autograd
    from tinytorch.core.layers import Layer, Linear
    from tinytorch.perf.profiling import Profiler
    from tinytorch.profiling.profiler import Profiler as OldProfiler

    assert Function is tt.Function and enable_autograd() is None and OldProfiler is Profiler
    x = np.linspace(-4, 4, 9, dtype=np.float32)
    x64 = x.astype(np.float64)
    gelu = GELU()(tt.Tensor(x))
    assert gelu.dtype == np.float32
    np.testing.assert_allclose(gelu.data, 0.5 * x64 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64**3))),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(Sigmoid()(np.array([-1000.0, 0.0, 1000.0])).data, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(Tanh()(x).data, np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(Softmax()(np.array([[1.0, 1.0], [0.0, 1000.0]])).data, [[0.5, 0.5], [0.0, 1.0]])
    layer = Linear(4, 2)
    assert isinstance(layer, Layer) and len(layer.parameters()) == 2
    assert not np.array_equal(Linear(4, 2).weight.data, layer.weight.data)  # layers start distinct
    np.testing.assert_array_equal(Linear(4, 2, seed=3).weight.data, Linear(4, 2, seed=3).weight.data)
    y = layer(tt.Tensor(A))
    np.testing.assert_allclose(y.data, A @ layer.weight.data + layer.bias.data, rtol=1e-5, atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad, A.T @ np.ones((3, 2)), rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, [3.0, 3.0])


def conv64(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    oc, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    out = np.zeros((n, oc, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return out + (b[None, :, None, None] if b is not None else 0)


@pytest.mark.parametrize(("stride", "padding", "bias"), [(1, 0, True), (2, 1, True), (1, 1, False)])
def test_conv2d_forward_and_gradients(tt, stride, padding, bias):
    from tinytorch.core.spatial import Conv2d

    conv = Conv2d(2, 3, 3, stride=stride, padding=padding, bias=bias)
    if bias:
        conv.bias.data[:] = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x = RNG.standard_normal((2, 2, 5, 6)).astype(np.float32)
    w = conv.weight.data.astype(np.float64)
    b = conv.bias.data.astype(np.float64) if bias else None
    xt = tt.Tensor(x, requires_grad=True)
    out = conv(xt)
    expected = conv64(x.astype(np.float64), w, b, stride, padding)
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)
    g = RNG.standard_normal(expected.shape)
    out.backward(g)
    np.testing.assert_allclose(xt.grad, numeric_grad(lambda v: float(np.sum(conv64(v, w, b, stride, padding) * g)), x),
                               rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(conv.weight.grad,
                               numeric_grad(lambda v: float(np.sum(conv64(x, v, b, stride, padding) * g)), w),
                               rtol=1e-3, atol=1e-4)
    if bias:
        np.testing.assert_allclose(conv.bias.grad, g.sum(axis=(0, 2, 3)), rtol=1e-4)


def test_maxpool2d(tt):
    from tinytorch.core.spatial import MaxPool2d

    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(MaxPool2d(2)(x).data, [[[[5, 7], [13, 15]]]])
    assert MaxPool2d(2, stride=1)(x).shape == (1, 1, 3, 3)
