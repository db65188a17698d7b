"""streamdrift-grader as a user runs it: real subprocesses, real files, exit codes, exact text."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "corpus"
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def run(*args, **kw):
    return subprocess.run(GRADER + [str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)


def test_no_command_prints_the_whole_help():
    r = run()
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("Usage: streamdrift-grader [OPTIONS] COMMAND") and "Commands:" in r.stderr


def test_prompt_prints_the_task():
    r = run("prompt")
    assert r.returncode == 0
    from grader import task_prompt

    assert r.stdout == task_prompt()


def test_grade_files_responses_and_json_lines(tmp_path):
    jsonl = tmp_path / "answers.jsonl"
    jsonl.write_text(
        json.dumps({"id": "good", "code": (CORPUS / "ok_numpy.py").read_text()}) + "\n"
        + json.dumps({"id": "none", "code": None}) + "\n"
        + json.dumps({"id": "resp", "format": "response", "code": (CORPUS / "response_ok.md").read_text()}) + "\n"
    )
    r = run("grade", CORPUS / "mistake_log2.py", CORPUS / "response_no_code.md", jsonl,
            "--format", "json", "--jobs", "2", "--timeout", "30")
    assert r.returncode == 1, r.stderr  # some failed
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    by = {row["submission"].split("/")[-1]: row for row in rows}
    assert sorted(by) == ["answers.jsonl:1:good", "answers.jsonl:2:none", "answers.jsonl:3:resp",
                          "mistake_log2.py", "response_no_code.md"]
    assert by["answers.jsonl:1:good"]["passed"] and by["answers.jsonl:3:resp"]["score"] == 1.0
    assert by["answers.jsonl:2:none"]["reasons"] == ["no_code"]
    assert by["mistake_log2.py"]["reasons"] == ["kl_mismatch", "wrong_log_base"]
    assert "pass rate 40.0% (2/5)" in r.stderr  # with --format json the summary goes to stderr


def test_grade_text_summary_of_a_directory(tmp_path):
    for name in ("ok_pure_python.py", "mistake_reversed_direction.py", "syntax_error.py"):
        (tmp_path / name).write_text((CORPUS / name).read_text())
    (tmp_path / "notes.csv").write_text("ignored")
    r = run("grade", tmp_path, "--jobs", "1", "--seed", "5", "--tolerance", "1e-9")
    assert r.returncode == 1, r.stderr
    assert "    reversed_direction: computes KL(new || old); the task asks for KL(old || new)" in r.stdout
    assert "[spec_example]" not in r.stdout  # per-case details only with --verbose
    r = run("grade", tmp_path, "--jobs", "1", "--verbose", "--seed", "5", "--tolerance", "1e-9")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.startswith("      [spec_example] kl_mismatch: ") for line in lines)
    assert lines[0].startswith("FAIL  0.000") and lines[0].endswith("mistake_reversed_direction.py  "
                                                                      "[kl_mismatch, reversed_direction]")
    assert "    reversed_direction: computes KL(new || old); the task asks for KL(old || new)" in lines
    assert any(line.startswith("PASS  1.000") and line.endswith("ok_pure_python.py") for line in lines)
    assert "pass rate 33.3% (1/3), mean score 0.333" in r.stdout
    assert any(line.startswith("  syntax_error ") and line.split()[1] == "1" for line in lines)
    assert "slowest:" in lines


@pytest.mark.parametrize("args, message", [
    (["grade", "missing.py"], "error: missing.py: no such file or directory\n"),
    (["grade", "--jobs", "0", "x.py"], "error: Invalid value for '--jobs' / '-j': 0 is not in the range x>=1.\n"),
    (["grade"], "error: Missing argument 'PATHS...'.\n"),
])
def test_usage_errors_are_one_line_exit_2(args, message):
    r = run(*args)
    assert (r.returncode, r.stderr, r.stdout) == (2, message, "")


@pytest.mark.parametrize("isolation", ["fork", "spawn"])
def test_without_bubblewrap_grade_says_how_to_install_it_in_one_line(tmp_path, isolation):
    """Checked at start: one line, exit 2, no traceback from the workers starting meanwhile."""
    r = run("grade", "--isolation", isolation, CORPUS / "ok_numpy.py", env={"PATH": str(tmp_path)})
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("error: bubblewrap is not installed: `apt-get install -y bubblewrap`")
    assert r.stderr.count("\n") == 1 and "--isolation none" in r.stderr


def test_without_bubblewrap_run_stops_before_any_request(tmp_path):
    r = run("run", "--runs", "1", env={"PATH": str(tmp_path), "ANTHROPIC_API_KEY": "sk-test"}, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("error: bubblewrap is not installed:") and r.stderr.count("\n") == 1
    assert not (tmp_path / "grader-runs").exists()

def test_bad_json_lines_and_empty_directory(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"code": "x = 1"}\nnot json\n')
    r = run("grade", bad)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {bad}:2: not JSON") and r.stderr.count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("grade", empty)
    assert r.returncode == 2 and r.stderr.startswith("error: no submissions found")


def test_debug_shows_the_traceback():
    r = run("--debug", "grade", "missing.py")
    assert r.returncode == 2 and "Traceback" in r.stderr and r.stderr.endswith("error: missing.py: no such file or directory\n")


def test_reasons_lists_every_code():
    from grader.grading.reasons import NOT_GRADED, REASONS, RUN_REASONS

    r = run("reasons")
    assert r.returncode == 0
    verdict, rest = r.stdout.split("\n\nof a whole run (streamdrift-grader run):\n")
    run_level, not_graded = rest.split("\n\nno verdict (left out of the pass rate):\n")
    assert [line.split()[0] for line in verdict.splitlines()] == list(REASONS)
    assert [line.split()[0] for line in run_level.splitlines()] == list(RUN_REASONS)
    assert [line.split()[0] for line in not_graded.splitlines()] == list(NOT_GRADED)


def test_broken_pipe_is_a_quiet_exit_0():
    files = [CORPUS / n for n in ("ok_numpy.py", "ok_pandas.py", "mistake_log2.py", "wrong_type_list.py")]
    proc = subprocess.Popen(GRADER + ["grade", "--jobs", "1", *map(str, files)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0  # a closed pipe ends quietly, whatever the verdicts
    assert first.startswith("PASS") and err == ""


@pytest.mark.parametrize("option", ["--timeout", "--tolerance"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_numbers_are_usage_errors(tmp_path, option, value):
    f = tmp_path / "s.py"
    f.write_text("x = 1\n")
    r = run("grade", f, option, value)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "is not a finite number" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("names, status", [
    (["ok_numpy.py", "ok_pure_python.py"], 0),
    (["ok_numpy.py", "syntax_error.py"], 1),
    (["syntax_error.py"], 1),
])
def test_grade_exits_like_pytest(tmp_path, names, status):
    """0 every submission passed, 1 some failed (a syntax error too); 2 is usage or a harness error."""
    for name in names:
        (tmp_path / name).write_text((CORPUS / name).read_text())
    r = run("grade", tmp_path, "--jobs", "2")
    assert r.returncode == status, r.stderr
    assert "Exit status (like pytest)" in run("grade", "--help").stdout


def test_one_file_with_an_overflowing_print_is_a_failure_not_an_error():
    r = run("grade", CORPUS.parent / "hostile" / "output_overflow_exponent.py", "--format", "json")
    assert r.returncode == 1 and "print_mismatch" in json.loads(r.stdout)["reasons"], r.stderr


def test_a_harness_error_exits_2_after_the_summary(tmp_path, monkeypatch, capsys):
    from grader.cli import main
    from grader.grading import batch

    def broken(code, **kw):
        raise RuntimeError("the grader is broken")

    monkeypatch.setattr(batch, "grade_code", broken)
    (tmp_path / "a.py").write_text((CORPUS / "ok_numpy.py").read_text())
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(tmp_path / "a.py"), "--isolation", "spawn"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert "harness errors: 1" in out and "error: RuntimeError: the grader is broken" in out
    assert err == "error: the grader failed on 1 submission (harness_error, above)\n"
