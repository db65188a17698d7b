"""The Messages API as the runner sees it: what counts as an API failure, a check that every
200 response is a well-formed message, and one line describing a failure.

Imports the anthropic SDK (this module is loaded only when a run starts).
"""

from __future__ import annotations

import anthropic


class MalformedResponse(anthropic.RetryableError):
    """A 200 response whose body is not a well-formed message (truncated JSON, the wrong shape).

    A ``RetryableError``: the SDK retries it under its own policy (``max_retries``, its
    backoff) and raises it when the retries are spent; the run is then an ``api_error``.
    """


API_FAILURES = (anthropic.APIError, MalformedResponse)
"""Failures of the API, not of the model or the harness: an episode ending so is ``api_error``."""


def message_problem(message) -> str | None:
    """What makes a parsed response unusable as a message, or None."""
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        return f"its content is {type(content).__name__}, not a list of blocks"
    if not all(isinstance(getattr(block, "type", None), str) for block in content):
        return "a content block has no type"
    usage = getattr(message, "usage", None)
    if usage is None or not all(isinstance(getattr(usage, k, None), int) for k in ("input_tokens", "output_tokens")):
        return "it has no token usage"
    stop = getattr(message, "stop_reason", None)
    if stop is not None and not isinstance(stop, str):
        return f"its stop_reason is {type(stop).__name__}"
    return None


async def check_message(request, call_next):
    """SDK middleware: a successful response must parse as a well-formed message, or
    ``MalformedResponse`` is raised (and retried by the SDK)."""
    response = await call_next(request)
    if request.stream or not response.http_response.is_success:
        return response
    status = response.http_response.status_code
    try:
        message = await response.parse()
    except Exception as exc:  # noqa: BLE001 - JSONDecodeError, a validation error, ...
        raise MalformedResponse(f"the API answered {status} with a body that is not a message "
                                f"({type(exc).__name__}: {str(exc)[:200]})") from None
    problem = message_problem(message)
    if problem is not None:
        raise MalformedResponse(f"the API answered {status} with a malformed message: {problem}")
    return response


def describe_api_error(exc) -> str:
    """One line: the status (if any), the class and the API's own message."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    detail = body.get("error") if isinstance(body, dict) else None
    message = detail.get("message") if isinstance(detail, dict) else None
    message = message or getattr(exc, "message", None) or str(exc)
    prefix = f"{status} " if status else ""
    return f"{prefix}{type(exc).__name__}: {message}".replace("\n", " ")[:500]
