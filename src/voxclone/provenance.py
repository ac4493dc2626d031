"""Synthesis records: what each watermark payload stands for.

Every synthesis gets a fresh random 32-bit id, which is the payload its watermark
carries, and a ``synthesis`` entry in the audit log (:mod:`voxclone.audit`) holding
the voice, who asked, a hash of the text (never the text), the engine and the
duration. :func:`voxclone.find_synthesis` looks a payload up there.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from voxclone.audit import AuditEntry, AuditLog, local_actor
from voxclone.errors import TextError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditContext:
    """Who is asking, for the audit log: ``actor`` (``local:USER``, ``key:PREFIX``), the
    ``owner_id`` concerned (server registry), and the ``log`` to write to (default: the
    installation's)."""

    actor: str = field(default_factory=local_actor)
    owner_id: int | None = None
    log: AuditLog | None = None

    def audit_log(self) -> AuditLog:
        return self.log if self.log is not None else AuditLog()


@dataclass(frozen=True)
class SynthesisRecord:
    """One synthesis.

    Attributes:
        id: the 32-bit watermark payload.
        voice: the voice's name.
        text_sha256: SHA-256 of the text spoken (UTF-8). A text streamed in as it
            arrives is known only at the end: its stream's own entry has it empty and
            its ``stream-end`` entry gives it (read in as ``seconds`` is).
        engine: the engine that rendered it.
        watermark: the watermark scheme.
        streamed: True when the audio was streamed chunk by chunk.
        seconds: audio length. A stream's own entry is written before its audio exists,
            so its length comes from its ``stream-end`` entry (what was handed out,
            also when the stream was cut short), where the record is read with the
            log (:func:`find_record`); None while it plays, or if it has none.
        language: the language code the text was spoken in (``"en-us"``, ``"es"``...;
            empty in records written before it was kept; for a text streamed in, as
            ``text_sha256``).
        created: UTC time, ISO 8601.
        actor: who asked for it.
    """

    id: int
    voice: str
    text_sha256: str
    engine: str
    watermark: str
    streamed: bool = False
    seconds: float | None = None
    language: str = ""
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    actor: str = ""

    @property
    def hex_id(self) -> str:
        return f"{self.id:08x}"

    def described(self) -> dict[str, object]:
        """What a detection shows of this record (``voxclone detect --json``, ``POST
        /v1/detect``): who made it with which voice, when, how long, and what text."""
        return {"voice": self.voice, "created": self.created, "seconds": self.seconds,
                "text_sha256": self.text_sha256, "language": self.language,
                "actor": self.actor}


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ArrivingText:
    """A text that arrives in pieces, passed through while its record is kept: its
    SHA-256 (what :func:`text_digest` gives for the whole), its length and its start
    (to tell its language by), for the ``stream-end`` entry of its synthesis.

    Raises (from :meth:`pieces`, as they arrive):
        TextError: a piece that is not a string.
    """

    #: Characters kept to tell the language by (a few sentences).
    HEAD_CHARS = 4000

    def __init__(self, pieces: Iterable[str]) -> None:
        if isinstance(pieces, (str, bytes)) or not isinstance(pieces, Iterable):
            raise TextError(f"the text must be a string or an iterable of strings, not "
                            f"{type(pieces).__name__}")
        self._pieces = pieces
        self._sha = hashlib.sha256()
        self.characters = 0
        self.head = ""

    def pieces(self) -> Iterator[str]:
        """The pieces, each recorded as it is handed on."""
        for piece in self._pieces:
            if not isinstance(piece, str):
                raise TextError(f"the text's pieces must be strings, got "
                                f"{type(piece).__name__}; decode bytes first")
            self._sha.update(piece.encode("utf-8"))
            self.characters += len(piece)
            if len(self.head) < self.HEAD_CHARS:
                self.head = (self.head + piece)[:self.HEAD_CHARS]
            yield piece

    @property
    def sha256(self) -> str:
        """SHA-256 of the text so far (UTF-8)."""
        return self._sha.hexdigest()


def new_payload(log: AuditLog) -> int:
    """A random 32-bit synthesis id that no synthesis in ``log`` carries yet."""
    while True:
        candidate = secrets.randbits(32)
        if log.find_payload(candidate) is None:
            return candidate


def log_synthesis(record: SynthesisRecord, context: AuditContext, *,
                  fingerprint_sha256: str | None = None) -> AuditEntry:
    """Append ``record`` to the audit log as a ``synthesis`` entry, with the digest of
    its stored fingerprint when it has one already (a stream's is in its ``stream-end``
    entry).

    Raises:
        AuditError: it could not be written (the audio must then not be released).
    """
    details: dict[str, object] = {
        "text_sha256": record.text_sha256, "engine": record.engine,
        "watermark": record.watermark, "streamed": record.streamed,
        "seconds": record.seconds, "language": record.language}
    if fingerprint_sha256 is not None:
        details["fingerprint_sha256"] = fingerprint_sha256
    return context.audit_log().append(
        "synthesis", actor=context.actor, owner_id=context.owner_id, voice=record.voice,
        payload=record.id, details=details)


def find_record(payload: int, log: AuditLog | None = None) -> SynthesisRecord | None:
    """The synthesis record whose watermark carries ``payload``, or None."""
    log = log if log is not None else AuditLog()
    entry = log.find_payload(payload)
    return record_of(entry, log) if entry is not None else None


def record_of(entry: AuditEntry, log: AuditLog | None = None) -> SynthesisRecord:
    """The synthesis record a ``synthesis`` audit entry holds; with the ``log`` it is in,
    a stream's seconds are read from its ``stream-end`` entry."""
    details = entry.details
    record = SynthesisRecord(
        id=entry.payload if entry.payload is not None else 0, voice=entry.voice or "",
        text_sha256=str(details.get("text_sha256", "")),
        engine=str(details.get("engine", "")), watermark=str(details.get("watermark", "")),
        streamed=bool(details.get("streamed", False)), seconds=details.get("seconds"),
        language=str(details.get("language", "")), created=entry.at, actor=entry.actor)
    if record.streamed and log is not None and entry.payload is not None \
            and (record.seconds is None or not record.text_sha256):
        end = log.find_payload(entry.payload, event="stream-end")
        ended = end.details if end is not None else {}
        seconds = ended.get("seconds")
        if record.seconds is None and isinstance(seconds, (int, float)):
            record = replace(record, seconds=float(seconds))
        if not record.text_sha256:  # a text streamed in: known at its end
            record = replace(record, text_sha256=str(ended.get("text_sha256", "")),
                             language=record.language or str(ended.get("language", "")))
    return record
