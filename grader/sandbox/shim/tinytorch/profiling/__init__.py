"""Older TinyTorch import path (``tinytorch.profiling.profiler``) for the same Profiler."""
from .profiler import Profiler

__all__ = ["Profiler"]
