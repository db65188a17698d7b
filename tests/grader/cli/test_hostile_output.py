"""The hostile submissions of the output and reporting routes (tests/grader/hostile/output_*.py,
runner_*.py), graded by the real CLI as a user runs it: each gets its declared reason, every
file has its line, the summary prints, and the text and JSON reports stay well formed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = Path(__file__).parents[1] / "hostile"
FILES = sorted([*HOSTILE.glob("output_*.py"), *HOSTILE.glob("runner_*.py")])
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def expectations(path: Path) -> dict:
    """The ``# expect-KEY: value`` header lines of a hostile file."""
    found = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# expect-"):
            break
        key, _, value = line[len("# expect-"):].partition(":")
        found[key.strip()] = value.strip()
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One ``grade DIR --jobs 2`` run in each format over a copy of the files."""
    work = tmp_path_factory.mktemp("hostile")
    for f in FILES:
        (work / f.name).write_text(f.read_text())
    runs = {fmt: subprocess.run(GRADER + ["grade", str(work), "--jobs", "2", "--timeout", "20", "--format", fmt],
                                capture_output=True, text=True, timeout=600, errors="strict")
            for fmt in ("json", "text")}
    return work, runs


def test_there_are_at_least_ten_output_and_runner_routes():
    assert len(FILES) >= 10
    assert all(expectations(f).get("reason") for f in FILES)


def test_a_batch_judges_every_file_and_prints_its_summary(graded):
    work, runs = graded
    for fmt, r in runs.items():
        assert r.returncode == 1, (fmt, r.stderr[-2000:])  # some failed; nothing was a harness error
        summary = r.stderr if fmt == "json" else r.stdout
        assert f"pass rate 0.0% (0/{len(FILES)})" in summary and "harness errors" not in summary
    rows = [json.loads(line) for line in runs["json"].stdout.splitlines()]
    assert sorted(Path(row["submission"]).name for row in rows) == [f.name for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_gets_its_reason(graded, path):
    work, runs = graded
    rows = {Path(row["submission"]).name: row for row in map(json.loads, runs["json"].stdout.splitlines())}
    row = rows[path.name]
    want = expectations(path)
    assert want["reason"] in row["reasons"], row["reasons"]
    assert row["passed"] is (want.get("passed", "false") == "true")
    json.dumps(row, allow_nan=False)
    assert len(json.dumps(row)) < 100_000  # the report of one submission stays small
    lines = [line for line in runs["text"].stdout.splitlines() if line.endswith(path.name + "  [" +
                                                                                ", ".join(row["reasons"]) + "]")]
    assert len(lines) == 1 and lines[0].startswith("FAIL")


def test_text_report_has_no_raw_control_characters(graded):
    _, runs = graded
    text = runs["text"].stdout
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    assert max(map(len, text.splitlines())) < 2000


def test_errors_name_type_message_and_line(graded):
    _, runs = graded
    rows = {Path(row["submission"]).name: row for row in map(json.loads, runs["json"].stdout.splitlines())}
    huge = rows["runner_huge_error_message.py"]["error"]
    assert huge.startswith("ValueError: line line line") and len(huge) < 500
    assert huge.endswith("(line 5: raise ValueError(\"line\\n\" * 1_000_000))")
    assert rows["runner_exception_str_raises.py"]["error"] == (
        "Nasty: <the exception's message could not be read> (line 10: raise Nasty())")
    imported = rows["runner_disallowed_import_in_call.py"]
    assert imported["reasons"] == ["disallowed_import"]
    assert imported["error"] == ("ModuleNotFoundError: No module named 'sklearn' "
                                 "(line 5: import sklearn.metrics  # noqa: F401)")
    assert rows["runner_fake_module_error.py"]["error"].startswith("ModuleNotFoundError: No module named 'json'")


def test_reward_of_an_overflowing_print_is_a_number(fork_pool):
    import grader

    code = (HOSTILE / "output_overflow_exponent.py").read_text()
    assert grader.reward(code, pool=fork_pool, timeout_s=20) == 0.0
