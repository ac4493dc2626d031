"""Consent and revocation records: signed evidence of why a voice exists, or no longer does.

A voice's consent record lives next to its profile, ``<voices dir>/<name>.consent.json``;
revocation records in ``<voices dir>/revoked/<name>.<UTC time>.revocation.json``. Both
are signed with the installation key (:mod:`voxclone.consent.signed_json`), so an edit
is detected when they are loaded. Neither holds audio or a speaker embedding: only
hashes, scores, the challenge and the decision.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from voxclone.clone.profile import VoiceProfile, VoiceStore, check_name
from voxclone.consent.revoked_seals import revoke_seal
from voxclone.consent.signed_json import erase, read_json, seal, unseal, write_atomic
from voxclone.errors import ConsentRecordError, ProfileError, VoiceNotFoundError
from voxclone.keys import derive_key

logger = logging.getLogger(__name__)

CONSENT_FORMAT = "voxclone.consent"
REVOCATION_FORMAT = "voxclone.revocation"
FORMAT_VERSION = 1
CONSENT_SUFFIX = ".consent.json"
REVOCATION_SUFFIX = ".revocation.json"
REVOKED_DIR = "revoked"

#: ``ConsentRecord.decision`` values.
VERIFIED = "verified"
WAIVED = "waived"


def _instant(iso: str) -> datetime:
    """An ISO-8601 time as an aware datetime (naive ones read as UTC); the earliest time
    if it cannot be read (an old or hand-written profile: every revocation is later)."""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _now(timespec: str = "seconds") -> str:
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def _version() -> str:
    from voxclone import __version__

    return __version__


@dataclass(frozen=True)
class ConsentRecord:
    """Why a voice may exist: the verified consent (or the recorded waiver).

    Attributes:
        name: the voice.
        decision: ``"verified"`` (spoken consent checked) or ``"waived"`` (enrolled with
            ``i_am_the_speaker=True``, no consent recording).
        created: when the decision was made (ISO-8601 UTC).
        reference_sha256: SHA-256 of each reference clip.
        challenge_id, statement, phrase: the challenge that was read (None if waived).
        consent_sha256: SHA-256 of the consent recording (None if waived).
        transcript: what speech recognition heard (None if waived).
        phrase_heard: whether the phrase was heard, in order.
        statement_recall: share of the statement's words heard, in order (0..1).
        speaker_cosine: GE2E cosine of the consent recording to the reference.
        speaker_threshold: the same-speaker threshold it was compared with.
        phrase_cosine: GE2E cosine of the challenge phrase's stretch on its own to the
            reference (None in records from before it was judged).
        synthetic_check: ``"passed"``, or ``"not available"`` when no detector was given.
        waiver: why consent was waived (None if verified).
        voxclone_version: the version that made the decision.
        profile_sha256: content digest of the voice profile made under this consent
            (:meth:`VoiceProfile.content_digest`); None in records from before it was
            kept, which vouch by the reference hashes alone.
    """

    name: str
    decision: str
    reference_sha256: tuple[str, ...]
    challenge_id: str | None = None
    statement: str | None = None
    phrase: tuple[str, ...] | None = None
    consent_sha256: str | None = None
    transcript: str | None = None
    phrase_heard: bool | None = None
    statement_recall: float | None = None
    speaker_cosine: float | None = None
    speaker_threshold: float | None = None
    synthetic_check: str | None = None
    waiver: str | None = None
    created: str = field(default_factory=_now)
    voxclone_version: str = field(default_factory=_version)
    profile_sha256: str | None = None
    phrase_cosine: float | None = None

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.decision not in (VERIFIED, WAIVED):
            raise ValueError(f"decision must be {VERIFIED!r} or {WAIVED!r}, "
                             f"got {self.decision!r}")
        object.__setattr__(self, "reference_sha256", tuple(self.reference_sha256))
        if self.phrase is not None:
            object.__setattr__(self, "phrase", tuple(self.phrase))

    def made_from_recordings_of(self, profile: VoiceProfile) -> bool:
        """Whether this record was made from ``profile``'s reference recordings (their
        SHA-256, in order)."""
        return tuple(self.reference_sha256) == tuple(s.sha256 for s in profile.sources)

    def names_content_of(self, profile: VoiceProfile) -> bool:
        """Whether this record names ``profile``'s content (False for records from
        before it was kept, which name none)."""
        return self.profile_sha256 == profile.content_digest()

    def to_json(self) -> dict[str, Any]:
        """The unsigned body of the stored form."""
        body = asdict(self)
        body["reference_sha256"] = list(self.reference_sha256)
        body["phrase"] = list(self.phrase) if self.phrase is not None else None
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, origin: str) -> ConsentRecord:
        """Parse a verified body. Raises ConsentRecordError on missing or bad fields."""
        try:
            fields = dict(body)
            fields["reference_sha256"] = tuple(fields["reference_sha256"])
            if fields.get("phrase") is not None:
                fields["phrase"] = tuple(fields["phrase"])
            return cls(**fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConsentRecordError(f"{origin} is malformed: {exc}") from exc


@dataclass(frozen=True)
class RevocationRecord:
    """That a voice was revoked: its profile, embedding and consent record were deleted.

    Attributes:
        name: the voice.
        revoked: when (ISO-8601 UTC; to the microsecond since 5 Dec 2026, to the second
            before).
        consent_record_sha256: SHA-256 of the deleted consent record file (None if the
            voice had none).
        profile_sha256: SHA-256 of the deleted profile file (None if there was none).
        voxclone_version: the version that revoked it.
    """

    name: str
    consent_record_sha256: str | None
    profile_sha256: str | None
    revoked: str = field(default_factory=lambda: _now("microseconds"))
    voxclone_version: str = field(default_factory=_version)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, origin: str) -> RevocationRecord:
        """Parse a verified body. Raises ConsentRecordError on missing or bad fields."""
        try:
            return cls(**dict(body))
        except TypeError as exc:
            raise ConsentRecordError(f"{origin} is malformed: {exc}") from exc


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class ConsentStore:
    """Consent and revocation records of the voices in one voices directory.

    Args:
        voices_dir: the voices directory (default: :func:`default_voices_dir`).
        key: signing key (default ``derive_key("consent")``, read on first use).
    """

    def __init__(self, voices_dir: str | os.PathLike[str] | None = None, *,
                 key: bytes | None = None) -> None:
        self.voices = VoiceStore(voices_dir)
        self.directory = self.voices.directory
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = derive_key("consent")
        return self._key

    def path(self, name: str) -> Path:
        """The consent record file of ``name`` (which need not exist)."""
        return self.directory / f"{check_name(name)}{CONSENT_SUFFIX}"

    def sealed(self, record: ConsentRecord) -> dict[str, Any]:
        """``record`` as signed JSON (what :meth:`save` writes; the server stores it too)."""
        return seal(CONSENT_FORMAT, FORMAT_VERSION, record.to_json(), self.key)

    def unsealed(self, data: Any, *, origin: str) -> ConsentRecord:
        """The record in signed JSON ``data``.

        Raises:
            ConsentRecordError: unreadable, or fails its signature.
        """
        body = unseal(data, CONSENT_FORMAT, FORMAT_VERSION, self.key, origin=origin)
        return ConsentRecord.from_json(body, origin=origin)

    def save(self, record: ConsentRecord) -> Path:
        """Sign and write ``record`` atomically (replacing an older one)."""
        path = self.path(record.name)
        write_atomic(path, self.sealed(record))
        return path

    def load(self, name: str) -> ConsentRecord:
        """The verified consent record of ``name``.

        Raises:
            ConsentRecordError: no record, unreadable, or fails its signature.
        """
        path = self.path(name)
        try:
            data = read_json(path, what="consent record")
        except FileNotFoundError:
            if not self.voices.exists(name):
                raise ConsentRecordError(
                    f"no voice named {name!r} in {self.directory}, so no consent record; "
                    "`voxclone voices` lists the voices there") from None
            raise ConsentRecordError(
                f"no consent record for {name!r} in {self.directory}; the voice was enrolled "
                "without one (before consent existed) or was revoked - enroll it with "
                "consent: `voxclone challenge NAME`, then `voxclone enroll NAME CLIPS "
                "--consent FILE --challenge ID`"
            ) from None
        record = self.unsealed(data, origin=str(path))
        if record.name != name:
            raise ConsentRecordError(f"{path} is the consent record of {record.name!r}, "
                                     f"not {name!r}; it was tampered with")
        return record

    def vouching_for(self, profile: VoiceProfile) -> ConsentRecord:
        """The verified consent record of ``profile``'s voice, checked to be the record of
        this very profile: made from the same reference recordings (their SHA-256, in
        order) and, in records that keep it, with the same content. A profile swapped in
        under the voice's name, or edited, is refused.

        Raises:
            ConsentRecordError: no record, one that fails its signature, or one made for
                other recordings than the profile's.
        """
        record = self.load(profile.name)
        if not record.made_from_recordings_of(profile):
            raise ConsentRecordError(
                f"the consent record of {profile.name!r} was made for other recordings than "
                f"its voice profile in {self.directory}: the profile was replaced or edited "
                "after enrollment; revoke the voice and enroll it again with consent")
        if record.profile_sha256 is not None and not record.names_content_of(profile):
            raise ConsentRecordError(
                f"the voice profile of {profile.name!r} in {self.directory} is not the one "
                "its consent record was made for: it was edited after enrollment; revoke "
                "the voice and enroll it again with consent")
        return record

    def revoked_since(self, name: str, created: str) -> RevocationRecord | None:
        """The latest revocation of the voice ``name`` after ``created`` (an ISO-8601
        time: a profile's enrollment), or None. A profile held in memory when its voice
        was revoked is such a profile.

        Raises:
            ConsentRecordError: a revocation record fails its signature.
        """
        made = _instant(created)

        def since(record: RevocationRecord) -> bool:
            revoked = _instant(record.revoked)
            # (older revocations were stamped to the second: one within it counts as later)
            margin = timedelta(seconds=1) if revoked.microsecond == 0 else timedelta(0)
            return revoked + margin >= made

        later = [r for r in self.revocations(name) if since(r)]
        return later[-1] if later else None

    def revocations(self, name: str | None = None) -> list[RevocationRecord]:
        """Verified revocation records (of ``name``, or all), oldest first.

        Raises:
            ConsentRecordError: a record is unreadable or fails its signature.
        """
        folder = self.directory / REVOKED_DIR
        if not folder.is_dir():
            return []
        pattern = f"{check_name(name)}.*{REVOCATION_SUFFIX}" if name else f"*{REVOCATION_SUFFIX}"
        records = []
        for path in sorted(folder.glob(pattern)):
            data = read_json(path, what="revocation record")
            body = unseal(data, REVOCATION_FORMAT, FORMAT_VERSION, self.key, origin=str(path))
            record = RevocationRecord.from_json(body, origin=str(path))
            if name is None or record.name == name:
                records.append(record)
        return sorted(records, key=lambda r: r.revoked)

    def revoke(self, name: str) -> RevocationRecord:
        """Delete the voice ``name`` (profile with its embedding, and consent record) and
        keep a signed revocation record.

        The files are overwritten with zeros before they are deleted.

        The profile's seal is listed as revoked in the installation's home
        (:mod:`voxclone.consent.revoked_seals`), so that no copy of it speaks either.

        Raises:
            VoiceNotFoundError: there is neither a profile nor a consent record of ``name``.
            OSError: the revoked seal cannot be listed (nothing is deleted).
        """
        profile, consent = self.voices.path(name), self.path(name)
        if not profile.is_file() and not consent.is_file():
            raise VoiceNotFoundError(
                f"nothing to revoke: no voice or consent record named {name!r} in "
                f"{self.directory}"
            )
        record = RevocationRecord(name=name, consent_record_sha256=_file_sha256(consent),
                                  profile_sha256=_file_sha256(profile))
        if profile.is_file():  # its copies elsewhere stop speaking too
            try:
                revoke_seal(self.voices.load(name), "revoked")
            except ProfileError as exc:  # a damaged profile carries no seal that checks
                logger.warning("revoking %s: its profile is unreadable (%s)", name, exc)
        stamp = record.revoked.replace(":", "").replace("+0000", "Z")
        path = self.directory / REVOKED_DIR / f"{name}.{stamp}{REVOCATION_SUFFIX}"
        write_atomic(path, seal(REVOCATION_FORMAT, FORMAT_VERSION, asdict(record), self.key))
        erase(profile)
        erase(consent)
        logger.warning("revoked voice %s: profile and consent record deleted, revocation "
                       "recorded in %s", name, path)
        return record
