"""Fingerprints kept in the registry database (table ``fingerprints``), next to the
audit log whose synthesis entries they belong to: written with each synthesis, read
back whole to search a clip."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from voxclone.errors import AuditError
from voxclone.fingerprint.extract import DEFAULT_CONFIG, Fingerprint, FingerprintConfig
from voxclone.fingerprint.match import FingerprintIndex
from voxclone.registry.schema import fingerprints

logger = logging.getLogger(__name__)


def scheme_of(config: FingerprintConfig) -> str:
    """The name under which fingerprints cut with ``config`` are stored (only those are
    compared with each other)."""
    return (f"fp1-{config.rate}-{config.frame}-{config.hop}-{config.bands}-"
            f"{config.low_hz:g}-{config.high_hz:g}-{config.floor_db:g}")


def row_digest(scheme: str, frames: int, words: bytes, active: bytes) -> str:
    """SHA-256 of a stored fingerprint row's content: what its synthesis's audit entry
    records (``fingerprint_sha256``), so that an edited or deleted row is found by
    :meth:`voxclone.audit.AuditLog.verify`."""
    digest = hashlib.sha256(f"{scheme}\0{frames}\0".encode())
    digest.update(words)
    digest.update(active)
    return digest.hexdigest()


def save_fingerprint(engine: Engine, synthesis_id: int, fingerprint: Fingerprint,
                     config: FingerprintConfig = DEFAULT_CONFIG) -> str:
    """Store the fingerprint of synthesis ``synthesis_id``; return its digest
    (:func:`row_digest`), for the synthesis's audit entry.

    Raises:
        AuditError: it could not be written (like the synthesis's audit entry, it is
            part of the audio's provenance).
    """
    scheme, frames = scheme_of(config), len(fingerprint)
    words = fingerprint.words.astype("<u2").tobytes()
    active = np.packbits(fingerprint.active).tobytes()
    try:
        with engine.begin() as connection:
            connection.execute(insert(fingerprints).values(
                synthesis_id=synthesis_id, scheme=scheme, frames=frames, words=words,
                active=active, created_at=datetime.now(timezone.utc).isoformat()))
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot store the fingerprint of synthesis {synthesis_id:08x}: "
                         f"{exc}; check that the voxclone database is writable") from exc
    return row_digest(scheme, frames, words, active)


def stored_digests(connection: Connection) -> dict[int, str]:
    """Every stored fingerprint's :func:`row_digest`, by synthesis id."""
    rows = connection.execute(select(
        fingerprints.c.synthesis_id, fingerprints.c.scheme, fingerprints.c.frames,
        fingerprints.c.words, fingerprints.c.active))
    return {int(sid): row_digest(scheme, frames, bytes(words), bytes(active))
            for sid, scheme, frames, words, active in rows}


def load_index(engine: Engine, config: FingerprintConfig = DEFAULT_CONFIG) -> FingerprintIndex:
    """Every stored fingerprint cut with ``config``, indexed for search.

    Raises:
        AuditError: the database cannot be read.
    """
    query = select(fingerprints.c.synthesis_id, fingerprints.c.frames, fingerprints.c.words,
                   fingerprints.c.active).where(fingerprints.c.scheme == scheme_of(config)) \
        .order_by(fingerprints.c.synthesis_id)
    items: list[tuple[int, Fingerprint]] = []
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot read the synthesis fingerprints: {exc}; check that the "
                         "voxclone database is reachable") from exc
    for synthesis_id, frames, words, active in rows:
        if len(words) != 2 * frames or len(active) != (frames + 7) // 8:
            # (a damaged row must not hide the others)
            logger.warning("the stored fingerprint of synthesis %08x is damaged; skipped",
                           synthesis_id)
            continue
        flags = np.unpackbits(np.frombuffer(active, dtype=np.uint8))[:frames].astype(bool)
        items.append((int(synthesis_id),
                      Fingerprint(np.frombuffer(words, dtype="<u2").astype(np.uint16), flags)))
    return FingerprintIndex(items, config)
