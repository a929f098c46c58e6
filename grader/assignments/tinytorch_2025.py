"""TinyTorch 2025-11 and 2025-12, module 18: the four kernels (tiled_matmul may call np.matmul)."""
from grader.assignments.model import Assignment

ASSIGNMENT = Assignment(
    name="tinytorch-2025",
    title="TinyTorch 18 Acceleration",
    release="TinyTorch 2025-11 and 2025-12 (MLSysBook/TinyTorch, module 18_acceleration)",
    functions=("vectorized_matmul", "fused_gelu", "unfused_gelu", "tiled_matmul"),
    rubric_file="tinytorch-2025.yaml",
    starter_file="tinytorch_2025.py",
    leaderboard_check="speed.fused_gelu",
    leaderboard_name="Fused GELU speedup",
    student_files=("18_acceleration.py", "acceleration.py", "tinytorch_2025.py", "18_acceleration.ipynb",
                   "acceleration_dev.ipynb"),
)
