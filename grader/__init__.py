"""grader: safe, exact, self-explaining grading of ``detect_drift`` submissions (issue 4).

``grade_code(code)`` runs a submission in a confined child process on hidden datasets and
checks it against the streamdrift kernels; ``reward(code)`` is its score for RL loops;
``task_prompt()`` is the prompt the model gets; ``extract_code(response)`` takes the first
```python block of an answer; ``await run_episode(client, ...)`` runs Claude on the task
and grades it (issue 5). Importing this package is cheap: numpy, pandas, numba and the
sandbox machinery load on first use.
"""

from grader.checks import REASONS
from grader.episode import Episode, run_episode
from grader.grade import GradeResult, grade_code, reward
from grader.prompt import extract_code, task_prompt

__all__ = ["REASONS", "Episode", "GradeResult", "extract_code", "grade_code", "reward", "run_episode", "task_prompt"]
