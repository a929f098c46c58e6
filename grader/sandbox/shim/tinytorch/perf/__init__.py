"""Performance tools of the shim: the ``Profiler`` TinyTorch modules import."""
from .profiling import Profiler

__all__ = ["Profiler"]
