"""Watermarking: every audio voxclone synthesises carries a keyed, inaudible mark with a
32-bit payload that names its synthesis record; :func:`detect` reads it back.

The default :class:`QimWatermark` is keyed by the installation secret
(:func:`voxclone.keys.derive_key`), so only the installation that made an audio can
read its payload.
"""

from voxclone.watermark.base import (
    PAYLOAD_BITS,
    ChunkMarker,
    Detection,
    StreamingWatermark,
    Watermark,
)
from voxclone.watermark.layout import WatermarkConfig
from voxclone.watermark.qim import QimWatermark, default_watermark

__all__ = [
    "PAYLOAD_BITS",
    "ChunkMarker",
    "Detection",
    "QimWatermark",
    "StreamingWatermark",
    "Watermark",
    "WatermarkConfig",
    "default_watermark",
]
