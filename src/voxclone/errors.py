"""Exception types raised by voxclone.

Every error a user can cause derives from :class:`VoxcloneError`; its message says
what went wrong and what to do about it.
"""

from __future__ import annotations

from typing import Any


class VoxcloneError(Exception):
    """Base class of every error voxclone raises on purpose."""


class AudioError(VoxcloneError):
    """An audio input could not be used (unreadable, empty, silent, too short...)."""


class AudioFormatError(AudioError):
    """The file is corrupt or not in a supported format (WAV, FLAC, OGG, MP3)."""


class NoSpeechError(AudioError):
    """The audio holds no (or too little) speech to work with."""


class TextError(VoxcloneError):
    """The text to speak is empty or cannot be rendered."""


class VoiceNotFoundError(VoxcloneError):
    """No voice profile of that name exists in the voices directory."""


class VoiceExistsError(VoxcloneError):
    """A voice profile of that name already exists and overwriting was not asked for."""


class ProfileError(VoxcloneError):
    """A stored voice profile is unreadable, of an unknown version, or fails its checksum."""


class ModelError(VoxcloneError):
    """A model's weights are missing or fail their checksum."""


class SecretError(VoxcloneError):
    """The installation secret (which signs consent and keys the watermark) is unusable."""


class ConsentError(VoxcloneError):
    """Enrollment was refused: the owner's spoken consent is missing or did not verify.

    The subclasses say which check failed; every message says what to do next.
    """


class ConsentMissingError(ConsentError):
    """No consent recording (or no challenge id) was given."""


class ChallengeError(ConsentError):
    """The challenge is unknown, expired, already used, or was issued for another name."""


class PhraseNotHeardError(ConsentError):
    """Speech recognition did not hear the challenge phrase (or the statement) in the recording."""


class SpeakerMismatchError(ConsentError):
    """The consent recording and the reference clips are not the same speaker."""


class UnreadSpeechError(ConsentError):
    """The consent recording holds speech besides the reading of the challenge."""


class SyntheticConsentError(ConsentError):
    """The consent recording, or a reference clip, is synthetic speech (it carries
    voxclone's watermark)."""


class VoiceRevokedError(ConsentError):
    """The voice was revoked by its owner after the profile in hand was made."""


class ConsentRecordError(ConsentError):
    """A stored consent or revocation record is missing, unreadable, or fails its signature."""


class VoiceSealError(ConsentRecordError):
    """A voice profile carries no seal of this installation's enrollment, or fails it:
    built by hand, or changed after enrollment (:mod:`voxclone.consent.voice_seal`)."""


class RegistryError(VoxcloneError):
    """The registry database (voices, owners, keys, audit log) cannot be used."""


class AuditError(RegistryError):
    """The audit log cannot be written, so the action it would record was not done."""


class AccessError(VoxcloneError):
    """A request is not allowed: missing, unknown or revoked API key, or not the owner."""


class UnknownKeyError(AccessError):
    """No API key, or one that is unknown or revoked."""


class RateLimitError(AccessError):
    """The API key made too many requests this minute, or used up its daily audio quota."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ScriptError(VoxcloneError):
    """A batch script is malformed (unreadable, unknown format, missing columns, bad JSON,
    duplicate or invalid ids); the message names the file and line."""


class BatchError(VoxcloneError):
    """A batch job cannot run or go on: unusable output directory, a worker that died, Ray
    missing or unreachable. Finished lines stay in the manifest; re-run to resume."""


class ReferenceQualityError(AudioError):
    """The reference clips would make a bad clone (too little speech, too noisy, clipped,
    two speakers, clips of different people). ``report`` holds the full
    :class:`voxclone.quality.QualityReport`; the message lists what to fix.
    Pass ``force=True`` (``--force-quality`` on the command line) to enroll anyway.
    """

    def __init__(self, report: Any) -> None:
        self.report = report
        lines = report.refusals()
        super().__init__(
            "the reference recording would make a bad clone:\n  "
            + "\n  ".join(lines)
            + "\n(`voxclone check CLIP...` shows every measure; to enroll anyway: "
            "--force-quality, or force=True in Python)")
