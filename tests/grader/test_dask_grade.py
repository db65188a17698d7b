"""``grade`` and ``run`` on a Dask cluster (the session's LocalCluster of 2 worker processes,
tests/conftest.py): the verdicts of a local run, a killed worker's submissions graded again,
results in completion order, Ctrl-C, the one-line errors, and no dask without --dask."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.grading.batch import grade_many, grade_on
from grader.task.submissions import load
from tests.dask_helpers import both_workers, interrupt_while_running, kill_a_busy_worker, left_on_scheduler, running
from tests.grader.grading.test_corpus import CORPUS, EXPECTED, MARKER, _processes_with
from tests.grader.hostile.test_hostile import LEFT_BEHIND, MARKER_FILES, MEMORY_MB, SUBMISSIONS, expectations

ENTRY = [sys.executable, "-c", "from grader.cli import main; main()"]
OK = (CORPUS / "ok_numpy.py").read_text()


def slow_top(seconds: float) -> str:
    """A right answer that sleeps at its top level (graded last of a batch that lists it first)."""
    return f"import time\ntime.sleep({seconds})\n" + OK


def slow_calls(seconds: float) -> str:
    """A right answer that sleeps in every call (so that a worker can be killed mid-batch)."""
    head = "def detect_drift(old_df, new_df, threshold=0.1):"
    assert head in OK
    return OK.replace(head, f"{head}\n    __import__('time').sleep({seconds})", 1)


def verdict(result) -> dict:
    """What a verdict is: everything ``to_dict`` says but how long it took."""
    return {k: v for k, v in result.to_dict().items() if k != "duration_s"}


@pytest.fixture
def executor(dask_client):
    from streamdrift.cluster import DaskExecutor

    return DaskExecutor(dask_client)


def test_a_sample_of_the_corpus_gets_identical_verdicts_locally_and_on_the_cluster(executor, fork_pool):
    names = ["ok_numpy.py", "mistake_reversed_direction.py", "mistake_nan_rows_dropped.py", "exec_error.py",
             "syntax_error.py", "wrong_type_list.py", "hostile_os_exit.py", "hostile_lying_float.py"]
    items = [(name, (CORPUS / name).read_text()) for name in names]
    local = grade_many(items, jobs=2, timeout_s=30.0, pool=fork_pool)
    remote = grade_many(items, executor=executor, timeout_s=30.0)
    assert [g.source for g in remote] == names  # input order, like a local run
    assert [verdict(g.result) for g in remote] == [verdict(g.result) for g in local]


def test_the_corpus_and_the_hostile_corpus_get_their_local_verdicts_on_the_cluster(executor):
    """The verdicts test_corpus.py and test_hostile.py require of a local run (exactly, for the
    corpus; within the alternatives a hostile file allows), from the workers' own warm pools."""
    corpus = [s for s in load([CORPUS]) if not Path(s[0]).name.startswith("gold_")]  # gold: trusted, no sandbox
    for g in grade_many(corpus, executor=executor, timeout_s=5.0):
        want = EXPECTED[str(Path(g.source).relative_to(CORPUS))]
        got = {"passed": g.result.passed, "score": round(g.result.score, 6), "reasons": g.result.reasons}
        assert got == want, f"{g.source}: {g.result.explain()}"  # as test_corpus.py checks a local run
    for timeout in sorted({expectations(p)["timeout_s"] for p in SUBMISSIONS}):
        items = [(str(p), p.read_text()) for p in SUBMISSIONS if expectations(p)["timeout_s"] == timeout]
        for g in grade_many(items, executor=executor, timeout_s=timeout, memory_mb=MEMORY_MB):
            want, why = expectations(Path(g.source)), f"{g.source}: {g.result.explain()}"
            assert g.result.passed is want["passed"], why
            for alternatives in want["reasons"]:
                assert alternatives & set(g.result.reasons), why
            if want["score"] is not None:
                assert g.result.score == want["score"], why
            assert g.result.isolation.get("bwrap") is True, why
    assert [str(p) for p in MARKER_FILES if p.exists()] == []
    assert _processes_with(LEFT_BEHIND) == [] and _processes_with(MARKER) == []


def test_a_worker_killed_mid_batch_has_its_submissions_graded_again_elsewhere(executor, dask_client):
    items = [(f"slow-{i}", slow_calls(0.05)) for i in range(10)]
    result = {}
    batch = threading.Thread(target=lambda: result.update(graded=grade_many(items, executor=executor, timeout_s=60.0)))
    batch.start()
    _, servers = kill_a_busy_worker(both_workers(dask_client), "grade_item")  # servers: its fork servers
    batch.join(300)
    assert not batch.is_alive()
    graded = result["graded"]
    assert [g.source for g in graded] == [s for s, _ in items]
    assert [(g.result.passed, g.result.reasons) for g in graded] == [(True, [])] * len(items)  # none lost, none failed
    deadline = time.monotonic() + 60  # the dead worker's fork servers saw its socket close and ended
    while any(map(running, servers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in servers if running(p)] == []


def test_ctrl_c_cancels_the_grading_futures(executor, dask_client):
    items = [(f"slow-{i}", slow_calls(0.2)) for i in range(8)]
    interrupt_while_running(dask_client, "grade_item", lambda: grade_many(items, executor=executor, timeout_s=60.0))

    def waiting(dask_scheduler):  # what is not yet running would run for nobody
        return [str(k) for k, ts in dask_scheduler.tasks.items() if "grade_item" in str(k) and ts.state != "processing"]

    assert left_on_scheduler(dask_client, waiting) == []


def test_a_submission_whose_workers_kept_dying_has_no_verdict():
    from grader.grading.batch import _lost

    result = _lost((0, ("a.py", OK)), "Dask workers died running grade_item-1")
    assert (result.graded, result.reasons, result.passed) == (False, ["harness_error"], False)
    assert result.error == "WorkersDied: Dask workers died running grade_item-1"


def test_grade_on_grades_one_submission_on_a_worker(executor, fork_pool):
    local = grade_many([("a", OK)], jobs=1, pool=fork_pool)[0].result
    assert verdict(grade_on(executor, OK, timeout_s=30.0)) == verdict(local)


# ------------------------------------------------------------------------------ the command line


def grader_cli(*args, **kw):
    return subprocess.run([*ENTRY, *map(str, args)], capture_output=True, text=True, timeout=600, **kw)


def grader_clis(*commands) -> list[subprocess.CompletedProcess]:
    """Run the command lines at the same time (they wait on sleeping submissions alike)."""
    procs = [subprocess.Popen([*ENTRY, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args in commands]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def test_grade_dask_prints_the_same_json_lines_in_completion_order(dask_client, tmp_path):
    (tmp_path / "a_slow.py").write_text(slow_top(6))  # first in input order, last to finish
    (tmp_path / "b_ok.py").write_text(OK)
    (tmp_path / "c_wrong.py").write_text((CORPUS / "mistake_log2.py").read_text())
    args = ["grade", tmp_path, "--format", "json", "--timeout", "60"]
    local, remote = grader_clis([*args, "--jobs", "2"], [*args, "--dask", both_workers(dask_client).scheduler.address])
    assert (remote.returncode, local.returncode) == (1, 1), remote.stderr
    lines = [json.loads(line) for line in remote.stdout.splitlines()]
    assert Path(lines[-1]["submission"]).name == "a_slow.py"  # completion order, not input order
    key = lambda d: d["submission"]  # noqa: E731
    strip = lambda d: {k: v for k, v in d.items() if k != "duration_s"}  # noqa: E731
    assert [strip(d) for d in sorted(lines, key=key)] == [
        strip(d) for d in sorted(map(json.loads, local.stdout.splitlines()), key=key)]
    assert "jobs 2 threads of 2 Dask workers at tcp://127.0.0.1:" in remote.stderr


def test_run_dask_grades_on_the_cluster(dask_client, tmp_path):
    from tests.grader.cli.test_runner_cli import cli_env
    from tests.grader.runner_fixtures.fake_api import FakeAPI

    def graded(dask_scheduler):
        return sum(1 for t in dask_scheduler.transition_log if "grade_item" in str(t[0]) and t[2] == "memory")

    before = dask_client.run_on_scheduler(graded)
    srv, url = FakeAPI(["correct", "wrong"]).serve()
    try:
        proc = subprocess.run([*ENTRY, "run", "--runs", "2", "--sequential", "--log-dir", str(tmp_path / "log"),
                               "--dask", both_workers(dask_client).scheduler.address], capture_output=True, text=True, timeout=600,
                              env=cli_env(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=url), cwd=tmp_path)
    finally:
        srv.shutdown()
        srv.server_close()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[1].startswith("grading on 2 threads of 2 Dask workers at tcp://127.0.0.1:")
    assert out[2] == "✓ run 1: passed (score 1.00)"
    assert out[3].startswith("✗ run 2: failed:") and "reversed_direction" in out[3]
    assert dask_client.run_on_scheduler(graded) == before + 2


@pytest.mark.parametrize("command", ["grade", "run"])
def test_an_unreachable_scheduler_is_one_line_and_exit_2(command, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "a.py").write_text(OK)
    args = [tmp_path / "a.py"] if command == "grade" else ["--log-dir", tmp_path / "log"]
    p = grader_cli(command, *args, "--dask", f"tcp://127.0.0.1:{port}", "--dask-timeout", "1.5",
                   env={**os.environ, "ANTHROPIC_API_KEY": "test-key"})
    assert p.returncode == 2
    assert p.stderr.startswith(f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1.5 s")
    assert p.stderr.count("\n") == 1 and p.stdout == ""


def test_without_dask_neither_grader_nor_streamdrift_imports_it(tmp_path):
    (tmp_path / "a.py").write_text(OK)
    code = ("import sys\nfrom grader.cli import main\n"
            f"try:\n    main(['grade', {str(tmp_path / 'a.py')!r}])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
            "assert not bad, bad\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
