"""run_code: real child processes, real files, the limits and the isolation it claims."""

import os
import tempfile
import threading
from pathlib import Path

import pytest

from grader.sandbox import run_code as _run_code
from grader.sandbox.confine import UID_BASE

BACKENDS = ["spawn", "fork"]


@pytest.fixture(params=BACKENDS)
def run_code(request, fork_pool):
    """``run_code`` on one backend: every test here runs on every backend."""
    def run(code, **kw):
        if request.param == "fork":
            kw.setdefault("pool", fork_pool)
        return _run_code(code, isolation=request.param, **kw)

    run.backend = request.param
    return run


@pytest.fixture(params=BACKENDS)
def backend(request, fork_pool):
    """Each backend itself, for tests that send raw jobs."""
    from grader.sandbox import SpawnBackend

    return fork_pool if request.param == "fork" else SpawnBackend()


def test_output_error_and_exit_code(run_code):
    r = run_code("import sys\nprint('out')\nprint('err', file=sys.stderr)\n1/0")
    assert r.stdout == "out\n"
    assert r.stderr.startswith("err\nTraceback")
    assert "harness.py" not in r.stderr  # only the submission's frames are shown
    assert r.error == "ZeroDivisionError: division by zero"
    assert (r.exit_code, r.timed_out, r.memory_exceeded, r.truncated) == (1, False, False, False)
    assert set(r.to_dict()) >= {"stdout", "stderr", "error", "timed_out", "memory_exceeded", "exit_code",
                                "duration_s", "truncated"}


def test_clean_run_and_sys_exit_codes(run_code):
    assert run_code("x = 1").error is None
    r = run_code("import sys; sys.exit(3)")
    assert (r.exit_code, r.error) == (3, "SystemExit: 3")
    assert run_code("import os; os._exit(5)").exit_code == 5
    assert run_code("def f(:\n pass").error.startswith("SyntaxError")


def test_timeout_kills_everything_it_started(run_code):
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    os.execv('/bin/sleep', ['sleep', '4343.5'])\n"
        "while True: pass\n"
    )
    r = run_code(code, timeout_s=1.5)
    assert r.timed_out and r.exit_code == -9 and "timed out" in r.error
    assert not any("4343.5" in p for p in _cmdlines())


def test_memory_limit(run_code):
    r = run_code("x = bytearray(3 * 1024**3)", memory_mb=512)
    assert r.memory_exceeded and r.error.startswith("MemoryError")


def test_output_is_capped_while_it_arrives(run_code):
    r = run_code("import sys\nfor _ in range(200): sys.stdout.write('x' * 100_000)", output_limit=1000)
    assert r.truncated and r.stdout == "x" * 1000 and r.error is None


def test_empty_private_working_directory_removed_afterwards(run_code):
    r = run_code("import os; print(os.getcwd()); print(os.listdir('.')); open('left.txt', 'w').write('x')")
    cwd, listing = r.stdout.splitlines()
    assert listing == "[]"
    assert not os.path.exists(cwd)


def test_minimal_environment(run_code):
    os.environ["STREAMDRIFT_TEST_SECRET"] = "s3cret"
    try:
        r = run_code("import os; print(sorted(os.environ))")
    finally:
        del os.environ["STREAMDRIFT_TEST_SECRET"]
    assert "STREAMDRIFT_TEST_SECRET" not in r.stdout and "PATH" in r.stdout


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and a fresh uid need root")


@root_only
def test_isolation_as_root(run_code):
    # next to the project (the sandbox gets a private /tmp, so a secret there would just be absent)
    secret = Path(tempfile.mkdtemp(dir=Path(__file__).parent, prefix=".secret-")) / "secret.txt"
    secret.write_text("hidden")
    secret.chmod(0o600)
    target = Path(__file__).resolve().parents[2] / "grader" / "checks.py"
    code = (
        "import os, socket\n"
        f"for op in (lambda: open({str(secret)!r}).read(), lambda: open({str(target)!r}, 'a'),\n"
        "           lambda: socket.create_connection(('127.0.0.1', 22), timeout=1),\n"
        "           lambda: open('/proc/1/environ').read()):\n"
        "    try:\n"
        "        op(); print('allowed')\n"
        "    except OSError as e:\n"
        "        print(type(e).__name__)\n"
        "print(os.getuid() != 0, os.getpid(), sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
    )
    try:
        r = run_code(code)
    finally:
        secret.unlink()
        secret.parent.rmdir()
    lines = r.stdout.splitlines()
    assert lines[0] == "FileNotFoundError"  # a root-only file next to the grader: not in the sandbox at all
    assert lines[1] == "FileNotFoundError"  # nor the project's source
    assert lines[2] in ("OSError", "ConnectionRefusedError") and lines[2] != "allowed"
    assert lines[4] == "True 1 ['1']"  # another uid, PID 1 of its own namespace, alone in /proc
    assert set(r.isolation["namespaces"]) >= {"pid", "net"} and r.isolation["uid"]


@root_only
def test_what_a_run_writes_is_bounded_in_total_and_stays_off_the_disk(run_code):
    """Files under the per-file limit, many of them: the run's small tmpfs fills, not the host's disk."""
    code = (
        "import errno\n"
        "chunk = b'\\0' * (1 << 20)\n"
        "written = 0\n"
        "try:\n"
        "    for i in range(20):\n"
        "        with open(f'f{i}', 'wb') as fh:\n"
        "            for _ in range(10):\n"
        "                fh.write(chunk); written += 1\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], written)\n"
    )
    r = run_code(code, timeout_s=60)
    status, written = r.stdout.split()
    assert status == "ENOSPC" and int(written) < 100, r.stdout
    assert {"tmpfs:work", "tmpfs:numba"} <= set(r.isolation["mounts"])


@root_only
def test_no_network(run_code):
    r = run_code("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
                 "    print('connected')\nexcept OSError as e:\n    print('no network', e.errno)")
    assert r.stdout.startswith("no network")


def test_many_threads_at_once(run_code):
    results = [None] * 6

    def one(i):
        results[i] = run_code(f"print({i} * 7)")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.stdout for r in results] == [f"{i * 7}\n" for i in range(6)]


def test_numpy_and_pandas_are_importable(run_code):
    r = run_code("import numpy, pandas, sys; print('pandas' in sys.modules)")
    assert (r.stdout, r.error) == ("True\n", None)


@root_only
def test_each_job_is_pid_1_of_a_pid_namespace_of_its_own(run_code):
    """The job is PID 1 of a fresh PID namespace, alone in it, on every backend; the fork
    server forks it there directly (one fork per job) and gets a new namespace each time."""
    code = "import os\nprint(os.getpid(), os.getppid(), [p for p in os.listdir('/proc') if p.isdigit()])\n"
    for _ in range(3):  # each time: the server returned to its own namespace after the last fork
        r = run_code(code)
        assert r.stdout.split() == ["1", "0", "['1']"], r.stdout + r.stderr
        assert "pid" in r.isolation["namespaces"]


def _cmdlines():
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                pass
    return out


def test_without_namespaces_the_process_group_is_still_killed(backend):
    """The fallback used when not root: no namespaces, same uid; the group dies on timeout."""
    from grader.sandbox import DEFAULT_LIMITS

    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.execv('/bin/sleep', ['sleep', '4444.5'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    job = {"mode": "exec", "code": code, "namespaces": False, "drop_privileges": False, "memory_mb": 1024}
    raw = backend.run(job, DEFAULT_LIMITS.but(timeout_s=1.5, output_limit=1000))
    assert raw.timed_out and raw.stdout == b"started\n"
    iso = raw.last("isolation")
    assert iso["namespaces"] == [] and iso["uid"] is None
    assert not any("4444.5" in p for p in _cmdlines())


def test_a_sandbox_that_cannot_start_raises_instead_of_blaming_the_code(backend):
    from grader.sandbox import DEFAULT_LIMITS, SandboxError, check_setup

    raw = backend.run({"mode": "exec", "code": "x = 1", "memory_mb": "lots"},  # rlimits cannot be set
                      DEFAULT_LIMITS.but(timeout_s=5, output_limit=1000))
    with pytest.raises(SandboxError, match="could not be set up"):
        check_setup(raw)


@root_only
def test_process_count_is_limited_and_nothing_outlives_the_run(run_code):
    code = (
        "import os, time\n"
        "n = 0\n"
        "for i in range(200):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(4545.5)\n"
        "    n += 1\n"
        "print(n)\n"
    )
    r = run_code(code, nproc=16)
    assert r.error is None and 0 < int(r.stdout) < 16
    uid = r.isolation["uid"]
    assert uid and _processes_of_uid(uid) == []  # the sleeping children died with the run



@root_only
def test_every_run_gets_a_uid_of_its_own(run_code):
    """Runs never share a uid, whatever their PID inside the minimal root (each spawned root
    and each fork server numbers its processes from 1): RLIMIT_NPROC and signals stay per run."""
    uids = [run_code("import os\nprint(os.getuid())").stdout.strip() for _ in range(3)]
    assert all(u.isdigit() and int(u) >= UID_BASE for u in uids)
    assert len(set(uids)) == 3, uids

def _processes_of_uid(uid: int) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            uids = next((line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")), [])
            if str(uid) in uids:
                found.append(pid)
    return found


def test_the_project_and_its_packages_are_not_in_the_sandbox(run_code):
    """Issue 9 route 1: no grader, no streamdrift, no project file, no other package."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import importlib, os\n"
        "for name in ('grader', 'streamdrift', 'numba', 'pyarrow', 'scipy'):\n"
        "    try:\n"
        "        importlib.import_module(name); print('imported', name)\n"
        "    except ImportError:\n"
        "        print('absent', name)\n"
        f"print(os.path.exists({str(root / 'grader' / 'reference.py')!r}), os.path.exists({str(root)!r}))\n"
    )
    r = run_code(code)
    assert r.stdout.splitlines() == ["absent grader", "absent streamdrift", "absent numba", "absent pyarrow",
                                     "absent scipy", "False False"], r.stdout + r.stderr
    assert r.isolation["bwrap"] is True


def test_isolation_none_is_the_host_file_system():
    """``none`` is for trusted code (the gold checks): the project is importable there."""
    r = _run_code("import streamdrift; print('ok')", isolation="none", timeout_s=60)
    assert (r.stdout, r.isolation["bwrap"]) == ("ok\n", False)


def test_without_bubblewrap_untrusted_code_is_refused(monkeypatch):
    """No isolation layer: refuse, in one line saying how to install it, unless isolation is none."""
    from grader.sandbox import SandboxError, bwrap

    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    bwrap.unavailable.cache_clear()
    try:
        with pytest.raises(SandboxError, match="apt-get install -y bubblewrap") as info:
            _run_code("print(1)", isolation="spawn")
        assert "\n" not in str(info.value)
        assert _run_code("print(1)", isolation="none").stdout == "1\n"
    finally:
        bwrap.unavailable.cache_clear()
