"""How a worker process is started: interpreter flags, environment, limits.

Kept apart from the conversation with the worker (``process.py``) so the
isolation policy can be read in one place.
"""
from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy

from grader.assignments import all_functions
from grader.sandbox import isolation, jail

SANDBOX_DIR = Path(__file__).resolve().parent
SHIM_DIR = SANDBOX_DIR / "shim"


@dataclass(frozen=True)
class SandboxConfig:
    threads: int = 1  # BLAS threads, pinned for every measurement
    address_space_mb: int = 6144  # numpy + OpenBLAS need headroom over the data
    cpu_seconds: int = 600
    file_size_mb: int = 64
    open_files: int = 256
    import_timeout: float = 60.0  # TinyTorch files run tests at module level
    call_timeout: float = 60.0
    output_cap: int = 64 * 1024  # bytes of stdout and of stderr kept per submission
    max_restarts: int = 40  # fresh workers per submission before giving up on it altogether
    kills_per_function: int = 3  # a function that ended its worker this often is not called again
    isolate_network: bool = True  # a new network namespace where the kernel allows it
    processes: int = 256  # processes the worker's own uid may have (when it has one)
    hide: tuple[str, ...] = ()  # more paths to hide from the worker (the batch's --out folder)
    # The names a worker reports as defined after import: every shipped assignment's functions, so
    # grading can tell a file that fits another assignment better.
    api: tuple[str, ...] = field(default_factory=all_functions)
    tinytorch: str | None = None  # a course's own tinytorch package folder, imported in place of the shim
    extra: dict = field(default_factory=dict)


def _dist_paths() -> list[str]:
    """Folders holding numpy and threadpoolctl (site-packages), without running .pth files."""
    paths = [str(Path(numpy.__file__).resolve().parent.parent)]
    try:
        import threadpoolctl

        p = str(Path(threadpoolctl.__file__).resolve().parent)
        if p not in paths:
            paths.append(p)
    except ImportError:
        pass
    return paths


def stdlib_paths() -> list[str]:
    # The interpreter's own path entries minus site-packages and the project.
    return [p for p in sys.path if p and "site-packages" not in p and "dist-packages" not in p
            and Path(p).resolve() != Path.cwd().resolve() and _is_stdlib(p)]


def _is_stdlib(p: str) -> bool:
    base = Path(sys.base_prefix).resolve()
    try:
        Path(p).resolve().relative_to(base)
        return True
    except ValueError:
        return False


def bootstrap_source() -> str:
    """A ``-c`` program that installs the wire module and runs the worker.

    The sources travel on the command line, so no grader file sits in the
    worker's folder and no grader folder is on its path.
    """
    wire_src = (SANDBOX_DIR / "wire.py").read_text()
    inputs_src = (SANDBOX_DIR / "inputs.py").read_text()
    worker_src = (SANDBOX_DIR / "worker.py").read_text()
    return (
        "import json, os, sys, types\n"
        "os.chdir(os.path.dirname(json.loads(sys.argv[1])['module_file']))\n"
        "sys.path[:] = json.loads(sys.argv[1])['sys_path']\n"
        "_w = types.ModuleType('_ag_wire')\n"
        f"exec(compile({wire_src!r}, '<accelgrade-wire>', 'exec'), _w.__dict__)\n"
        "sys.modules['_ag_wire'] = _w\n"
        "_i = types.ModuleType('_ag_inputs')\n"
        f"exec(compile({inputs_src!r}, '<accelgrade-inputs>', 'exec'), _i.__dict__)\n"
        "sys.modules['_ag_inputs'] = _i\n"
        f"exec(compile({worker_src!r}, '<accelgrade-worker>', 'exec'), {{'__name__': '__accelgrade_worker__'}})\n"
    )


def isolation_plan() -> isolation.Plan:
    """The best boundary this machine allows (probed once per process)."""
    return isolation.plan(tuple(_dist_paths()), jail.shim_copy(SHIM_DIR / "tinytorch"))


def command(config: SandboxConfig, plan: isolation.Plan, home: Path, uid: int | None,
            req_fd: int, resp_fd: int, remove_source: bool = False) -> list[str]:
    """The worker's command line: inside bubblewrap when the plan has it."""
    # The tinytorch package the worker imports: the shim, or the course's own (grade --tinytorch).
    shim = jail.shim_copy(Path(config.tinytorch) if config.tinytorch else SHIM_DIR / "tinytorch")
    inside_home = Path(isolation.HOME) if plan.bwrap else home
    worker_config = {
        "sys_path": stdlib_paths() + _dist_paths() + [isolation.SHIM_MOUNT if plan.bwrap else str(shim)],
        "remove_source": remove_source,
        "module_file": str(inside_home / "acceleration.py"),
        "threads": config.threads,
        "req_fd": req_fd,
        "resp_fd": resp_fd,
        "api": list(config.api),
    }
    # -I: ignore PYTHON* variables, user site, and the script's folder; -S: no site-packages .pth;
    # -B: no __pycache__ beside the submission (-I makes PYTHONDONTWRITEBYTECODE moot).
    python = [sys.executable, "-I", "-S", "-B", "-c", bootstrap_source(), json.dumps(worker_config)]
    if not plan.bwrap:
        return python
    return isolation.bwrap_args(plan, home, shim, _dist_paths(), hidden_paths(config), uid) + python


WORKER_TAG = "ACCELGRADE_WORKER"


def environment(home: Path | str, threads: int, tag: str) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's leaks in.

    ``tag`` marks every process the worker starts (children inherit it), so the
    parent can find and end them even after they leave the process group.
    """
    n = str(threads)
    return {
        WORKER_TAG: tag,
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": n,
        "OMP_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "VECLIB_MAXIMUM_THREADS": n,
        "NUMEXPR_NUM_THREADS": n,
        # Keep freed large blocks in the heap instead of returning them to the kernel: otherwise
        # every big temporary is a fresh mmap whose page faults swamp the kernel being timed, and
        # their cost swings with whatever else the machine is doing.
        "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
        "MALLOC_TRIM_THRESHOLD_": str(1 << 31),
        "MALLOC_TOP_PAD_": str(64 << 20),
    }


def hidden_paths(config: SandboxConfig) -> list[str]:
    """What a worker must not see: the grader's and the reference's sources, the rubrics, the
    editable-install finders that name them, and the batch's output folder."""
    import importlib.util

    import grader

    project = Path(grader.__file__).resolve().parent.parent
    if (project / "pyproject.toml").is_file():
        paths = [str(project)]  # a source checkout: all of it (examples hold model solutions, .git the rest)
    else:
        # Found, not imported: the sandbox layer sits below the reference it runs.
        spec = importlib.util.find_spec("reference")
        paths = [str(Path(grader.__file__).resolve().parent)]
        if spec is not None and spec.origin:
            paths.append(str(Path(spec.origin).resolve().parent))
    for site in _dist_paths():
        paths += [str(p) for p in Path(site).glob("__editable__*accelgrade*")]
    return paths + [str(p) for p in config.hide]


def limiter(config: SandboxConfig, plan: isolation.Plan, uid: int | None,
            cgroup: "jail.Cgroup | None" = None):
    """Returns the preexec function run in the child before exec: cgroups, limits, then the uid."""

    def apply() -> None:
        if cgroup is not None:
            cgroup.join_self()
        if not plan.bwrap:  # without bubblewrap, hide what we can with a mount namespace of our own
            jail.isolate(network=config.isolate_network, hide=hidden_paths(config))
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (config.address_space_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CPU, (config.cpu_seconds, config.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (config.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (config.open_files,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:  # counts the worker uid's processes only: a fork bomb stops here
            resource.setrlimit(resource.RLIMIT_NPROC, (config.processes,) * 2)
        os.umask(0o077)
        if uid is not None and not plan.bwrap:
            isolation.drop_to(uid)()  # inside bubblewrap, setpriv does this after the mounts

    return apply
