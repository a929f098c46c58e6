import numpy as np
from tinytorch.core.tensor import Tensor

# Ada L. -- Acceleration assignment
# Notes to self: keep everything float32 (NumPy 2 upcasts on np.float64 scalars!)
# and never touch the input arrays.

C_SQRT = np.float32(0.7978845608028654)   # sqrt(2/pi)
C_CUBE = np.float32(0.044715)


def _arr(t):
    # Tensors keep their numbers in .data; anything else goes through asarray.
    if isinstance(t, Tensor):
        return t.data
    return np.asarray(t)


def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    A, B = _arr(a), _arr(b)
    if A.ndim < 2 or B.ndim < 2:
        raise ValueError(f"need matrices (>= 2-D), got {A.ndim}-D and {B.ndim}-D")
    if A.shape[-1] != B.shape[-2]:
        raise ValueError(f"inner dims differ: {A.shape[-1]} vs {B.shape[-2]}")
    return Tensor(A @ B)  # BLAS does the heavy lifting


def fused_gelu(x: Tensor) -> Tensor:
    v = _arr(x).astype(np.float32, copy=False)
    # one scratch buffer, everything else done in place
    r = v * v
    r *= C_CUBE
    r += 1
    r *= v
    r *= C_SQRT
    np.tanh(r, out=r)
    r += 1
    r *= v
    r *= np.float32(0.5)
    return Tensor(r)


def unfused_gelu(x: Tensor) -> Tensor:
    v = _arr(x).astype(np.float32, copy=False)
    cube = v ** 3
    small = C_CUBE * cube
    arg = v + small
    scaled = C_SQRT * arg
    th = np.tanh(scaled)
    onep = 1 + th
    halfx = np.float32(0.5) * v
    return Tensor(halfx * onep)


def tiled_matmul(a: Tensor, b: Tensor, tile_size: int = 64) -> Tensor:
    if tile_size < 1:
        raise ValueError("tile_size must be >= 1")
    A, B = _arr(a), _arr(b)
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError("tiled_matmul works on 2-D matrices only")
    M, K = A.shape
    K2, N = B.shape
    if K != K2:
        raise ValueError(f"inner dims differ: {K} vs {K2}")
    C = np.zeros((M, N), dtype=np.float32)
    T = tile_size
    for r0 in range(0, M, T):
        for c0 in range(0, N, T):
            acc = C[r0:r0 + T, c0:c0 + T]     # numpy clips slices at the edge
            for s0 in range(0, K, T):
                acc += A[r0:r0 + T, s0:s0 + T] @ B[s0:s0 + T, c0:c0 + T]
    return Tensor(C)


def arithmetic_intensity(flops: float, bytes_moved: float) -> float:
    if bytes_moved <= 0:
        raise ValueError("bytes_moved must be > 0")
    return flops / bytes_moved


def operation_cost(op: str, n: int) -> tuple[float, float]:
    if n < 1:
        raise ValueError("n must be >= 1")
    table = {
        "add": (1.0 * n, 3 * 4.0 * n),
        "gelu": (8.0 * n, 2 * 4.0 * n),
        "gelu_unfused": (8.0 * n, 16 * 4.0 * n),
        "matmul": (2.0 * n ** 3, 3 * 4.0 * n * n),
    }
    if op not in table:
        raise ValueError(f"unknown op: {op}")
    return table[op]


def roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> float:
    return min(peak_gflops, arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs)


def classify_bound(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) -> str:
    if arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs < peak_gflops:
        return "memory"
    return "compute"


if __name__ == "__main__":
    a = Tensor(np.random.rand(100, 70))
    b = Tensor(np.random.rand(70, 30))
    print(np.abs(tiled_matmul(a, b, 16).data - a.data @ b.data).max())
    print(fused_gelu(Tensor([-1.0, 0.0, 1.0])))
