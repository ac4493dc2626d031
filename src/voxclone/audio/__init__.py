"""Audio decoding, encoding and reference clean-up.

``Audio`` is the mono float32 clip every stage passes around; :mod:`.io` reads and
writes files; :mod:`.clean` finds speech (Silero VAD), trims and normalises loudness.
Nothing heavy is loaded at import: the VAD model loads on first use.
"""

from voxclone.audio.clean import (
    VAD_SAMPLE_RATE,
    CleanReport,
    detect_speech,
    normalize_loudness,
    prepare_reference,
    trim_to_speech,
)
from voxclone.audio.io import (
    SUPPORTED_INPUT,
    SUPPORTED_OUTPUT,
    encode_audio,
    load_audio,
    write_audio,
)
from voxclone.audio.types import Audio

__all__ = [
    "SUPPORTED_INPUT",
    "SUPPORTED_OUTPUT",
    "VAD_SAMPLE_RATE",
    "Audio",
    "CleanReport",
    "detect_speech",
    "encode_audio",
    "load_audio",
    "normalize_loudness",
    "prepare_reference",
    "trim_to_speech",
    "write_audio",
]
