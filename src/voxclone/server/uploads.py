"""Reading uploaded audio with a size limit."""

from __future__ import annotations

from fastapi import UploadFile

from voxclone.errors import AudioError

_CHUNK = 1 << 20


async def read_upload(upload: UploadFile, limit: int, what: str) -> bytes:
    """The bytes of ``upload``.

    Raises:
        AudioError: empty, or over ``limit`` bytes.
    """
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise AudioError(f"{what} ({upload.filename}) is over {limit // (1 << 20)} MB; "
                             "send a shorter recording")
        parts.append(chunk)
    if not size:
        raise AudioError(f"{what} ({upload.filename}) is empty; record it again")
    return b"".join(parts)
