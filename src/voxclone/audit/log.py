"""The audit log: every enrollment, synthesis, detection, grant and revocation,
appended to a keyed hash chain in the registry database.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, RowMapping, insert, inspect, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from voxclone.audit.anchor import (
    ANCHOR_FILE,
    HOME_DATABASE,
    Anchor,
    AnchorFile,
    AnchorTamperedError,
)
from voxclone.audit.chain import (
    AuditEntry,
    AuditProblem,
    AuditReport,
    check_chain,
    seal,
    zoned_time,
)
from voxclone.errors import AuditError, RegistryError
from voxclone.fingerprint.store import stored_digests
from voxclone.keys import derive_key, home_dir
from voxclone.registry.database import DB_FILE, open_database
from voxclone.registry.schema import audit, audit_head, fingerprints

logger = logging.getLogger(__name__)

#: The event of an entry saying that the fingerprints of the syntheses logged before
#: its ``details["before"]`` were removed on purpose (:mod:`voxclone.audit.retention`):
#: from then on :meth:`AuditLog.verify` does not count them as deleted.
FINGERPRINTS_PRUNED = "fingerprints-pruned"


def local_actor() -> str:
    """The actor recorded for the Python API and CLI: ``local:`` and the OS user."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


class AuditLog:
    """The audit log in one registry database (default: see
    :func:`voxclone.registry.open_database`), keyed by the installation secret."""

    def __init__(self, engine: Engine | None = None, *, key: bytes | None = None) -> None:
        self.engine = engine if engine is not None else open_database()
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = derive_key("audit")
        return self._key

    def _anchors(self) -> tuple[AnchorFile, str, tuple[str, ...]]:
        """This home's anchor file, the name it gives this database and the names older
        versions gave it: the home's own SQLite database is :data:`HOME_DATABASE` (its
        anchor survives moving the home), others are their URL."""
        url = self.engine.url
        rendered = url.render_as_string(hide_password=True)
        anchors = AnchorFile(home_dir() / ANCHOR_FILE, self.key)
        if (url.get_backend_name() == "sqlite" and url.database
                and url.database != ":memory:"
                and os.path.realpath(url.database) == os.path.realpath(home_dir() / DB_FILE)):
            return anchors, HOME_DATABASE, (rendered,)
        return anchors, rendered, ()

    def append(self, event: str, *, actor: str | None = None, owner_id: int | None = None,
               voice: str | None = None, payload: int | None = None,
               details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Append one entry and return it (sealed, numbered).

        Appends are serialised by a lock on the chain's head row, so concurrent writers
        (threads, processes, servers sharing PostgreSQL) never fork the chain.

        Raises:
            AuditError: the entry could not be written (the caller must not go on).
        """
        body = json.loads(json.dumps(dict(details or {}), allow_nan=False))
        key = self.key
        try:
            with self.engine.begin() as conn:
                head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                    .where(audit_head.c.id == 1).with_for_update()).first()
                if head is None:
                    raise AuditError("the audit log's head record is missing, so nothing can "
                                     "be appended; run `voxclone audit verify` and restore "
                                     "the database from a backup")
                entry = AuditEntry(seq=head.seq + 1,
                                   at=datetime.now(timezone.utc).isoformat(),
                                   event=event, actor=actor or local_actor(),
                                   owner_id=owner_id, voice=voice, payload=payload,
                                   details=body, prev_hash=head.hash)
                entry = replace(entry, hash=seal(entry, key))
                row = entry.to_json()
                row["details"] = json.dumps(body, sort_keys=True)
                conn.execute(insert(audit).values(**row))
                conn.execute(update(audit_head).where(audit_head.c.id == 1)
                             .values(seq=entry.seq, hash=entry.hash))
        except SQLAlchemyError as exc:
            raise AuditError(f"cannot write to the audit log ({exc.__class__.__name__}: "
                             f"{exc}); the {event} was not done") from exc
        anchors, database, aliases = self._anchors()
        try:
            anchors.advance(database, Anchor(entry.seq, entry.hash), aliases)
        except OSError as exc:
            # The entry is in the log; only the outside witness of it is behind.
            logger.warning("audit entry %d written, but its anchor %s could not be "
                           "updated (%s)", entry.seq, anchors.path, exc)
        logger.debug("audit %d: %s by %s", entry.seq, event, entry.actor)
        return entry

    def entries(self, *, owner_id: int | None = None, event: str | None = None,
                voice: str | None = None, actors: Sequence[str] = (), after: int = 0,
                limit: int | None = None) -> list[AuditEntry]:
        """Entries, oldest first, after entry number ``after``; filtered by event or
        voice, and to those concerning ``owner_id`` or done by one of ``actors``."""
        query = select(audit).where(audit.c.seq > after).order_by(audit.c.seq)
        if owner_id is not None or actors:
            query = query.where(or_(audit.c.owner_id == owner_id, audit.c.actor.in_(actors)))
        if event is not None:
            query = query.where(audit.c.event == event)
        if voice is not None:
            query = query.where(audit.c.voice == voice)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [entry_from_row(row) for row in conn.execute(query).mappings()]

    def events(self) -> list[str]:
        """The kinds of entry in this log (``enroll``, ``synthesis``...), sorted."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(audit.c.event).distinct()).scalars())

    def find_payload(self, payload: int, event: str = "synthesis") -> AuditEntry | None:
        """The first ``event`` entry with this watermark payload, or None."""
        query = (select(audit).where(audit.c.payload == payload, audit.c.event == event)
                 .order_by(audit.c.seq).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return entry_from_row(row) if row else None

    def verify(self) -> AuditReport:
        """Check the whole chain: edited, deleted, reordered or cut-off entries, against
        the head row and this home's anchor (which also catches a log cut short
        together with its head row). Audit tables dropped from the database (kind
        ``missing``) and an anchor that was edited (kind ``anchor``) are problems too.

        Raises:
            RegistryError: the database or the anchor file cannot be read.
        """
        anchors, database, aliases = self._anchors()
        found: Anchor | None = None
        problems: list[AuditProblem] = []
        try:
            found = anchors.get(database, aliases)
        except AnchorTamperedError as exc:
            problems.append(AuditProblem(0, "anchor", str(exc)))
        except OSError as exc:
            raise RegistryError(f"cannot read the audit anchor {anchors.path} ({exc}); check "
                                "its permissions") from exc
        anchor = (found.seq, found.hash) if found is not None else None
        try:
            report = self._check(anchor)
        except SQLAlchemyError as exc:
            raise RegistryError(f"cannot read the audit log ({exc.__class__.__name__}: "
                                f"{exc}); check that the database is reachable") from exc
        if problems:
            report = replace(report, problems=(*problems, *report.problems))
        return report

    def _check(self, anchor: tuple[int, str] | None) -> AuditReport:
        with self.engine.connect() as conn:
            tables = inspect(conn)
            missing = [t.name for t in (audit, audit_head) if not tables.has_table(t.name)]
            if missing:
                return AuditReport(0, tuple(
                    AuditProblem(0, "missing",
                                 f"the audit log's table {name!r} is missing: it was dropped "
                                 "from the database, with every entry it held; restore the "
                                 "database from a backup") for name in missing))
            head_row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                                    .where(audit_head.c.id == 1)).first()
            rows = conn.execute(select(audit).order_by(audit.c.seq)).mappings()
            head = (head_row.seq, head_row.hash) if head_row else None
            vouched: list[AuditEntry] = []  # entries that record a fingerprint's digest
            prunes: list[tuple[int, datetime]] = []  # (seq, before) of each prune

            def entries() -> Iterator[AuditEntry]:
                for row in rows:
                    entry = entry_from_row(row)
                    if "fingerprint_sha256" in entry.details:
                        vouched.append(entry)
                    elif entry.event == FINGERPRINTS_PRUNED and \
                            (before := zoned_time(entry.details.get("before"))) is not None:
                        prunes.append((entry.seq, before))
                    yield entry

            report = check_chain(entries(), self.key, head, anchor)
            stored = stored_digests(conn) if tables.has_table(fingerprints.name) else {}
        problems = [_fingerprint_problem(entry, stored) for entry in vouched
                    if not _pruned(entry, prunes, stored)]
        found = tuple(p for p in problems if p is not None)
        return replace(report, problems=(*report.problems, *found)) if found else report


def _pruned(entry: AuditEntry, prunes: Sequence[tuple[int, datetime]],
            stored: Mapping[int, str]) -> bool:
    """Whether ``entry``'s fingerprint is gone because a later prune entry removed the
    fingerprints of syntheses logged before its time (a changed one still counts)."""
    if entry.payload in stored or (at := zoned_time(entry.at)) is None:
        return False
    return any(seq > entry.seq and at < before for seq, before in prunes)


def _fingerprint_problem(entry: AuditEntry, stored: Mapping[int, str]) -> AuditProblem | None:
    """An entry's fingerprint, missing or changed since the entry recorded it."""
    payload = entry.payload if entry.payload is not None else -1
    have = stored.get(payload)
    if have == entry.details["fingerprint_sha256"]:
        return None
    what = "was deleted" if have is None else "was changed"
    return AuditProblem(entry.seq, "fingerprint",
                        f"the stored fingerprint of synthesis {payload:08x} {what} after "
                        "its entry recorded it: clips of it that lost their watermark can "
                        "no longer be traced; restore the database from a backup")


def entry_from_row(row: RowMapping) -> AuditEntry:
    try:
        details = json.loads(row["details"])
    except ValueError:
        details = {"unreadable": row["details"]}
    return AuditEntry(seq=row["seq"], at=row["at"], event=row["event"], actor=row["actor"],
                      owner_id=row["owner_id"], voice=row["voice"], payload=row["payload"],
                      details=details, prev_hash=row["prev_hash"], hash=row["hash"])
