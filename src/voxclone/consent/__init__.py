"""Consent verification: no voice is enrolled without its owner's spoken, verified consent.

- :mod:`.challenge`: issue single-use, expiring challenges (statement + random phrase).
- :mod:`.phrase_check`: pocketsphinx hears (or not) the challenge in a recording.
- :mod:`.verify`: all checks together (challenge, synthetic speech, phrase, speaker).
- :mod:`.reading`: whose voice the speaker check judges (the reading's, every clip).
- :mod:`.record`: signed consent and revocation records; revocation.
- :mod:`.voice_seal`: the seal enrollment puts on a profile, and what synthesis may
  speak with (:func:`~voxclone.consent.voice_seal.speakable`).
- :mod:`.revoked_seals`: the installation-wide list of revoked and replaced profiles.
- :mod:`.signed_json`: HMAC-signed, atomically written JSON.

Nothing heavy is loaded at import: pocketsphinx and GE2E load on first use.
"""

from voxclone.consent.challenge import (
    DEFAULT_VALID_FOR,
    Challenge,
    ChallengeStore,
    issue_challenge,
)
from voxclone.consent.phrase_check import (
    PhraseCheck,
    PhraseChecker,
    PhraseRecognizer,
    default_recognizer,
)
from voxclone.consent.record import ConsentRecord, ConsentStore, RevocationRecord
from voxclone.consent.verify import ConsentVerification, ConsentVerifier, SyntheticCheck

__all__ = [
    "DEFAULT_VALID_FOR",
    "Challenge",
    "ChallengeStore",
    "ConsentRecord",
    "ConsentStore",
    "ConsentVerification",
    "ConsentVerifier",
    "PhraseCheck",
    "PhraseChecker",
    "PhraseRecognizer",
    "RevocationRecord",
    "SyntheticCheck",
    "default_recognizer",
    "issue_challenge",
]
