"""The reference solution, the baselines, the sandbox's TinyTorch shim and the demo files.

If the reference is wrong, every student is graded against the wrong answer,
so these tests compare it with independent float64 numpy computations.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from reference import (
    arithmetic_intensity,
    classify_bound,
    fused_gelu,
    naive_matmul,
    operation_cost,
    roofline_predict,
    tiled_matmul,
    unfused_gelu,
    vectorized_matmul,
)

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "grader" / "sandbox" / "shim"
EXAMPLES = ROOT / "examples" / "submissions"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def _gelu64(x: np.ndarray) -> np.ndarray:
    """Independent float64 evaluation of the tanh-approximation GELU."""
    x64 = x.astype(np.float64)
    return 0.5 * x64 * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x64 + 0.044715 * x64**3)))


class _FakeTensor:
    """Anything with an ndarray ``.data`` must be accepted like a Tensor."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


# --- vectorized_matmul -------------------------------------------------------


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((13, 7), (7, 5)), ((4, 3, 6), (4, 6, 2)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))],
)
def test_vectorized_matmul_matches_numpy(rng, shape_a, shape_b):
    a, b = _f32(rng, *shape_a), _f32(rng, *shape_b)
    got = vectorized_matmul(a, b)
    expected = np.matmul(a, b)
    assert isinstance(got, np.ndarray)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_vectorized_matmul_broadcast_shape(rng):
    assert vectorized_matmul(_f32(rng, 3, 4), _f32(rng, 2, 4, 5)).shape == (2, 3, 5)


def test_vectorized_matmul_accepts_tensor_like(rng):
    a, b = _f32(rng, 5, 3), _f32(rng, 3, 2)
    np.testing.assert_allclose(vectorized_matmul(_FakeTensor(a), _FakeTensor(b)), a @ b, rtol=1e-6)


def test_vectorized_matmul_rejects_1d(rng):
    with pytest.raises(ValueError, match="2 dimensions"):
        vectorized_matmul(_f32(rng, 3), _f32(rng, 3, 2))
    with pytest.raises(ValueError, match="2 dimensions"):
        vectorized_matmul(_f32(rng, 2, 3), _f32(rng, 3))


def test_vectorized_matmul_rejects_inner_mismatch(rng):
    with pytest.raises(ValueError, match="inner dimensions"):
        vectorized_matmul(_f32(rng, 3, 4), _f32(rng, 5, 6))
    with pytest.raises(ValueError, match="inner dimensions"):
        vectorized_matmul(_f32(rng, 2, 3, 4), _f32(rng, 2, 3, 4))


# --- GELU --------------------------------------------------------------------


@pytest.mark.parametrize("gelu", [fused_gelu, unfused_gelu])
def test_gelu_matches_float64(rng, gelu):
    x = (rng.standard_normal((64, 257)) * 3).astype(np.float32)
    x = np.concatenate([x.ravel(), np.array([-12, -6, -1, 0, 1, 6, 12], dtype=np.float32)])
    got = gelu(x)
    assert got.dtype == np.float32
    assert got.shape == x.shape
    np.testing.assert_allclose(got, _gelu64(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gelu", [fused_gelu, unfused_gelu])
def test_gelu_float32_out_for_tensor_like_and_nd(rng, gelu):
    x = _f32(rng, 2, 3, 4)
    out = gelu(_FakeTensor(x))
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)


@pytest.mark.parametrize("gelu", [fused_gelu, unfused_gelu])
def test_gelu_leaves_input_alone(rng, gelu):
    x = _f32(rng, 100)
    before = x.copy()
    out = gelu(x)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(out, x)


@pytest.mark.parametrize("gelu", [fused_gelu, unfused_gelu])
def test_gelu_zero_is_zero(gelu):
    assert gelu(np.zeros(5, dtype=np.float32)).tolist() == [0.0] * 5


def test_fused_equals_unfused(rng):
    x = (rng.standard_normal(10_000) * 4).astype(np.float32)
    np.testing.assert_allclose(fused_gelu(x), unfused_gelu(x), rtol=1e-5, atol=1e-6)


def test_fused_gelu_uses_less_memory_than_unfused(rng):
    # The reference fused GELU is the memory target students are graded against,
    # so it must clearly beat the unfused baseline.
    import tracemalloc

    x = _f32(rng, 200_000)

    def peak(fn) -> int:
        tracemalloc.start()
        try:
            fn(x)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    fused_peak, unfused_peak = peak(fused_gelu), peak(unfused_gelu)
    # One expression: numpy elides temporaries down to about three input-sized arrays.
    assert fused_peak <= 3.2 * x.nbytes
    assert unfused_peak >= 2.5 * fused_peak


# --- tiled_matmul --------------------------------------------------------------


@pytest.mark.parametrize("tile", [1, 3, 4, 64, 128])
@pytest.mark.parametrize("m, k, n", [(13, 7, 5), (130, 70, 50)])
def test_tiled_matmul_matches_numpy(rng, tile, m, k, n):
    a, b = _f32(rng, m, k), _f32(rng, k, n)
    got = tiled_matmul(a, b, tile_size=tile)
    assert got.shape == (m, n) and got.dtype == np.float32
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4, atol=1e-4)


def test_tiled_matmul_default_tile_and_tensor_like(rng):
    a, b = _f32(rng, 100, 65), _f32(rng, 65, 70)
    np.testing.assert_allclose(tiled_matmul(_FakeTensor(a), _FakeTensor(b)), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tile", [0, -1])
def test_tiled_matmul_rejects_bad_tile(rng, tile):
    with pytest.raises(ValueError, match="tile_size"):
        tiled_matmul(_f32(rng, 4, 4), _f32(rng, 4, 4), tile_size=tile)


def test_tiled_matmul_rejects_bad_shapes(rng):
    with pytest.raises(ValueError, match="inner dimensions"):
        tiled_matmul(_f32(rng, 4, 3), _f32(rng, 4, 3))
    with pytest.raises(ValueError, match="2-D"):
        tiled_matmul(_f32(rng, 2, 4, 3), _f32(rng, 3, 4))
    with pytest.raises(ValueError, match="2-D"):
        tiled_matmul(_f32(rng, 4), _f32(rng, 4, 2))


# --- baselines -----------------------------------------------------------------


def test_naive_matmul_matches_numpy(rng):
    a, b = _f32(rng, 9, 6), _f32(rng, 6, 4)
    got = naive_matmul(_FakeTensor(a), b)
    assert got.dtype == np.float32 and got.shape == (9, 4)
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        naive_matmul(a, a)


def test_baselines_unfused_gelu_is_the_reference_one():
    from reference import baselines

    assert baselines.unfused_gelu is unfused_gelu


# --- roofline --------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, n, expected",
    [
        ("add", 1000, (1000.0, 12000.0)),
        ("gelu", 1000, (8000.0, 8000.0)),
        ("gelu_unfused", 1000, (8000.0, 64000.0)),
        ("matmul", 10, (2000.0, 1200.0)),
        ("matmul", 1024, (2.0 * 1024**3, 12.0 * 1024**2)),
        ("add", 1, (1.0, 12.0)),
    ],
)
def test_operation_cost_table(op, n, expected):
    got = operation_cost(op, n)
    assert isinstance(got, tuple) and len(got) == 2
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("op, n", [("conv", 10), ("", 10), ("add", 0), ("matmul", -3)])
def test_operation_cost_rejects(op, n):
    with pytest.raises(ValueError):
        operation_cost(op, n)


def test_arithmetic_intensity():
    assert arithmetic_intensity(8000, 8000) == pytest.approx(1.0)
    assert arithmetic_intensity(*operation_cost("matmul", 1024)) == pytest.approx(1024 / 6)
    assert isinstance(arithmetic_intensity(1, 3), float)
    for bad in (0, -5):
        with pytest.raises(ValueError):
            arithmetic_intensity(10, bad)


def test_roofline_both_sides_of_the_ridge():
    peak, bw = 100.0, 20.0  # ridge point at 5 FLOP/byte
    # Memory side: add has intensity 1/12, so bandwidth * intensity.
    add = operation_cost("add", 1_000_000)
    assert roofline_predict(*add, peak, bw) == pytest.approx(20.0 / 12.0)
    assert classify_bound(*add, peak, bw) == "memory"
    gelu = operation_cost("gelu", 1_000_000)
    assert roofline_predict(*gelu, peak, bw) == pytest.approx(20.0)
    assert classify_bound(*gelu, peak, bw) == "memory"
    # Compute side: a large matmul hits the flat roof.
    mm = operation_cost("matmul", 1024)
    assert roofline_predict(*mm, peak, bw) == pytest.approx(peak)
    assert classify_bound(*mm, peak, bw) == "compute"
    # Exactly at the ridge both roofs give the peak; we call it compute-bound.
    assert roofline_predict(500.0, 100.0, peak, bw) == pytest.approx(peak)
    assert classify_bound(500.0, 100.0, peak, bw) == "compute"
    assert classify_bound(499.0, 100.0, peak, bw) == "memory"


# --- the sandbox's TinyTorch shim ------------------------------------------------


@pytest.fixture
def shim(monkeypatch):
    """Import the shim fresh from grader/sandbox/shim, and forget it afterwards."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # keep the shim tree clean
    monkeypatch.syspath_prepend(str(SHIM))
    for name in [m for m in sys.modules if m == "tinytorch" or m.startswith("tinytorch.")]:
        monkeypatch.delitem(sys.modules, name)
    import tinytorch

    assert Path(tinytorch.__file__).resolve().is_relative_to(SHIM.resolve())
    yield tinytorch
    for name in [m for m in sys.modules if m == "tinytorch" or m.startswith("tinytorch.")]:
        sys.modules.pop(name, None)


def test_shim_tensor_casts_to_float32(shim):
    from tinytorch.core.tensor import Function, Tensor

    t = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert t.data.dtype == np.float32 and t.dtype == np.float32
    assert t.shape == (2, 3) and t.size == 6 and len(t) == 2
    assert t.grad is None and t.requires_grad is False
    assert Tensor([[1, 2]], requires_grad=True).requires_grad
    for result in (t + 1, 2 * t, t - t, t / 2.0, np.ones((2, 3)) + t, t @ t.transpose(), t.matmul(t.T)):
        assert isinstance(result, Tensor) and result.dtype == np.float32
    assert (t @ t.transpose()).shape == (2, 2)
    assert t.reshape(3, 2).shape == (3, 2) and t.reshape((6,)).shape == (6,)
    assert float(t.sum().data) == 15.0 and float(t.mean().data) == 2.5
    assert isinstance(t[0], Tensor) and t[0].shape == (3,)
    assert isinstance(t.numpy(), np.ndarray)
    assert "Tensor" in repr(t)
    assert Function is not None


def test_shim_profiler_measures(shim):
    from tinytorch.core.tensor import Tensor
    from tinytorch.perf.profiling import Profiler
    from tinytorch.profiling.profiler import Profiler as OldProfiler

    assert OldProfiler is Profiler
    x = Tensor(np.ones((32, 16)))

    class Dense:
        def __init__(self) -> None:
            self.weight = Tensor(np.ones((16, 8)))
            self.bias = Tensor(np.zeros(8))

        def forward(self, inp):
            return inp @ self.weight + self.bias

    prof = Profiler()
    latency = prof.measure_latency(lambda v: v @ v.transpose(), x, warmup=1, iterations=3)
    assert isinstance(latency, float) and latency > 0
    assert prof.measure_latency(Dense(), x) > 0  # forward() used when not callable
    assert prof.count_flops(Dense(), x) == 2 * 32 * 16 * 8
    assert prof.count_flops(None, x) == x.size
    assert prof.count_parameters(Dense()) == 16 * 8 + 8
    mem = prof.measure_memory(lambda v: np.ones((256, 1024), dtype=np.float32), x)
    assert {"peak_memory_mb", "memory_mb"} <= set(mem)
    assert mem["peak_memory_mb"] >= 0.9  # the 1 MiB result is traced


# --- examples and fixtures --------------------------------------------------------


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py")) + [ROOT / "tests" / "fixtures" / "submissions" / "tinytorch_style.py"]


def test_examples_exist():
    names = {p.name for p in EXAMPLES.glob("*.py")}
    assert len(names) == 6
    assert "lovelace_10001_20001_acceleration.py" in names
    assert (ROOT / "examples" / "README.md").is_file()


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_example_compiles(path):
    # Even the import-crash example must be valid Python: it fails at run time.
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_template_example_is_exact_copy():
    template = (ROOT / "student_template" / "acceleration.py").read_bytes()
    assert (EXAMPLES / "template_10005_20005_acceleration.py").read_bytes() == template
