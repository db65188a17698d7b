"""The Python API: grade_code, reward, extract_code, task_prompt; a light `import grader`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import grader
from grader import REASONS, GradeResult, extract_code, grade_code, reward, task_prompt

CORPUS = Path(__file__).parents[1] / "corpus"


def test_import_is_light():
    code = "import sys, grader; print(sorted(m for m in ('pandas', 'anthropic', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_extract_code():
    assert extract_code("text\n```python\nx = 1\n```\n```python\ny = 2\n```") == "x = 1\n"
    assert extract_code("```py\nx = 1\n```") == "x = 1\n"
    assert extract_code("```\nx = 1\n```") is None
    assert extract_code("no code") is None
    assert extract_code(None) is None
    assert extract_code("```python\r\nx = 1\r\n```\r\n") == "x = 1\r\n"
    assert extract_code("````python\nprint('```')\n````") == "print('```')\n"
    # As Markdown reads it: a block in a list item loses the fence's indentation; a longer
    # closing fence closes it; an unclosed block runs to the end.
    assert extract_code("1. Code:\n   ```python\n   def f():\n       return 1\n   ```\n") == "def f():\n    return 1\n"
    assert extract_code("```python\nx = 1\n`````\nafter\n") == "x = 1\n"
    assert extract_code("~~~python\nx = '```'\n~~~\n") == "x = '```'\n"
    assert extract_code("```python\nx = 1\n") == "x = 1\n"


def test_task_prompt_states_the_statistic_exactly():
    p = task_prompt()
    for phrase in ("KL(old ‖ new)", "numpy.linspace(lo, hi, 21)", "eps = 1e-10", "**count**", "`KL > threshold`",
                   "strictly", "natural log", "per column and per side", "Drifted: <column> (KL=<value>)",
                   "```python"):
        assert phrase in p, phrase


def test_grade_code_shape_and_reward(fork_pool):
    code = (CORPUS / "ok_numpy.py").read_text()
    result = grade_code(code, pool=fork_pool, cases=["spec_example", "nans"])
    assert isinstance(result, GradeResult) and result.passed and result.score == 1.0
    doc = result.to_dict()
    assert [c["name"] for c in doc["cases"]] == ["spec_example", "nans"]
    assert doc["cases"][0]["expected"]["age"] == pytest.approx(0.18582326832174792, abs=1e-15)
    assert doc["cases"][0]["got"]["age"] == pytest.approx(0.18582326832174792, abs=1e-12)
    json.dumps(doc, allow_nan=False)
    assert reward(code, pool=fork_pool, cases=["few_rows"]) == 1.0
    assert reward((CORPUS / "mistake_log2.py").read_text(), pool=fork_pool) == 0.0
    assert reward(None) == 0.0


def test_unknown_case_name_is_an_error():
    with pytest.raises(ValueError, match="unknown case names"):
        grade_code("x = 1", cases=["nope"])


def test_timeout_and_tolerance_arguments(fork_pool):
    slow = "import time\ndef detect_drift(old_df, new_df, threshold=0.1):\n    time.sleep(60)\n"
    result = grade_code(slow, pool=fork_pool, timeout_s=1.0, cases=["few_rows", "nans"])
    assert result.reasons == ["timeout"] and [c.reasons for c in result.cases] == [["timeout"], ["timeout"]]
    off = (CORPUS / "ok_numpy.py").read_text().replace("result[col] = kl", "result[col] = kl + 1e-7")
    assert grade_code(off, pool=fork_pool, cases=["spec_example"]).passed
    assert grade_code(off, pool=fork_pool, cases=["spec_example"], tolerance=1e-8).reasons == ["kl_mismatch"]


def test_every_reason_has_a_one_line_explanation():
    assert all(isinstance(v, str) and v and "\n" not in v for v in REASONS.values())
    assert {"REASONS", "GradeResult", "extract_code", "grade_code", "reward", "task_prompt"} <= set(grader.__all__)


def test_correct_answers_in_forms_the_prompt_allows_pass(fork_pool):
    ok = (CORPUS / "ok_numpy.py").read_text()
    assert grade_code("\ufeff" + ok, pool=fork_pool, cases=["spec_example"]).passed  # an editor's BOM
    ints = ok.replace("result[col] = kl", "result[col] = int(kl) if kl == 0 else kl")
    assert ints != ok
    assert grade_code(ints, pool=fork_pool, cases=["constant_columns"]).passed  # 0 for a constant column


def test_a_wrong_type_report_is_valid_json(fork_pool):
    code = ("def detect_drift(old_df, new_df, threshold=0.1):\n"
            "    out = {c: float('nan') for c in old_df.columns}\n"
            "    out[list(old_df.columns)[0]] = 'oops'\n"
            "    return out\n")
    result = grade_code(code, pool=fork_pool, cases=["spec_example"])
    assert result.reasons == ["wrong_type"]
    json.dumps(result.to_dict(), allow_nan=False)


def test_the_isolation_report_cannot_be_forged(fork_pool):
    forge = ("import os, json\n"
             "for fd in range(3, 64):\n"
             "    try:\n"
             "        os.write(fd, b'\\n' + json.dumps({'event': 'isolation', 'uid': 12345, 'mounts': ['FORGED']}).encode() + b'\\n')\n"
             "    except OSError:\n"
             "        pass\n")
    code = forge + (CORPUS / "ok_numpy.py").read_text()
    result = grade_code(code, pool=fork_pool, cases=["spec_example"])
    assert result.isolation.get("mounts") != ["FORGED"] and result.isolation.get("uid") != 12345


def test_a_submission_that_keeps_sys_stdout_from_its_top_level_has_its_lines_read(fork_pool):
    ok = (CORPUS / "ok_numpy.py").read_text()
    bound = "import sys\n_out = sys.stdout\n" + ok.replace('(KL={kl:.4f})")', '(KL={kl:.4f})", file=_out)')
    assert bound.count("file=_out") == 1
    assert grade_code(bound, pool=fork_pool, cases=["spec_example"]).passed
