"""The manifest of a batch job: one JSON object per script line, in ``OUTDIR/manifest.jsonl``.

While a job runs, each line's entry is appended (written, flushed and fsynced) as soon
as its file is written, so a killed job leaves a manifest that holds every finished
line - at worst its last line is cut short, and that is dropped when the manifest is
next read. When the job ends, the manifest is rewritten atomically with one entry per
script line, in script order. A later entry for an id replaces an earlier one.

Entry fields (JSON): ``id``, ``line`` (in the script), ``status`` (``ok`` or
``failed``), ``voice``, ``file`` (relative to OUTDIR; null when failed), ``duration``
(seconds), ``payload`` (the watermark payload, 8 hex digits: ``voxclone detect FILE``
reads it back and ``voxclone.find_synthesis`` gives its audit record), ``sha256`` (of
the file's bytes), ``error`` (why a line failed), ``request`` (SHA-256 of what was asked:
voice profile, text, speed, format - a changed line is rendered again), ``script`` (the
absolute path of the script it came from, ``standard input`` for one piped in: a run
of another script into the same OUTDIR is refused, see :mod:`voxclone.batch.outdir`),
``created``, and for a line fitted to its ``seconds``, ``speed`` (the speed it was
rendered at, when not the one asked) and ``warning`` (it overruns even so).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from voxclone.atomic_file import write_text_atomic
from voxclone.errors import BatchError

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.jsonl"
OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class ManifestEntry:
    """The outcome of one script line (see the module docstring for the fields)."""

    id: str
    line: int
    status: str
    voice: str
    file: str | None = None
    duration: float | None = None
    payload: str | None = None
    sha256: str | None = None
    error: str | None = None
    request: str | None = None
    script: str | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    speed: float | None = None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> ManifestEntry:
        """Parse one entry. Raises ValueError when it is not an entry."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise ValueError(str(exc)) from exc


class Manifest:
    """The manifest file of the output directory ``outdir``.

    Use :meth:`read` for what earlier runs finished, then ``with manifest:`` and
    :meth:`append` while a job runs, and :meth:`rewrite` at the end.
    """

    def __init__(self, outdir: str | os.PathLike[str]) -> None:
        self.path = Path(outdir) / MANIFEST_NAME
        self._handle: IO[str] | None = None

    def read(self) -> dict[str, ManifestEntry]:
        """The latest entry of each id (empty when there is no manifest yet).

        A line cut short by a killed run is removed from the file; other unreadable lines
        are skipped with a warning (their script lines are then rendered again).

        Raises:
            BatchError: the manifest exists but cannot be read or repaired.
        """
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BatchError(f"cannot read the manifest {self.path}: {exc}") from exc
        if content and not content.endswith(b"\n"):
            cut = content.rfind(b"\n") + 1
            logger.warning("the manifest %s ends in a cut-off entry (a killed run); "
                           "dropping it", self.path)
            try:
                os.truncate(self.path, cut)
            except OSError as exc:
                raise BatchError(f"cannot repair the manifest {self.path}: {exc}") from exc
            content = content[:cut]
        entries: dict[str, ManifestEntry] = {}
        for number, raw in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                entry = ManifestEntry.from_json(json.loads(raw))
            except ValueError as exc:
                logger.warning("%s, line %d: unreadable entry skipped (%s)", self.path,
                               number, exc)
                continue
            entries[entry.id] = entry
        return entries

    def __enter__(self) -> Manifest:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise BatchError(f"cannot write the manifest {self.path}: {exc}; check that "
                             "the output directory is writable") from exc
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def append(self, entry: ManifestEntry) -> None:
        """Append ``entry`` durably (flushed and fsynced before returning).

        Raises:
            BatchError: not opened with ``with``, or the write failed.
        """
        if self._handle is None:
            raise BatchError("the manifest is not open for appending")
        try:
            self._handle.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise BatchError(f"cannot append to the manifest {self.path}: {exc}") from exc

    def rewrite(self, entries: Iterable[ManifestEntry]) -> None:
        """Replace the manifest with ``entries`` (in that order), atomically.

        Raises:
            BatchError: it cannot be written.
        """
        text = "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)
        try:
            # keep the permissions the appended file got (the umask's), not the temp file's
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else None
            write_text_atomic(self.path, text)
            if mode is not None:
                os.chmod(self.path, mode)
        except OSError as exc:
            raise BatchError(f"cannot write the manifest {self.path}: {exc}") from exc
