"""accelgrade's compatibility shim for the ``tinytorch`` package.

Students' Acceleration files import ``tinytorch.core.tensor`` and
``tinytorch.perf.profiling`` (older: ``tinytorch.profiling.profiler``). The
sandbox worker puts this directory on ``sys.path`` so those imports work without
the real TinyTorch installed. It depends only on the standard library and numpy.
Grading never relies on it for timing; it only has to behave like TinyTorch.
"""

__version__ = "0.0.0+accelgrade.shim"
