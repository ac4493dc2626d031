"""What a batch worker does: load the models once, then render lines one by one.

This module is what worker processes and Ray actors import; it holds no state of the
job. Each line goes through :func:`voxclone.synthesis.render`, so it is watermarked and
written to the audit log like any other synthesis.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

from voxclone.audio import Audio, encode_audio
from voxclone.audio.pauses import sound_span
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.session import THREADS_ENV
from voxclone.errors import AuditError, VoxcloneError
from voxclone.provenance import AuditContext, SynthesisRecord
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
        seconds: the most its speech may last, or None: a line that speaks longer is
            rendered again faster (:func:`render_line`).
    """

    id: str
    text: str
    voice: VoiceProfile
    speed: float
    format: str
    actor: str
    language: str | None = None
    seconds: float | None = None


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
        speed: the speed it was rendered at, when fitting its ``seconds`` changed it.
        warning: what is wrong with audio that was made all the same (it overruns its
            ``seconds`` even at the fastest speed).
    """

    id: str
    data: bytes | None = None
    duration: float = 0.0
    payload: int | None = None
    error: str | None = None
    fatal: bool = False
    speed: float | None = None
    warning: str | None = None


def prepare_worker(threads: int | None = None) -> None:
    """Set this process's ONNX Runtime threads (``None``: every core) and load the models.

    Raises:
        ModelError / SecretError: the models or the installation secret are unusable.
    """
    if threads is not None:
        os.environ[THREADS_ENV] = str(threads)
    preload()
    logger.debug("batch worker %d ready (%s threads)", os.getpid(), threads or "all")


#: The fastest a line is rendered to fit its ``seconds`` (the synthesizer's limit).
MAX_FIT_SPEED = 2.0
#: Renderings of a line, the first included, before one that overruns is kept.
FIT_TRIES = 4
#: How far under its ``seconds`` a faster rendering aims.
FIT_MARGIN = 0.97
#: A rendering that fits with more than this share of its ``seconds`` to spare is
#: followed by one slower (the engine's lengths often answer a small change of speed
#: more than in proportion, so the first faster rendering overshoots).
FIT_SLACK = 0.05
#: The least a line's length is taken to answer its speed (log length over log speed)
#: when two renderings measured less: the engine's durations are rounded per phoneme,
#: so a small change of speed can move them less than in proportion, or more.
MIN_ELASTICITY = 0.3


def speech_seconds(audio: Audio) -> float:
    """Seconds from the start of ``audio`` to the end of its last sound (its trailing
    silence left out: what must fit a dub's slot)."""
    span = sound_span(audio.samples, audio.sample_rate)
    return 0.0 if span is None else span[1] / audio.sample_rate


def _aim(points: list[tuple[float, float]], seconds: float) -> float:
    """The speed at which the line should end :data:`FIT_MARGIN` under ``seconds``, its
    length taken to follow the speed as a power law from the last of ``points``
    (speed, length), the exponent measured on the last two (1 from a single one)."""
    (speed, spoken), elasticity = points[-1], 1.0
    if len(points) > 1:
        (before, length_before) = points[-2]
        if speed != before and spoken > 0 and length_before > 0:
            elasticity = max(MIN_ELASTICITY,
                             math.log(length_before / spoken) / math.log(speed / before))
    return speed * (spoken / (seconds * FIT_MARGIN)) ** (1.0 / elasticity)


def _fitted(job: LineJob) -> tuple[Audio, SynthesisRecord, float, str | None]:
    """The line rendered, faster where it must fit ``job.seconds``: the audio, its record,
    the speed, and a warning when no rendering fit. A rendering that fits with more than
    :data:`FIT_SLACK` to spare, tries left, is followed by one between it and the fastest
    that overran, kept if it fits too (a line no faster than it must be). Every rendering
    is a synthesis of its own in the audit log; only the one returned is kept."""
    speed = job.speed
    tried: list[tuple[float, float]] = []
    fit: tuple[Audio, SynthesisRecord, float] | None = None
    while True:
        audio, record = render(job.text, job.voice, speed=speed, language=job.language,
                               audit=AuditContext(actor=job.actor))
        spoken = speech_seconds(audio)
        if job.seconds is None or spoken <= job.seconds:
            if job.seconds is None or fit is not None or len(tried) in (0, FIT_TRIES - 1) \
                    or spoken >= job.seconds * (1.0 - FIT_SLACK):
                return audio, record, speed, None
            between = _aim([tried[-1], (speed, spoken)], job.seconds)  # (speeds only rise)
            if not tried[-1][0] * 1.01 < between < speed * 0.99:
                return audio, record, speed, None
            fit = audio, record, speed  # room to spare: try between, once
            speed = between
            continue
        if fit is not None:  # the try between overran: the faster one stands
            return (*fit, None)
        tried.append((speed, spoken))
        if speed >= MAX_FIT_SPEED or len(tried) == FIT_TRIES:
            break
        logger.debug("line %s: %.2f s at speed %.2f, past its %.2f s", job.id, spoken,
                     speed, job.seconds)
        speed = min(MAX_FIT_SPEED, max(_aim(tried, job.seconds), speed * 1.02))
    fastest = "even at speed 2.00" if speed >= MAX_FIT_SPEED else \
        f"at speed {speed:.2f}, the fastest of {len(tried)} renderings"
    return audio, record, speed, (f"speaks {spoken:.2f} s, past its {job.seconds:g} s "
                                  f"{fastest}: shorten the text or lengthen its time")


def render_line(job: LineJob) -> LineResult:
    """Render, watermark, audit and encode one line; errors are returned, not raised.
    A line with ``seconds`` whose speech runs past them is rendered again faster, up to
    :data:`MAX_FIT_SPEED` (:data:`FIT_TRIES` renderings in all, each aimed from what
    the ones before measured)."""
    try:
        audio, record, speed, warning = _fitted(job)
        data = encode_audio(audio, job.format)
    except AuditError as exc:
        return LineResult(job.id, error=str(exc), fatal=True)
    except (VoxcloneError, ValueError) as exc:
        return LineResult(job.id, error=str(exc))
    except Exception as exc:  # a bug must not lose the other lines of the job
        logger.exception("line %s: unexpected error", job.id)
        return LineResult(job.id, error=f"unexpected error: {type(exc).__name__}: {exc}")
    return LineResult(job.id, data=data, duration=round(audio.duration, 3), payload=record.id,
                      speed=round(speed, 3) if speed != job.speed else None, warning=warning)


class LineWorker:
    """A long-lived worker (a Ray actor): models loaded once, then :meth:`render` per line."""

    def __init__(self, threads: int | None = None) -> None:
        prepare_worker(threads)

    def render(self, job: LineJob) -> LineResult:
        return render_line(job)
