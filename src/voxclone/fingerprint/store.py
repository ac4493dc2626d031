"""Fingerprints kept in the registry database (table ``fingerprints``), next to the
audit log whose synthesis entries they belong to: written with each synthesis, read
back whole to search a clip."""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from voxclone.errors import AuditError
from voxclone.fingerprint.extract import DEFAULT_CONFIG, Fingerprint, FingerprintConfig
from voxclone.fingerprint.match import FingerprintIndex
from voxclone.registry.schema import fingerprints

logger = logging.getLogger(__name__)

#: A stored row's frames, and the bytes of its words and of its activity flags.
Shape = tuple[int, int, int]


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


def fingerprint_row(synthesis_id: int, fingerprint: Fingerprint,
                    config: FingerprintConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """The ``fingerprints`` table's row for a synthesis's fingerprint (words as
    little-endian 16-bit, activity packed 8 frames a byte), as :func:`load_index`
    reads it back."""
    return {"synthesis_id": synthesis_id, "scheme": scheme_of(config),
            "frames": len(fingerprint), "words": fingerprint.words.astype("<u2").tobytes(),
            "active": np.packbits(fingerprint.active).tobytes(),
            "created_at": datetime.now(timezone.utc).isoformat()}


def save_fingerprint(engine: Engine, synthesis_id: int, fingerprint: Fingerprint,
                     config: FingerprintConfig = DEFAULT_CONFIG) -> str:
    """Store the fingerprint of synthesis ``synthesis_id``; return its digest
    (:func:`row_digest`), for the synthesis's audit entry.

    Raises:
        AuditError: it could not be written (like the synthesis's audit entry, it is
            part of the audio's provenance).
    """
    row = fingerprint_row(synthesis_id, fingerprint, config)
    try:
        with engine.begin() as connection:
            connection.execute(insert(fingerprints).values(**row))
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot store the fingerprint of synthesis {synthesis_id:08x}: "
                         f"{exc}; check that the voxclone database is writable") from exc
    return row_digest(row["scheme"], row["frames"], row["words"], row["active"])


def stored_digests(connection: Connection) -> dict[int, str]:
    """Every stored fingerprint's :func:`row_digest`, by synthesis id."""
    rows = connection.execute(select(
        fingerprints.c.synthesis_id, fingerprints.c.scheme, fingerprints.c.frames,
        fingerprints.c.words, fingerprints.c.active))
    return {int(sid): row_digest(scheme, frames, bytes(words), bytes(active))
            for sid, scheme, frames, words, active in rows}


def load_index(engine: Engine, config: FingerprintConfig = DEFAULT_CONFIG) -> FingerprintIndex:
    """Every stored fingerprint cut with ``config``, indexed for search (read whole;
    :func:`cached_index` reads only what changed since its last call).

    Raises:
        AuditError: the database cannot be read.
    """
    items, _ = _read(engine, config)
    return FingerprintIndex(items, config)


#: Rows added since the last call up to this many are read and merged in; more, and
#: the whole index is read again.
MERGE_AT_MOST = 500

# The index of each database's fingerprints as last read, with the shape of every row
# it was read from (weakly keyed: it goes with the database's engine).
_held: weakref.WeakKeyDictionary[Engine, dict[str, tuple[dict[int, Shape], FingerprintIndex]]] \
    = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def cached_index(engine: Engine, config: FingerprintConfig = DEFAULT_CONFIG) -> FingerprintIndex:
    """:func:`load_index`'s index, kept between calls in this process: each call reads
    every row's id and sizes (6 ms for 10 hours stored, 55 ms for 100), then only the
    rows added since (merged in), or everything again when a row was removed or changed
    size (``bench/results/fingerprint_index.md``). A row whose bytes were changed in
    place keeps its first reading here until the process ends;
    :meth:`voxclone.audit.AuditLog.verify` reports it. The index is held in memory:
    about 1.7 MB an hour of speech stored.

    Raises:
        AuditError: the database cannot be read.
    """
    scheme = scheme_of(config)
    query = select(fingerprints.c.synthesis_id, fingerprints.c.frames,
                   func.length(fingerprints.c.words), func.length(fingerprints.c.active)) \
        .where(fingerprints.c.scheme == scheme)
    try:
        with engine.connect() as connection:
            shapes = {int(sid): (frames, words, active)
                      for sid, frames, words, active in connection.execute(query)}
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot read the synthesis fingerprints: {exc}; check that the "
                         "voxclone database is reachable") from exc
    with _held_lock:
        held = _held.get(engine, {}).get(scheme)
    if held is not None and held[0] == shapes:
        return held[1]
    added = set(shapes) - set(held[0]) if held is not None else set()
    if held is not None and len(added) <= MERGE_AT_MOST and \
            all(shapes.get(sid) == shape for sid, shape in held[0].items()):
        items, read = _read(engine, config, sorted(added))
        index, known = held[1].extended(items), {**held[0], **read}
    else:
        items, known = _read(engine, config)
        index = FingerprintIndex(items, config)
    with _held_lock:
        _held.setdefault(engine, {})[scheme] = (known, index)
    return index


def _read(engine: Engine, config: FingerprintConfig, only: list[int] | None = None,
          ) -> tuple[list[tuple[int, Fingerprint]], dict[int, Shape]]:
    """The stored fingerprints cut with ``config`` (those of the syntheses ``only``, if
    given), in synthesis order, and the shape of every row read (damaged ones too).

    Raises:
        AuditError: the database cannot be read.
    """
    query = select(fingerprints.c.synthesis_id, fingerprints.c.frames, fingerprints.c.words,
                   fingerprints.c.active).where(fingerprints.c.scheme == scheme_of(config)) \
        .order_by(fingerprints.c.synthesis_id)
    if only is not None:
        query = query.where(fingerprints.c.synthesis_id.in_(only))
    items: list[tuple[int, Fingerprint]] = []
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot read the synthesis fingerprints: {exc}; check that the "
                         "voxclone database is reachable") from exc
    shapes: dict[int, Shape] = {}
    for synthesis_id, frames, words, active in rows:
        shapes[int(synthesis_id)] = (frames, len(words), len(active))
        if len(words) != 2 * frames or len(active) != (frames + 7) // 8:
            # (a damaged row must not hide the others)
            logger.warning("the stored fingerprint of synthesis %08x is damaged; skipped",
                           synthesis_id)
            continue
        flags = np.unpackbits(np.frombuffer(active, dtype=np.uint8))[:frames].astype(bool)
        items.append((int(synthesis_id),
                      Fingerprint(np.frombuffer(words, dtype="<u2").astype(np.uint16), flags)))
    return items, shapes
