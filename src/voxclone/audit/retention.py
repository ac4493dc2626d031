"""Retention: removing the fingerprints of old syntheses, on purpose and on the record.

Every synthesis stores an acoustic fingerprint (about 180 bytes a second of speech, and
1.4 MB an hour in the memory of a process that searches them) so that a clip whose
watermark was lost can still be traced. An installation that keeps them for a limited
time prunes the older ones. A prune is logged first (event
:data:`~voxclone.audit.log.FINGERPRINTS_PRUNED`, with the cutoff), then done, so that
:meth:`~voxclone.audit.AuditLog.verify` tells it from tampering: the fingerprints of
syntheses logged before a later prune's cutoff may be missing; any other missing or
changed fingerprint is still reported. The syntheses' audit entries stay, and clips
whose watermark can be read are still found and named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from voxclone.audit.chain import zoned_time
from voxclone.audit.log import FINGERPRINTS_PRUNED, AuditLog, entry_from_row
from voxclone.errors import AuditError, VoxcloneError
from voxclone.registry.schema import audit, fingerprints

logger = logging.getLogger(__name__)

#: A fingerprint that no audit entry records is pruned only once it is this old: its
#: synthesis may still be writing its entry (the fingerprint is stored first).
UNLOGGED_GRACE = timedelta(hours=1)
#: Rows removed per statement (keeps the ``IN`` list within every database's limits).
_BATCH = 500


@dataclass(frozen=True)
class PruneResult:
    """What :func:`prune_fingerprints` removed (or, in a dry run, would remove).

    Attributes:
        before: the cutoff (UTC): syntheses logged before it lost their fingerprint.
        removed: how many fingerprints were (or would be) removed.
        entry_seq: the number of the audit entry recording the prune; None in a dry
            run or when there was nothing to remove.
    """

    before: datetime
    removed: int
    entry_seq: int | None


def prune_fingerprints(before: datetime, *, log: AuditLog | None = None,
                       actor: str | None = None, dry_run: bool = False) -> PruneResult:
    """Remove the stored fingerprints of the syntheses logged before ``before``.

    Args:
        before: the cutoff, with a time zone, not in the future.
        log: the audit log whose database holds the fingerprints (default: this home's).
        actor: who prunes (default: the local OS user).
        dry_run: only count what would be removed.
    Raises:
        VoxcloneError: ``before`` has no time zone or is in the future.
        AuditError: the database cannot be read, or the prune cannot be logged (then
            nothing was removed), or the rows cannot be removed after it was logged
            (run the prune again: it removes what is left).
    """
    if before.tzinfo is None:
        raise VoxcloneError("the prune cutoff has no time zone; give it one, e.g. "
                            "datetime.now(timezone.utc) - timedelta(days=90)")
    now = datetime.now(timezone.utc)
    if before > now:
        raise VoxcloneError(f"the prune cutoff {before.isoformat()} is in the future; "
                            "fingerprints are pruned only for syntheses already made")
    before = before.astimezone(timezone.utc)
    log = log if log is not None else AuditLog()
    ids = _made_before(log.engine, before, unlogged_before=min(before, now - UNLOGGED_GRACE))
    if dry_run or not ids:
        return PruneResult(before, len(ids), None)
    entry = log.append(FINGERPRINTS_PRUNED, actor=actor,
                       details={"before": before.isoformat(), "fingerprints": len(ids)})
    try:
        with log.engine.begin() as connection:
            for first in range(0, len(ids), _BATCH):
                connection.execute(delete(fingerprints).where(
                    fingerprints.c.synthesis_id.in_(ids[first:first + _BATCH])))
    except SQLAlchemyError as exc:
        raise AuditError(f"the prune was logged (entry {entry.seq}) but its fingerprints "
                         f"could not be removed: {exc}; run the prune again") from exc
    logger.info("pruned the fingerprints of %d syntheses logged before %s (audit entry %d)",
                len(ids), before.isoformat(), entry.seq)
    return PruneResult(before, len(ids), entry.seq)


def _made_before(engine: Engine, before: datetime, *, unlogged_before: datetime,
                 ) -> list[int]:
    """The synthesis ids, sorted, of the stored fingerprints whose synthesis was logged
    before ``before`` (by every entry that records it), and of those no entry records
    that were stored before ``unlogged_before``.

    Raises:
        AuditError: the database cannot be read.
    """
    vouching = select(audit).where(audit.c.payload.is_not(None),
                                   audit.c.details.contains("fingerprint_sha256"))
    logged: dict[int, datetime | None] = {}  # the latest entry's time (None: unreadable)
    try:
        with engine.connect() as connection:
            for row in connection.execute(vouching).mappings():
                entry = entry_from_row(row)
                if "fingerprint_sha256" in entry.details and entry.payload is not None:
                    moment, previous = zoned_time(entry.at), logged.get(entry.payload, _EARLIEST)
                    logged[entry.payload] = None if moment is None or previous is None \
                        else max(moment, previous)
            stored = connection.execute(
                select(fingerprints.c.synthesis_id, fingerprints.c.created_at)).all()
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot read the audit log and fingerprints: {exc}; check that "
                         "the voxclone database is reachable") from exc
    chosen = []
    for synthesis_id, created_at in stored:
        sid = int(synthesis_id)
        moment, cutoff = (logged[sid], before) if sid in logged \
            else (zoned_time(created_at), unlogged_before)
        if moment is not None and moment < cutoff:
            chosen.append(sid)
    return sorted(chosen)


_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
