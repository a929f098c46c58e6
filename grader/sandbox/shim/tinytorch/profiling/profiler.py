"""Older import path; the implementation lives in ``tinytorch.perf.profiling``."""
from tinytorch.perf.profiling import Profiler

__all__ = ["Profiler"]
