"""The reason codes, stable: the JSON results name them, the text output explains them."""

REASONS: dict[str, str] = {
    "no_code": "no code to grade (no ```python block in the response, or an empty file)",
    "syntax_error": "the code does not compile",
    "exec_error": "running the code's top level raised an exception",
    "no_function": "the code does not define a callable detect_drift",
    "crash": "detect_drift raised an exception, or the process died",
    "timeout": "the run exceeded its time limit and was killed",
    "memory_limit": "the run exceeded its memory limit",
    "wrong_type": "detect_drift did not return a dict of column name -> float",
    "wrong_keys": "the returned dict does not have exactly the numeric columns as keys",
    "non_finite": "a returned KL is nan or infinite",
    "kl_mismatch": "a returned KL differs from the reference by more than the tolerance",
    "print_mismatch": "the printed 'Drifted: <column> (KL=<value>)' lines do not match the returned values "
                      "and the threshold, or are not in the DataFrame's column order",
    "modified_input": "detect_drift changed the values or columns of the DataFrames it was given",
    "threshold_inclusive": "uses KL >= threshold; the task asks for a strict KL > threshold",
    "reversed_direction": "computes KL(new || old); the task asks for KL(old || new)",
    "epsilon_on_probabilities": "adds epsilon to the probabilities; the task adds 1e-10 to each bin's count "
                                "before normalising",
    "per_sample_range": "bins each sample on its own min..max; the task bins both on their combined range",
    "reference_range_only": "bins on the old data's range only; the task uses the combined min..max of both",
    "wrong_log_base": "uses log base 2 or 10; the task uses the natural log",
    "wrong_bin_count": "uses a bin count other than 20 (edges numpy.linspace(lo, hi, 21))",
    "no_smoothing": "does not add epsilon: empty bins give inf/nan or are dropped",
    "nan_not_dropped": "does not drop NaN/inf per column on each side independently",
    "right_closed_bins": "counts with intervals closed on the right (pd.cut's (a, b]): a value on an inner edge "
                         "goes to the lower bin; the task's bins are [a, b) like numpy.histogram",
    "disallowed_import": "imports a module the task does not allow (only numpy, pandas and the standard library)",
}

RUN_REASONS: dict[str, str] = {
    "no_submission": "an agent run ended without calling submit_answer (graded as a failure)",
}
"""Codes of a whole agent run (``streamdrift-grader run``), beside the verdict's REASONS."""

NOT_GRADED: dict[str, str] = {
    "harness_error": "the grader itself failed while judging: not the submission's fault, left out of the pass rate",
    "api_error": "the Messages API failed after the SDK's retries: not the model's fault, "
                 "left out of the pass rate",
}
"""Codes of a result that is no verdict on the submission: counted apart, never in a pass rate."""
