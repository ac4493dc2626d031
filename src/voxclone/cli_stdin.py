"""Recordings and text piped to standard input (``-``) on the command line."""

from __future__ import annotations

import codecs
import contextlib
import sys
from collections.abc import Iterator

from voxclone.errors import AudioError, AudioFormatError

#: How :func:`voxclone.audio.load_audio` names audio given as bytes.
_BYTES_NAME = "the audio data"


def read_stdin_bytes() -> bytes:
    """All of standard input. The bytes, not decoded audio, are passed on: enrollment
    records the recording's SHA-256 as a file's."""
    return sys.stdin.buffer.read()


def stdin_text() -> Iterator[str]:
    """Standard input's text as it arrives: each piece as soon as the other end has
    written it (not once it has closed), UTF-8 with undecodable bytes replaced."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None or not hasattr(raw, "read1"):  # (a text stream with no bytes under it)
        while piece := sys.stdin.read(4096):
            yield piece
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while data := raw.read1(4096):
        yield decoder.decode(data)
    yield decoder.decode(b"", final=True)


@contextlib.contextmanager
def stdin_named() -> Iterator[None]:
    """Report an unreadable recording given as bytes as "standard input", which is
    the only recording the command line passes as bytes."""
    try:
        yield
    except AudioError as exc:  # (its subclasses with messages of their own pass through)
        if type(exc) not in (AudioError, AudioFormatError) or _BYTES_NAME not in str(exc):
            raise
        raise type(exc)(str(exc).replace(_BYTES_NAME, "standard input", 1)) from exc
