# expect-reason: exec_error
# expect-passed: false
# A made-up ModuleNotFoundError for a standard library name is an exec_error (the task allows
# the standard library), with its message.
raise ModuleNotFoundError("No module named 'json'")
