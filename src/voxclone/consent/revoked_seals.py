"""Revoked seals: the sealed voice profiles this installation revoked, wherever they
were kept.

A revocation record lives beside its voice, in one voices directory
(:meth:`voxclone.consent.record.ConsentStore.revoke`), and the server's voices live in
its database. A copy of a revoked profile (its file put in another voices directory,
a row taken from the database, an object still held in memory) carries a seal that
still checks. So every revocation here also lists the profile's seal in the
installation's home, ``<home>/revoked-seals/<seal>.json``, and synthesis refuses a
profile whose seal is listed (:func:`voxclone.consent.voice_seal.speakable`). The
same happens to a voice replaced by a new enrollment under its name (``overwrite``):
the replaced profile no longer speaks.

Listing a seal can only stop a voice, never start one, so an entry needs no signature;
removing one takes write access to the home, which holds the installation secret
itself.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from voxclone.atomic_file import write_text_atomic
from voxclone.clone.profile import VoiceProfile
from voxclone.keys import home_dir

logger = logging.getLogger(__name__)

#: The folder of the home that lists revoked seals.
REVOKED_SEALS_DIR = "revoked-seals"
_SEAL_RE = re.compile(r"^[0-9a-f]{64}$")


def _path(seal: str, home: str | os.PathLike[str] | None) -> Path | None:
    if not _SEAL_RE.match(seal):  # not a seal this installation makes: nothing to list
        return None
    return (Path(home) if home is not None else home_dir()) / REVOKED_SEALS_DIR / f"{seal}.json"


def revoke_seal(profile: VoiceProfile, why: str, *,
                home: str | os.PathLike[str] | None = None) -> None:
    """List ``profile``'s seal as revoked (``why``: ``"revoked"``, ``"replaced"``); a
    profile without a seal has nothing to list.

    Raises:
        OSError: the list cannot be written.
    """
    path = _path(profile.seal, home) if profile.seal is not None else None
    if path is None:
        return
    write_text_atomic(path, json.dumps({
        "voice": profile.name, "created": profile.created, "why": why,
        "revoked": datetime.now(timezone.utc).isoformat(timespec="microseconds")}))
    logger.info("seal of voice %s (%s) listed as %s", profile.name, profile.created, why)


def seal_revoked(profile: VoiceProfile, *, home: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``profile``'s seal is listed as revoked in this installation."""
    path = _path(profile.seal, home) if profile.seal is not None else None
    return path is not None and path.exists()
