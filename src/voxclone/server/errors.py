"""How errors become HTTP responses: a status per error type, and a JSON body."""

from __future__ import annotations

from voxclone.errors import (
    AccessError,
    AuditError,
    ConsentError,
    RateLimitError,
    RegistryError,
    UnknownKeyError,
    VoiceExistsError,
    VoiceNotFoundError,
    VoxcloneError,
)


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
    """``{"type": ..., "message": ...}`` for an error (what a client shows its user)."""
    return {"type": type(exc).__name__, "message": str(exc)}
