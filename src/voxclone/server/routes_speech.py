"""Speech (OpenAI-compatible ``POST /v1/audio/speech``, streamed as sentences are ready
for ``wav`` and ``pcm``) and watermark detection."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Receive, Scope, Send

from voxclone.audio import Audio, encode_audio
from voxclone.errors import AudioFormatError
from voxclone.provenance import record_of
from voxclone.registry.access import ApiKey, Principal
from voxclone.server.auth import Caller, State
from voxclone.server.state import ServerState, close
from voxclone.server.uploads import decode_upload, read_upload, upload_label
from voxclone.synthesis import (
    MAX_DETECT_SECONDS,
    MIN_DETECT_SECONDS,
    detect_all,
    render,
    render_stream,
)
from voxclone.watermark import Detection

router = APIRouter(prefix="/v1", tags=["speech"])

#: ``opus`` is Opus in an Ogg file (RFC 7845's ``audio/ogg``), as OpenAI's is.
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac",
               "pcm": "audio/pcm", "ogg": "audio/ogg", "opus": "audio/ogg"}
#: OpenAI formats voxclone has no encoder for.
UNSUPPORTED = ("aac",)
STREAMED = ("wav", "pcm")
SAMPLE_RATE = 24_000


class SpeechRequest(BaseModel):
    """OpenAI's speech request; ``voice`` is one of your voices (``NAME``) or one
    granted to you (``OWNER/NAME``)."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field("voxclone", max_length=100,
                       description="accepted for compatibility (tts-1, ...); voxclone "
                                   "always uses its cloning engine")
    input: str = Field(min_length=1, max_length=20_000, description="the text to speak")
    voice: str = Field(min_length=1, max_length=170)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm", "ogg"] = "mp3"
    speed: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate, 0.5-2.0")
    language: str | None = Field(None, max_length=16,
                                 description="the text's language (es, fr, it, pt-br, hi, ja, "
                                             "zh, en-us, en-gb); default: hi/ja/zh detected "
                                             "from the script, else en-us")
    instructions: str | None = Field(None, max_length=4096,
                                     description="accepted for compatibility; ignored")
    stream_format: Literal["audio"] = "audio"


def wav_stream_header(rate: int) -> bytes:
    """A 16-bit mono WAV header whose sizes say "unknown" (streamed audio)."""
    unknown = 0xFFFFFFFF
    return (b"RIFF" + struct.pack("<I", unknown) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", unknown))


@router.post("/audio/speech", response_class=Response,
             responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()},
                              "description": "watermarked speech; header "
                                             "X-Voxclone-Synthesis names its record"}})
def speech(body: SpeechRequest, who: Caller, state: State) -> Response:
    """Speak ``input`` in ``voice``. ``wav`` and ``pcm`` (16-bit mono 24 kHz) stream
    sentence by sentence; other formats come whole."""
    if body.response_format in UNSUPPORTED:
        raise AudioFormatError(f"response_format {body.response_format!r} is not supported; "
                               "use mp3, opus, wav, flac, pcm or ogg")
    entry = state.voices.usable(who.owner, body.voice)
    state.access.check_quota(who.key)
    context = state.context(who, owner_id=entry.owner_id)
    if body.response_format in STREAMED:
        record, chunks = render_stream(body.input, entry.profile, speed=body.speed,
                                       language=body.language, audit=context)
        stream = _encoded(state.metered(chunks), body.response_format, state, who.key)
        return ClosingStream(stream, media_type=MEDIA_TYPES[body.response_format],
                             headers={"X-Voxclone-Synthesis": record.hex_id})
    with state.slots.slot():
        audio, record = render(body.input, entry.profile, speed=body.speed,
                               language=body.language, audit=context)
    state.access.add_audio(who.key, audio.duration)
    return Response(encode_audio(audio, body.response_format),
                    media_type=MEDIA_TYPES[body.response_format],
                    headers={"X-Voxclone-Synthesis": record.hex_id,
                             "X-Voxclone-Seconds": f"{audio.duration:.3f}"})


def _encoded(chunks: Iterator[Audio], fmt: str, state: ServerState, key: ApiKey,
             ) -> Iterator[bytes]:
    if fmt == "wav":
        yield wav_stream_header(SAMPLE_RATE)
    seconds = 0.0
    try:
        for chunk in chunks:
            seconds += chunk.duration
            yield encode_audio(chunk, "pcm")
    finally:
        close(chunks)  # a stream cut short logs its end (voxclone.synthesis)
        state.access.add_audio(key, seconds)


class ClosingStream(StreamingResponse):
    """A response streamed from ``parts`` (each made in a worker thread) that closes it
    however the response ends - also when the client disconnects, which cancels the
    response - so that the stream's audit entry and quota record what was sent now,
    not whenever the abandoned generator is garbage-collected."""

    def __init__(self, parts: Iterator[bytes], *, media_type: str,
                 headers: dict[str, str]) -> None:
        super().__init__(parts, media_type=media_type, headers=headers)
        self._parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # (when cancelled, too)
                await run_in_threadpool(close, self._parts)


@router.post("/detect", tags=["watermark"])
async def detect_watermark(who: Caller, state: State,
                           file: Annotated[UploadFile, File(description="audio to check")],
                           ) -> dict[str, Any]:
    """Look for this installation's watermark in an audio file (WAV, FLAC, OGG, MP3):
    the first mark's fields, and ``marks``, every mark in time order (a file may join
    several syntheses). A synthesis record is shown only to the owner of the voice it
    was made with."""
    label = upload_label("the file", file)
    data = await read_upload(file, state.config.max_upload_bytes, label)
    # Detection takes over a second per minute of audio: off the event loop, so that
    # other requests (and the streams playing) go on meanwhile.
    return await run_in_threadpool(_detection, data, label, who, state)


def _detection(data: bytes, label: str, who: Principal, state: ServerState) -> dict[str, Any]:
    """The detection's JSON: the first mark's fields (as before several were read), and
    ``marks``, every mark in time order (a file joining several syntheses)."""
    audio = decode_upload(data, label, max_seconds=MAX_DETECT_SECONDS)
    marks = detect_all(audio, audit=state.context(who))
    described = [_mark_body(mark, who, state) for mark in marks]
    first = described[0] if described else {
        "payload": None, "false_positive_probability": 1.0, "start_s": None,
        "end_s": None, "speed": 1.0, "synthesis": None}
    return {"found": bool(marks),
            "too_short": not marks and audio.duration < MIN_DETECT_SECONDS,
            **first, "marks": described}


def _mark_body(mark: Detection, who: Principal, state: ServerState) -> dict[str, Any]:
    """One mark's fields; its synthesis record only for the owner of the voice it was
    made with (or an administrator)."""
    body: dict[str, Any] = {
        "payload": f"{mark.payload:08x}" if mark.payload is not None else None,
        "false_positive_probability": mark.false_positive_probability,
        "start_s": mark.start_s, "end_s": mark.end_s, "speed": mark.speed,
        "synthesis": None,
    }
    if mark.payload is not None:
        entry = state.audit.find_payload(mark.payload)
        if entry is not None and (entry.owner_id == who.owner.id or who.owner.is_admin):
            record = record_of(entry, state.audit)  # a stream's seconds: from its end
            body["synthesis"] = {"voice": record.voice, "created": record.created,
                                 "text_sha256": record.text_sha256,
                                 "seconds": record.seconds, "actor": record.actor,
                                 "language": record.language}
    return body
