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
PostgreSQL database each witness what they wrote. The home's own SQLite database is
recorded as :data:`HOME_DATABASE`, not by its path, so its anchor still holds after the
home is moved. Deleting the anchor file loses the witness, not the log: ``verify`` then
says the log is not anchored. An anchor file that is unreadable, or whose record for a
database is malformed or badly signed, was tampered with: :meth:`AnchorFile.get` raises
:class:`AnchorTamperedError`, ``verify`` reports it, and appends leave the record as it
is (the evidence stays) until the anchor file is restored or deleted.
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
from voxclone.errors import RegistryError

logger = logging.getLogger(__name__)

ANCHOR_FILE = "audit-anchor.json"
#: The name the anchor gives the voxclone home's own database (``<home>/voxclone.db``).
HOME_DATABASE = "home:voxclone.db"


class AnchorTamperedError(RegistryError):
    """The anchor file is unreadable, or its record for a database is malformed or
    badly signed: it was edited by someone without the key (or damaged)."""


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

    def _read(self) -> dict[str, object]:
        """The anchor file's records (empty when there is no file).

        Raises:
            AnchorTamperedError: the file is not a JSON object.
            OSError: it cannot be read.
        """
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (UnicodeDecodeError, ValueError) as exc:
            raise AnchorTamperedError(self._tampered(f"is unreadable ({exc})")) from exc
        if not isinstance(data, dict):
            raise AnchorTamperedError(self._tampered("is not a JSON object"))
        return data

    def _tampered(self, what: str) -> str:
        return (f"the audit anchor {self.path} {what}: it was edited (or damaged), so the "
                "log may have been cut short with no witness left. Compare the log with a "
                "backup; once you know why, delete the anchor file to start a new anchor")

    def get(self, database: str, aliases: tuple[str, ...] = ()) -> Anchor | None:
        """The anchor recorded for ``database`` (or, if none, for the first of its older
        names ``aliases`` that has one), or None if there is none.

        Raises:
            AnchorTamperedError: the file is unreadable, or that record is malformed or
                badly signed (an edited anchor is evidence of tampering).
            OSError: the file cannot be read.
        """
        return self._verified(self._read(), database, aliases)

    def _verified(self, data: dict[str, object], database: str,
                  aliases: tuple[str, ...] = ()) -> Anchor | None:
        name = next((n for n in (database, *aliases) if n in data), None)
        if name is None:
            return None
        record = data[name]
        try:
            if not isinstance(record, dict):
                raise TypeError("not an object")
            anchor = Anchor(int(record["seq"]), str(record["hash"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnchorTamperedError(self._tampered(
                f"has a malformed record for {name} ({exc})")) from exc
        if not hmac.compare_digest(self._mac(name, anchor), str(record.get("mac", ""))):
            raise AnchorTamperedError(self._tampered(
                f"has a bad signature on its record for {name} (entry {anchor.seq})"))
        return anchor

    def advance(self, database: str, anchor: Anchor, aliases: tuple[str, ...] = ()) -> None:
        """Record ``anchor`` for ``database`` unless a later one is recorded already
        (under ``database`` or, when it has no record yet, an older name in ``aliases``).
        A record that was tampered with is left as it is, with a warning: it is the
        evidence ``verify`` reports.

        Serialised across threads and processes by a lock file next to the anchor.

        Raises:
            OSError: the anchor file cannot be written.
        """
        with self._locked():
            try:
                data = self._read()
                current = self._verified(data, database, aliases)
            except AnchorTamperedError as exc:
                logger.warning("not updating the audit anchor: %s", exc)
                return
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
