"""OpenAI's model listing (``GET /v1/models``), which OpenAI-style clients and UIs ask
for before they speak: the model names ``POST /v1/audio/speech`` is documented to
take. Any of them (any name at all, in fact) gives the same voxclone cloning engine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from voxclone.server.auth import Caller

router = APIRouter(prefix="/v1", tags=["models"])

#: voxclone's own name first, then OpenAI's speech models, for clients that offer only
#: those.
MODELS = ("voxclone", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")
#: OpenAI's ``created`` (Unix seconds): a fixed time, the same on every server
#: (2025-01-01T00:00:00Z), so that listings compare equal.
CREATED = 1_735_689_600


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "voxclone"}


@router.get("/models")
def list_models(_who: Caller) -> dict[str, Any]:
    """The model names the speech route takes, in OpenAI's shape: ``{"object": "list",
    "data": [{"id", "object": "model", "created", "owned_by"}]}``. All are the same
    cloning engine; the voice is what you choose."""
    return {"object": "list", "data": [_model(name) for name in MODELS]}


@router.get("/models/{model}")
def get_model(model: str, _who: Caller) -> dict[str, Any]:
    """One model of :func:`list_models`.

    Raises:
        LookupError: not one of them (HTTP 404).
    """
    if model not in MODELS:
        raise LookupError(f"no model {model!r}; GET /v1/models lists them: "
                          + ", ".join(MODELS))
    return _model(model)
