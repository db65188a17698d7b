"""The sandboxed child: confine this process, run one job, report. Imports nothing from the project.

Standard library plus numpy/pandas only. It is run as a file (``python -I -B harness.py``),
never as ``grader.*``, with its two siblings ``protocol.py`` (the wire) and ``confine.py``
(namespaces, rlimits, uid) loaded beside it:

* ``harness.py RESULT_FD``: one job and its case data on stdin (``protocol.write_stream``),
  the "spawn" backend;
* ``harness.py --serve SOCKET_FD``: a warm fork server (``serve.py``) calls ``run_job`` in a
  child forked for each job, the "forkserver" backend.

Everything it reports goes to RESULT_FD as JSON lines (``protocol`` event names). The
expected values and the seed never reach this process: only the cases' data.
"""

import builtins
import io
import json
import os
import sys
import time
import traceback

if __package__:  # imported by the grader, e.g. for tests
    from . import confine, protocol
else:  # run as a file: the siblings are beside it (``-I`` leaves the script's folder off sys.path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine
    import protocol

    del sys.path[0]

MAX_ITEMS = 10_000
HERE = os.path.dirname(os.path.abspath(__file__))


class Channel:
    """JSON lines to the parent over the private result descriptor."""

    def __init__(self, fd: int):
        self.fd = fd
        self.dumps = json.dumps  # bound now: the submission may patch the json module later
        self.write = os.write

    def send(self, obj) -> None:
        data = ("\n" + self.dumps(obj, allow_nan=True) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            try:
                n = self.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError:
                return
            view = view[n:]


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and drops the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str.__str__(s) if isinstance(s, str) else str(s)
        room = self.limit - self.size
        if len(s) > room:
            self.truncated = True
            s = s[: max(room, 0)]
        if s:
            self.parts.append(s)
            self.size += len(s)
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


class Router(io.TextIOBase):
    """``sys.stdout`` for a whole grading run: writes go to whatever ``target`` is now, so a
    submission that keeps ``sys.stdout`` from its top level still has each call's lines captured."""

    def __init__(self, target):
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        return self.target.write(s)

    def flush(self) -> None:
        flush = getattr(self.target, "flush", None)
        if flush is not None:
            flush()


def describe_exception(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1][:500]
    except BaseException:
        return type(exc).__name__


def _encode_scalar(v) -> dict:
    """A plain-JSON description of one value, read from the object's storage, not its methods."""
    try:
        tp = type(v)
        if v is None:
            return {"t": "none"}
        if issubclass(tp, bool):
            return {"t": "bool"}
        if issubclass(tp, float):
            return {"t": "float", "v": float.__repr__(v), "type": tp.__name__}
        if issubclass(tp, int):
            return {"t": "int", "v": float.__repr__(float(int.__index__(v))), "type": tp.__name__}
        if issubclass(tp, str):
            return {"t": "str", "v": str.__str__(v)[:300], "type": tp.__name__}
        np = sys.modules.get("numpy")
        if np is not None and issubclass(tp, (np.floating, np.integer)) and not issubclass(tp, np.bool_):
            return {"t": "float", "v": float.__repr__(float(v)), "type": "numpy." + tp.__name__}
        return {"t": "other", "type": str.__str__(tp.__name__)[:100]}
    except BaseException:
        return {"t": "other", "type": "?"}


def encode_result(ret) -> dict:
    """Describe a returned value: a dict's real items (not what a subclass says), or its type."""
    try:
        tp = type(ret)
        if issubclass(tp, dict):
            items = []
            for i, (k, v) in enumerate(dict.items(ret)):
                if i >= MAX_ITEMS:
                    break
                items.append([_encode_scalar(k), _encode_scalar(v)])
            return {"kind": "dict", "type": str.__str__(tp.__name__)[:100], "items": items}
        return {"kind": "other", "type": str.__str__(tp.__name__)[:100]}
    except BaseException:
        return {"kind": "other", "type": "?"}


def _compile(code: str, out: Channel):
    try:
        return compile(code, "<submission>", "exec")
    except BaseException as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        out.send({"event": protocol.SYNTAX_ERROR, "error": describe_exception(exc)})
        return None


def _namespace() -> dict:
    return {"__name__": "__main__", "__builtins__": builtins, "__file__": "<submission>"}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def run_exec(job: dict, out: Channel) -> int:
    """Run code like ``python -c``: output to the real stdout/stderr, traceback on stderr."""
    compiled = _compile(job["code"], out)
    if compiled is None:
        return 1
    sys.argv = ["<submission>"]
    error, memory, code = None, False, 0
    try:
        exec(compiled, _namespace())
    except SystemExit as exc:
        c = exc.code
        if c is None or c == 0:
            code = 0
        else:
            code = c if isinstance(c, int) and not isinstance(c, bool) else 1
            error = describe_exception(exc)
    except BaseException as exc:
        error, memory, code = describe_exception(exc), isinstance(exc, MemoryError), 1
        try:
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
                tb = tb.tb_next  # the harness's own frames are not the submission's business
            traceback.print_exception(type(exc), exc, tb, file=sys.__stderr__)
        except BaseException:
            pass
    _flush()
    out.send({"event": protocol.EXEC_DONE, "error": error, "memory": memory, "code": code})
    return code & 0xFF


def build_frames(cases) -> list:
    """Fresh DataFrames for each decoded case, in its column order, and the read-only arrays
    they were copied from (to tell afterwards whether the call changed them)."""
    import pandas as pd

    return [
        (
            case["name"],
            pd.DataFrame({c: case["old"][c].copy() for c in case["columns"]}),
            pd.DataFrame({c: case["new"][c].copy() for c in case["columns"]}),
            case["threshold"],
            case["pass_threshold"],
            ([(c, case["old"][c]) for c in case["columns"]], [(c, case["new"][c]) for c in case["columns"]]),
        )
        for case in cases
    ]


def _same(df, given) -> bool:
    """True when ``df`` still has the columns it was given, in order, with the same bits."""
    import numpy as np

    try:
        items = list(df.items())
        if [c for c, _ in items] != [c for c, _ in given]:
            return False
        for (_, series), (_, before) in zip(items, given):
            now = np.ascontiguousarray(series.to_numpy())
            if now.dtype != before.dtype or now.shape != before.shape:
                return False
            if not np.array_equal(now.view(np.uint8), np.ascontiguousarray(before).view(np.uint8)):
                return False
        return True
    except BaseException:
        return False


def run_grade(job: dict, out: Channel, frames) -> int:
    """Run the submission's top level, then call its ``detect_drift`` on every case."""
    wanted = job.get("cases")
    if wanted is not None:
        frames = [f for f in frames if f[0] in set(wanted)]
    compiled = _compile(job["code"], out)
    if compiled is None:
        return 1
    sys.argv = ["<submission>"]
    ns = _namespace()
    real_stdout = sys.stdout
    router = sys.stdout = Router(real_stdout)
    try:
        exec(compiled, ns)
    except BaseException as exc:
        _flush()
        out.send({"event": protocol.EXEC_ERROR, "error": describe_exception(exc),
                  "memory": isinstance(exc, MemoryError)})
        return 1
    _flush()
    fn = dict.get(ns, "detect_drift")
    try:
        ok = callable(fn)
    except BaseException:
        ok = False
    if not ok:
        out.send({"event": protocol.NO_FUNCTION, "type": type(fn).__name__})
        return 1
    limit = int(job["output_limit"])
    monotonic = time.monotonic
    for name, old, new, threshold, pass_threshold, given in frames:
        out.send({"event": protocol.CASE_START, "name": name})
        cap = router.target = CappedText(limit)
        sys.stdout = cap
        started = monotonic()
        error, memory, ret = None, False, None
        try:
            ret = fn(old, new, threshold=threshold) if pass_threshold else fn(old, new)
        except BaseException as exc:
            error, memory = describe_exception(exc), isinstance(exc, MemoryError)
        finally:
            sys.stdout, router.target = router, real_stdout
        elapsed = monotonic() - started
        modified = not (_same(old, given[0]) and _same(new, given[1]))
        out.send({"event": protocol.CASE, "name": name, "modified": modified,
                  "result": None if error else encode_result(ret), "error": error, "memory": memory,
                  "stdout": cap.getvalue(), "stdout_truncated": cap.truncated, "duration_s": elapsed})
    _flush()
    out.send({"event": protocol.DONE})
    return 0


def readable_paths() -> list:
    """What the job must be able to read: the interpreter, its packages, this harness."""
    exe = os.path.dirname(os.path.realpath(sys.executable))
    return [p for p in {sys.base_prefix, sys.prefix, exe, os.path.dirname(os.path.dirname(HERE))} if p]


def run_job(job: dict, result_fd: int, frames=None, data: bytes = None) -> None:
    """Confine, run the job, report, and leave with ``os._exit`` (no atexit of the submission)."""
    out = Channel(result_fd)
    code = 70
    try:
        if job.get("mode") == "grade" and frames is None:  # built while still trusted and privileged
            frames = build_frames(protocol.decode_cases(data))
        info = confine.confine(job, readable_paths(), lambda how: out.send({"event": protocol.EXIT, **how}))
    except BaseException as exc:  # the sandbox could not be set up: the grader's problem, not the job's
        out.send({"event": protocol.HARNESS_ERROR, "stage": "confine", "error": describe_exception(exc)})
        os._exit(code)
    try:
        out.send({"event": protocol.ISOLATION, **info})
        code = run_grade(job, out, frames) if job.get("mode") == "grade" else run_exec(job, out)
    except BaseException as exc:  # a harness failure, reported and never hidden
        out.send({"event": protocol.HARNESS_ERROR, "error": describe_exception(exc)})
    finally:
        _flush()
        os._exit(code)


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        if __package__:
            from . import serve
        else:
            sys.path.insert(0, HERE)
            import serve
            del sys.path[0]
        serve.main(int(sys.argv[2]), sys.modules[__name__])
        return
    result_fd = int(sys.argv[1])
    job, data = protocol.read_stream(sys.stdin.buffer.read)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    run_job(job, result_fd, data=data)


if __name__ == "__main__":
    main()
