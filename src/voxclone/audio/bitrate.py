"""How a lossy file was coded: its codec and average bitrate, read from the file itself.

What a detector's "no watermark" is worth depends on it: a low-bitrate speech codec
can strip a mark that every higher bitrate keeps (:mod:`voxclone.detection`).
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass

import soundfile as sf

logger = logging.getLogger(__name__)

#: libsndfile's subtypes of the lossy codecs it reads, by the name people know them by.
_LOSSY = {"OPUS": "Opus", "VORBIS": "Vorbis", "MPEG_LAYER_III": "MP3",
          "MPEG_LAYER_II": "MP2", "MPEG_LAYER_I": "MP1"}


@dataclass(frozen=True)
class LossyCoding:
    """A lossy file's codec (``"Opus"``, ``"Vorbis"``, ``"MP3"``) and its average
    bitrate in kbit/s (the file's size over its duration, container included)."""

    codec: str
    kbps: float

    def __str__(self) -> str:
        return f"{self.codec} at {self.kbps:.0f} kbit/s"


def lossy_coding(source: str | os.PathLike[str] | bytes, seconds: float) -> LossyCoding | None:
    """How ``source`` (a path, or the file's bytes) was coded, ``seconds`` long once
    decoded; None for PCM and FLAC, standard input (``"-"``, read once already), and a
    file libsndfile cannot describe (its decoding reports that, not this)."""
    if seconds <= 0 or (isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-"):
        return None
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            size, info = len(source), sf.info(io.BytesIO(bytes(source)))
        else:
            size, info = os.path.getsize(source), sf.info(os.fspath(source))
    except (OSError, RuntimeError) as exc:  # (libsndfile's errors are RuntimeErrors)
        logger.debug("cannot describe the coding of %s: %s", source, exc)
        return None
    codec = _LOSSY.get(info.subtype)
    return None if codec is None else LossyCoding(codec, size * 8 / 1000 / seconds)
