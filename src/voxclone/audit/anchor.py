"""The audit log's anchor: the newest entry this installation wrote, kept outside the
database.

The hash chain and its head row catch an edited, deleted or reordered entry, and a
log cut short under an intact head. Someone who can write the database can still cut
the log *and* roll its head row back to the new last entry: nothing inside the
database then disagrees. The anchor closes that gap. After every append, the entry's
number and hash are recorded in ``<home>/audit-anchor.json``, keyed by the database
and signed with a key derived from the log's key, and only ever moved forward.
``verify`` then finds a log that ends before the anchored entry, or whose anchored
entry has another hash.

Each server (each voxclone home) keeps its own anchor, so servers sharing one
PostgreSQL database each witness what they wrote. Deleting the anchor file loses the
witness, not the log: ``verify`` then says the log is not anchored.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from voxclone.atomic_file import write_text_atomic

logger = logging.getLogger(__name__)

ANCHOR_FILE = "audit-anchor.json"


@dataclass(frozen=True)
class Anchor:
    """The newest entry this home saw appended to one database: ``seq`` and ``hash``."""

    seq: int
    hash: str


class AnchorFile:
    """Signed anchors of one voxclone home, one per database.

    Args:
        path: the anchor file (``<home>/audit-anchor.json``).
        key: the audit log's key; anchors are signed with a key derived from it.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = hmac.new(key, b"audit-anchor", hashlib.sha256).digest()

    def _mac(self, database: str, anchor: Anchor) -> str:
        message = f"{database}\n{anchor.seq}\n{anchor.hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("audit anchor %s unreadable (%s); starting it again", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, database: str) -> Anchor | None:
        """The anchor recorded for ``database``, or None if there is none or its
        signature does not hold (an edited anchor witnesses nothing)."""
        return self._verified(self._read(), database)

    def _verified(self, data: dict[str, dict[str, object]], database: str) -> Anchor | None:
        record = data.get(database)
        if not isinstance(record, dict):
            return None
        try:
            anchor = Anchor(int(record["seq"]), str(record["hash"]))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError):
            return None
        if not hmac.compare_digest(self._mac(database, anchor), str(record.get("mac", ""))):
            logger.warning("the audit anchor for %s has a bad signature; ignoring it", database)
            return None
        return anchor

    def advance(self, database: str, anchor: Anchor) -> None:
        """Record ``anchor`` for ``database`` unless a later one is recorded already.

        Serialised across threads and processes by a lock file next to the anchor.

        Raises:
            OSError: the anchor file cannot be written.
        """
        with self._locked():
            data = self._read()
            current = self._verified(data, database)
            if current is not None and current.seq >= anchor.seq:
                return
            data[database] = {"seq": anchor.seq, "hash": anchor.hash,
                              "mac": self._mac(database, anchor)}
            write_text_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock
