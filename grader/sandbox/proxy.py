"""The checks' view of a sandboxed module: ``student.fused_gelu(x)`` in the trusted process.

A call is forwarded to a worker; a crashed or hung worker is replaced by a
fresh one for the next call (bounded), and every way a call can fail is an
exception the checks (and the report) can explain in plain words.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from grader.models import (FLAG_CRASH, FLAG_IMPORT_ERROR, FLAG_MEMORY, FLAG_MISSING, FLAG_NOT_IMPLEMENTED,
                           FLAG_TIMEOUT)
from grader.sandbox.isolation import Held
from grader.sandbox.launcher import SandboxConfig, isolation_plan
from grader.sandbox.process import ImportFailed, Reply, SandboxError, WorkerProcess


class StudentError(Exception):
    """A call into the submission did not return a value; ``flag`` says why."""

    flag = FLAG_CRASH
    hint: str | None = None  # replaces the check's own hint when the cause is not the check's topic


class MissingFunction(StudentError):
    flag = FLAG_MISSING

    def __init__(self, name: str):
        super().__init__(f"`{name}` is not defined in the submission")
        self.name = name
        self.hint = f"Define `{name}` with the signature from the starter file."


class NotImplementedYet(StudentError):
    flag = FLAG_NOT_IMPLEMENTED

    def __init__(self, name: str):
        super().__init__(f"`{name}` is not implemented yet (it raises NotImplementedError)")
        self.name = name
        self.hint = f"Implement `{name}`: its docstring in the starter file says what it must do."


class BadReturn(StudentError):
    """The function returned, but not something an array check can read (a list, a str, ...)."""

    flag = ""

    def __init__(self, name: str, what: str):
        super().__init__(f"`{name}` {what}")
        self.name = name
        self.hint = "Return a Tensor (or a numpy array) of float32 values."


class StudentRaised(StudentError):
    """The student's function raised; ``etype``/``mro`` name the exception class."""

    flag = ""  # raising is the function's own answer, not a crash of the worker

    def __init__(self, name: str, error: dict):
        self.name, self.etype, self.mro = name, error["etype"], error["mro"]
        self.detail, self.traceback = error["message"], error["traceback"]
        if "MemoryError" in self.mro:
            self.flag = FLAG_MEMORY
        super().__init__(f"`{name}` raised {self.etype}: {self.detail}".rstrip(": "))

    def is_a(self, exc_name: str) -> bool:
        return exc_name in self.mro


class WorkerFailed(StudentError):
    """The worker crashed, exited, hung or was killed during the call."""

    def __init__(self, message: str, flag: str):
        super().__init__(message)
        self.flag = flag
        if flag == FLAG_IMPORT_ERROR:
            self.hint = "Fix the import error first: run `python acceleration.py` and read the traceback."
        elif flag == FLAG_TIMEOUT:
            self.hint = "The call never returned: look for a loop whose condition never changes."
        elif flag == FLAG_CRASH:
            self.hint = ("The call ended the process: no sys.exit()/os._exit() in graded functions; "
                         "a segmentation fault points at a native extension.")


def _cap(text: str, cap: int) -> str:
    """The cap holds per submission, however many workers it took."""
    if len(text) <= cap + 200:  # room for one worker's own "not shown" line
        return text
    return text[:cap] + f"\n[accelgrade: {len(text) - cap} more bytes not shown]"


class Sandbox:
    """A restartable worker for one module (a submission or the reference)."""

    def __init__(self, code: str, config: SandboxConfig, label: str = "submission"):
        self.code, self.config, self.label = code, config, label
        self.worker: WorkerProcess | None = None
        self.starts = 0
        self.ready: dict | None = None  # the first worker's import report
        self.held: Held | None = None  # what isolation the parent saw around the first worker
        self.events: list[tuple[str, str]] = []  # (flag, message) of every failure
        self.kills: Counter[str] = Counter()  # workers each function has ended
        self.last_kill: dict[str, tuple[str, str]] = {}
        self._stdout: list[str] = []
        self._stderr: list[str] = []

    # --- lifecycle ----------------------------------------------------------
    def begin(self) -> None:
        """Start the first worker without waiting for its import; ``start``/``ensure`` wait."""
        if self.worker is None and self.starts == 0:
            self.starts += 1
            self.worker = WorkerProcess(self.code, self.config, self.label, wait=False)

    def ensure(self) -> WorkerProcess:
        if self.worker is not None and self.worker.alive and self.worker.ready is not None:
            return self.worker
        if self.worker is not None and not self.worker.alive:
            self._collect_output(self.worker)
        if self.ready and self.ready.get("import_error"):
            raise WorkerFailed(self.import_message(), FLAG_IMPORT_ERROR)
        if self.worker is None or not self.worker.alive:  # else: begun, still importing
            if self.starts > self.config.max_restarts:
                raise WorkerFailed(f"the {self.label} crashed {self.starts} times; no more workers started",
                                   FLAG_CRASH)
            self.starts += 1
            self.worker = WorkerProcess(self.code, self.config, self.label, wait=False)
        try:
            self.worker.finish_start()
        except ImportFailed as exc:
            self.worker._collected = True  # its output is taken here, once
            self._stdout.append(exc.output[0])
            self._stderr.append(exc.output[1])
            if self.held is None:  # it died before the parent could look: only the plan is known
                plan = isolation_plan()
                self.held = Held(level=plan.level, why=plan.why or "not observed: the worker ended while importing")
            self.ready = {"import_error": {"etype": "ImportFailed", "message": str(exc),
                                           "traceback": "", "mro": []}, "functions": []}
            self.events.append((exc.flag, str(exc)))
            raise WorkerFailed(str(exc), exc.flag) from None
        if self.ready is None:
            self.ready = self.worker.ready
        if self.held is None:
            self.held = self.worker.held
        if self.worker.ready.get("import_error"):
            self.worker.close()
            self._collect_output(self.worker)
            raise WorkerFailed(self.import_message(), FLAG_IMPORT_ERROR)
        return self.worker

    def start(self) -> dict:
        """Start a worker now (to learn what the file defines); never raises for the student's faults."""
        try:
            self.ensure()
        except WorkerFailed:
            pass
        return self.ready or {}

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self._collect_output(self.worker)
            self.worker = None

    def _collect_output(self, worker: WorkerProcess) -> None:
        if getattr(worker, "_collected", False):
            return
        worker._collected = True
        out, err = worker.output()
        self._stdout.append(out)
        self._stderr.append(err)

    def output(self) -> tuple[str, str]:
        out = list(self._stdout)
        err = list(self._stderr)
        if self.worker is not None and self.worker.alive:
            o, e = self.worker.output()
            out.append(o)
            err.append(e)
        return _cap("".join(out), self.config.output_cap), _cap("".join(err), self.config.output_cap)

    def import_message(self) -> str:
        err = (self.ready or {}).get("import_error") or {}
        if err.get("etype") == "ImportFailed":
            return err["message"]
        return f"the file failed to import: {err.get('etype', 'error')}: {err.get('message', '')}".rstrip(": ")

    @property
    def functions(self) -> list[str]:
        return list((self.ready or {}).get("functions", []))

    # --- requests -----------------------------------------------------------
    def request(self, op: str, fn: str, args: list[Any] | None = None, timeout: float | None = None,
                **fields: Any) -> Reply:
        """Send one request; turn every failure into a StudentError."""
        if self.kills[fn] >= self.config.kills_per_function:
            # This function keeps ending its worker: stop feeding it, keep grading the others.
            flag, why = self.last_kill[fn]
            raise WorkerFailed(f"`{fn}` ended its worker {self.kills[fn]} times (last time: {why}); "
                               "not called again", flag)
        worker = self.ensure()
        try:
            reply = worker.request(op, args, timeout=timeout, fn=fn, **fields)
        except SandboxError as exc:
            self._collect_output(worker)
            self.events.append((exc.flag, str(exc)))
            self.kills[fn] += 1
            self.last_kill[fn] = (exc.flag, str(exc))
            raise WorkerFailed(f"`{fn}`: {exc}", exc.flag) from None
        if reply.ok:
            return reply
        if reply.missing is not None:
            raise MissingFunction(fn)
        if reply.bad_return is not None:
            raise BadReturn(fn, reply.bad_return)
        assert reply.error is not None
        if reply.error["etype"] == "NotImplementedError" or "NotImplementedError" in reply.error["mro"][:1]:
            raise NotImplementedYet(fn)
        raised = StudentRaised(fn, reply.error)
        if raised.flag == FLAG_MEMORY:
            self.events.append((FLAG_MEMORY, str(raised)))
        raise raised

    # --- facts the parent reads about the current worker (never asked of it) ---
    def rss(self) -> int | None:
        return self.worker.rss() if self.worker is not None and self.worker.alive else None

    def peak_rss(self) -> int | None:
        return self.worker.peak_rss() if self.worker is not None and self.worker.alive else None

    def reset_peak_rss(self) -> bool:
        return bool(self.worker is not None and self.worker.alive and self.worker.reset_peak_rss())

    def call(self, fn: str, *args: Any, wrap: bool = True, **kwargs: Any) -> Reply:
        """Call ``fn(*args, **kwargs)`` in the worker; arrays are wrapped as Tensors unless wrap=False."""
        return self.request("call", fn, list(args), wrap=wrap, kwargs=kwargs)

    def autograd(self, cls: str, *inputs: Any, grad: Any = None, **kwargs: Any) -> Reply:
        """``cls.apply(*inputs, **kwargs)`` on Tensors that require grad; with ``grad``, also the
        recorded backward. ``value`` is ``[forward array, gradients or None]``; ``meta["recorded"]``
        says whether the result carried a ``_grad_fn``."""
        args = list(inputs) + ([grad] if grad is not None else [])
        return self.request("autograd", cls, args, inputs=len(inputs), kwargs=kwargs)

    def __getattr__(self, name: str):
        # student.fused_gelu(x) -> the plain returned value
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value
