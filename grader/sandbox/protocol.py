"""The sandbox's wire: job schema, event names, framing, the case-data codec and event parsing.

Standard library only (numpy is imported lazily, on decoding, in the child): this file is
used by the grader *and* by the standalone harness inside the sandbox, which loads it as a
sibling file, never as ``grader.sandbox.protocol``.

A job is a JSON object:

    {"mode": "grade" | "exec", "code": str, "workdir": str, "timeout_s": float,
     "memory_mb": int, "file_mb": int, "nproc": int, "output_limit": int,
     "cases": [case names] (grade), "data_key": str (grade), "key": hex str,
     "env": {name: value}, "namespaces": bool, "drop_privileges": bool, "uid": int}

``key`` signs every event line (``sign``): lines written by the submission without it are
dropped as garbage.

The cases' data travels beside it as a binary blob (``encode_cases``); the expected
values and the seed never do. The child reports on its result descriptor as JSON lines,
each ``{"event": NAME, ...}``; the parent treats every line as untrusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import struct
from dataclasses import dataclass, field

# --- event names (child -> parent, on the result descriptor) ----------------------------------
ISOLATION = "isolation"          # what confinement was applied, sent before any job code runs
HARNESS_ERROR = "harness_error"  # the harness itself failed (stage "confine": the sandbox did not start)
SYNTAX_ERROR = "syntax_error"
EXEC_ERROR = "exec_error"        # grade: the top level raised
EXEC_DONE = "exec_done"          # exec: the code ran to its end (maybe with an error)
NO_FUNCTION = "no_function"
CASE_START = "case_start"
CASE = "case"                    # one case's result, sent after the call returned
DONE = "done"                    # every case was called
EXIT = "exit"                    # how the job's process ended (from the confined process's parent)

# --- worker frames (fork server <-> grader, on a Unix socket) ---------------------------------
READY = "ready"
ERROR = "error"
STARTED = "started"
EXITED = "exited"
DATA = "data"                    # the next frame's payload is a case-data blob

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
MAX_ITEMS = 10_000
"""Items of a returned dict that the child reports and the grader reads."""


def send_frame(sock: socket.socket, obj, fds=(), raw: bytes | None = None) -> None:
    """One frame: a 4-byte big-endian length and JSON (or ``raw`` bytes); ``fds`` ride on the length."""
    payload = raw if raw is not None else json.dumps(obj).encode("utf-8")
    header = _HEADER.pack(len(payload))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the socket")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket, maxfds: int = 0, raw: bool = False):
    """One frame: ``(obj or bytes, fds)``. Raises EOFError when the other end has gone."""
    fds: list[int] = []
    if maxfds:
        data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, maxfds)
        if not data:
            raise EOFError("the other end closed the socket")
        if len(data) < _HEADER.size:
            data += _recv_exact(sock, _HEADER.size - len(data))
    else:
        data = _recv_exact(sock, _HEADER.size)
    (size,) = _HEADER.unpack(data)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is larger than {MAX_FRAME}")
    body = _recv_exact(sock, size)
    return (body if raw else json.loads(body)), fds


def write_stream(fd_write, obj, raw: bytes) -> None:
    """A job and its data on a byte stream (the spawned child's stdin): two length-prefixed parts."""
    payload = json.dumps(obj).encode("utf-8")
    fd_write(_HEADER.pack(len(payload)) + payload + _HEADER.pack(len(raw)) + raw)


def read_stream(read) -> tuple[dict, bytes]:
    """The inverse of ``write_stream`` over ``read(n)``."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = read(n - len(buf))
            if not chunk:
                raise EOFError("the job stream ended early")
            buf += chunk
        return buf
    job = json.loads(exact(_HEADER.unpack(exact(_HEADER.size))[0]))
    return job, exact(_HEADER.unpack(exact(_HEADER.size))[0])


# --- case data: names, columns, thresholds and raw arrays; no expected values, no seed -------

@dataclass(frozen=True)
class CaseData:
    """The encoded hidden datasets: ``blob`` (what the child gets) and ``key`` (its digest)."""

    key: str
    blob: bytes


def encode_cases(cases) -> CaseData:
    """Encode objects with ``name, columns, old, new, threshold, pass_threshold`` (numpy arrays)."""
    header, parts, offset = [], [], 0
    for case in cases:
        sides = {}
        for side in ("old", "new"):
            cols = []
            for c in case.columns:
                a = getattr(case, side)[c]
                data = a.tobytes()
                cols.append({"dtype": a.dtype.str, "offset": offset, "n": int(a.shape[0])})
                parts.append(data)
                offset += len(data)
            sides[side] = cols
        header.append({"name": case.name, "columns": list(case.columns), "threshold": float(case.threshold),
                       "pass_threshold": bool(case.pass_threshold), **sides})
    head = json.dumps(header).encode("utf-8")
    blob = _HEADER.pack(len(head)) + head + b"".join(parts)
    return CaseData(hashlib.sha256(blob).hexdigest(), blob)


def decode_cases(blob: bytes) -> list[dict]:
    """``[{name, columns, threshold, pass_threshold, old: {col: array}, new: {...}}]``, read-only arrays."""
    import numpy as np

    (size,) = _HEADER.unpack_from(blob)
    header = json.loads(blob[_HEADER.size:_HEADER.size + size])
    body = memoryview(blob)[_HEADER.size + size:]
    out = []
    for case in header:
        item = {k: case[k] for k in ("name", "columns", "threshold", "pass_threshold")}
        for side in ("old", "new"):
            arrays = {}
            for c, spec in zip(case["columns"], case[side]):
                dt = np.dtype(spec["dtype"])
                a = np.frombuffer(body, dt, spec["n"], spec["offset"]).copy()
                a.flags.writeable = False
                arrays[c] = a
            item[side] = arrays
        out.append(item)
    return out


# --- authenticated event lines ----------------------------------------------------------------

def sign(key: bytes, body: bytes) -> bytes:
    """The tag of the event line ``body`` under the run's key (hex, 32 characters): the first
    half of HMAC-SHA256 (the harness computes the same with ``_hashlib.hmac_digest``)."""
    return hmac.digest(key, body, "sha256").hex()[:32].encode()


@dataclass
class RawRun:
    """The raw record of one sandboxed run: output, result-channel events and how it ended."""

    stdout: bytes
    stderr: bytes
    events: list[dict]
    timed_out: bool
    exit_code: int | None
    duration_s: float
    truncated: bool
    channel_garbage: int = 0
    memory_exceeded: bool = False
    layers: dict = field(default_factory=dict)
    """What isolation the parent put in force (backend, bwrap, cgroup), beside what the child reported."""

    @property
    def isolation(self) -> dict:
        """Every isolation fact of this run: the parent's layers and the child's own report."""
        child = {k: v for k, v in (self.first(ISOLATION) or {}).items() if k != "event"}
        return {**self.layers, **child}

    def last(self, name: str) -> dict | None:
        for event in reversed(self.events):
            if event.get("event") == name:
                return event
        return None

    def first(self, name: str) -> dict | None:
        """The first event called ``name``: for reports written before the job ran, which it cannot forge."""
        return next((event for event in self.events if event.get("event") == name), None)


def parse_events(data: bytes, key: bytes | None = None) -> tuple[list[dict], int]:
    """The JSON-object lines of the result channel, and how many lines were not one.

    With ``key``, each line must be ``TAG JSON`` with the tag ``sign(key, JSON)``: a line
    the harness did not sign (one the submission wrote without the key) is garbage.
    """
    events, garbage = [], 0
    for line in data.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        if key is not None:
            tag, _, line = line.partition(b" ")
            if not hmac.compare_digest(tag, sign(key, line)):
                garbage += 1
                continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            garbage += 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("event"), str):
            events.append(obj)
        else:
            garbage += 1
    return events, garbage
