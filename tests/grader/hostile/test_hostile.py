"""The hostile corpus: every submission here, graded on every backend, gets its verdict and
nothing escapes.

Each ``*.py`` file (other than this runner) starts with header comment lines:

    # expect-reason: <reason>[|<reason>...]   (one line per reason that must be reported;
                                               alternatives separated by |)
    # expect-passed: false                    (optional; false is the default)
    # expect-score: <float>                   (optional)
    # timeout-s: <seconds>                    (optional; the run's wall-time limit)

After each grading the runner checks that nothing reached the host: a Unix socket and a FIFO
it listens on under /run (mode 777/666), an abstract socket, files a submission may try to
write, the harness files, processes left behind. The abstract socket's name is made per run
(two test suites on one machine must not collide on it): a submission names it as
``ABSTRACT``, and the runner substitutes the run's own name before grading.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from grader import grade_code
from tests.grader.grading.test_corpus import _processes_with

HERE = Path(__file__).parent
SUBMISSIONS = sorted(p for p in HERE.glob("*.py") if not p.name.startswith(("test_", "__")))
BACKENDS = ["fork", "spawn"]
MARK = "streamdrift-hostile-escape-marker"
MARKER_FILES = [Path(d) / MARK for d in ("/tmp", "/run", "/var/tmp", "/dev/shm", "/root", "/work", "/opt",
                                        os.path.expanduser("~"))]
LEFT_BEHIND = "4747.25"  # sandbox_leave_processes.py's sleeping children
HARNESS_FILES = sorted((Path(__file__).resolve().parents[3] / "grader" / "sandbox").glob("*.py"))
TIMEOUT_S = 30.0  # generous: a loaded machine starts a sandbox slowly; hostile runs end sooner
MEMORY_MB = 768  # small, so that the memory routes reach the limit quickly
ABSTRACT = "streamdrift-hostile-abstract"  # the placeholder a submission uses; see Traps.abstract


def expectations(path: Path) -> dict:
    """The header of a submission: ``{"reasons": [set of alternatives...], "passed", "score"}``."""
    out = {"reasons": [], "passed": False, "score": None, "timeout_s": TIMEOUT_S}
    for line in path.read_text().splitlines():
        if line.startswith("# timeout-s:"):
            out["timeout_s"] = float(line.partition(":")[2])
            continue
        if not line.startswith("# expect-"):
            break
        key, _, value = line[len("# expect-"):].partition(":")
        value = value.strip()
        if key == "reason":
            out["reasons"].append(set(value.split("|")))
        elif key == "passed":
            out["passed"] = value.lower() == "true"
        elif key == "score":
            out["score"] = float(value)
        else:
            raise AssertionError(f"{path.name}: unknown header '# expect-{key}'")
    assert out["reasons"] or out["passed"], f"{path.name} has no '# expect-reason:' header"
    return out


class Traps:
    """What a submission would reach if it escaped: a listening Unix socket and a FIFO (both
    under /run, where host services keep theirs), an abstract socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="streamdrift-hostile-", dir="/run" if os.access("/run", os.W_OK) else None)
        os.chmod(self.dir, 0o777)
        self.accepted: list[bytes] = []
        self.listeners = []
        self.abstract = f"{ABSTRACT}-{os.getpid()}-{secrets.token_hex(8)}"
        for address in (os.path.join(self.dir, "service.sock"), "\0" + self.abstract):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(address)
            if not address.startswith("\0"):
                os.chmod(address, 0o777)
            s.listen(16)
            self.listeners.append(s)
            threading.Thread(target=self._accept, args=(s,), daemon=True).start()
        self.fifo = os.path.join(self.dir, "service.fifo")
        os.mkfifo(self.fifo, 0o666)
        os.chmod(self.fifo, 0o666)
        self.fifo_fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so writers could open it

    def submission(self, path: Path) -> str:
        """The submission's code, with this run's abstract socket name in place of ``ABSTRACT``."""
        return path.read_text().replace(ABSTRACT, self.abstract)

    def _accept(self, s):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            self.accepted.append(b"connection")
            conn.close()

    def escaped(self) -> list[str]:
        found = [f"a connection to a host socket ({len(self.accepted)})"] if self.accepted else []
        try:
            data = os.read(self.fifo_fd, 4096)
        except BlockingIOError:
            data = b""
        if data:
            found.append(f"{data!r} written to the host FIFO")
        return found

    def close(self):
        for s in self.listeners:
            s.close()
        os.close(self.fifo_fd)
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


@pytest.fixture(scope="module")
def traps():
    t = Traps()
    yield t
    t.close()


def _digest(paths) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_the_corpus_is_large_enough():
    assert len(SUBMISSIONS) >= 20
    for path in SUBMISSIONS:
        expectations(path)


def test_the_abstract_socket_is_named_per_run(traps):
    """Two runs at once (two test suites on one machine) bind different abstract names, and
    the network submission tries this run's name."""
    other = Traps()
    try:
        assert other.abstract != traps.abstract
        code = traps.submission(HERE / "sandbox_network.py")
        assert "\\0" + traps.abstract in code
    finally:
        other.close()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", SUBMISSIONS, ids=lambda p: p.stem)
def test_hostile_submission(path, backend, traps, fork_pool):
    want = expectations(path)
    harness_before = _digest(HARNESS_FILES)
    result = grade_code(traps.submission(path), isolation=backend, pool=fork_pool if backend == "fork" else None,
                        timeout_s=want["timeout_s"], memory_mb=MEMORY_MB)
    why = "\n".join(result.explain())
    assert result.passed is want["passed"], why
    for alternatives in want["reasons"]:
        assert alternatives & set(result.reasons), f"expected one of {sorted(alternatives)}; {why}"
    if want["score"] is not None:
        assert result.score == want["score"], why
    assert result.isolation.get("bwrap") is True, result.isolation
    if "timeout" not in result.reasons:  # a run stopped before its report has only the parent's layers
        assert result.isolation.get("uid") and "net" in result.isolation.get("namespaces", []), result.isolation
    assert traps.escaped() == []
    assert [str(p) for p in MARKER_FILES if p.exists()] == []
    assert _digest(HARNESS_FILES) == harness_before
    assert _processes_with(LEFT_BEHIND) == []
