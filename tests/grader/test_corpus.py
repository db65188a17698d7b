"""The corpus: every submission gets exactly its expected verdict, score and reason codes.

Graded once for the module (two warm workers, short timeout), then checked per file.
"""

import json
import os
from pathlib import Path

import pytest

from grader import grade_code
from grader.batch import grade_many
from grader.submissions import load

CORPUS = Path(__file__).with_name("corpus")
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
MARKER = "4242.5"  # hostile_fork_grandchild.py leaves `sleep 4242.5` if it can escape


def _processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmd:
                found.append(f"{pid}: {cmd}")
    return found


@pytest.fixture(scope="module")
def graded():
    """Grade the corpus with the working directories made under a private temporary directory
    (so other processes using the sandbox at the same time do not disturb the cleanup check)."""
    import shutil
    import tempfile

    private = tempfile.mkdtemp(prefix="grader-test-")
    os.chmod(private, 0o755)
    saved, tempfile.tempdir = tempfile.tempdir, private
    try:
        submissions = load([CORPUS])
        trusted = [s for s in submissions if Path(s[0]).name.startswith("gold_")]
        results = grade_many([s for s in submissions if s not in trusted], jobs=2, timeout_s=5.0)
        # the gold checks import streamdrift, which the sandbox hides: trusted code, no isolation
        results += grade_many(trusted, jobs=2, timeout_s=60.0, isolation="none")
        left = os.listdir(private)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(private, ignore_errors=True)
    return {str(Path(g.source).relative_to(CORPUS)): g.result for g in results}, left


def test_every_corpus_file_has_an_expected_verdict(graded):
    results, _ = graded
    assert sorted(results) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_verdict(graded, name):
    result = graded[0][name]
    want = EXPECTED[name]
    got = {"passed": result.passed, "score": round(result.score, 6), "reasons": result.reasons}
    assert got == want, "\n".join(result.explain())
    doc = result.to_dict()
    assert list(doc) == ["passed", "score", "reasons", "cases", "duration_s"]
    assert all(list(c) == ["name", "passed", "reasons", "expected", "got"] for c in doc["cases"])
    json.dumps(doc, allow_nan=False)  # plain, strict JSON


def test_the_corpus_covers_every_reason_code(graded):
    from grader import REASONS

    seen = {code for r in graded[0].values() for code in r.reasons}
    assert set(REASONS) <= seen, f"no corpus submission shows {sorted(set(REASONS) - seen)}"


def test_hostile_submissions_leave_the_grader_healthy(graded):
    results, left = graded
    assert _processes_with(MARKER) == []  # the escaped sleeping grandchild was killed
    assert left == []  # every temporary working directory was removed
    root = Path(__file__).resolve().parents[2]
    for path in ("grader/checks.py", "grader/reference.py", "streamdrift/stats.py"):
        assert (root / path).is_file(), f"{path} was deleted by a submission"
    assert results["ok_numpy.py"].passed  # graded after the hostile ones in the same pool


def test_reasons_are_explained_in_words(graded):
    lines = graded[0]["mistake_reversed_direction.py"].explain()
    assert lines[1] == "reversed_direction: computes KL(new || old); the task asks for KL(old || new)"


def test_gold_streamdrift_scores_one_in_a_fresh_interpreter():
    """The gold check without the warm worker: streamdrift wrapped as a submission, a fresh
    interpreter without the sandbox's minimal root (``none``: streamdrift is hidden from submissions)."""
    result = grade_code((CORPUS / "gold_streamdrift.py").read_text(), isolation="none", timeout_s=60)
    assert (result.passed, result.score, result.reasons) == (True, 1.0, []), "\n".join(result.explain())
