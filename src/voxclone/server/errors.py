"""How errors become HTTP responses: a status per error type, and one JSON body shape,
``{"error": {"type": ..., "message": ...}}``, for voxclone's errors, invalid requests
(422) and unknown routes (404) alike. Messages tell HTTP clients what to do over HTTP,
not on voxclone's command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from voxclone.consent.challenge import ChallengeRefused
from voxclone.errors import (
    AccessError,
    AuditError,
    ConsentError,
    RateLimitError,
    ReferenceQualityError,
    RegistryError,
    UnknownKeyError,
    VoiceExistsError,
    VoiceNotFoundError,
    VoxcloneError,
)

#: Where request fields come from, as FastAPI's validation errors name them first.
_SOURCES = ("body", "query", "path", "header", "cookie")
#: At most this many problems are spelled out in one validation error.
_MAX_PROBLEMS = 5


def status_of(exc: BaseException) -> int:
    """The HTTP status an error maps to."""
    for kind, status in ((UnknownKeyError, 401), (RateLimitError, 429), (AccessError, 403),
                         (VoiceNotFoundError, 404), (VoiceExistsError, 409),
                         (ConsentError, 422), (AuditError, 503), (RegistryError, 503),
                         (LookupError, 404), (VoxcloneError, 422), (ValueError, 422)):
        if isinstance(exc, kind):
            return status
    return 500


def error_body(exc: BaseException) -> dict[str, str]:
    """``{"type": ..., "message": ...}`` for an error (what a client shows its user);
    the type is the documented one (:mod:`voxclone.errors`, or Python's own)."""
    return {"type": _public_type(exc), "message": _message(exc)}


def _public_type(exc: BaseException) -> str:
    for kind in type(exc).__mro__:
        if kind.__module__ in ("voxclone.errors", "builtins"):
            return kind.__name__
    return type(exc).__name__


def _message(exc: BaseException) -> str:
    if isinstance(exc, ChallengeRefused):
        if exc.name is None:
            return f"{exc.problem}; use the id that POST /v1/consent/challenges returned"
        return (f"{exc.problem}; ask for a new challenge for {exc.name!r} with POST "
                "/v1/consent/challenges, record the speaker reading its text in one take, "
                "and send that recording with the new challenge's id")
    if isinstance(exc, ReferenceQualityError):
        return ("the reference recordings would make a bad clone:\n  "
                + "\n  ".join(exc.report.refusals())
                + "\n(POST /v1/check shows every measure of each recording)")
    return str(exc)


def validation_error(errors: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The error body of a request FastAPI found invalid: each problem names its field
    and says what it must be."""
    problems = [_problem(e) for e in errors[:_MAX_PROBLEMS]]
    if len(errors) > _MAX_PROBLEMS:
        problems.append(f"and {len(errors) - _MAX_PROBLEMS} more")
    return {"type": "RequestValidationError",
            "message": "invalid request: " + "; ".join(problems or ["not understood"])
                       + " (GET /docs describes every route's fields)"}


def http_error(status: int, detail: Any, method: str, path: str) -> dict[str, str]:
    """The error body of an HTTP error raised by the framework rather than by voxclone
    (an unknown route, a method a route does not accept, a malformed upload...)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "HTTP Error"
    if isinstance(detail, str) and detail and detail != phrase:
        message = detail
    elif status == 404:
        message = f"no such route or file: {method} {path} (GET /docs lists the routes)"
    elif status == 405:
        message = f"{path} does not accept {method} (GET /docs lists what it accepts)"
    else:
        message = phrase
    return {"type": phrase.replace(" ", "").replace("-", ""), "message": message}


def _problem(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    source = loc.pop(0) if loc and loc[0] in _SOURCES else "body"
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "json_invalid":
        return f"the body is not valid JSON ({ctx.get('error', 'cannot be parsed')})"
    field = ".".join(loc)
    if not field:
        if kind == "missing":
            return f"the request {source} is missing"
        if kind in ("model_attributes_type", "dict_type"):
            return (f"the request {source} must be a JSON object (send it with "
                    "Content-Type: application/json)")
        return f"the request {source}: {_lowered(error.get('msg', 'is not valid'))}"
    return f"{field} {_rule(kind, ctx, error)}{_shown(error.get('input'), kind)}"


def _rule(kind: str, ctx: Mapping[str, Any], error: Mapping[str, Any]) -> str:
    """What a field must be, in plain words."""
    bounds = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
              "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request (check its spelling)"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return ("must not be empty" if least == 1
                else f"must be at least {least} characters long")
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    return f"is not valid: {_lowered(error.get('msg', ''))}"


def _shown(value: Any, kind: str) -> str:
    """The value sent, where it helps (short, and not a file or an object)."""
    if kind in ("missing", "json_invalid", "extra_forbidden"):
        return ""
    if isinstance(value, str):
        return f" (got {value!r})" if len(value) <= 40 else f" (got {len(value)} characters)"
    if value is None or isinstance(value, (bool, int, float)):
        return f" (got {value!r})"
    return ""


def _lowered(text: Any) -> str:
    text = str(text)
    return text[:1].lower() + text[1:]
