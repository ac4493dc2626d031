"""Voice seals: this installation's word that it enrolled this exact profile with consent.

A profile's checksum catches damage, not an edit: anyone can recompute it. And a
consent record vouches for a profile by the SHA-256 of its reference clips, which an
edited profile keeps. So enrollment, once consent is verified (or the waiver
recorded), seals the profile: an HMAC-SHA256, under a key derived from the
installation secret, over the profile's content digest. Synthesis speaks only with a
profile whose seal checks, so a profile edited on disk or in the server's database,
built by hand, or changed in memory (``dataclasses.replace``) is refused rather than
being a way around consent. The consent record names the sealed content too
(``ConsentRecord.profile_sha256``), so a stored voice cannot be edited and passed off
as one from before seals either.

Profiles from before seals (format version 8 and older) are unsealed; they speak
while their stored consent record vouches for them and they are the stored voice
unchanged (:func:`speakable`).

Code that sets out to build voices by hand on purpose (benchmarks, experiments)
seals them itself with :func:`seal_voice`, which needs this installation's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import replace

from voxclone.clone.profile import VoiceProfile, VoiceStore
from voxclone.consent.record import ConsentRecord, ConsentStore
from voxclone.consent.revoked_seals import seal_revoked
from voxclone.errors import VoiceRevokedError, VoiceSealError
from voxclone.keys import derive_key

#: Purpose of the key the seals are made with (:func:`voxclone.keys.derive_key`).
PURPOSE = "voice-seal"


def seal_voice(profile: VoiceProfile, *, key: bytes | None = None) -> VoiceProfile:
    """``profile``, sealed: as a reload from its stored JSON gives it (floats rounded as
    stored, so the seal still checks after a save and load), with its seal.

    Raises:
        SecretError: the installation secret is unusable.
    """
    settled = VoiceProfile.from_json(profile.to_json(), origin=f"voice {profile.name!r}")
    return replace(settled, seal=_mac(settled, key))


def sealed_with_record(profile: VoiceProfile,
                       record: ConsentRecord) -> tuple[VoiceProfile, ConsentRecord]:
    """Enrollment's last step, once consent is settled: ``profile`` sealed, and its
    consent ``record`` naming the sealed content (so that a stored voice stripped of its
    seal, or edited, does not match its record either).

    Raises:
        SecretError: the installation secret is unusable.
    """
    sealed = seal_voice(profile)
    return sealed, replace(record, profile_sha256=sealed.content_digest())


def seal_holds(profile: VoiceProfile, *, key: bytes | None = None) -> bool:
    """Whether ``profile`` carries a seal and it is this installation's, over exactly
    this content."""
    return profile.seal is not None and hmac.compare_digest(profile.seal, _mac(profile, key))


def check_seal(profile: VoiceProfile, *, key: bytes | None = None) -> None:
    """Raise unless ``profile``'s seal checks.

    Raises:
        VoiceSealError: unsealed, or sealed over other content or by another installation.
        SecretError: the installation secret is unusable.
    """
    if seal_holds(profile, key=key):
        return
    if profile.seal is None:
        problem = "carries no seal: it was not made by enrollment"
    else:
        problem = ("fails its seal: it was changed after enrollment (on disk, in a "
                   "database or in memory), or enrolled under another voxclone home")
    raise VoiceSealError(
        f"the voice profile {profile.name!r} {problem}; speak with a voice enrolled here, "
        "unchanged (by its name, or as voxclone.load_voice gives it), or enroll it again "
        "with consent; set speed and pauses with synthesize's options (--speed, "
        "--sentence-pause) instead of the profile's fields")


def _mac(profile: VoiceProfile, key: bytes | None) -> str:
    digest = profile.content_digest().encode()
    return hmac.new(key if key is not None else derive_key(PURPOSE), digest,
                    hashlib.sha256).hexdigest()


def speakable(voice: str | VoiceProfile,
              voices_dir: str | os.PathLike[str] | None = None) -> VoiceProfile:
    """The profile synthesis may speak with, given a voice's name or its profile.

    A profile must carry this installation's seal over its content, and its voice must
    not have been revoked after it was made. A voice given by name also needs its consent
    record in ``voices_dir``, made for its reference recordings. An unsealed profile
    (from before seals) speaks only as the stored voice, unchanged, with its record.

    Raises:
        VoiceNotFoundError / ProfileError: no such stored voice, or a damaged one.
        VoiceSealError: a sealed profile fails its seal; an unsealed one is not the
            stored voice as it is.
        ConsentRecordError: a voice given by name (or an unsealed profile) has no
            consent record, one failing its signature, or one made for other recordings.
        VoiceRevokedError: the voice was revoked after the profile was made, or this
            very profile was revoked or replaced (its seal is listed as revoked).
        SecretError: the installation secret is unusable.
    """
    consents = ConsentStore(voices_dir)
    store = VoiceStore(voices_dir)
    given = isinstance(voice, VoiceProfile)
    profile = voice if isinstance(voice, VoiceProfile) else store.load(voice)
    if profile.seal is not None:
        check_seal(profile)
        if not given:
            consents.vouching_for(profile)
    elif not given:
        consents.vouching_for(profile)  # a stored voice from before seals
    else:
        # from before seals too (load_voice's), but only as the stored voice unchanged
        if not store.exists(profile.name) or \
                store.load(profile.name).content_digest() != profile.content_digest():
            check_seal(profile)  # raises: carries no seal
        consents.vouching_for(profile)
    revoked = consents.revoked_since(profile.name, profile.created)
    if revoked is not None:
        raise VoiceRevokedError(f"the voice {profile.name!r} was revoked at {revoked.revoked}, "
                                "after this profile was made; it cannot be spoken with")
    if seal_revoked(profile):  # (also a copy kept elsewhere, or a voice replaced since)
        raise VoiceRevokedError(
            f"the voice profile {profile.name!r} was revoked, or replaced by a new "
            "enrollment, in this installation; it cannot be spoken with, wherever it is kept")
    return profile
