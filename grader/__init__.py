"""grader: safe, exact, self-explaining grading of ``detect_drift`` submissions (issue 4).

``grade_code(code)`` runs a submission in a confined child process on hidden datasets and
checks it against the streamdrift kernels; ``reward(code)`` is its score for RL loops;
``task_prompt()`` is the prompt the model gets; ``extract_code(response)`` takes the first
```python block of an answer. Importing this package is cheap: numpy, pandas, numba and the
sandbox machinery load on first use.
"""

from grader.checks import REASONS
from grader.grade import GradeResult, grade_code, reward
from grader.prompt import extract_code, task_prompt

__all__ = ["REASONS", "GradeResult", "extract_code", "grade_code", "reward", "task_prompt"]
