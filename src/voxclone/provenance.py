"""Synthesis records: what each watermark payload stands for.

Every synthesis gets a fresh random 32-bit id, which is the payload its watermark
carries, and a record appended to ``<home>/syntheses.jsonl`` (one JSON object per
line, appended with a single write and fsync'd). :func:`voxclone.detect` looks the
payload up here. The record holds a hash of the text, never the text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voxclone.keys import home_dir

logger = logging.getLogger(__name__)

LOG_FILE = "syntheses.jsonl"


@dataclass(frozen=True)
class SynthesisRecord:
    """One synthesis.

    Attributes:
        id: the 32-bit watermark payload.
        voice: the voice's name.
        text_sha256: SHA-256 of the text spoken (UTF-8).
        engine: the engine that rendered it.
        watermark: the watermark scheme.
        streamed: True when the audio was streamed chunk by chunk.
        seconds: audio length (None for a stream, whose length is known only later).
        created: UTC time, ISO 8601.
    """

    id: int
    voice: str
    text_sha256: str
    engine: str
    watermark: str
    streamed: bool = False
    seconds: float | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    @property
    def hex_id(self) -> str:
        return f"{self.id:08x}"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SynthesisLog:
    """The append-only log of synthesis records of one voxclone home."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.path = (Path(home) if home is not None else home_dir()) / LOG_FILE

    def records(self) -> list[SynthesisRecord]:
        """Every readable record, oldest first (damaged lines are skipped, logged)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for number, line in enumerate(lines, 1):
            try:
                out.append(SynthesisRecord(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                logger.warning("%s line %d is damaged (%s); skipped", self.path, number, exc)
        return out

    def find(self, record_id: int) -> SynthesisRecord | None:
        """The record with this id, or None."""
        return next((r for r in self.records() if r.id == record_id), None)

    def new_id(self) -> int:
        """A random 32-bit id not used in this log yet."""
        used = {r.id for r in self.records()}
        while True:
            candidate = secrets.randbits(32)
            if candidate not in used:
                return candidate

    def append(self, record: SynthesisRecord) -> None:
        """Add ``record`` (one write of one line, then fsync)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(_plain(asdict(record)), sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float) else v) for k, v in data.items()}
