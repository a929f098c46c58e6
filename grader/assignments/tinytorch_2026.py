"""TinyTorch 2026, module 17: the four kernels (real tiles, 2-D only) and the im2col family."""
from grader.assignments.model import Assignment

ASSIGNMENT = Assignment(
    name="tinytorch-2026",
    title="TinyTorch 17 Acceleration",
    release="TinyTorch 2026 (harvard-edge/cs249r_book tinytorch, module 17_acceleration)",
    functions=("vectorized_matmul", "fused_gelu", "unfused_gelu", "tiled_matmul",
               "im2col", "col2im", "im2col_conv2d", "Im2colConv2dFunction"),
    rubric_file="tinytorch-2026.yaml",
    starter_file="tinytorch_2026.py",
    leaderboard_check="speed.fused_gelu",
    leaderboard_name="Fused GELU speedup",
    student_files=("17_acceleration.py", "acceleration.py", "tinytorch_2026.py", "17_acceleration.ipynb"),
)
