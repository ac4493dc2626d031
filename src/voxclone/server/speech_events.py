"""OpenAI's ``stream_format: "sse"`` for ``POST /v1/audio/speech``: the audio as
server-sent events instead of a raw body.

Each event is one ``data:`` line holding a JSON object (OpenAI's speech stream events):

- ``{"type": "speech.audio.delta", "audio": BASE64}``: the next bytes of the audio, in
  ``response_format``; joined, the deltas are the bytes ``stream_format: "audio"``
  would have sent (``wav``: its header first, with sizes that say "unknown");
- ``{"type": "speech.audio.done", "usage": {...}}``: the audio is complete. voxclone
  counts seconds of audio, not tokens, so the token counts are 0;
- ``{"type": "error", "error": {"type": ..., "message": ...}}``: the audio stopped short
  (the key's quota ended); no ``done`` follows. The object is the one every error
  response of the server carries.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

#: What the response's ``Content-Type`` is.
MEDIA_TYPE = "text/event-stream"
#: Headers an event stream wants: no caching, and no buffering by a proxy (nginx).
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: A whole file (mp3, flac, ogg, opus) is sent in deltas of at most this many bytes.
PIECE_BYTES = 32_768


def _event(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def delta(data: bytes) -> bytes:
    """A ``speech.audio.delta`` event carrying ``data``."""
    return _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})


def done() -> bytes:
    """The ``speech.audio.done`` event that ends a complete audio."""
    return _event({"type": "speech.audio.done",
                   "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}})


def error(exc: Exception) -> bytes:
    """An ``error`` event: the audio ended early, for the reason ``exc`` gives."""
    return _event({"type": "error", "error": {"type": type(exc).__name__,
                                              "message": str(exc)}})


def file_events(data: bytes) -> Iterator[bytes]:
    """A whole encoded file as deltas of at most :data:`PIECE_BYTES`, then ``done``."""
    for start in range(0, len(data), PIECE_BYTES):
        yield delta(data[start:start + PIECE_BYTES])
    yield done()
