"""The consent side of the public API: challenges, consent records and revocation.

(Enrollment, which verifies a challenge's reading, is :func:`voxclone.api.enroll`.)
"""

from __future__ import annotations

import os
from datetime import timedelta

from voxclone.clone.profile import VoiceStore, check_name
from voxclone.consent import (
    DEFAULT_VALID_FOR,
    Challenge,
    ChallengeStore,
    ConsentRecord,
    ConsentStore,
    RevocationRecord,
)
from voxclone.provenance import AuditContext

__all__ = ["MAX_VALID_FOR_S", "challenge", "consent_record", "revocations", "revoke"]

#: The longest a consent challenge may stay valid (s): a day.
MAX_VALID_FOR_S = 86_400.0


def challenge(name: str, *, valid_for: float | timedelta = DEFAULT_VALID_FOR,
              audit: AuditContext | None = None) -> Challenge:
    """Issue a consent challenge for the voice ``name``.

    The speaker reads ``challenge.text`` (the consent statement, then a random phrase)
    in one recording, which is passed to :func:`enroll` with ``challenge.id``. A
    challenge can be used once, for this name only, within ``valid_for`` (seconds or a
    ``timedelta``; default 10 minutes).

    Raises:
        ValueError: invalid name or non-positive ``valid_for``.
        SecretError: the installation secret is unusable.
    """
    if not isinstance(valid_for, timedelta):
        seconds = float(valid_for)
        if not 0 < seconds <= MAX_VALID_FOR_S:  # NaN too
            raise ValueError(f"valid_for must be 0-{MAX_VALID_FOR_S:.0f} s (a day), got "
                             f"{valid_for!r}")
        valid_for = timedelta(seconds=seconds)
    issued = ChallengeStore().issue(name, valid_for=valid_for)
    context = audit or AuditContext()
    context.audit_log().append("challenge", actor=context.actor, owner_id=context.owner_id,
                               voice=name, details={"challenge": issued.id})
    return issued


def consent_record(name: str, *,
                   voices_dir: str | os.PathLike[str] | None = None) -> ConsentRecord:
    """The verified (signature-checked) consent record of the voice ``name``, checked
    to be the record of its stored profile (made from the same recordings).

    Raises:
        ValueError: invalid name.
        ConsentRecordError: no record, it was edited (fails its signature), or it is
            not the record of the profile stored under that name.
    """
    consents, profiles = ConsentStore(voices_dir), VoiceStore(voices_dir)
    if profiles.exists(check_name(name)):
        return consents.vouching_for(profiles.load(name))
    return consents.load(name)


def revoke(name: str, *, voices_dir: str | os.PathLike[str] | None = None,
           audit: AuditContext | None = None) -> RevocationRecord:
    """Revoke the voice ``name``: delete its profile (with the speaker embedding) and its
    consent record, discard its pending challenges, and keep a signed revocation record.

    Raises:
        ValueError: invalid name.
        VoiceNotFoundError: no voice or consent record of that name.
    """
    check_name(name)
    record = ConsentStore(voices_dir).revoke(name)
    ChallengeStore().discard_pending(name)
    context = audit or AuditContext()
    context.audit_log().append("revoke", actor=context.actor, owner_id=context.owner_id,
                               voice=name, details={"profile_sha256": record.profile_sha256})
    return record


def revocations(name: str | None = None, *,
                voices_dir: str | os.PathLike[str] | None = None) -> list[RevocationRecord]:
    """The verified revocation records (of ``name``, or of all voices), oldest first.

    Raises:
        ConsentRecordError: a revocation record was edited (fails its signature).
    """
    return ConsentStore(voices_dir).revocations(check_name(name) if name else None)
