"""How the speech route renders: every synthesis, streamed or not, a piece at a time
through the synthesis slots (:meth:`ServerState.metered`), so that other requests are
served between its pieces; with its seconds reserved from the key's quota before it
starts (:mod:`voxclone.server.quota`); and stopped when the client goes away. A stream
is logged before its first chunk and charged for what it sent; a whole file is marked
once, as a whole (:class:`voxclone.synthesis.Rendering`), and logged and charged only
if it was made."""

from __future__ import annotations

import functools
import logging
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import anyio
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from voxclone.audio import Audio, encode_audio
from voxclone.errors import RateLimitError
from voxclone.provenance import SynthesisRecord
from voxclone.registry.access import Principal
from voxclone.server import speech_events
from voxclone.server.quota import Reservation, estimate_seconds
from voxclone.server.state import ServerState, close
from voxclone.synthesis import Rendering, render_stream, start_render

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24_000


@dataclass(frozen=True)
class Speech:
    """A synthesis under way: its record (logged already), its chunks (watermarked, not
    yet rendered), the quota held for it, and its voice's rate factor (what the quota's
    estimate of text still to come needs)."""

    record: SynthesisRecord
    chunks: Iterator[Audio]
    quota: Reservation
    voice_rate: float = 1.0


def start_speech(text: str | Iterable[str], voice: str, *, speed: float,
                 language: str | None, who: Principal, state: ServerState,
                 sentence_pause: float | None = None) -> Speech:
    """Check the voice, reserve the text's estimated seconds from the key's quota, and
    start the stream (validated and logged; nothing rendered yet). ``text`` may be its
    pieces still to come (:func:`voxclone.synthesis.render_stream`): then only the
    estimate of an empty text is reserved, and the caller reserves the rest as they
    come (:class:`voxclone.server.text_feed.TextEstimate`).

    Raises:
        VoiceNotFoundError: no such voice for this key.
        RateLimitError: the quota has not the seconds the text is estimated to take.
        TextError / ValueError / AuditError: as :func:`voxclone.synthesis.render_stream`
            (the quota held is given back).
    """
    entry = state.voices.usable(who.owner, voice)
    rate = entry.profile.rate
    quota = Reservation(state.access, who.key,
                        estimate_seconds(text if isinstance(text, str) else "", speed, rate))
    try:
        record, chunks = render_stream(text, entry.profile, speed=speed, language=language,
                                       sentence_pause=sentence_pause,
                                       audit=state.context(who, owner_id=entry.owner_id))
    except BaseException:
        quota.settle(0.0)
        raise
    return Speech(record, chunks, quota, rate)


@dataclass(frozen=True)
class WholeSpeech:
    """A whole file under way: its rendering (validated, nothing rendered or logged
    yet) and the quota held for it."""

    rendering: Rendering
    quota: Reservation


def start_whole(text: str, voice: str, *, speed: float, language: str | None,
                who: Principal, state: ServerState) -> WholeSpeech:
    """As :func:`start_speech`, for a file that comes whole (mp3, flac, ogg, opus).

    Raises:
        VoiceNotFoundError / RateLimitError / TextError / ValueError: as
            :func:`start_speech` (the quota held is given back).
    """
    entry = state.voices.usable(who.owner, voice)
    quota = Reservation(state.access, who.key,
                        estimate_seconds(text, speed, entry.profile.rate))
    try:
        rendering = start_render(text, entry.profile, speed=speed, language=language,
                                 audit=state.context(who, owner_id=entry.owner_id))
    except BaseException:
        quota.settle(0.0)
        raise
    return WholeSpeech(rendering, quota)


async def whole_speech(speech: WholeSpeech, state: ServerState, request: Request,
                       ) -> tuple[Audio, SynthesisRecord] | None:
    """The file's audio, rendered a piece at a time (other requests go between its
    pieces, on the event loop's worker threads), then watermarked as a whole and logged;
    ``None`` if the client disconnected first: rendering stops there, and nothing is
    logged or charged (no audio left the server).

    Raises:
        RateLimitError: the audio ran past the estimate, and the quota ended first.
        AuditError: the synthesis could not be logged (no audio is returned).
    """
    steps = state.metered(speech.rendering.steps())
    seconds = 0.0
    made: tuple[Audio, SynthesisRecord] | None = None
    try:
        while True:
            if await request.is_disconnected():
                logger.info("a whole-file synthesis: the client left after %.1f s of "
                            "audio; stopped, not logged", seconds)
                return None
            piece = await run_in_threadpool(_next_step, steps)
            if piece is None:
                break
            await run_in_threadpool(speech.quota.cover, seconds + piece)
            seconds += piece
        made = await run_in_threadpool(speech.rendering.finish)
        return made
    finally:
        with anyio.CancelScope(shield=True):  # (when cancelled, too)
            await run_in_threadpool(_end_whole, steps, speech,
                                    made[0].duration if made is not None else 0.0)


def _next_step(steps: Iterator[float]) -> float | None:
    return next(steps, None)


def _end_whole(steps: Iterator[float], speech: WholeSpeech, seconds: float) -> None:
    """Stop the rendering (a no-op once finished) and charge ``seconds``."""
    try:
        close(steps)
        speech.rendering.close()
    finally:
        speech.quota.settle(seconds)


def _finish(chunks: Iterator[Audio], quota: Reservation, seconds: float) -> None:
    """Close ``chunks`` (a synthesis cut short logs its end now) and charge ``seconds``."""
    try:
        close(chunks)
    finally:
        quota.settle(seconds)


def wav_stream_header(rate: int) -> bytes:
    """A 16-bit mono WAV header whose sizes say "unknown" (streamed audio)."""
    unknown = 0xFFFFFFFF
    return (b"RIFF" + struct.pack("<I", unknown) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", unknown))


def speech_stream(speech: Speech, fmt: str, state: ServerState, *, media_type: str,
                  events: bool = False) -> StreamingResponse:
    """``speech`` streamed as 16-bit PCM (``fmt`` ``wav`` puts a header first) as its
    chunks are rendered; it ends early, with what fit, if the audio runs past the
    estimate and the quota ends. ``events``: the same bytes as OpenAI's server-sent
    events (:mod:`voxclone.server.speech_events`), which end in ``done``, or in an
    ``error`` where the quota ended."""
    chunks = state.metered(speech.chunks)
    parts = _encoded(chunks, fmt, speech, events=events)
    cleanup = functools.partial(_clean_up, parts, chunks, speech)
    headers = {"X-Voxclone-Synthesis": speech.record.hex_id}
    if events:
        media_type, headers = speech_events.MEDIA_TYPE, {**headers, **speech_events.HEADERS}
    return ClosingStream(parts, cleanup, media_type=media_type, headers=headers)


def _encoded(chunks: Iterator[Audio], fmt: str, speech: Speech, *,
             events: bool) -> Iterator[bytes]:
    def sent(data: bytes) -> bytes:
        return speech_events.delta(data) if events else data

    if fmt == "wav":
        yield sent(wav_stream_header(SAMPLE_RATE))
    seconds = 0.0
    try:
        for chunk in chunks:
            try:
                speech.quota.cover(seconds + chunk.duration)
            except RateLimitError as exc:
                logger.warning("synthesis %s: %s; the stream ends there",
                               speech.record.hex_id, exc)
                if events:  # (a raw body can only stop; an event stream says why)
                    yield speech_events.error(exc)
                return
            seconds += chunk.duration
            yield sent(encode_audio(chunk, "pcm"))
        if events:
            yield speech_events.done()
    finally:
        _finish(chunks, speech.quota, seconds)


def _clean_up(parts: Iterator[bytes], chunks: Iterator[Audio], speech: Speech) -> None:
    """However a stream's response ended: close its parts (which settle what they sent),
    and if they never started, the synthesis too (nothing sent, nothing charged; its
    ``stream-end`` entry says so)."""
    try:
        close(parts)
        close(chunks)
        close(speech.chunks)
    finally:
        speech.quota.settle(0.0)  # (a no-op once the parts settled)


class ClosingStream(StreamingResponse):
    """A response streamed from ``parts`` (each made in a worker thread) that calls
    ``cleanup`` however the response ends - also when the client disconnects, which
    cancels the response - so that the stream's audit entry and quota record what was
    sent now, not whenever the abandoned generator is garbage-collected."""

    def __init__(self, parts: Iterator[bytes], cleanup: Callable[[], None], *,
                 media_type: str, headers: dict[str, str]) -> None:
        super().__init__(parts, media_type=media_type, headers=headers)
        self._cleanup = cleanup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # (when cancelled, too)
                await run_in_threadpool(self._cleanup)
