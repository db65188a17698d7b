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
import types

if __package__:  # imported by the grader, e.g. for tests
    from . import confine, judge, protocol
else:  # run as a file: the siblings are beside it (``-I`` leaves the script's folder off sys.path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine
    import judge
    import protocol

    del sys.path[0]

SIBLINGS = ("confine", "judge", "protocol", "serve")
HERE = os.path.dirname(os.path.abspath(__file__))


class Channel:
    """Signed JSON lines to the parent over the private result descriptor.

    Built from C functions bound when the channel is made (the C JSON encoder, the C HMAC,
    ``os.write``), so a submission that patches json, hmac, hashlib, os or builtins later
    cannot change what is sent.
    """

    def __init__(self, fd: int, key: bytes):
        from _hashlib import hmac_digest
        from _json import encode_basestring_ascii, make_encoder

        def unknown(obj):
            raise TypeError("not JSON")

        encoder = make_encoder(None, unknown, encode_basestring_ascii, None, ": ", ", ", False, False, True)
        join, encode, hexlify, memview, write = str.join, str.encode, bytes.hex, memoryview, os.write

        def send(obj) -> None:
            body = encode(join("", encoder(obj, 0)), "ascii")
            view = memview(b"\n" + encode(hexlify(hmac_digest(key, body, "sha256"))[:32], "ascii") + b" " + body + b"\n")
            while view:
                try:
                    view = view[write(fd, view):]
                except InterruptedError:
                    continue
                except OSError:
                    return

        self.send = send


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
    """``Type: message`` on one line (the message's lines joined), cut to 500 characters."""
    try:
        name = type(exc).__qualname__
    except BaseException:
        name = "?"
    try:
        message = " ".join(str(exc)[:20_000].split())
    except BaseException:
        message = "<the exception's message could not be read>"
    return (f"{name}: {message}" if message else name)[:500]


def submission_line(exc: BaseException):
    """The line of the submission's code where ``exc`` was raised (its innermost frame there), or None."""
    line = None
    try:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<submission>":
                line = tb.tb_lineno
            tb = tb.tb_next
    except BaseException:
        return None
    return line if isinstance(line, int) else None


def _compile(code: str, out: Channel):
    try:
        return compile(code, "<submission>", "exec")
    except BaseException as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        out.send({"event": protocol.SYNTAX_ERROR, "error": describe_exception(exc)})
        return None


def _namespace() -> dict:
    """The submission's globals: a module of its own as ``__main__`` (``import __main__`` must not
    reach the harness), and the harness's siblings no longer importable by name."""
    module = types.ModuleType("__main__")
    module.__dict__.update({"__builtins__": builtins, "__file__": "<submission>"})
    sys.modules["__main__"] = module
    if not __package__:
        for name in SIBLINGS:
            sys.modules.pop(name, None)
    return module.__dict__


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


def build_frames(cases, snapshot) -> list:
    """Fresh DataFrames for each decoded case, in its column order, each with a snapshot of what
    it holds (to tell afterwards whether the call changed it)."""
    import pandas as pd

    frames = []
    for case in cases:
        old = pd.DataFrame({c: case["old"][c].copy() for c in case["columns"]})
        new = pd.DataFrame({c: case["new"][c].copy() for c in case["columns"]})
        frames.append((case["name"], old, new, case["threshold"], case["pass_threshold"],
                       (snapshot(old), snapshot(new))))
    return frames


def _builtins_restorer():
    """A function that puts back every builtin the submission replaced since now."""
    saved, update, namespace = dict(builtins.__dict__), dict.update, builtins.__dict__

    def restore() -> None:
        update(namespace, saved)

    return restore


def run_grade(job: dict, out: Channel, frames, checks) -> int:
    """Run the submission's top level, then call its ``detect_drift`` on every case.

    ``checks`` are ``judge.bind()``'s, bound before the submission's code ran; everything
    this function uses after that is a local bound here first.
    """
    _, unchanged, encode_result = checks
    monotonic, capped, set_, callable_ = time.monotonic, CappedText, set, callable
    restore = _builtins_restorer()
    wanted = job.get("cases")
    if wanted is not None:
        frames = [f for f in frames if f[0] in set_(wanted)]
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
        restore()
        _flush()
        out.send({"event": protocol.EXEC_ERROR, "error": describe_exception(exc),
                  "line": submission_line(exc), "memory": isinstance(exc, MemoryError)})
        return 1
    restore()
    _flush()
    fn = dict.get(ns, "detect_drift")
    try:
        ok = callable_(fn)
    except BaseException:
        ok = False
    if not ok:
        out.send({"event": protocol.NO_FUNCTION, "type": type(fn).__name__})
        return 1
    limit = int(job["output_limit"])
    for name, old, new, threshold, pass_threshold, given in frames:
        out.send({"event": protocol.CASE_START, "name": name})
        cap = router.target = capped(limit)
        sys.stdout = cap
        started = monotonic()
        error, memory, ret, line = None, False, None, None
        try:
            ret = fn(old, new, threshold=threshold) if pass_threshold else fn(old, new)
        except BaseException as exc:
            error, memory, line = describe_exception(exc), isinstance(exc, MemoryError), submission_line(exc)
        finally:
            restore()
            sys.stdout, router.target = router, real_stdout
        elapsed = monotonic() - started
        modified = not (unchanged(old, given[0]) and unchanged(new, given[1]))
        out.send({"event": protocol.CASE, "name": name, "modified": modified,
                  "result": None if error else encode_result(ret), "error": error, "line": line, "memory": memory,
                  "stdout": cap.getvalue(), "stdout_truncated": cap.truncated, "duration_s": elapsed})
    _flush()
    out.send({"event": protocol.DONE})
    return 0


def readable_paths() -> list:
    """What the job must be able to read: the interpreter, its packages, this harness."""
    exe = os.path.dirname(os.path.realpath(sys.executable))
    return [p for p in {sys.base_prefix, sys.prefix, exe, os.path.dirname(os.path.dirname(HERE))} if p]


def run_job(job: dict, result_fd: int, frames=None, data: bytes = None, pid1: bool = False) -> None:
    """Confine, run the job, report, and leave with ``os._exit`` (no atexit of the submission).

    ``pid1``: this process is PID 1 of a fresh PID namespace already (``confine.confine``)."""
    out = Channel(result_fd, bytes.fromhex(job.pop("key", "")))
    code = 70
    try:
        checks = judge.bind() if job.get("mode") == "grade" else None
        if job.get("mode") == "grade" and frames is None:  # built while still trusted and privileged
            frames = build_frames(protocol.decode_cases(data), checks[0])
        info = confine.confine(job, readable_paths(), lambda how: out.send({"event": protocol.EXIT, **how}), pid1)
    except BaseException as exc:  # the sandbox could not be set up: the grader's problem, not the job's
        out.send({"event": protocol.HARNESS_ERROR, "stage": "confine", "error": describe_exception(exc)})
        os._exit(code)
    try:
        out.send({"event": protocol.ISOLATION, **info})
        code = run_grade(job, out, frames, checks) if job.get("mode") == "grade" else run_exec(job, out)
    except BaseException as exc:  # a harness failure, reported and never hidden
        out.send({"event": protocol.HARNESS_ERROR, "error": describe_exception(exc)})
    finally:
        _flush()
        os._exit(code)


def main() -> None:
    if sys.argv[1:2] == ["--site"]:  # the minimal root's numpy and pandas (the interpreter runs with -S)
        sys.path.append(sys.argv[2])
        del sys.argv[1:3]
    if sys.argv[1:2] == ["--probe"]:  # can the sandbox start here at all?
        import numpy  # noqa: F401
        import pandas  # noqa: F401

        print("ok")
        return
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
