"""The sandbox (grader/sandbox): worker processes that run untrusted code and answer over a pipe."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from grader.sandbox import isolation
from grader.models import FLAG_CRASH, FLAG_IMPORT_ERROR, FLAG_NOT_IMPLEMENTED, FLAG_TIMEOUT
from grader.sandbox import (MissingFunction, NotImplementedYet, Sandbox, SandboxConfig, StudentRaised,
                            WorkerFailed)

PROJECT = Path(__file__).resolve().parents[1]

TINY = textwrap.dedent('''
    import os
    import numpy as np
    from tinytorch.core.tensor import Tensor

    print("hello from import")

    def add(a, b):
        return a.data + b.data

    def kind(x):
        return type(x).__name__

    def half():
        return 0.5

    def seven():
        return 7

    def f32_scalar():
        return np.float32(1.25)

    def flag():
        return True

    def word():
        return "memory"

    def pair(n):
        return (2.0 * n, 12.0 * n)

    def doubled(x):
        return Tensor(x.data * 2)

    def todo(x):
        raise NotImplementedError("write me")

    def bad(x):
        raise ValueError("shapes do not match")

    class ShapeError(ValueError):
        pass

    def bad_subclass():
        raise ShapeError("custom")

    def scribble(x):
        x.data[...] = 0
        return x.data

    def cwd():
        return os.getcwd()

    def listing():
        return ",".join(sorted(os.listdir(".")))

    _IDENTITY = os.urandom(8).hex()  # one per worker process (inside a PID namespace every pid is 2)

    def pid():
        return _IDENTITY

    class Always(np.ndarray):
        def __eq__(self, other):
            return True

    def sneaky(x):
        return np.asarray(x.data).view(Always)

    def die():
        os._exit(3)

    def spin():
        while True:
            pass
''')


def sandbox(code: str, **config) -> Sandbox:
    return Sandbox(code, SandboxConfig(**config))


def process_gone(pid: int, created: float | None = None) -> bool:
    """True when ``pid`` no longer names the process we knew (gone, reaped, or a reused pid)."""
    try:
        proc = psutil.Process(pid)
        return created is not None and proc.create_time() != created
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(scope="module")
def tiny():
    sb = sandbox(TINY, call_timeout=20)
    ready = sb.start()
    assert ready.get("import_error") is None, ready
    yield sb
    sb.close()


# ---------------------------------------------------------------- values

def test_arrays_round_trip(tiny):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), dtype=np.float32)
    out = tiny.add(a, b)
    assert type(out) is np.ndarray
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, a + b)


def test_scalars_round_trip(tiny):
    assert tiny.half() == 0.5 and type(tiny.half()) is float
    assert tiny.seven() == 7 and type(tiny.seven()) is int
    assert tiny.f32_scalar() == 1.25 and type(tiny.f32_scalar()) is float
    assert tiny.flag() is True
    assert tiny.word() == "memory"
    assert tiny.pair(3) == (6.0, 36.0)


def test_arrays_arrive_as_tensors_unless_unwrapped(tiny):
    x = np.zeros(2, dtype=np.float32)
    assert tiny.kind(x) == "Tensor"
    assert tiny.call("kind", x, wrap=False).value == "ndarray"
    assert tiny.kind(3) == "int"  # non-arrays are passed as they are


def test_tensor_result_is_unwrapped(tiny):
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    reply = tiny.call("doubled", x)
    assert type(reply.value) is np.ndarray
    np.testing.assert_array_equal(reply.value, x * 2)
    assert reply.meta["type"] == "Tensor"
    assert reply.meta["dtype"] == "float32"


def test_ndarray_subclass_comes_back_plain(tiny):
    x = np.array([1.0, 2.0], dtype=np.float32)
    out = tiny.sneaky(x)
    assert type(out) is np.ndarray
    # The subclass's always-True __eq__ did not cross: comparison is elementwise again.
    assert (out == np.array([1.0, 5.0])).tolist() == [True, False]


def test_input_mutation_is_reported(tiny):
    x = np.ones(4, dtype=np.float32)
    reply = tiny.call("scribble", x)
    assert reply.meta["inputs_changed"] == [True]
    np.testing.assert_array_equal(x, np.ones(4))  # the parent's array is untouched
    assert tiny.call("add", x, x).meta["inputs_changed"] == [False, False]


# ---------------------------------------------------------------- the student's failures

def test_not_implemented(tiny):
    with pytest.raises(NotImplementedYet) as info:
        tiny.todo(np.zeros(1))
    assert info.value.flag == FLAG_NOT_IMPLEMENTED
    assert "`todo` is not implemented" in str(info.value)


def test_missing_function(tiny):
    with pytest.raises(MissingFunction) as info:
        tiny.tiled_matmul(np.zeros((2, 2)), np.zeros((2, 2)))
    assert info.value.name == "tiled_matmul"
    assert "`tiled_matmul` is not defined" in str(info.value)
    assert "tiled_matmul" in info.value.hint


def test_student_exception(tiny):
    with pytest.raises(StudentRaised) as info:
        tiny.bad(np.zeros(1))
    exc = info.value
    assert exc.is_a("ValueError") and exc.is_a("Exception")
    assert not exc.is_a("TypeError")
    assert exc.etype == "ValueError" and exc.detail == "shapes do not match"
    assert "shapes do not match" in str(exc)
    with pytest.raises(StudentRaised) as sub:
        tiny.bad_subclass()
    assert sub.value.etype == "ShapeError" and sub.value.is_a("ValueError")


def test_worker_survives_student_exceptions(tiny):
    pid_before = tiny.pid()
    with pytest.raises(StudentRaised):
        tiny.bad(np.zeros(1))
    assert tiny.pid() == pid_before


def test_crash_then_fresh_worker():
    sb = sandbox(TINY)
    try:
        first = sb.pid()
        with pytest.raises(WorkerFailed) as info:
            sb.die()
        assert info.value.flag == FLAG_CRASH
        assert "code 3" in str(info.value)
        assert sb.half() == 0.5  # the next call works ...
        assert sb.pid() != first  # ... in a fresh worker
        assert [flag for flag, _ in sb.events] == [FLAG_CRASH]
    finally:
        sb.close()


def test_infinite_loop_times_out_then_fresh_worker():
    sb = sandbox(TINY, call_timeout=1)
    try:
        first = sb.pid()
        with pytest.raises(WorkerFailed) as info:
            sb.spin()
        assert info.value.flag == FLAG_TIMEOUT
        assert "no answer within 1 s" in str(info.value)
        assert sb.pid() != first
        assert sb.seven() == 7
        assert [flag for flag, _ in sb.events] == [FLAG_TIMEOUT]
    finally:
        sb.close()


def test_restarts_are_bounded():
    sb = sandbox(TINY, max_restarts=1)
    try:
        for _ in range(2):
            with pytest.raises(WorkerFailed):
                sb.die()
        with pytest.raises(WorkerFailed) as info:
            sb.half()
        assert "no more workers" in str(info.value)
    finally:
        sb.close()


# ---------------------------------------------------------------- import time

@pytest.mark.parametrize("module", ["grader", "reference", "grader.sandbox.worker", "accelgrade"])
def test_grader_and_reference_cannot_be_imported(module):
    sb = sandbox(f"import {module}\n\ndef f():\n    return 1\n")
    try:
        ready = sb.start()
        err = ready["import_error"]
        assert err["etype"] == "ImportError"
        assert module.split(".")[0] in err["message"]
        with pytest.raises(WorkerFailed) as info:
            sb.f()
        assert info.value.flag == FLAG_IMPORT_ERROR
        assert "ImportError" in str(info.value)
    finally:
        sb.close()


@pytest.mark.parametrize("code,etype", [("import sys\nsys.exit()\n", "SystemExit"),
                                        ("import sys\nsys.exit(4)\n", "SystemExit"),
                                        ("1 / 0\n", "ZeroDivisionError"),
                                        ("def f(:\n", "SyntaxError")])
def test_import_failure_is_reported_not_raised(code, etype):
    sb = sandbox(code + "\ndef f():\n    return 1\n" if etype != "SyntaxError" else code)
    try:
        ready = sb.start()  # never raises for the student's faults
        assert ready["import_error"]["etype"] == etype
        assert sb.functions == []
        assert sb.import_message().startswith(f"the file failed to import: {etype}")
        with pytest.raises(WorkerFailed) as info:
            sb.f()
        assert info.value.flag == FLAG_IMPORT_ERROR
    finally:
        sb.close()


def test_os_exit_at_import_is_an_import_error():
    sb = sandbox("import os\nos._exit(5)\n")
    try:
        ready = sb.start()
        assert "exited with code 5" in ready["import_error"]["message"]
        with pytest.raises(WorkerFailed) as info:
            sb.f()
        assert info.value.flag == FLAG_IMPORT_ERROR
    finally:
        sb.close()


def test_hang_at_import_times_out():
    sb = sandbox("while True:\n    pass\n", import_timeout=1.5)
    try:
        ready = sb.start()
        assert "took longer than" in ready["import_error"]["message"]
        assert (FLAG_TIMEOUT, ready["import_error"]["message"]) in sb.events
    finally:
        sb.close()


def test_sys_exit_at_import_grades_to_zero_without_harness_crash(graded_rubric):
    from grader.grading import GradeOptions, Grader
    from grader.models import Submission

    sub = Submission(student="quitter", student_id=None, display_name="quitter", source_path=Path("quitter.py"),
                     code="import sys\nsys.exit(0)\n", code_hash="0" * 64)
    with Grader(graded_rubric, GradeOptions(seed=1, select={"matmul.square", "gelu.values"})) as grader:
        result = grader.grade(sub)
    assert result.grader_error is None
    assert FLAG_IMPORT_ERROR in result.flags
    selected = sum(i.points for i in graded_rubric.items if i.check_id in {"matmul.square", "gelu.values"})
    assert result.score == 0 and result.max_score == selected > 0
    assert any("SystemExit" in m for m in result.messages)
    assert {i.status for i in result.items} == {"failed"}


def test_functions_defined_are_reported():
    sb = sandbox("def fused_gelu(x):\n    return x\n\ndef helper():\n    pass\n\nclassify_bound = 3\n")
    try:
        sb.start()
        assert sb.functions == ["fused_gelu"]  # only the API, only callables
    finally:
        sb.close()


# ---------------------------------------------------------------- output

def test_import_output_is_captured(tiny):
    out, _ = tiny.output()
    assert "hello from import" in out


def test_stderr_is_captured_separately():
    sb = sandbox("import sys\nsys.stderr.write('to stderr\\n')\nprint('to stdout')\n")
    try:
        sb.start()
    finally:
        sb.close()
    out, err = sb.output()
    assert "to stdout" in out and "to stderr" not in out
    assert "to stderr" in err


def test_large_output_is_capped():
    sb = sandbox("print('x' * 200_000)\n\ndef f():\n    return 1\n")
    try:
        sb.start()
        assert sb.f() == 1  # the worker did not block on a full pipe
    finally:
        sb.close()
    out, _ = sb.output()
    cap = SandboxConfig().output_cap
    assert "more bytes not shown" in out
    assert out.count("x") == cap
    assert len(out) < cap + 200


def test_output_cap_holds_across_restarts():
    code = "import os\nprint('y' * 800)\n\ndef die():\n    os._exit(1)\n"
    sb = sandbox(code, output_cap=1000)
    try:
        for _ in range(3):
            with pytest.raises(WorkerFailed):
                sb.die()
    finally:
        sb.close()
    out, _ = sb.output()
    assert out.count("y") <= 1000


# ---------------------------------------------------------------- tampering, folders, processes

def test_patched_timer_is_noticed_at_import():
    sb = sandbox("import time\ntime.perf_counter = lambda: 0.0\n\ndef f():\n    return 1\n")
    try:
        ready = sb.start()
        assert "time.perf_counter" in ready["patched"]
        assert sb.f() == 1
    finally:
        sb.close()


def test_clean_module_has_nothing_patched(tiny):
    assert tiny.start()["patched"] == []


def test_worker_runs_in_a_fresh_folder_removed_on_close():
    first, second = sandbox(TINY), sandbox(TINY)
    try:
        first.start(), second.start()
        # The folders as the grader sees them (inside bubblewrap each worker calls its own /sandbox).
        cwd1, cwd2 = first.worker.home, second.worker.home
        assert cwd1.is_dir() and cwd2.is_dir()
        assert cwd1 != cwd2
        assert cwd1.resolve() != PROJECT and PROJECT not in cwd1.resolve().parents
        assert Path.cwd().resolve() != cwd1.resolve()
        assert "acceleration.py" in first.listing().split(",")
        assert (cwd1 / "acceleration.py").read_text() == TINY
        inside = first.cwd()
        assert inside == (isolation.HOME if first.held.level.startswith("bwrap") else str(cwd1))
    finally:
        first.close()
        second.close()
    assert not cwd1.exists()
    assert not cwd2.exists()


def test_worker_folder_holds_only_the_submission():
    sb = sandbox(TINY)
    try:
        assert sb.listing() == "acceleration.py"
    finally:
        sb.close()


def test_worker_process_is_gone_after_close():
    sb = sandbox(TINY)
    sb.start()
    pid = sb.worker.pid  # the interpreter's pid as the grader sees it (a grandchild under bubblewrap)
    assert psutil.Process(pid).is_running()
    created = psutil.Process(pid).create_time()
    sb.close()
    assert process_gone(pid, created)
    assert sb.worker is None


def test_processes_the_student_started_are_killed_on_close():
    code = textwrap.dedent('''
        import subprocess

        def spawn(new_session):
            return subprocess.Popen(["sleep", "120"], start_new_session=new_session).pid
    ''')
    sb = sandbox(code)
    try:
        sb.spawn(False)
        sb.spawn(True)
        # The sleepers as the grader sees them: inside a PID namespace the pids they report are not ours.
        sleepers = [p for p in psutil.Process(sb.worker.proc.pid).children(recursive=True)
                    if p.name() == "sleep"]
        assert len(sleepers) == 2
        created = {p.pid: p.create_time() for p in sleepers}
    finally:
        sb.close()
    deadline = time.monotonic() + 10  # kill is asynchronous; poll, do not assert a duration
    while time.monotonic() < deadline and not all(process_gone(p, c) or _zombie(p) for p, c in created.items()):
        time.sleep(0.05)
    for p, c in created.items():
        assert process_gone(p, c) or _zombie(p), f"pid {p} survived close()"


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_environment_is_scrubbed():
    sb = sandbox("import os, sys\n\ndef env():\n    return ','.join(sorted(os.environ))\n\n"
                 "def path():\n    return '|'.join(sys.path)\n")
    try:
        names = set(sb.env().split(","))
        assert "OPENBLAS_NUM_THREADS" in names
        assert not {"ACCELGRADE_DEBUG", "PYTHONPATH", "VIRTUAL_ENV"} & names
        assert str(PROJECT) not in sb.path().split("|")
    finally:
        sb.close()


def test_a_course_tinytorch_replaces_the_shim(tmp_path):
    """--tinytorch DIR: the course's own package is what the submission imports, inside the sandbox."""
    pkg = tmp_path / "course" / "tinytorch"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("MARK = 42\n")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core" / "tensor.py").write_text(
        "import numpy as np\nclass Tensor:\n    def __init__(self, data):\n        self.data = np.asarray(data) + 1\n")
    code = ("import numpy as np\nimport tinytorch\nfrom tinytorch.core.tensor import Tensor\n"
            "def fused_gelu(x):\n    return np.array([tinytorch.MARK, x.data[0]], dtype=np.float32)\n")
    course = Sandbox(code, SandboxConfig(tinytorch=str(pkg)))
    shim = Sandbox(code, SandboxConfig())
    try:
        # The course's Tensor wraps the argument (adding 1, as it was told to), and its MARK is seen.
        assert course.fused_gelu(np.zeros(3, dtype=np.float32)).tolist() == [42.0, 1.0]
        with pytest.raises(StudentRaised, match="MARK"):  # accelgrade's shim has no MARK
            shim.fused_gelu(np.zeros(3, dtype=np.float32))
    finally:
        course.close()
        shim.close()
