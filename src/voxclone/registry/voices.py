"""The server's voices: each belongs to one owner, who may grant its use to others.

A voice is stored as its profile (JSON) and its signed consent record, keyed by owner
and name. Its owner refers to it by name; a grantee by ``OWNER/NAME``. Anyone else is
told it does not exist, so names leak nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from voxclone.clone.profile import SEALED_SINCE, VoiceProfile, check_name
from voxclone.consent.record import ConsentStore
from voxclone.consent.revoked_seals import revoke_seal
from voxclone.consent.voice_seal import seal_voice
from voxclone.errors import ConsentRecordError, VoiceExistsError, VoiceNotFoundError
from voxclone.registry.access import Owner, now_iso
from voxclone.registry.database import open_database
from voxclone.registry.schema import grants, owners, voices

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceEntry:
    """A registered voice: its id, owner, name, profile and signed consent record."""

    id: int
    owner: str
    owner_id: int
    name: str
    created_at: str
    profile: VoiceProfile
    consent: dict[str, Any]

    @property
    def ref(self) -> str:
        """How a grantee names it: ``OWNER/NAME``."""
        return f"{self.owner}/{self.name}"


class VoiceRegistry:
    """Voices and grants in one registry database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else open_database()

    def add(self, owner: Owner, profile: VoiceProfile, consent: dict[str, Any]) -> VoiceEntry:
        """Register ``profile`` (with its signed ``consent`` record) as ``owner``'s.

        Raises:
            VoiceExistsError: ``owner`` has a voice of that name already.
        """
        created = now_iso()
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(voices).values(
                    owner_id=owner.id, name=profile.name, created_at=created,
                    profile=json.dumps(profile.to_json()), consent=json.dumps(consent),
                )).inserted_primary_key
        except IntegrityError:
            raise VoiceExistsError(f"you have a voice named {profile.name!r} already; pick "
                                   "another name or revoke the old voice first") from None
        assert new_id is not None
        return VoiceEntry(int(new_id[0]), owner.name, owner.id, profile.name, created,
                          profile, consent)

    def check_free(self, owner: Owner, name: str) -> None:
        """Raise VoiceExistsError if ``owner`` has a voice called ``name``."""
        with self.engine.connect() as conn:
            taken = conn.execute(select(voices.c.id).where(
                voices.c.owner_id == owner.id, voices.c.name == check_name(name))).first()
        if taken is not None:
            raise VoiceExistsError(f"you have a voice named {name!r} already; pick another "
                                   "name or revoke the old voice first")

    def own(self, owner: Owner, name: str) -> VoiceEntry:
        """``owner``'s voice ``name``.

        Raises:
            VoiceNotFoundError: ``owner`` has no such voice.
        """
        entry = self._find(owner.id, check_name(name))
        if entry is None:
            raise VoiceNotFoundError(f"you have no voice named {name!r}; list yours with "
                                     "GET /v1/voices")
        return entry

    def usable(self, owner: Owner, ref: str) -> VoiceEntry:
        """The voice ``ref`` (``NAME`` of ``owner``'s own, or ``OWNER/NAME`` granted to
        ``owner``) if ``owner`` may speak with it.

        Raises:
            VoiceNotFoundError: no such voice, or not granted to ``owner``.
            ValueError: ``ref`` is malformed.
        """
        if not isinstance(ref, str) or ref.count("/") > 1:
            raise ValueError(f"invalid voice {ref!r}: use NAME, or OWNER/NAME for a voice "
                             "someone granted you")
        if "/" not in ref:
            return self.own(owner, ref)
        owner_name, name = ref.split("/")
        if owner_name == owner.name:
            return self.own(owner, name)
        query = (select(voices.c.id).join(owners, owners.c.id == voices.c.owner_id)
                 .join(grants, and_(grants.c.voice_id == voices.c.id,
                                    grants.c.grantee_id == owner.id))
                 .where(owners.c.name == owner_name, voices.c.name == check_name(name)))
        with self.engine.connect() as conn:
            voice_id = conn.execute(query).scalar()
        entry = self._by_id(voice_id) if voice_id is not None else None
        if entry is None:
            raise VoiceNotFoundError(f"no voice {ref!r} has been granted to you")
        return entry

    def listing(self, owner: Owner) -> list[VoiceEntry]:
        """``owner``'s voices, then those granted to ``owner``, by name."""
        granted = select(grants.c.voice_id).where(grants.c.grantee_id == owner.id)
        query = (select(voices.c.id).where((voices.c.owner_id == owner.id)
                                           | voices.c.id.in_(granted))
                 .order_by(voices.c.owner_id != owner.id, voices.c.name))
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        return [e for e in (self._by_id(i) for i in ids) if e is not None]

    def remove(self, owner: Owner, name: str) -> VoiceEntry:
        """Delete ``owner``'s voice ``name`` (profile, consent record, grants), its seal
        listed as revoked first (:mod:`voxclone.consent.revoked_seals`): a copy of its
        profile taken from the database no longer speaks.

        Raises:
            VoiceNotFoundError: ``owner`` has no such voice.
            OSError: the seal cannot be listed (nothing is deleted).
        """
        entry = self.own(owner, name)
        revoke_seal(entry.profile, "revoked")
        with self.engine.begin() as conn:
            conn.execute(delete(grants).where(grants.c.voice_id == entry.id))
            conn.execute(delete(voices).where(voices.c.id == entry.id))
        return entry

    def grant(self, owner: Owner, name: str, grantee: Owner) -> None:
        """Let ``grantee`` speak with ``owner``'s voice ``name`` (idempotent).

        Raises:
            VoiceNotFoundError: ``owner`` has no such voice.
            ValueError: granting to oneself.
        """
        entry = self.own(owner, name)
        if grantee.id == owner.id:
            raise ValueError("you own this voice already; grant it to another owner")
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(grants).values(voice_id=entry.id, grantee_id=grantee.id,
                                                   created_at=now_iso()))
        except IntegrityError:
            logger.info("%s already granted to %s", entry.ref, grantee.name)

    def ungrant(self, owner: Owner, name: str, grantee: Owner) -> bool:
        """Withdraw a grant; True if there was one."""
        entry = self.own(owner, name)
        with self.engine.begin() as conn:
            done = conn.execute(delete(grants).where(grants.c.voice_id == entry.id,
                                                     grants.c.grantee_id == grantee.id))
        return bool(done.rowcount)

    def grantees(self, owner: Owner, name: str) -> list[str]:
        """Names of the owners ``owner``'s voice ``name`` is granted to."""
        entry = self.own(owner, name)
        query = (select(owners.c.name).join(grants, grants.c.grantee_id == owners.c.id)
                 .where(grants.c.voice_id == entry.id).order_by(owners.c.name))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def _find(self, owner_id: int, name: str) -> VoiceEntry | None:
        with self.engine.connect() as conn:
            voice_id = conn.execute(select(voices.c.id).where(
                voices.c.owner_id == owner_id, voices.c.name == name)).scalar()
        return self._by_id(voice_id) if voice_id is not None else None

    def _by_id(self, voice_id: int) -> VoiceEntry | None:
        query = (select(voices, owners.c.name.label("owner_name"))
                 .join(owners, owners.c.id == voices.c.owner_id).where(voices.c.id == voice_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        stored = json.loads(row.profile)
        profile = VoiceProfile.from_json(stored, origin=f"voice {row.name}")
        consent = json.loads(row.consent)
        return VoiceEntry(row.id, row.owner_name, row.owner_id, row.name, row.created_at,
                          _sealed_if_vouched(profile, stored.get("version"), consent),
                          consent)


def _sealed_if_vouched(profile: VoiceProfile, version: Any, consent: Any) -> VoiceProfile:
    """An unsealed voice is sealed as it is read only where its signed consent record
    vouches for exactly it: a record naming the profile's content must name this
    content; a record from before that (which vouches by the recordings' hashes alone)
    only for a profile stored before seals (format 8 and older), as it was trusted then.
    Otherwise it stays unsealed and synthesis refuses it: a sealed profile edited in the
    database, its seal dropped and its version set back, still names its recordings."""
    if profile.seal is not None:
        return profile
    try:
        record = ConsentStore().unsealed(consent, origin=f"voice {profile.name}")
    except ConsentRecordError:
        return profile
    if record.profile_sha256 is not None:
        vouched = record.names_content_of(profile)
    else:
        vouched = (isinstance(version, int) and version < SEALED_SINCE
                   and record.made_from_recordings_of(profile))
    return seal_voice(profile) if vouched else profile
