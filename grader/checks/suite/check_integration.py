"""The student's kernels composed into a transformer-style MLP block."""
import numpy as np
import pytest

from grader.checks.expect import as_array, assert_close, conv64, gelu64

HINT = "Each kernel must work on the others' outputs: Tensor in, Tensor (float32) out."


def _block64(x, w1, w2):
    return gelu64(x.astype(np.float64) @ w1.astype(np.float64)) @ w2.astype(np.float64)


def _weights(rng, d, h):
    w1 = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(np.float32)
    w2 = (rng.standard_normal((h, d)) / np.sqrt(h)).astype(np.float32)
    return w1, w2


def _block(student, matmul, gelu, x, w1, w2, **kw):
    """x @ W1, GELU, @ W2 through the student's own functions; each output must be an array."""
    h = as_array(student.call(matmul, x, w1, **kw).value, f"{matmul} (x @ W1)")
    g = as_array(student.call(gelu, h.astype(np.float32)).value, gelu)
    return student.call(matmul, g.astype(np.float32), w2, **kw).value


@pytest.mark.check("integration.mlp_block", hint=HINT)
def test_mlp_block(student, rng):
    """x @ W1, GELU, @ W2 built from vectorized_matmul and fused_gelu matches the reference"""
    x = rng.standard_normal((16, 32), dtype=np.float32)
    w1, w2 = _weights(rng, 32, 128)
    y = _block(student, "vectorized_matmul", "fused_gelu", x, w1, w2)
    assert_close(y, _block64(x, w1, w2), "MLP block (vectorized_matmul, fused_gelu)", rtol=1e-3, atol=1e-4)


@pytest.mark.check("integration.batched_block", hint=HINT)
def test_batched_block(student, rng):
    """The same block on a (batch, tokens, features) input, weights broadcast"""
    x = rng.standard_normal((2, 8, 32), dtype=np.float32)
    w1, w2 = _weights(rng, 32, 64)
    y = _block(student, "vectorized_matmul", "fused_gelu", x, w1, w2)
    assert_close(y, _block64(x, w1, w2), "batched MLP block", rtol=1e-3, atol=1e-4)


@pytest.mark.check("integration.tiled_block", hint=HINT)
def test_tiled_block(student, rng):
    """The block with tiled_matmul and unfused_gelu matches too"""
    x = rng.standard_normal((20, 24), dtype=np.float32)
    w1, w2 = _weights(rng, 24, 40)
    y = _block(student, "tiled_matmul", "unfused_gelu", x, w1, w2, tile_size=16)
    assert_close(y, _block64(x, w1, w2), "MLP block (tiled_matmul, unfused_gelu)", rtol=1e-3, atol=1e-4)


@pytest.mark.check("integration.conv_block", hint=HINT)
def test_conv_block(student, rng):
    """A small CNN head: im2col_conv2d, fused_gelu, flatten, vectorized_matmul (TinyTorch 2026)"""
    x = rng.standard_normal((4, 3, 8, 8), dtype=np.float32)
    weight = (rng.standard_normal((6, 3, 3, 3)) / np.sqrt(27)).astype(np.float32)
    bias = rng.standard_normal(6, dtype=np.float32)
    head = (rng.standard_normal((6 * 36, 10)) / np.sqrt(6 * 36)).astype(np.float32)
    feat = as_array(student.call("im2col_conv2d", x, weight, bias).value, "im2col_conv2d")
    act = as_array(student.call("fused_gelu", feat.astype(np.float32)).value, "fused_gelu")
    y = student.call("vectorized_matmul", act.reshape(4, -1).astype(np.float32), head).value
    expected = gelu64(conv64(x, weight, bias)).reshape(4, -1) @ head.astype(np.float64)
    assert_close(y, expected, "conv block (im2col_conv2d, fused_gelu, vectorized_matmul)", rtol=1e-3, atol=1e-4)
