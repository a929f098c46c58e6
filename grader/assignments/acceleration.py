"""The seed's assignment: the four kernels and this project's own roofline functions."""
from grader.assignments.model import Assignment

ASSIGNMENT = Assignment(
    name="acceleration",
    title="Acceleration",
    release="accelgrade's own assignment (TinyTorch's kernels plus roofline analysis; no TinyTorch "
            "release has the roofline functions)",
    functions=("vectorized_matmul", "fused_gelu", "unfused_gelu", "tiled_matmul",
               "arithmetic_intensity", "operation_cost", "roofline_predict", "classify_bound"),
    rubric_file="acceleration.yaml",
    starter_file="acceleration.py",
    leaderboard_check="speed.fused_gelu",
    leaderboard_name="Fused GELU speedup",
)
