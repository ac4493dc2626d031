"""Uploaded audio: counted and read within the server's limits (per file, and per request
together), decoded with errors that say which upload is bad (by its role and file name),
and the clip names of enrollment's messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from fastapi import UploadFile

from voxclone.audio import Audio, load_audio
from voxclone.errors import AudioError, AudioFormatError

_CHUNK = 1 << 20
_MB = 1 << 20
#: The HTTP status of :class:`UploadTooLargeError` (Content Too Large).
UPLOAD_TOO_LARGE = 413
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


class UploadTooLargeError(AudioError):
    """An upload, or a request's uploads together, over the server's limits: the message
    names the limit (HTTP 413; the error's type is ``AudioError``)."""


def megabytes(size: int) -> str:
    """``size`` bytes as a message says it (``50 MB``)."""
    if size < _MB:
        return f"{size} bytes"
    return f"{size // _MB} MB" if size % _MB == 0 else f"{size / _MB:.1f} MB"


def check_uploads(uploads: Sequence[UploadFile], labels: Sequence[str], *, per_file: int,
                  total: int) -> None:
    """Refuse uploads over ``per_file`` bytes each or ``total`` together before any is read,
    by the sizes the multipart parser counted (:func:`read_upload` counts again as it
    reads, for a size not given).

    Raises:
        UploadTooLargeError: naming the limit (and the file over it).
    """
    sizes = [upload.size for upload in uploads]
    for size, label in zip(sizes, labels, strict=True):
        if size is not None and size > per_file:
            raise _over(label, per_file)
    together = sum(size for size in sizes if size is not None)
    if together > total:
        raise _over_together(together, total)


def check_count(count: int, limit: int, what: str) -> None:
    """Refuse a request sending more than ``limit`` ``what`` (``reference recordings``).

    Raises:
        UploadTooLargeError: naming the limit.
    """
    if count > limit:
        raise UploadTooLargeError(f"this request sends {count} {what}; this server takes at "
                                  f"most {limit} in one request: send the best {limit}")


async def read_uploads(uploads: Sequence[UploadFile], labels: Sequence[str], *,
                       per_file: int, total: int) -> list[bytes]:
    """The bytes of each upload (see :func:`read_upload`), at most ``total`` together.

    Raises:
        AudioError: an upload is empty.
        UploadTooLargeError: one is over ``per_file`` bytes, or all over ``total``.
    """
    check_uploads(uploads, labels, per_file=per_file, total=total)
    read: list[bytes] = []
    together = 0
    for upload, label in zip(uploads, labels, strict=True):
        read.append(await read_upload(upload, per_file, label))
        together += len(read[-1])
        if together > total:  # (a size the parser did not give)
            raise _over_together(together, total)
    return read


async def read_upload(upload: UploadFile, limit: int, label: str) -> bytes:
    """The bytes of ``upload`` (``label``: how messages name it, see :func:`upload_label`).

    Raises:
        AudioError: empty.
        UploadTooLargeError: over ``limit`` bytes.
    """
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _over(label, limit)
        parts.append(chunk)
    if not size:
        raise AudioError(f"{label} is empty; record it again")
    return b"".join(parts)


def _over(label: str, limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(f"{label} is over {megabytes(limit)}, this server's limit "
                               "per file; send a shorter recording")


def _over_together(size: int, limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(f"the recordings of this request are {megabytes(size)} "
                               f"together, over this server's limit of {megabytes(limit)} "
                               "per request; send fewer or shorter recordings")


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
