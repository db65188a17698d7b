"""grading: judge submissions on the hidden cases, and many at once.

``grade.py`` (``grade_code``: run one submission in the sandbox and judge its report),
``checks.py`` (one case), ``printed.py`` (the ``Drifted:`` lines), ``failure.py`` (an
exception in one line; disallowed imports), ``diagnose.py`` (the mistake, named),
``reasons.py`` (the reason codes), ``batch.py`` (``grade_many`` and its summary). The only
layer that uses ``grader.task``; the layers above reach the task's prompt and submissions
through the names here.
"""

from grader.grading.batch import Graded, batch_summary, grade_many
from grader.grading.grade import GradeResult, grade_code, reward
from grader.task.prompt import extract_code, task_prompt
from grader.task.submissions import SubmissionError
from grader.task.submissions import load as load_submissions

__all__ = ["GradeResult", "Graded", "SubmissionError", "batch_summary", "extract_code", "grade_code", "grade_many",
           "load_submissions", "reward", "task_prompt"]
