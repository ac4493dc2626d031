"""Guarding a batch job's output directory.

* **One run at a time.** A run holds an exclusive lock (``flock``) on the directory's
  manifest until it ends; a second run into the same directory is refused.
* **One script per directory.** Each manifest entry records the script that made it
  (its absolute path). A run of another script is refused when it would overwrite or
  leave out of the manifest files that script made; the same script (edited or not)
  resumes as before.
* **Only its own leftovers.** A killed run can leave temporary files behind: those of
  an audio file being written (``.<id>.<format>.`` and 8 random characters, see
  :func:`voxclone.audio.encoding.write_encoded`) and of the manifest being rewritten
  (``.tmp-``, 8 random characters, ``.jsonl``, see :mod:`voxclone.atomic_file`). Only
  files of exactly those names are deleted, and only in a directory that already held
  a manifest before the run: nothing else in the directory is ever touched.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from voxclone.batch.manifest import ManifestEntry
from voxclone.errors import BatchError

logger = logging.getLogger(__name__)

#: The random part of a :func:`tempfile.mkstemp` name: 8 of these characters.
_RANDOM = "[a-z0-9_]{8}"


def leftover_pattern(names: Iterable[str], manifest_name: str) -> re.Pattern[str]:
    """The names of the temporary files a run writing ``names`` (output files) and the
    manifest ``manifest_name`` can leave behind when it is killed."""
    suffix = Path(manifest_name).suffix
    audio = "|".join(re.escape(name) for name in sorted(names))
    parts = [rf"\.tmp-{_RANDOM}{re.escape(suffix)}"]
    if audio:
        parts.append(rf"\.(?:{audio})\.{_RANDOM}")
    return re.compile("|".join(parts))


def remove_leftovers(out: Path, names: Iterable[str], manifest_name: str) -> list[Path]:
    """Delete the temporary files of an interrupted run in ``out`` (see the module
    docstring) and return them. Call it only when ``out`` held this job's manifest
    before the run."""
    pattern = leftover_pattern(names, manifest_name)
    removed = []
    for path in out.iterdir():
        if not pattern.fullmatch(path.name) or path.is_symlink() or not path.is_file():
            continue
        logger.info("removing %s, left over by an interrupted run", path)
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def check_same_script(manifest: Path, previous: Mapping[str, ManifestEntry], script: str,
                      requests: Mapping[str, str | None]) -> None:
    """Refuse to run ``script`` into the directory of ``manifest`` when another script's
    files are there.

    ``previous`` is the manifest's content, ``requests`` the request digest of each line
    of ``script`` (None for a bad line). Entries recorded before scripts were (no
    ``script`` field) are taken as this script's. Another script may go on only when it
    keeps every finished file as it is (same ids, same requests): a copy of the script,
    or one with lines added at the end.

    Raises:
        BatchError: the directory holds files of another script that this run would
            overwrite or leave out of the manifest.
    """
    scripts = {entry.script for entry in previous.values() if entry.script}
    if not scripts or script in scripts:
        return
    clashes = sorted(entry.id for entry in previous.values()
                     if entry.ok and (entry.request is None
                                      or requests.get(entry.id) != entry.request))
    if not clashes:
        logger.info("%s was written by %s; its finished lines are the same in %s, so "
                    "going on", manifest, ", ".join(sorted(scripts)), script)
        return
    shown = ", ".join(clashes[:5]) + (f" and {len(clashes) - 5} more" if len(clashes) > 5
                                      else "")
    raise BatchError(
        f"{manifest.parent} holds the output of another script ({', '.join(sorted(scripts))}); "
        f"running {script} there would overwrite or drop lines {shown}. Render into another "
        f"folder (-o), or, to replace that output, delete {manifest} first")


def dropped_files(previous: Mapping[str, ManifestEntry], ids: Iterable[str]) -> list[str]:
    """The files of finished lines in ``previous`` whose ids are not in ``ids``."""
    keep = set(ids)
    return sorted(str(e.file) for e in previous.values() if e.ok and e.file and e.id not in keep)


@contextmanager
def exclusive(manifest: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``manifest`` (created empty if missing) while the block
    runs, so that no other run writes into its directory at the same time.

    The manifest is replaced (a new file) when a run ends, so the lock is taken on the
    file the path names, checked after locking.

    Raises:
        BatchError: another run holds the lock, or the manifest cannot be opened.
    """
    fd = _lock(manifest)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the lock


def _lock(manifest: Path) -> int | None:
    """The open, locked manifest's descriptor (None where locks are not supported)."""
    for _ in range(20):
        try:
            fd = os.open(manifest, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        except OSError as exc:
            raise BatchError(f"cannot open the manifest {manifest}: {exc}; check that the "
                             "output directory is writable") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BatchError(
                f"another voxclone batch run is writing into {manifest.parent} (it holds "
                f"{manifest}); wait for it to end, or render into another folder (-o)"
            ) from None
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise BatchError(f"cannot lock the manifest {manifest}: {exc}") from exc
            logger.warning("cannot lock %s (%s); make sure no other batch run writes into "
                           "%s at the same time", manifest, exc, manifest.parent)
            return None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(manifest))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # replaced by a run that just ended: lock the new file
    raise BatchError(f"cannot lock the manifest {manifest}: it keeps being replaced; "
                     "is another batch run writing there?")
