"""The reference im2col family (TinyTorch 2026) against independent float64 loops.

Every expected value here is computed directly (hand-written patches, loops over output pixels,
finite differences), never from the reference's own helpers.
"""
from __future__ import annotations

import itertools
import sys
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "grader" / "sandbox" / "shim"))

import reference  # noqa: E402
from reference import Im2colConv2dFunction, col2im, im2col, im2col_conv2d, naive_conv2d  # noqa: E402
from reference import convolution as conv_module  # noqa: E402

NEW_NAMES = ("im2col", "col2im", "im2col_conv2d", "Im2colConv2dFunction", "naive_conv2d")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2026)


def _out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _pad64(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (p, p), (p, p)))


def _im2col_loop(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """One row per (image, output row, output column), entries in (channel, ki, kj) order."""
    n, c, h, w = x.shape
    xp = _pad64(x, p)
    rows = []
    for b in range(n):
        for i in range(_out(h, k, s, p)):
            for j in range(_out(w, k, s, p)):
                rows.append([xp[b, ch, i * s + ki, j * s + kj]
                             for ch in range(c) for ki in range(k) for kj in range(k)])
    return np.array(rows, dtype=np.float64).reshape(-1, c * k * k)


def _conv_loop(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, s: int, p: int) -> np.ndarray:
    """Direct float64 convolution: a sum over (channel, ki, kj) for every output element."""
    n, c, h, w = x.shape
    oc, _, k, _ = weight.shape
    xp, w64 = _pad64(x, p), np.asarray(weight, dtype=np.float64)
    oh, ow = _out(h, k, s, p), _out(w, k, s, p)
    out = np.zeros((n, oc, oh, ow))
    for ki in range(k):
        for kj in range(k):
            window = xp[:, :, ki:ki + s * (oh - 1) + 1:s, kj:kj + s * (ow - 1) + 1:s]  # (n, c, oh, ow)
            out += np.einsum("nchw,oc->nohw", window, w64[:, :, ki, kj])
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out


def _is_tensor(value: object) -> bool:
    # The reference's own Tensor class: another test may re-import the shim under a new identity.
    return isinstance(value, conv_module.Tensor)


# --- im2col ------------------------------------------------------------------------------


def test_im2col_hand_patches():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    cols = im2col(x, 2)
    assert _is_tensor(cols) and cols.data.dtype == np.float32
    expected = np.array([[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]], dtype=np.float32)
    np.testing.assert_array_equal(cols.data, expected)


def test_im2col_hand_patches_padded_and_strided():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    # padding 1, stride 2 on a 3x3 image: windows at padded offsets 0 and 2 of the 5x5 padded image
    expected = np.array([[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 0, 7], [5, 6, 8, 9]], dtype=np.float32)
    np.testing.assert_array_equal(im2col(x, 2, stride=2, padding=1).data, expected)


GRID = list(itertools.product((1, 2, 3), (1, 2), (0, 1), (1, 3), (1, 2)))


@pytest.mark.parametrize("k, s, p, c, n", GRID)
def test_im2col_matches_direct_loop(rng, k, s, p, c, n):
    x = rng.standard_normal((n, c, 5, 4)).astype(np.float32)
    cols = im2col(x, k, stride=s, padding=p)
    expected = _im2col_loop(x, k, s, p)
    assert cols.shape == (n * _out(5, k, s, p) * _out(4, k, s, p), c * k * k)
    np.testing.assert_array_equal(cols.data, expected.astype(np.float32))


def test_im2col_accepts_tensor_and_float64(rng):
    x = rng.standard_normal((2, 2, 4, 4))
    from_tensor = im2col(conv_module.Tensor(x), 3, padding=1)
    from_float64 = im2col(x, 3, padding=1)
    assert from_float64.data.dtype == np.float32
    np.testing.assert_array_equal(from_tensor.data, from_float64.data)


def test_im2col_then_matmul_is_the_convolution(rng):
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out = im2col(x, 3, padding=1).data @ weight.reshape(4, -1).T  # (n*oh*ow, oc)
    out = out.reshape(2, 6, 5, 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, _conv_loop(x, weight, None, 1, 1), rtol=1e-4, atol=1e-4)


# --- col2im ------------------------------------------------------------------------------


@pytest.mark.parametrize("k, s, p", [(1, 1, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (2, 2, 0), (3, 2, 2)])
def test_col2im_is_the_adjoint_of_im2col(rng, k, s, p):
    shape = (2, 3, 6, 5)
    x = rng.standard_normal(shape).astype(np.float32)
    rows = 2 * _out(6, k, s, p) * _out(5, k, s, p)
    y = rng.standard_normal((rows, 3 * k * k)).astype(np.float32)
    back = col2im(y, shape, k, stride=s, padding=p)
    assert _is_tensor(back) and back.shape == shape and back.data.dtype == np.float32
    lhs = np.sum(im2col(x, k, stride=s, padding=p).data.astype(np.float64) * y.astype(np.float64))
    rhs = np.sum(x.astype(np.float64) * back.data.astype(np.float64))
    assert lhs == pytest.approx(rhs, rel=1e-5, abs=1e-4)


def test_col2im_accumulates_overlaps():
    # 3x3 kernel, stride 1, no padding on 4x4: the number of windows covering each pixel
    cols = np.ones((2 * 2 * 2, 1 * 9), dtype=np.float32)
    counts = col2im(cols, (2, 1, 4, 4), 3).data
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], dtype=np.float32)
    np.testing.assert_array_equal(counts, np.broadcast_to(expected, (2, 1, 4, 4)))


def test_col2im_crops_padding_and_skips_strided_gaps():
    # 2x2 kernel, stride 2, padding 1 on 3x3: windows are disjoint, every pixel covered once
    counts = col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, stride=2, padding=1).data
    np.testing.assert_array_equal(counts, np.ones((1, 1, 3, 3), dtype=np.float32))
    # 1x1 kernel, stride 2: only the even pixels are ever read, so only they get gradient
    counts = col2im(np.ones((4, 1)), (1, 1, 3, 3), 1, stride=2).data[0, 0]
    np.testing.assert_array_equal(counts, [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


# --- im2col_conv2d and naive_conv2d --------------------------------------------------------


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("s, p", [(1, 0), (1, 1), (2, 1)])
def test_im2col_conv2d_matches_direct_convolution(rng, with_bias, s, p):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32) if with_bias else None
    out = im2col_conv2d(x, weight, bias, stride=s, padding=p)
    assert _is_tensor(out) and out.data.dtype == np.float32
    expected = _conv_loop(x, weight, bias, s, p)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-4)


def test_im2col_conv2d_accepts_tensors(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    weight = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    T = conv_module.Tensor
    out = im2col_conv2d(T(x), T(weight), T(bias), stride=2, padding=1)
    np.testing.assert_array_equal(out.data, im2col_conv2d(x, weight, bias, stride=2, padding=1).data)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("k, s, p", [(1, 1, 0), (3, 1, 1), (3, 2, 1), (2, 2, 0)])
def test_naive_conv2d_equals_im2col_conv2d(rng, with_bias, k, s, p):
    x = rng.standard_normal((2, 3, 6, 7)).astype(np.float32)
    weight = rng.standard_normal((4, 3, k, k)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32) if with_bias else None
    naive = naive_conv2d(x, weight, bias, stride=s, padding=p)
    assert _is_tensor(naive) and naive.data.dtype == np.float32
    fast = im2col_conv2d(x, weight, bias, stride=s, padding=p)
    np.testing.assert_allclose(naive.data, fast.data, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(naive.data, _conv_loop(x, weight, bias, s, p), rtol=1e-4, atol=1e-4)


# --- Im2colConv2dFunction -------------------------------------------------------------------


def _function(stride: int, padding: int) -> Im2colConv2dFunction:
    fn = Im2colConv2dFunction()
    fn.stride, fn.padding = stride, padding
    return fn


def _numeric_grad(f, value: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at float64 ``value``."""
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        saved = value[index]
        value[index] = saved + eps
        up = f()
        value[index] = saved - eps
        down = f()
        value[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("s, p", [(1, 0), (1, 1), (2, 1)])
def test_function_gradients_match_finite_differences(rng, s, p):
    x = rng.standard_normal((2, 2, 4, 5))
    weight = rng.standard_normal((3, 2, 3, 3))
    bias = rng.standard_normal(3)
    fn = _function(s, p)
    out = fn.forward(x, weight, bias)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, _conv_loop(x, weight, bias, s, p), rtol=1e-4, atol=1e-4)
    upstream = rng.standard_normal(out.shape)  # loss = <upstream, conv(x, weight, bias)>
    grads = fn.backward(upstream.astype(np.float32))
    assert len(grads) == 3

    def loss() -> float:
        return float(np.sum(upstream * _conv_loop(x, weight, bias, s, p)))

    for analytic, value in zip(grads, (x, weight, bias)):
        assert analytic.shape == value.shape and analytic.dtype == np.float32
        np.testing.assert_allclose(analytic, _numeric_grad(loss, value), rtol=1e-4, atol=1e-4)


def test_function_without_bias_returns_two_gradients(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    weight = rng.standard_normal((2, 2, 2, 2))
    fn = _function(2, 1)
    out = fn.forward(x, weight)
    assert out.shape == (1, 2, 3, 3)
    upstream = rng.standard_normal(out.shape)
    grads = fn.backward(upstream)
    assert len(grads) == 2

    def loss() -> float:
        return float(np.sum(upstream * _conv_loop(x, weight, None, 2, 1)))

    np.testing.assert_allclose(grads[0], _numeric_grad(loss, x), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[1], _numeric_grad(loss, weight), rtol=1e-4, atol=1e-4)


def test_function_defaults_to_stride_1_padding_0(rng):
    x = rng.standard_normal((1, 1, 5, 5)).astype(np.float32)
    weight = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    out = Im2colConv2dFunction().forward(x, weight)
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(out, _conv_loop(x, weight, None, 1, 0), rtol=1e-5, atol=1e-5)


def test_function_rejects_wrong_grad_shape(rng):
    fn = _function(1, 1)
    out = fn.forward(rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((2, 1, 3, 3)))
    with pytest.raises(ValueError, match="does not match"):
        fn.backward(np.ones(out.shape[1:]))


# --- errors ---------------------------------------------------------------------------------


X = np.zeros((1, 2, 4, 4), dtype=np.float32)
W = np.zeros((3, 2, 3, 3), dtype=np.float32)


ERROR_CASES = [
    (lambda: im2col(np.zeros((2, 4, 4)), 2), "4D"),
    (lambda: im2col(np.zeros((1, 1, 1, 4, 4)), 2), "4D"),
    (lambda: im2col(X, 0), "kernel_size"),
    (lambda: im2col(X, 2.0), "kernel_size"),
    (lambda: im2col(X, 2, stride=0), "stride"),
    (lambda: im2col(X, 2, stride=1.5), "stride"),
    (lambda: im2col(X, 2, stride=True), "stride"),
    (lambda: im2col(X, 2, padding=-1), "padding"),
    (lambda: im2col(X, 2, padding="1"), "padding"),
    (lambda: im2col(X, 5), "does not fit"),
    (lambda: im2col(np.zeros((1, 1, 4, 2)), 3), "does not fit"),
    (lambda: col2im(np.zeros((5, 18)), (1, 2, 4, 4), 3), "does not match"),
    (lambda: col2im(np.zeros((4, 9)), (1, 2, 4, 4), 3), "does not match"),
    (lambda: col2im(np.zeros(72), (1, 2, 4, 4), 3), "does not match"),
    (lambda: col2im(np.zeros((4, 18)), (2, 4, 4), 3), "4D"),
    (lambda: col2im(np.zeros((4, 18)), (1, 2, 4, 4), 0), "kernel_size"),
    (lambda: im2col_conv2d(np.zeros((2, 4, 4)), W), "4D"),
    (lambda: im2col_conv2d(X, np.zeros((3, 2, 3))), "4D"),
    (lambda: im2col_conv2d(X, np.zeros((3, 2, 3, 2))), "square"),
    (lambda: im2col_conv2d(X, np.zeros((3, 1, 3, 3))), "channels"),
    (lambda: im2col_conv2d(X, W, np.zeros(2)), "bias"),
    (lambda: im2col_conv2d(X, W, np.zeros((3, 1))), "bias"),
    (lambda: im2col_conv2d(X, W, stride=0), "stride"),
    (lambda: im2col_conv2d(X, W, padding=-1), "padding"),
    (lambda: im2col_conv2d(X, np.zeros((3, 2, 5, 5))), "does not fit"),
    (lambda: naive_conv2d(np.zeros((2, 4, 4)), W), "4D"),
    (lambda: naive_conv2d(X, np.zeros((3, 2, 3, 2))), "square"),
    (lambda: naive_conv2d(X, np.zeros((3, 1, 3, 3))), "channels"),
    (lambda: naive_conv2d(X, W, np.zeros(4)), "bias"),
    (lambda: _function(1, 0).forward(X, np.zeros((3, 1, 3, 3))), "channels"),
    (lambda: _function(0, 0).forward(X, W), "stride"),
]


@pytest.mark.parametrize("call, match", ERROR_CASES, ids=[f"{i}-{m}" for i, (_, m) in enumerate(ERROR_CASES)])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- worker_source ----------------------------------------------------------------------------


def test_worker_source_defines_the_convolution_names():
    import tinytorch.perf  # noqa: F401  (the worker's parent package for the reference module)

    # Executed as the worker does: a module inside the shim package, so baselines.py's
    # relative import of acceleration resolves to the module itself.
    name = "tinytorch.perf.acceleration"
    module = types.ModuleType(name)
    module.__package__ = "tinytorch.perf"
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        exec(compile(reference.worker_source(), "reference_worker", "exec"), module.__dict__)
    finally:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    for fn in NEW_NAMES:
        assert callable(getattr(module, fn, None)), fn
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(module.im2col(x, 2).data, im2col(x, 2).data)


def test_worker_source_requires_every_file(monkeypatch):
    monkeypatch.setattr(reference, "WORKER_FILES", reference.WORKER_FILES + ("no_such_file.py",))
    with pytest.raises(FileNotFoundError):
        reference.worker_source()


def test_package_exports_the_convolution_names():
    for fn in NEW_NAMES:
        assert fn in reference.__all__ and getattr(reference, fn) is getattr(conv_module, fn)
