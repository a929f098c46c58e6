"""The untrusted side: imports one submission and answers requests over a pipe.

Runs as ``python -I -S -c <bootstrap>`` (see ``launcher.py``), in a fresh
temporary folder, with a scrubbed environment and resource limits. It only
*measures and reports*: every verdict is computed by the trusted parent. It
keeps private references to the clock and to tracemalloc taken before the
submission is imported, so a patched ``time.perf_counter`` or ``tracemalloc``
changes nothing but gets noticed.

Only the stdlib, numpy, threadpoolctl and the tinytorch shim are importable
here: ``-S`` skips site-packages' .pth files, so the grader (installed in
editable mode) is not on the path, and a meta-path hook refuses it anyway.
"""
import gc
import importlib.abc
import importlib.util
import json
import os
import sys
import time
import traceback
import tracemalloc

_CONFIG = json.loads(sys.argv[1])
sys.path[:] = _CONFIG["sys_path"]
sys.argv[:] = [_CONFIG["module_file"]]

# Pin BLAS threads before numpy loads OpenBLAS, then again through threadpoolctl
# in case a library ignores the environment.
import numpy as np  # noqa: E402

import _ag_inputs as inputs  # noqa: E402  (installed by the bootstrap)
import _ag_wire as wire  # noqa: E402  (installed by the bootstrap)

try:
    from threadpoolctl import threadpool_limits

    _POOL = threadpool_limits(limits=_CONFIG["threads"])
except Exception:  # threadpoolctl missing: the environment variables still apply
    _POOL = None

_REQ_FD = _CONFIG["req_fd"]
_RESP_FD = _CONFIG["resp_fd"]

# Private references, taken before any student code runs.
_perf_counter = time.perf_counter
_process_time = time.process_time
_tm_start, _tm_stop = tracemalloc.start, tracemalloc.stop
_tm_peak, _tm_reset = tracemalloc.get_traced_memory, tracemalloc.reset_peak
_tm_is_tracing = tracemalloc.is_tracing
_WATCHED = {
    "time.perf_counter": (time, "perf_counter", time.perf_counter),
    "time.time": (time, "time", time.time),
    "time.process_time": (time, "process_time", time.process_time),
    "tracemalloc.start": (tracemalloc, "start", tracemalloc.start),
    "tracemalloc.get_traced_memory": (tracemalloc, "get_traced_memory", tracemalloc.get_traced_memory),
    "tracemalloc.reset_peak": (tracemalloc, "reset_peak", tracemalloc.reset_peak),
    "numpy.allclose": (np, "allclose", np.allclose),
    "numpy.array_equal": (np, "array_equal", np.array_equal),
    "numpy.testing.assert_allclose": (np.testing, "assert_allclose", np.testing.assert_allclose),
    "numpy.matmul": (np, "matmul", np.matmul),
}
_ndarray_eq = np.ndarray.__eq__
_array_equal = np.array_equal  # the worker's own checks must not use what the student may patch

_BLOCKED = ("grader", "reference", "accelgrade")
_BLOCKED_PREFIXES = ("__editable__", "_accelgrade", "__accelgrade")  # editable-install finders name the project


class _BlockGrader(importlib.abc.MetaPathFinder):
    """The grader and reference are not the student's to import."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in _BLOCKED or top.startswith(_BLOCKED_PREFIXES):
            raise ImportError(f"{name} is not available to submissions")
        return None


def _patched():
    found = [name for name, (obj, attr, orig) in _WATCHED.items() if getattr(obj, attr, None) is not orig]
    if np.ndarray.__eq__ is not _ndarray_eq:
        found.append("numpy.ndarray.__eq__")
    return found


class _NoIPython:
    """nbconvert-exported files call get_ipython().run_line_magic(...); make those no-ops."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _import_submission():
    import builtins

    builtins.get_ipython = _NoIPython
    sys.meta_path.insert(0, _BlockGrader())
    name = "acceleration"
    with open(_CONFIG["module_file"], encoding="utf-8") as fh:
        if any(line.lstrip().startswith("from .") for line in fh):
            # TinyTorch's exported package file: `from ..core.tensor import Tensor` must resolve
            # inside the shim package, as it does in tinytorch/perf/.
            import tinytorch.perf  # noqa: F401

            name = "tinytorch.perf.acceleration"
    spec = importlib.util.spec_from_file_location(name, _CONFIG["module_file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if _CONFIG.get("remove_source"):
        # The reference's source need not stay on disk for a neighbouring worker to read.
        os.unlink(_CONFIG["module_file"])
    return module


def _describe_error(exc):
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "etype": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:2000],
        "traceback": "".join(tb)[-4000:],
    }


class _BadReturn(Exception):
    """The function returned something the grader cannot read as a result."""


def _to_plain(value, depth=0):
    """Reduce whatever the student returned to plain data: arrays, numbers, strings.

    Returns (plain, meta). An ndarray subclass or a Tensor becomes a plain
    float ndarray, so nothing the student defines crosses the wire.
    """
    meta = {"type": type(value).__name__}
    if depth > 4:
        raise _BadReturn("returned value is nested too deeply")
    data = value
    if not isinstance(value, (np.ndarray, np.generic, int, float, str, bool, tuple, list, type(None))):
        inner = getattr(value, "data", None)  # a Tensor (TinyTorch's or the shim's)
        if isinstance(inner, np.ndarray):
            data = inner
        else:
            raise _BadReturn(f"returned a {type(value).__name__}, not an array or a Tensor")
    if isinstance(data, np.ndarray):
        arr = np.array(data, copy=True, subok=False)
        meta["dtype"] = str(arr.dtype)
        if arr.dtype.kind not in "fiub":
            raise _BadReturn(f"returned an array of dtype {arr.dtype}, not numbers")
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        return arr, meta
    if isinstance(data, (bool, np.bool_)):
        return bool(data), meta
    if isinstance(data, (int, np.integer)):
        return int(data), meta
    if isinstance(data, (float, np.floating)):
        meta["dtype"] = type(data).__name__
        return float(data), meta
    if isinstance(data, str):
        return data[:1000], meta
    if data is None:
        return None, meta
    if isinstance(data, (tuple, list)):
        if len(data) > 64:
            raise _BadReturn("returned a sequence longer than 64 items")
        parts = [_to_plain(v, depth + 1)[0] for v in data]
        return (tuple(parts) if isinstance(data, tuple) else parts), meta
    raise _BadReturn(f"returned a {type(value).__name__}")


class _Missing(Exception):
    """The submission does not define the requested function."""


class Worker:
    def __init__(self):
        self.module = None
        self.prepared = []
        self.outputs = []
        from tinytorch.core.tensor import Tensor

        self.Tensor = Tensor

    def function(self, name):
        fn = getattr(self.module, name, None)
        if not callable(fn):
            raise _Missing(name)
        return fn

    def wrap(self, args, wrap):
        if not wrap:
            return list(args)
        return [self.Tensor(a) if isinstance(a, np.ndarray) else a for a in args]

    # --- requests -----------------------------------------------------------
    def op_call(self, req, args):
        fn = self.function(req["fn"])
        pristine = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
        call_args = self.wrap(args, req.get("wrap", True))
        value = fn(*call_args, **req.get("kwargs", {}))
        plain, meta = _to_plain(value)
        # Whether the call wrote into its inputs: a fact the parent judges.
        meta["inputs_changed"] = [
            p is not None and not _array_equal(_data(c), p, equal_nan=True)
            for p, c in zip(pristine, call_args)
        ]
        return {"value": plain, "meta": meta}

    def op_autograd(self, req, args):
        """Drive a Function the way TinyTorch does: ``cls.apply(*tensors, **kwargs)`` on Tensors that
        require grad, then the recorded ``_grad_fn.backward(grad_output)``. Reports the forward's
        array, whether the result was recorded, and the backward's gradients as plain arrays."""
        cls = self.function(req["fn"])
        count = int(req["inputs"])
        grad = args[count] if len(args) > count else None
        tensors = [self.Tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a for a in args[:count]]
        apply = getattr(cls, "apply", None)
        if not callable(apply):
            raise _BadReturn("has no apply(): it is not a Function subclass")
        out = apply(*tensors, **req.get("kwargs", {}))
        plain, meta = _to_plain(out)
        grad_fn = getattr(out, "_grad_fn", None)
        meta["recorded"] = grad_fn is not None
        grads = None
        if grad is not None:
            if grad_fn is None:
                raise _BadReturn("apply() returned a result with no _grad_fn, so backward cannot be reached")
            raw = grad_fn.backward(grad.copy())
            raw = list(raw) if isinstance(raw, (tuple, list)) else [raw]
            grads = [_to_plain(g)[0] for g in raw]
        return {"value": [plain, grads], "meta": meta}

    def op_prepare(self, req, args):
        """Make ``count`` fresh input sets for a timed run, outside the timed region.

        The recipe (inputs.py) lets the parent remake any block of set j, to check the
        answer of call j, without making the others.
        """
        self.prepared = []
        for j in range(req["count"]):
            arrays = [inputs.make(req["seed"], j, k, shape, scale) for k, (shape, scale) in enumerate(req["arrays"])]
            self.prepared.append(self.wrap(arrays, req.get("wrap", True)))
        return {"value": len(self.prepared), "meta": {}}

    def _step(self, req):
        """One timed unit of work: fn(*inputs) or a pipeline of the module's functions."""
        kwargs = req.get("kwargs", {})
        pipeline = req.get("pipeline")
        if not pipeline:
            fn = self.function(req["fn"])
            return lambda inputs: fn(*inputs, **kwargs)
        steps = [(self.function(s["fn"]), s["args"], s.get("kwargs", {})) for s in pipeline]

        def run_pipeline(inputs):
            prev = None
            for fn, refs, kw in steps:
                if isinstance(prev, np.ndarray):  # hand the next step a Tensor, as TinyTorch code expects
                    prev = self.Tensor(prev)
                prev = fn(*[prev if r == "prev" else inputs[r] for r in refs], **kw)
            return prev

        return run_pipeline

    def op_run(self, req, args):
        """Call the step once per prepared input set; report the worker's own clock (cross-checked).

        Every answer is kept (its array taken inside the timed region, so a lazy ``.data`` is
        timed too): the parent picks which ones to check only after the run.
        """
        step = self._step(req)
        self.outputs = []  # the last run's answers go first, so this run's reuse their memory
        kept = self.outputs
        gc_was = gc.isenabled()
        gc.disable()
        try:
            t0 = _perf_counter()
            for inputs in self.prepared:
                out = step(inputs)
                # an ndarray's own .data is a memoryview: only a Tensor is unwrapped
                kept.append(out if isinstance(out, np.ndarray) else getattr(out, "data", out))
            elapsed = _perf_counter() - t0
        finally:
            if gc_was:
                gc.enable()
        return {"value": elapsed, "meta": {"patched": _patched()}}

    def op_memory(self, req, args):
        """tracemalloc peak of one call on the first prepared input set (numpy's allocations are traced)."""
        step = self._step(req)
        inputs = self.prepared[0]
        gc.collect()
        _tm_start()
        try:
            _tm_reset()
            base = _tm_peak()[0]
            value = step(inputs)
            still_tracing = _tm_is_tracing()
            peak = _tm_peak()[1] - base if still_tracing else 0
        finally:
            _tm_stop()
        inner = value if isinstance(value, np.ndarray) else getattr(value, "data", None)
        dtype = str(inner.dtype) if isinstance(inner, np.ndarray) else type(value).__name__
        del value, inner
        probe = self._probe(step, inputs)
        return {"value": None, "meta": {"peak": int(peak), "still_tracing": still_tracing, "dtype": dtype,
                                        "patched": _patched(), **probe}}

    def _probe(self, step, inputs) -> dict:
        """One more call with inputs that note every ufunc they meet: the widest float dtype of its
        results (a float64 constant upcasts the temporaries even when the result is cast back to
        float32) and the ufuncs used (``power`` for x ** 3). A hint's evidence, never a verdict's."""
        _Probe.seen, _Probe.ufuncs = set(), set()
        probed = []
        for a in inputs:
            if isinstance(a, self.Tensor):
                t = self.Tensor(a.data)
                t.data = a.data.view(_Probe)
                probed.append(t)
            elif isinstance(a, np.ndarray):
                probed.append(a.view(_Probe))
            else:
                probed.append(a)
        try:
            step(probed)
        except Exception:
            return {"widest": "?", "ufuncs": []}
        floats = [d for d in _Probe.seen if d.kind == "f"]
        return {"widest": str(max(floats, key=lambda d: d.itemsize)) if floats else "?",
                "ufuncs": sorted(_Probe.ufuncs)[:40]}

    def op_result(self, req, args):
        """Rows ``start:stop`` of the answer of timed call ``index`` of the last run, and the same
        rows of its inputs as they are now (the parent checks both)."""
        j, start, stop = int(req["index"]), int(req["start"]), int(req["stop"])
        if not 0 <= j < len(self.outputs):
            raise _BadReturn(f"no answer kept for timed call {j}")
        out = self.outputs[j]
        plain, meta = _to_plain(out[start:stop] if isinstance(out, np.ndarray) and out.ndim else out)
        if not isinstance(plain, np.ndarray) or plain.ndim == 0:
            raise _BadReturn(f"returned {meta.get('type')}, not an array")
        rows = [_to_plain(_data(a)[start:stop])[0] for a in self.prepared[j]]
        return {"value": [plain, rows], "meta": meta}

    def op_ping(self, req, args):
        return {"value": None, "meta": {"patched": _patched()}}


class _Probe(np.ndarray):
    """An array that notes the dtype of every ufunc result it takes part in, and passes it on."""

    seen: set = set()
    ufuncs: set = set()

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        _Probe.ufuncs.add(getattr(ufunc, "__name__", "?"))
        plain = [a.view(np.ndarray) if isinstance(a, _Probe) else a for a in args]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Probe) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        for r in results:
            if isinstance(r, np.ndarray) and r.size > 1:
                _Probe.seen.add(r.dtype)
        wrapped = tuple(r.view(_Probe) if isinstance(r, np.ndarray) else r for r in results)
        return wrapped if isinstance(result, tuple) else wrapped[0]


def _data(x):
    inner = getattr(x, "data", x)
    return inner if isinstance(inner, np.ndarray) else x


def main():
    worker = Worker()
    t0 = _perf_counter()
    import_error = None
    try:
        worker.module = _import_submission()
    except BaseException as exc:  # SyntaxError, SystemExit, anything: report, don't die
        import_error = _describe_error(exc)
    functions = []
    if worker.module is not None:
        functions = sorted(n for n in _CONFIG["api"] if callable(getattr(worker.module, n, None)))
    sys.stdout.flush()
    wire.send(_RESP_FD, {"ok": True, "ready": True, "import_error": import_error,
                         "functions": functions, "import_seconds": _perf_counter() - t0,
                         "patched": _patched()})
    ops = {"call": worker.op_call, "autograd": worker.op_autograd, "prepare": worker.op_prepare, "run": worker.op_run,
           "memory": worker.op_memory, "result": worker.op_result, "ping": worker.op_ping}
    while True:
        try:
            req, blobs = wire.recv(_REQ_FD)
        except wire.WireError:
            return  # the parent hung up
        op = ops.get(req.get("op"))
        if op is None:
            wire.send(_RESP_FD, {"ok": False, "error": {"etype": "ProtocolError", "mro": [],
                                                        "message": "unknown op", "traceback": ""}})
            continue
        try:
            args = [wire.unpack_value(a, blobs) for a in req.get("args", [])]
            if worker.module is None:
                raise ImportError("submission failed to import")
            result = op(req, args)
            out_blobs = []
            packed = wire.pack_value(result["value"], out_blobs)
            header = {"ok": True, "value": packed, "meta": result["meta"]}
        except _Missing as exc:
            header, out_blobs = {"ok": False, "missing": str(exc.args[0])}, []
        except _BadReturn as exc:
            header, out_blobs = {"ok": False, "bad_return": str(exc)[:500]}, []
        except BaseException as exc:  # noqa: BLE001 - the student's exception, reported as data
            header, out_blobs = {"ok": False, "error": _describe_error(exc)}, []
        sys.stdout.flush()
        sys.stderr.flush()
        wire.send(_RESP_FD, header, out_blobs)


main()
