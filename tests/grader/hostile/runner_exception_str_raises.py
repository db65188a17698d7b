# expect-reason: crash
# expect-passed: false
# An exception whose __str__ raises: it is still described by its type.
class Nasty(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def detect_drift(old_df, new_df, threshold=0.1):
    raise Nasty()
