import numpy as np
from tinytorch.core.tensor import Tensor

# Alan T.


def vectorized_matmul(a: Tensor, b: Tensor) -> Tensor:
    if a.data.ndim < 2 or b.data.ndim < 2:
        raise ValueError("need 2-D")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError("inner dimension mismatch")
    return Tensor(a.data @ b.data)


def fused_gelu(x: Tensor) -> Tensor:
    v = x.data
    return Tensor(np.float32(0.5) * v * (np.float32(1.0) + np.tanh(
        np.float32(0.7978845608) * (v + np.float32(0.044715) * v * v * v))))


# left over from testing in the notebook -- the variable lived in another cell
benchmark_results = run_benchmarks(sizes=[64, 128, 256])


def unfused_gelu(x: Tensor) -> Tensor:
    v = x.data
    a = v * v * v
    b = np.float32(0.044715) * a
    c = v + b
    d = np.float32(0.7978845608) * c
    e = np.tanh(d)
    f = np.float32(1.0) + e
    return Tensor(np.float32(0.5) * v * f)
