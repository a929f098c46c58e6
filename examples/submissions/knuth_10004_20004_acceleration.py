import numpy as np
from tinytorch.core.tensor import Tensor

# D. Knuth -- Acceleration.
# Ran out of time before the tiling part; everything else is done and tested.

F32 = np.float32
K0 = F32(np.sqrt(2.0 / np.pi))   # wrapped in float32 so nothing upcasts
K1 = F32(0.044715)


def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    x, y = a.data, b.data
    if x.ndim < 2:
        raise ValueError(f"first operand must be at least 2-D, got shape {x.shape}")
    if y.ndim < 2:
        raise ValueError(f"second operand must be at least 2-D, got shape {y.shape}")
    if x.shape[-1] != y.shape[-2]:
        raise ValueError(f"inner dimension mismatch: {x.shape[-1]} != {y.shape[-2]}")
    return Tensor(np.matmul(x, y))


def fused_gelu(x: Tensor) -> Tensor:
    v = x.data
    return Tensor(F32(0.5) * v * (F32(1.0) + np.tanh(K0 * (v + K1 * v * v * v))))


def unfused_gelu(x: Tensor) -> Tensor:
    v = x.data
    sq = v * v
    cu = sq * v
    cterm = K1 * cu
    s = v + cterm
    z = K0 * s
    t = np.tanh(z)
    u = F32(1.0) + t
    h = F32(0.5) * v
    return Tensor(h * u)


# TODO tiled_matmul


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    if not bytes_moved > 0:
        raise ValueError("bytes_moved must be positive")
    return float(flops) / float(bytes_moved)


_FLOPS_PER_ELEM = {"add": 1, "gelu": 8, "gelu_unfused": 8}
_MEMOPS_PER_ELEM = {"add": 3, "gelu": 2, "gelu_unfused": 16}


def operation_cost(op: str, n: int) -> tuple[float, float]:
    if n < 1:
        raise ValueError("n must be at least 1")
    if op == "matmul":
        return 2.0 * n ** 3, 4.0 * 3 * n * n
    if op in _FLOPS_PER_ELEM:
        return float(_FLOPS_PER_ELEM[op] * n), 4.0 * _MEMOPS_PER_ELEM[op] * n
    raise ValueError(f"don't know op {op!r}")


def roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> float:
    memory_roof = arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs
    return float(min(peak_gflops, memory_roof))


def classify_bound(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> str:
    # left of the ridge point the bandwidth slope is the lower roof
    slope = arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs
    return "memory" if slope < peak_gflops else "compute"
