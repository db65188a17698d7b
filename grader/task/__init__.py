"""task: what the model is asked and graded on. ``cases.py`` (the hidden datasets, from a seed),
``reference.py`` (their expected values, with the streamdrift kernels), ``prompt.py`` (the
prompt, ``task_prompt.md``, and reading a model's answer), ``submissions.py`` (files,
responses, directories, JSON Lines). Used by ``grader.grading`` only."""
