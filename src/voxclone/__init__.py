"""voxclone: offline, CPU-first voice cloning with consent and provenance built in.

The public API::

    enroll(name, clips, effort=...) -> VoiceProfile
    synthesize(text, voice, speed=...) -> Audio
    synthesize_stream(text, voice, speed=...) -> Iterator[Audio]
    similarity(a, b) -> float
    detect(clip) -> Detection          (watermark: found, payload, confidence, where)
    find_synthesis(payload) -> SynthesisRecord | None
    load_voice(name) / list_voices()

Every synthesised audio carries a keyed watermark naming its synthesis record.

Nothing is loaded at import; models load on first use.
"""

from voxclone.api import (
    detect,
    embed,
    enroll,
    find_synthesis,
    list_voices,
    load_voice,
    similarity,
    synthesize,
    synthesize_stream,
)
from voxclone.audio import Audio, load_audio, write_audio
from voxclone.clone.profile import VoiceProfile
from voxclone.errors import VoxcloneError
from voxclone.provenance import SynthesisRecord
from voxclone.watermark import Detection

__version__ = "0.1.0"

__all__ = [
    "Audio",
    "Detection",
    "SynthesisRecord",
    "VoiceProfile",
    "VoxcloneError",
    "__version__",
    "detect",
    "embed",
    "enroll",
    "find_synthesis",
    "list_voices",
    "load_audio",
    "load_voice",
    "similarity",
    "synthesize",
    "synthesize_stream",
    "write_audio",
]
