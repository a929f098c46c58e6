import numpy as np
from tinytorch.core.tensor import Tensor

# R. Hamming -- acceleration


def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise ValueError(f"matmul needs 2-D+ tensors, got {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"inner dimension mismatch: {a.shape} @ {b.shape}")
    return Tensor(np.matmul(a.data, b.data))


def fused_gelu(x: Tensor) -> Tensor:
    # step by step so it is easy to debug
    v = x.data
    cube = v * v * v
    term = np.float32(0.044715) * cube
    inner = v + term
    scaled = np.float32(0.7978845608) * inner
    th = np.tanh(scaled)
    one_plus = np.float32(1.0) + th
    half = np.float32(0.5) * v
    out = half * one_plus
    return Tensor(out)


def unfused_gelu(x: Tensor) -> Tensor:
    v = x.data
    cube = v * v * v
    term = np.float32(0.044715) * cube
    inner = v + term
    scaled = np.float32(0.7978845608) * inner
    th = np.tanh(scaled)
    one_plus = np.float32(1.0) + th
    half = np.float32(0.5) * v
    return Tensor(half * one_plus)


def tiled_matmul(a: Tensor, b: Tensor, tile_size: int = 64) -> Tensor:
    if tile_size < 1:
        raise ValueError("tile_size must be positive")
    A, B = a.data, b.data
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply {A.shape} by {B.shape}")
    M, K = A.shape
    N = B.shape[1]
    C = np.zeros((M, N), dtype=np.float32)
    for i in range(0, M, tile_size):
        ie = min(i + tile_size, M)
        for j in range(0, N, tile_size):
            je = min(j + tile_size, N)
            for k in range(0, K, tile_size):
                ke = min(k + tile_size, K)
                C[i:ie, j:je] += A[i:ie, k:ke] @ B[k:ke, j:je]
    return Tensor(C)


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    if bytes_moved <= 0:
        raise ValueError("bytes_moved must be positive")
    return flops / bytes_moved


def operation_cost(op: str, n: int) -> tuple[float, float]:
    if n < 1:
        raise ValueError("n must be >= 1")
    if op == "add":
        return float(n), 12.0 * n
    if op == "gelu":
        return 8.0 * n, 8.0 * n
    if op == "gelu_unfused":
        return 8.0 * n, 64.0 * n
    if op == "matmul":
        return 2.0 * n ** 3, 12.0 * n ** 2
    raise ValueError(f"unknown op {op}")


def roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> float:
    return min(peak_gflops, arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs)


def classify_bound(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> str:
    # below the ridge -> limited by compute (?)
    if arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs < peak_gflops:
        return "compute"
    return "memory"
