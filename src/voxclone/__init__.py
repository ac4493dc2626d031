"""voxclone: offline, CPU-first voice cloning with consent and provenance built in.

The public API::

    enroll(name, clips, effort=...) -> VoiceProfile
    synthesize(text, voice, speed=...) -> Audio
    synthesize_stream(text, voice, speed=...) -> Iterator[Audio]
    similarity(a, b) -> float
    load_voice(name) / list_voices()

Nothing is loaded at import; models load on first use.
"""

from voxclone.api import (
    embed,
    enroll,
    list_voices,
    load_voice,
    similarity,
    synthesize,
    synthesize_stream,
)
from voxclone.audio import Audio, load_audio, write_audio
from voxclone.clone.profile import VoiceProfile
from voxclone.errors import VoxcloneError

__version__ = "0.1.0"

__all__ = [
    "Audio",
    "VoiceProfile",
    "VoxcloneError",
    "__version__",
    "embed",
    "enroll",
    "list_voices",
    "load_audio",
    "load_voice",
    "similarity",
    "synthesize",
    "synthesize_stream",
    "write_audio",
]
