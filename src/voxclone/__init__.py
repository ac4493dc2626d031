"""voxclone: offline, CPU-first voice cloning with consent and provenance built in.

The public API::

    challenge(name) -> Challenge                  # what the speaker reads for consent
    enroll(name, clips, consent=..., challenge=..., effort=...) -> VoiceProfile
    consent_record(name) -> ConsentRecord / revoke(name) -> RevocationRecord
    synthesize(text, voice, speed=..., language=...) -> Audio
    synthesize_stream(text, voice, speed=..., language=...) -> Iterator[Audio]
                                                  # text: a str, or its pieces as they arrive
    similarity(a, b) -> float
    check(clips) -> QualityReport      (is a reference good enough to clone from?)
    detect(clip) -> Detection          (watermark: found, payload, confidence, where)
    detect_all(clip) -> list[Detection]  (every mark in a clip joining several syntheses)
    find_synthesis(payload) -> SynthesisRecord | None
    load_voice(name) / list_voices()

Every synthesised audio carries a keyed watermark naming its synthesis record.

Nothing is loaded at import; models load on first use.
"""

from voxclone.api import embed, enroll, list_voices, load_voice, similarity
from voxclone.api_consent import challenge, consent_record, revocations, revoke
from voxclone.audio import Audio, load_audio, write_audio
from voxclone.clone.profile import VoiceProfile
from voxclone.consent import Challenge, ConsentRecord, RevocationRecord
from voxclone.detection import detect, detect_all, find_synthesis
from voxclone.errors import ConsentError, ReferenceQualityError, VoxcloneError
from voxclone.provenance import SynthesisRecord
from voxclone.quality import QualityReport, check
from voxclone.synthesis import synthesize, synthesize_stream
from voxclone.watermark import Detection

__version__ = "0.1.0"

__all__ = [
    "Audio",
    "Challenge",
    "ConsentError",
    "ConsentRecord",
    "Detection",
    "QualityReport",
    "ReferenceQualityError",
    "RevocationRecord",
    "SynthesisRecord",
    "VoiceProfile",
    "VoxcloneError",
    "__version__",
    "challenge",
    "check",
    "consent_record",
    "detect",
    "detect_all",
    "embed",
    "enroll",
    "find_synthesis",
    "list_voices",
    "load_audio",
    "load_voice",
    "revocations",
    "revoke",
    "similarity",
    "synthesize",
    "synthesize_stream",
    "write_audio",
]
