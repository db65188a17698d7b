"""grader: safe, exact, self-explaining grading of ``detect_drift`` submissions.

``grade_code(code)`` runs a submission in a confined child process on hidden datasets and
checks it against the streamdrift kernels; ``reward(code)`` is its score for RL loops;
``task_prompt()`` is the prompt the model gets; ``extract_code(response)`` takes the first
```python block of an answer; ``await run_episode(client, ...)`` runs Claude on the task
and grades it.

The layers, each importing only those below it: ``cli`` -> ``agent`` (episodes, the runner,
the run log, summaries) -> ``grading`` (checks, diagnosis, ``grade_code``, ``grade_many``;
the only user of ``task``: cases, reference, prompt, submissions) -> ``sandbox`` -> its
``protocol``. Importing this package is cheap: each name loads its layer on first use.
"""

from importlib import import_module

_WHERE = {
    "REASONS": "grader.grading.reasons",
    "GradeResult": "grader.grading.grade",
    "grade_code": "grader.grading.grade",
    "reward": "grader.grading.grade",
    "extract_code": "grader.grading",
    "task_prompt": "grader.grading",
    "Episode": "grader.agent.episode",
    "run_episode": "grader.agent.episode",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
