"""Uploaded audio: read with a size limit, decoded with errors that say which upload is
bad (by its role and file name), and the clip names of enrollment's messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from fastapi import UploadFile

from voxclone.audio import Audio, load_audio
from voxclone.errors import AudioError, AudioFormatError

_CHUNK = 1 << 20
#: Longest file name shown in a message (the rest is cut off).
_MAX_SHOWN = 80
#: How the quality gate names clips given as bytes ("clip 1", "clip 2"...).
_GATE_NAME = re.compile(r"\bclip (\d+)\b")
#: How the audio decoder names bytes in its messages.
_DECODER_NAME = "the audio data"


def upload_label(role: str, upload: UploadFile) -> str:
    """How messages name an upload: its role, then its file name as the client sent it
    (``reference 2 (take2.wav)``); the role alone without a usable name."""
    raw = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    shown = "".join(c for c in raw if unicodedata.category(c)[0] != "C").strip()
    if len(shown) > _MAX_SHOWN:
        shown = shown[: _MAX_SHOWN - 3] + "..."
    return f"{role} ({shown})" if shown else role


async def read_upload(upload: UploadFile, limit: int, label: str) -> bytes:
    """The bytes of ``upload`` (``label``: how messages name it, see :func:`upload_label`).

    Raises:
        AudioError: empty, or over ``limit`` bytes.
    """
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise AudioError(f"{label} is over {limit // (1 << 20)} MB; "
                             "send a shorter recording")
        parts.append(chunk)
    if not size:
        raise AudioError(f"{label} is empty; record it again")
    return b"".join(parts)


def decode_upload(data: bytes, label: str, *, max_seconds: float) -> Audio:
    """Decode an uploaded file (CPU-bound: call it off the event loop).

    Raises:
        AudioError / AudioFormatError: as :func:`voxclone.audio.load_audio`, the message
            naming the upload by ``label``.
    """
    try:
        return load_audio(data, max_seconds=max_seconds)
    except AudioError as exc:
        kind = type(exc) if type(exc) in (AudioError, AudioFormatError) else AudioError
        raise kind(named(str(exc), label)) from exc


def named(message: str, label: str) -> str:
    """``message`` about one upload, naming it by ``label``."""
    if message.startswith(_DECODER_NAME):
        return label + message[len(_DECODER_NAME):]
    return f"{label}: {message}"


def with_clip_labels(text: str, labels: Sequence[str]) -> str:
    """``text`` (a message or warning of enrollment's quality gate, which names clips
    given as bytes ``clip 1``, ``clip 2``...) with each clip named by its label."""
    def label(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return labels[index] if 0 <= index < len(labels) else match.group(0)

    return _GATE_NAME.sub(label, text)
