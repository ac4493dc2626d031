"""The messages of ``WebSocket /v1/audio/speech/stream-input`` (its protocol is in
:mod:`voxclone.server.routes_stream_input`): what a client's messages must be, read
with the speech request's rules, and how errors become the messages and close codes
that end a connection."""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, StrictStr
from pydantic import ValidationError as PydanticValidationError
from starlette.types import Message

from voxclone.errors import RateLimitError, TextError, VoxcloneError
from voxclone.server.errors import error_body, status_of, validation_error
from voxclone.server.routes_speech import SpeechRequest

#: The close code of a failure of the server itself (RFC 6455's "internal error").
INTERNAL_ERROR = 1011


def _as_in_speech(name: str) -> Any:
    """``SpeechRequest``'s field ``name``: the same rules as ``POST /v1/audio/speech``."""
    return copy.deepcopy(SpeechRequest.model_fields[name])


class StreamInputSettings(BaseModel):
    """The first message: the speech request without ``input``."""

    model_config = ConfigDict(extra="forbid")
    model: str = _as_in_speech("model")
    voice: str = _as_in_speech("voice")
    speed: float = _as_in_speech("speed")
    language: str | None = _as_in_speech("language")
    sentence_pause: float | None = Field(None, ge=0.0, le=3.0,
                                         description="silence between sentences, s; "
                                                     "default: the voice's own")
    response_format: Literal["pcm"] = Field("pcm", description="16-bit little-endian mono "
                                                               "PCM at 24 kHz")
    api_key: SecretStr | None = Field(None, description="the key, where the handshake "
                                                        "cannot carry it (browsers)")


class TextMessage(BaseModel):
    """A message after the settings: a piece of the text, the end, or both."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr = ""
    end: StrictBool = False


class StreamInputError(VoxcloneError):
    """A client broke this route's protocol (``kind`` names it as the HTTP routes' error
    bodies would; ``status`` is the HTTP status it would have)."""

    def __init__(self, message: str, *, kind: str = "RequestValidationError",
                 status: int = 422) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class ClientGone(Exception):
    """The client closed the connection."""


def error_message(exc: BaseException) -> tuple[dict[str, Any], int]:
    """An error's body (``{"type", "message"}``, as the HTTP routes', with
    ``retry_after`` for a rate limit) and the close code it ends the connection with."""
    if isinstance(exc, StreamInputError):
        return {"type": exc.kind, "message": str(exc)}, 4000 + exc.status
    if not isinstance(exc, (VoxcloneError, ValueError, LookupError)):
        return {"type": "InternalServerError",
                "message": "the server failed (its log says why); try again later, or "
                           "tell its operator"}, INTERNAL_ERROR
    body: dict[str, Any] = dict(error_body(exc))
    if isinstance(exc, RateLimitError):
        body["retry_after"] = max(1, round(exc.retry_after))
    return body, 4000 + status_of(exc)


def parsed(message: Message, number: int, max_text_chars: int) -> dict[str, Any]:
    """The JSON object of the client's ``number``-th message (an ASGI
    ``websocket.receive`` message).

    Raises:
        StreamInputError: a binary message, not JSON, or not an object.
        TextError: too long to hold ``max_text_chars`` of text.
    """
    raw = message.get("text")
    if raw is None:
        raise StreamInputError(f"message {number} is binary: send JSON as text messages")
    # (JSON can spell a character in up to 12: a larger message cannot be valid)
    if len(raw) > 12 * max_text_chars + 4096:
        raise TextError(f"message {number} has {len(raw)} characters; send at most "
                        f"{max_text_chars} of text in one message")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise StreamInputError(
            f"message {number} is not valid JSON ({exc}): send objects such as "
            "{\"text\": \"Hello there. \"}") from None
    if not isinstance(data, dict):
        raise StreamInputError(f"message {number} must be a JSON object, such as "
                               "{\"voice\": \"ada\"} first and {\"text\": \"...\"} after")
    return data


def settings_of(data: dict[str, Any]) -> StreamInputSettings:
    """The first message's settings.

    Raises:
        StreamInputError: a field unknown, missing or invalid, or text sent in it.
    """
    if "text" in data or "input" in data:
        raise StreamInputError(
            "message 1 holds text: the first message carries only the settings "
            "({\"voice\": ..., \"speed\": ...}); send the text in the messages after it, "
            "as {\"text\": \"...\"}")
    try:
        return StreamInputSettings.model_validate(data)
    except PydanticValidationError as exc:
        raise _invalid(exc, 1) from None


def text_message_of(data: dict[str, Any], number: int) -> TextMessage:
    """The ``number``-th message, one after the settings.

    Raises:
        StreamInputError: a field unknown or invalid, or neither ``text`` nor ``end``.
    """
    try:
        message = TextMessage.model_validate(data)
    except PydanticValidationError as exc:
        raise _invalid(exc, number) from None
    if not message.model_fields_set:
        raise StreamInputError(
            f"message {number} is empty: send {{\"text\": \"...\"}} with a piece of the "
            "text, or {\"end\": true} when it is complete")
    return message


def _invalid(exc: PydanticValidationError, number: int) -> StreamInputError:
    """A message's validation errors, worded as the HTTP routes word them."""
    described = validation_error(exc.errors(include_url=False))
    return StreamInputError(f"message {number}: {described['message']}")
