"""The watermark stage's protocol and what a detection reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

#: Payloads are unsigned integers of this many bits (they name a synthesis record).
PAYLOAD_BITS = 32


@dataclass(frozen=True)
class Detection:
    """What :func:`voxclone.detect` found in one audio (or one of the marks
    :func:`voxclone.detect_all` found, each with its own payload, place and speed).

    Attributes:
        found: a watermark made with this installation's key is present.
        payload: the 32-bit payload (the synthesis record id) when found, else None.
        false_positive_probability: chance that unmarked audio scores at least this
            high (small = confident); 1.0 when nothing was found.
        start_s, end_s: where in the audio the watermark was read (seconds); None
            when nothing was found.
        speed: playback-speed factor at which it was found (1.0 = untouched).
        too_short: nothing was found in a clip too short for that to mean much (under
            :data:`voxclone.detection.MIN_DETECT_SECONDS`: a mark is often unreadable
            there, so "no watermark" cannot be told from "too little of it").
        low_bitrate: nothing was found in a file coded at a bitrate that often loses
            the mark (under :data:`voxclone.detection.LOW_BITRATE_KBPS`): how it was
            coded, e.g. ``"Opus at 17 kbit/s"``; else None.
        matched_by: how the synthesis was found: ``"watermark"`` (the mark was read),
            or ``"fingerprint"`` (the mark was not readable, but the clip matched the
            stored fingerprint of one of this installation's syntheses:
            :mod:`voxclone.fingerprint`; ``start_s``/``end_s`` are then the part of the
            clip that matched, and ``false_positive_probability`` that match's).
    """

    found: bool
    payload: int | None = None
    false_positive_probability: float = 1.0
    start_s: float | None = None
    end_s: float | None = None
    speed: float = 1.0
    too_short: bool = False
    low_bitrate: str | None = None
    matched_by: str = "watermark"


@runtime_checkable
class Watermark(Protocol):
    """An audio watermark: embed a payload, detect it again."""

    name: str

    def embed(self, samples: np.ndarray, sample_rate: int, payload: int, *,
              start_sample: int = 0) -> np.ndarray:
        """Return ``samples`` (float32 mono) carrying ``payload``.

        ``start_sample`` is the position of ``samples`` in a longer stream, so that
        chunks watermarked one by one join into one continuous watermark.
        """
        ...

    def detect(self, samples: np.ndarray, sample_rate: int) -> Detection:
        """Look for this key's watermark in float mono ``samples``."""
        ...


class ChunkMarker(Protocol):
    """Marks one stream as its chunks come (made by
    :meth:`StreamingWatermark.stream_marker`)."""

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The next chunk (float mono, ``(n,)``), marked: float32 ``(n,)``."""
        ...


@runtime_checkable
class StreamingWatermark(Watermark, Protocol):
    """A watermark that can also mark a stream as one continuous mark, symbols whole
    across its chunks' edges (rather than :meth:`Watermark.embed` chunk by chunk)."""

    def stream_marker(self, sample_rate: int, payload: int) -> ChunkMarker:
        """A marker for one stream of mono audio at ``sample_rate`` carrying ``payload``."""
        ...
