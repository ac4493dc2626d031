"""The hash chain of the audit log: how an entry is sealed, and how a chain is checked.

Each entry's ``hash`` is HMAC-SHA256, under a key derived from the installation
secret, of the previous entry's hash and the entry's own fields (its number
included). Editing an entry breaks its hash; deleting or moving one breaks the
numbering or the link to its predecessor; and without the key nobody can re-seal
the chain after tampering with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One audit log entry.

    Attributes:
        seq: its number, from 1, without gaps.
        at: UTC time, ISO 8601.
        event: what happened (``enroll``, ``synthesis``, ``detect``, ``grant``, ...).
        actor: who did it (``local:USER`` or ``key:PREFIX``).
        owner_id: the owner concerned (server registry), if any.
        voice: the voice concerned, if any.
        payload: the watermark payload (synthesis and detection), if any.
        details: event-specific fields (JSON-compatible).
        prev_hash: the previous entry's hash (64 hex digits).
        hash: this entry's hash.
    """

    seq: int
    at: str
    event: str
    actor: str
    owner_id: int | None = None
    voice: str | None = None
    payload: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "event": self.event, "actor": self.actor,
                "owner_id": self.owner_id, "voice": self.voice, "payload": self.payload,
                "details": dict(self.details), "prev_hash": self.prev_hash, "hash": self.hash}


def zoned_time(value: object) -> datetime | None:
    """An ISO 8601 time with its zone (an entry's ``at``, a stored ``created_at``), or
    None when ``value`` is not one."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def seal(entry: AuditEntry, key: bytes) -> str:
    """The hash ``entry`` must carry, given its fields and ``prev_hash``."""
    body = {"seq": entry.seq, "at": entry.at, "event": entry.event, "actor": entry.actor,
            "owner_id": entry.owner_id, "voice": entry.voice, "payload": entry.payload,
            "details": entry.details}
    message = entry.prev_hash.encode() + b"\n" + canonical(body)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def canonical(body: Mapping[str, Any]) -> bytes:
    """Stable JSON bytes (sorted keys, no spaces) for hashing."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@dataclass(frozen=True)
class AuditProblem:
    """Something wrong in the chain: at entry ``seq``, of ``kind``
    (``edited``, ``deleted``, ``reordered``, ``truncated``; ``fingerprint``: the stored
    fingerprint an entry recorded was deleted or changed; and, with ``seq`` 0 as they
    concern no one entry, ``missing``: an audit table was dropped, and ``anchor``: the
    anchor outside the database was edited), explained in ``message``."""

    seq: int
    kind: str
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The result of checking a whole chain: ``entries`` read, ``problems`` found."""

    entries: int
    problems: tuple[AuditProblem, ...]
    #: The entry this installation's anchor vouches for (see :mod:`.anchor`), or None
    #: when no anchor was checked (another installation's database, or none written).
    anchored_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_chain(entries: Iterable[AuditEntry], key: bytes,
                head: tuple[int, str] | None,
                anchor: tuple[int, str] | None = None) -> AuditReport:
    """Check ``entries`` (in stored order, by ``seq``) against ``key``, the recorded
    ``head`` (last seq and hash, ``(0, GENESIS)`` for an empty log; None if missing) and,
    if given, the ``anchor`` kept outside the database (seq and hash of an entry that
    was written)."""
    problems: list[AuditProblem] = []
    expected_seq, previous = 1, GENESIS
    count = 0
    anchored_hash: str | None = None
    for entry in entries:
        count += 1
        if anchor is not None and entry.seq == anchor[0]:
            anchored_hash = entry.hash
        if entry.seq > expected_seq:
            missing = (f"entry {expected_seq} is" if entry.seq == expected_seq + 1
                       else f"entries {expected_seq}-{entry.seq - 1} are")
            problems.append(AuditProblem(expected_seq, "deleted",
                                         f"{missing} missing (deleted)"))
        if entry.prev_hash != previous:
            problems.append(AuditProblem(
                entry.seq, "reordered",
                f"entry {entry.seq} does not follow the entry before it (entries were "
                "reordered, or one was deleted or inserted)"))
        if not hmac.compare_digest(seal(entry, key), entry.hash):
            problems.append(AuditProblem(
                entry.seq, "edited",
                f"entry {entry.seq} was edited or moved: its content no longer matches its "
                "hash"))
        expected_seq, previous = entry.seq + 1, entry.hash
    last = (expected_seq - 1, previous)
    if head is None:
        problems.append(AuditProblem(last[0], "edited", "the log's head record is missing"))
    elif last != head:
        if head[0] > last[0]:
            problems.append(AuditProblem(
                last[0] + 1, "truncated",
                f"the log ends early: it should end with entry {head[0]} (entries at its end "
                "were deleted)"))
        else:
            problems.append(AuditProblem(
                head[0], "edited",
                f"the log's head record (entry {head[0]}) does not match its last entry"))
    if anchor is not None:
        problems.extend(_anchor_problems(anchor, last, anchored_hash, problems))
    return AuditReport(count, tuple(problems), anchor[0] if anchor is not None else None)


def _anchor_problems(anchor: tuple[int, str], last: tuple[int, str],
                     anchored_hash: str | None,
                     found: list[AuditProblem]) -> list[AuditProblem]:
    """What the anchor adds to the problems ``found`` from the database alone."""
    seq, expected = anchor
    if seq > last[0]:
        if any(p.kind == "truncated" for p in found):
            return []
        return [AuditProblem(last[0] + 1, "truncated",
                             f"the log ends at entry {last[0]}, but this installation wrote "
                             f"entry {seq} (entries at its end were deleted and the head "
                             "record rolled back)")]
    if anchored_hash is not None and anchored_hash != expected:
        return [AuditProblem(seq, "edited",
                             f"entry {seq} is not the entry this installation wrote there "
                             "(the log was rewritten from that point)")]
    return []
