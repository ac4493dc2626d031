"""Audio decoding, encoding and reference clean-up.

``Audio`` is the mono float32 clip every stage passes around; :mod:`.decoding` reads
files, :mod:`.encoding` encodes and writes them; :mod:`.clean` finds speech (Silero
VAD), trims and normalises loudness.
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
from voxclone.audio.decoding import SUPPORTED_INPUT, load_audio
from voxclone.audio.encoding import SUPPORTED_OUTPUT, encode_audio, write_audio
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
