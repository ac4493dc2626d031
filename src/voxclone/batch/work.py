"""What a batch worker does: load the models once, then render lines one by one.

This module is what worker processes and Ray actors import; it holds no state of the
job. Each line goes through :func:`voxclone.synthesis.render`, so it is watermarked and
written to the audit log like any other synthesis.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from voxclone.audio import encode_audio
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.session import THREADS_ENV
from voxclone.errors import AuditError, VoxcloneError
from voxclone.provenance import AuditContext
from voxclone.synthesis import preload, render

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineJob:
    """One line to render.

    Attributes:
        id: the script line's id.
        text: what to say.
        voice: the voice (loaded, and its consent checked, by the job's driver).
        speed: speaking rate, 0.5-2.0.
        format: output format (see :func:`voxclone.audio.encode_audio`).
        actor: who asked, for the audit log (``batch:USER``).
        language: the text's language code, or None to detect it from the script.
    """

    id: str
    text: str
    voice: VoiceProfile
    speed: float
    format: str
    actor: str
    language: str | None = None


@dataclass(frozen=True)
class LineResult:
    """What became of one :class:`LineJob`.

    Attributes:
        id: the line's id.
        data: the encoded audio file's bytes (None when it failed).
        duration: seconds of audio.
        payload: the watermark payload (the audit log's synthesis id).
        error: why it failed (None when it worked).
        fatal: the failure stops the whole job (the audit log cannot be written).
    """

    id: str
    data: bytes | None = None
    duration: float = 0.0
    payload: int | None = None
    error: str | None = None
    fatal: bool = False


def prepare_worker(threads: int | None = None) -> None:
    """Set this process's ONNX Runtime threads (``None``: every core) and load the models.

    Raises:
        ModelError / SecretError: the models or the installation secret are unusable.
    """
    if threads is not None:
        os.environ[THREADS_ENV] = str(threads)
    preload()
    logger.debug("batch worker %d ready (%s threads)", os.getpid(), threads or "all")


def render_line(job: LineJob) -> LineResult:
    """Render, watermark, audit and encode one line; errors are returned, not raised."""
    try:
        audio, record = render(job.text, job.voice, speed=job.speed, language=job.language,
                               audit=AuditContext(actor=job.actor))
        data = encode_audio(audio, job.format)
    except AuditError as exc:
        return LineResult(job.id, error=str(exc), fatal=True)
    except (VoxcloneError, ValueError) as exc:
        return LineResult(job.id, error=str(exc))
    except Exception as exc:  # a bug must not lose the other lines of the job
        logger.exception("line %s: unexpected error", job.id)
        return LineResult(job.id, error=f"unexpected error: {type(exc).__name__}: {exc}")
    return LineResult(job.id, data=data, duration=round(audio.duration, 3), payload=record.id)


class LineWorker:
    """A long-lived worker (a Ray actor): models loaded once, then :meth:`render` per line."""

    def __init__(self, threads: int | None = None) -> None:
        prepare_worker(threads)

    def render(self, job: LineJob) -> LineResult:
        return render_line(job)
