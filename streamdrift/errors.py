"""The one error type users see: a bad input or argument, with a message that says what to do."""


class DriftError(ValueError):
    """Bad input or usage. The message is one line: what was seen, what is needed, what to do.

    The CLI prints it as ``error: <message>`` and exits 2.
    """
