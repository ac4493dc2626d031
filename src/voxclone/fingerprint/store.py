"""Fingerprints kept in the registry database (table ``fingerprints``), next to the
audit log whose synthesis entries they belong to: written with each synthesis, read
back whole to search a clip."""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Select, func, insert, select
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
    items, _, _ = _read(engine, config)
    return FingerprintIndex(items, config)


#: Rows added since the last call up to this many are read and merged in; more, and
#: the whole index is read again.
MERGE_AT_MOST = 500
#: New rows are looked for among those stored this long before the newest row last
#: read, or since (rows commit a moment after they are stamped, and servers sharing a
#: database may disagree on the time by a little).
RECENT_MARGIN = timedelta(minutes=10)

#: What the stored rows of a scheme add up to: their count, and the sums of their
#: synthesis ids, frames, and bytes of words and of activity flags.
Summary = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class _Held:
    """A database's index as last read: the shape of every row it was read from, what
    they add up to, and the newest row's ``created_at``."""

    summary: Summary
    shapes: dict[int, Shape]
    newest: str
    index: FingerprintIndex


# (weakly keyed: what is held goes with the database's engine)
_held: weakref.WeakKeyDictionary[Engine, dict[str, _Held]] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def cached_index(engine: Engine, config: FingerprintConfig = DEFAULT_CONFIG) -> FingerprintIndex:
    """:func:`load_index`'s index, kept between calls in this process.

    Each call asks the database what the rows add up to (their count, and the sums of
    their ids and sizes: 3 ms for 10 hours stored, 24 ms for 100). When that changed,
    it reads the sizes of the rows stored since shortly before the newest it holds and,
    if with those held they add up to the database's total, the bytes of the new ones,
    merged in; otherwise (a row removed or changed size, more than
    :data:`MERGE_AT_MOST` new) it reads everything again
    (``bench/results/fingerprint_index.md``). A row changed in place (or rows
    swapped for others that add up the same) keeps its first reading here until the
    process ends; :meth:`voxclone.audit.AuditLog.verify` reports it. The index is held
    in memory: about 1.4 MB an hour of speech stored.

    Raises:
        AuditError: the database cannot be read.
    """
    scheme = scheme_of(config)
    with _held_lock:
        held = _held.get(engine, {}).get(scheme)
    words, active = func.length(fingerprints.c.words), func.length(fingerprints.c.active)
    totals = select(func.count(), *(func.coalesce(func.sum(column), 0) for column in (
        fingerprints.c.synthesis_id, fingerprints.c.frames, words, active))) \
        .where(fingerprints.c.scheme == scheme)
    if held is not None:
        count, ids, frames, n_words, n_active = _fetch(engine, totals)[0]
        total: Summary = (int(count), int(ids), int(frames), int(n_words), int(n_active))
        if total == held.summary:
            return held.index
        merged = _merged(engine, config, held, total)
        if merged is not None:
            return _keep(engine, scheme, merged)
    items, shapes, newest = _read(engine, config)
    return _keep(engine, scheme, _Held(_summary(shapes), shapes, newest,
                                       FingerprintIndex(items, config)))


def _merged(engine: Engine, config: FingerprintConfig, held: _Held,
            total: Summary) -> _Held | None:
    """``held`` with the rows stored since shortly before its newest merged in, if that
    accounts for the database's ``total``; else None (read everything again)."""
    since = _earlier(held.newest, RECENT_MARGIN)
    if since is None:
        return None
    shapes, newest = _recent_shapes(engine, scheme_of(config), since)
    if any(held.shapes.get(sid, shape) != shape for sid, shape in shapes.items()):
        return None
    known = {**held.shapes, **shapes}
    if len(known) - len(held.shapes) > MERGE_AT_MOST or _summary(known) != total:
        return None
    # only the new rows' bytes are read: the recent ones held already are known
    fresh, _, _ = _read(engine, config, only=sorted(set(shapes) - set(held.shapes)))
    return _Held(total, known, max(held.newest, newest), held.index.extended(fresh))


def _recent_shapes(engine: Engine, scheme: str, since: str) -> tuple[dict[int, Shape], str]:
    """The shape of every row of ``scheme`` stamped at ``since`` or later, and the newest
    stamp among them (``""`` for none), without their bytes.

    Raises:
        AuditError: the database cannot be read.
    """
    query = select(fingerprints.c.synthesis_id, fingerprints.c.frames,
                   func.length(fingerprints.c.words), func.length(fingerprints.c.active),
                   fingerprints.c.created_at) \
        .where(fingerprints.c.scheme == scheme, fingerprints.c.created_at >= since)
    rows = _fetch(engine, query)
    shapes = {int(sid): (frames, n_words, n_active) for sid, frames, n_words, n_active, _ in rows}
    return shapes, max((str(row[4]) for row in rows), default="")


def _fetch(engine: Engine, query: Select[Any]) -> Sequence[Any]:
    """Every row of a query on the fingerprints.

    Raises:
        AuditError: the database cannot be read.
    """
    try:
        with engine.connect() as connection:
            return connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot read the synthesis fingerprints: {exc}; check that the "
                         "voxclone database is reachable") from exc


def _keep(engine: Engine, scheme: str, held: _Held) -> FingerprintIndex:
    with _held_lock:
        _held.setdefault(engine, {})[scheme] = held
    return held.index


def _summary(shapes: dict[int, Shape]) -> Summary:
    """The :data:`Summary` of rows of these shapes, as the database computes it."""
    return (len(shapes), sum(shapes), sum(s[0] for s in shapes.values()),
            sum(s[1] for s in shapes.values()), sum(s[2] for s in shapes.values()))


def _earlier(stamp: str, margin: timedelta) -> str | None:
    """A ``created_at`` stamp moved ``margin`` back (``""``, no rows: every row is
    later); None if it is not a time."""
    if not stamp:
        return ""
    try:
        return (datetime.fromisoformat(stamp) - margin).isoformat()
    except (ValueError, OverflowError):
        return None


def _read(engine: Engine, config: FingerprintConfig, only: list[int] | None = None,
          ) -> tuple[list[tuple[int, Fingerprint]], dict[int, Shape], str]:
    """The stored fingerprints cut with ``config`` (those of the syntheses ``only``, at
    most :data:`MERGE_AT_MOST`, if given), in synthesis order; the shape of every row
    read (damaged ones too); and the newest row's ``created_at`` (``""`` for none).

    Raises:
        AuditError: the database cannot be read.
    """
    query = select(fingerprints.c.synthesis_id, fingerprints.c.frames, fingerprints.c.words,
                   fingerprints.c.active, fingerprints.c.created_at) \
        .where(fingerprints.c.scheme == scheme_of(config)) \
        .order_by(fingerprints.c.synthesis_id)
    if only is not None:
        query = query.where(fingerprints.c.synthesis_id.in_(only))
    items: list[tuple[int, Fingerprint]] = []
    rows = _fetch(engine, query)
    shapes: dict[int, Shape] = {}
    newest = ""
    for synthesis_id, frames, words, active, created_at in rows:
        shapes[int(synthesis_id)] = (frames, len(words), len(active))
        newest = max(newest, str(created_at))
        if len(words) != 2 * frames or len(active) != (frames + 7) // 8:
            # (a damaged row must not hide the others)
            logger.warning("the stored fingerprint of synthesis %08x is damaged; skipped",
                           synthesis_id)
            continue
        flags = np.unpackbits(np.frombuffer(active, dtype=np.uint8))[:frames].astype(bool)
        items.append((int(synthesis_id),
                      Fingerprint(np.frombuffer(words, dtype="<u2").astype(np.uint16), flags)))
    return items, shapes, newest
