"""agent: Claude on the task. ``episode.py`` (one attempt, agent or single-shot, graded),
``api.py`` (the Messages API: failures, malformed responses), ``runner.py`` (a concurrent
batch of episodes), ``runlog.py`` (``runs.jsonl``), ``summary.py`` (pass rate, pass@k,
tokens, cost)."""
