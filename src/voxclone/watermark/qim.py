"""The default watermark: dither modulation of cell energy ratios (see ``layout``)."""

from __future__ import annotations

import logging
import os

import numpy as np

from voxclone.keys import derive_key
from voxclone.watermark.base import PAYLOAD_BITS, Detection
from voxclone.watermark.detect import detect_samples
from voxclone.watermark.embed import embed_samples
from voxclone.watermark.layout import Layout, WatermarkConfig
from voxclone.watermark.multi import detect_all_samples
from voxclone.watermark.stream import StreamMarker

logger = logging.getLogger(__name__)


class QimWatermark:
    """Keyed energy-ratio watermark.

    Args:
        key: secret bytes (at least 16); the same key embeds and detects.
        config: grid and strength; the default is what the benchmark measured.
    """

    #: v2 interleaves odd codeword periods differently; v1 marks are still read.
    name = "qim-v2"

    def __init__(self, key: bytes, config: WatermarkConfig | None = None) -> None:
        if len(key) < 16:
            raise ValueError("a watermark key needs at least 16 bytes")
        self.layout = Layout(config or WatermarkConfig(), bytes(key))

    def embed(self, samples: np.ndarray, sample_rate: int, payload: int, *,
              start_sample: int = 0) -> np.ndarray:
        """Return float32 ``samples`` carrying ``payload``.

        Args:
            samples: float mono audio, shape ``(n,)``.
            sample_rate: a multiple of 8000 Hz (voxclone renders 24 kHz).
            payload: unsigned integer below 2**32.
            start_sample: position of ``samples`` in the stream they belong to, so
                chunks marked one by one form one continuous mark.

        Raises:
            ValueError: bad payload, rate or shape.
        """
        if not 0 <= int(payload) < (1 << PAYLOAD_BITS):
            raise ValueError(f"payload must be an unsigned {PAYLOAD_BITS}-bit integer")
        if start_sample < 0:
            raise ValueError("start_sample must be >= 0")
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError("embed needs mono samples of shape (n,)")
        return embed_samples(x, sample_rate, int(payload), self.layout,
                             start_sample=start_sample)

    def stream_marker(self, sample_rate: int, payload: int) -> StreamMarker:
        """A marker for one stream (:class:`~voxclone.watermark.stream.StreamMarker`):
        push its chunks one by one; they come back marked, and joined carry one
        continuous mark, symbols whole across the chunks' edges, read by :meth:`detect`
        like :meth:`embed`'s.

        Args:
            sample_rate: the stream's rate, a multiple of 8000 Hz (voxclone: 24 kHz).
            payload: unsigned integer below 2**32.

        Raises:
            ValueError: bad payload or rate.
        """
        if not 0 <= int(payload) < (1 << PAYLOAD_BITS):
            raise ValueError(f"payload must be an unsigned {PAYLOAD_BITS}-bit integer")
        self.layout.config.scaled(sample_rate)  # raises for a rate it cannot mark
        return StreamMarker(self.layout, sample_rate, int(payload))

    def detect(self, samples: np.ndarray, sample_rate: int) -> Detection:
        """Look for the mark in float mono ``samples`` at any sample rate >= 8 kHz,
        also at playback speeds 0.95-1.05."""
        if sample_rate < self.layout.config.analysis_rate:
            raise ValueError("detection needs audio sampled at 8 kHz or more")
        return detect_samples(np.asarray(samples), sample_rate, self.layout)

    def detect_all(self, samples: np.ndarray, sample_rate: int) -> list[Detection]:
        """Every mark in float mono ``samples`` (shape ``(n,)``, any rate >= 8 kHz): a
        file joining several marked audios holds one per stretch. In time order, each
        with its own payload, place and speed; empty when there is none. A mark is
        reported only where :meth:`detect` would find one, and each mark's
        false-positive probability counts every window searched (see
        :mod:`voxclone.watermark.multi`).

        Raises:
            ValueError: a rate under 8 kHz, or samples that are not mono.
        """
        if sample_rate < self.layout.config.analysis_rate:
            raise ValueError("detection needs audio sampled at 8 kHz or more")
        return detect_all_samples(np.asarray(samples), sample_rate, self.layout)


def default_watermark(home: str | os.PathLike[str] | None = None) -> QimWatermark:
    """The watermark keyed by this installation's secret."""
    return QimWatermark(derive_key("watermark", home))
