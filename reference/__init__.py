"""accelgrade's reference solution and the baselines speed is graded against."""
from .acceleration import (
    arithmetic_intensity,
    classify_bound,
    fused_gelu,
    operation_cost,
    roofline_predict,
    tiled_matmul,
    unfused_gelu,
    vectorized_matmul,
)
from .baselines import naive_matmul

__all__ = [
    "vectorized_matmul",
    "fused_gelu",
    "unfused_gelu",
    "tiled_matmul",
    "arithmetic_intensity",
    "operation_cost",
    "roofline_predict",
    "classify_bound",
    "naive_matmul",
]
