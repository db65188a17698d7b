"""Reading the ``Drifted: <column> (KL=<value>)`` lines a submission printed.

The text is the submission's, so anything goes: every function here is total (no input
raises) and linear in the length of its input (no regular expression that can backtrack;
each line is scanned a constant number of times). A value is a number only when written
in ASCII as Python or C would print a float (``0.1858``, ``1.5e-01``, ``inf``, ``nan``),
optionally wrapped as ``np.float64(...)``; ``1E+400`` is ``inf``, never an error.
"""

from __future__ import annotations

import math

PREFIX = "Drifted:"
_DIGITS = frozenset("0123456789")
_WORDS = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}
_WRAPPERS = frozenset(f"{ns}{name}" for ns in ("", "np.", "numpy.") for name in ("float", "float64", "float32"))
_MAX_EXPONENT_DIGITS = 6  # beyond 10**6 every float is 0 or inf: the exponent is clamped


def _split_number(text: str) -> tuple[str, str, str, str] | None:
    """``(sign, integer digits, fraction digits, exponent)`` of an ASCII decimal number, or None."""
    if not text.isascii():
        return None
    sign = text[:1] if text[:1] in ("+", "-") else ""
    body = text[len(sign):]
    mantissa, e, exponent = body.replace("E", "e").partition("e")
    if e:
        digits = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not digits or not _DIGITS.issuperset(digits):
            return None
    whole, _, fraction = mantissa.partition(".")
    if not (whole or fraction) or not _DIGITS.issuperset(whole) or not _DIGITS.issuperset(fraction):
        return None
    return sign, whole, fraction, exponent


def _exponent(exponent: str) -> int:
    """The exponent as an int, clamped (a string of a million digits is not converted)."""
    sign = -1 if exponent[:1] == "-" else 1
    digits = exponent.lstrip("+-").lstrip("0")
    if len(digits) > _MAX_EXPONENT_DIGITS:
        return sign * 10**_MAX_EXPONENT_DIGITS
    return sign * int(digits or "0")


def printed_number(text: str) -> float | None:
    """The value of a printed number, or None when ``text`` is not one (see the module docstring)."""
    word = text.lower().lstrip("+-")
    if word in _WORDS and len(text) - len(word) <= 1:
        return -_WORDS[word] if text.startswith("-") else _WORDS[word]
    parts = _split_number(text)
    if parts is None:
        return None
    sign, whole, fraction, exponent = parts
    # as 0.DIGITS x 10**scale, so that float() sees at most 40 digits and a small exponent
    whole = whole.lstrip("0")
    digits = (whole + fraction).lstrip("0")
    scale = _exponent(exponent) + len(whole)
    if not whole:
        scale -= len(fraction) - len(fraction.lstrip("0"))
    if not digits:
        return -0.0 if sign == "-" else 0.0
    if scale > 400:
        return -math.inf if sign == "-" else math.inf
    if scale < -400:
        return -0.0 if sign == "-" else 0.0
    return float(f"{sign}0.{digits[:40]}e{scale}")


def printed_tolerance(text: str) -> float:
    """Half a unit in the last printed digit of ``text`` ("0.1858" -> 5e-05); 0.0 when not a number."""
    parts = _split_number(text)
    if parts is None:
        return 0.0
    _, _, fraction, exponent = parts
    power = max(min(_exponent(exponent) - len(fraction), 308), -400)  # 10.0**309 overflows
    return 0.5 * 10.0**power


def _unwrap(value: str) -> str:
    """``np.float64(0.5)`` -> ``0.5``; anything else as it is."""
    head, paren, inner = value.partition("(")
    if paren and value.endswith(")") and head.strip() in _WRAPPERS:
        return inner[:-1].strip()
    return value


def _value_after(opening: str) -> str | None:
    """The value text when ``opening`` (what follows a ``(``) reads ``KL = value``, else None.

    The value holds no parenthesis, or one pair that ends it (``np.float64(...)``).
    """
    rest = opening.lstrip()
    if not rest.startswith("KL"):
        return None
    rest = rest[2:].lstrip()
    if rest[:1] not in ("=", ":"):
        return None
    value = rest[1:].strip()
    opens, closes = value.count("("), value.count(")")
    if (opens, closes) == (0, 0) or ((opens, closes) == (1, 1) and value.endswith(")") and value.index("(") < len(value) - 1):
        return value
    return None


def parse_line(line: str) -> tuple[str, str] | None:
    """``(column, value text)`` of one ``Drifted:`` line, or None when it does not read as one.

    The ``(KL=`` is the last ``(`` of the line, or the one before it when the value is
    wrapped; the earlier one is tried first, so a column may hold parentheses itself.
    """
    text = line.strip()
    if not text.startswith(PREFIX) or not text.endswith(")"):
        return None
    body = text[len(PREFIX):-1]
    last = body.rfind("(")
    if last < 0:
        return None
    before = body.rfind("(", 0, last)
    for i in ((before, last) if before >= 0 else (last,)):
        value = _value_after(body[i + 1:])
        if value is not None:
            return body[:i].strip(), _unwrap(value)
    return None


def parse_printed(stdout: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The lines starting with ``Drifted:`` as ``(column, value text)``, and those that do not parse
    (each cut to 200 characters)."""
    found, bad = [], []
    for line in stdout.splitlines():
        if not line.lstrip().startswith(PREFIX):
            continue  # other output, even "Drifted columns: ...", is the submission's business
        parsed = parse_line(line)
        if parsed is None:
            bad.append(line.strip()[:200])
        else:
            found.append(parsed)
    return found, bad
