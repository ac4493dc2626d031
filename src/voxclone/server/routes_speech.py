"""Speech (OpenAI-compatible ``POST /v1/audio/speech``, streamed as sentences are ready
for ``wav`` and ``pcm``) and watermark detection."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from voxclone.audio import encode_audio
from voxclone.detection import MAX_DETECT_SECONDS, detect_all, mark_json, not_found
from voxclone.errors import AudioFormatError, TextError
from voxclone.provenance import record_of
from voxclone.registry.access import Principal
from voxclone.server import speech_events
from voxclone.server.auth import Caller, State
from voxclone.server.speaking import (
    SAMPLE_RATE,
    speech_stream,
    start_speech,
    start_whole,
    wav_stream_header,
    whole_speech,
)
from voxclone.server.state import ServerState
from voxclone.server.uploads import decode_upload, read_upload, upload_label
from voxclone.watermark import Detection

router = APIRouter(prefix="/v1", tags=["speech"])

#: ``opus`` is Opus in an Ogg file (RFC 7845's ``audio/ogg``), as OpenAI's is.
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac",
               "pcm": "audio/pcm", "ogg": "audio/ogg", "opus": "audio/ogg"}
#: OpenAI formats voxclone has no encoder for.
UNSUPPORTED = ("aac",)
STREAMED = ("wav", "pcm")
#: What a request whose client disconnected gets (nginx's "client closed request").
CLIENT_CLOSED_REQUEST = 499

__all__ = ["SAMPLE_RATE", "router", "wav_stream_header"]


class SpeechRequest(BaseModel):
    """OpenAI's speech request; ``voice`` is one of your voices (``NAME``) or one
    granted to you (``OWNER/NAME``)."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field("voxclone", max_length=100,
                       description="accepted for compatibility (tts-1, ...); voxclone "
                                   "always uses its cloning engine")
    input: str = Field(min_length=1, description="the text to speak (at most the server's "
                                                 "max_text_chars, 20,000 by default); SSML "
                                                 "<break time=\"1.5s\"/> tags are pauses")
    voice: str = Field(min_length=1, max_length=170)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm", "ogg"] = "mp3"
    speed: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate, 0.5-2.0")
    language: str | None = Field(None, max_length=16,
                                 description="the text's language (es, fr, it, pt-br, hi, ja, "
                                             "zh, en-us, en-gb); default: hi/ja/zh detected "
                                             "from the script, else en-us")
    instructions: str | None = Field(None, max_length=4096,
                                     description="accepted for compatibility; ignored")
    stream_format: Literal["audio", "sse"] = Field(
        "audio", description="audio: the file as the body; sse: server-sent events, "
                             "speech.audio.delta (base64 of the file's next bytes), then "
                             "speech.audio.done (or error, where the quota ended)")


@router.post("/audio/speech", response_class=Response,
             responses={200: {"content": {t: {} for t in (*MEDIA_TYPES.values(),
                                                          speech_events.MEDIA_TYPE)},
                              "description": "watermarked speech; header "
                                             "X-Voxclone-Synthesis names its record"}})
async def speech(body: SpeechRequest, who: Caller, state: State, request: Request,
                 ) -> Response:
    """Speak ``input`` in ``voice``. ``wav`` and ``pcm`` (16-bit mono 24 kHz) stream
    sentence by sentence; other formats come whole. Either way the text is rendered a
    sentence at a time, other requests going between; a request whose client
    disconnects stops rendering. ``stream_format`` ``sse`` sends the same bytes as
    OpenAI's server-sent events (:mod:`voxclone.server.speech_events`)."""
    limit = state.config.max_text_chars
    if len(body.input) > limit:
        raise TextError(f"input has {len(body.input)} characters; send at most {limit} in "
                        "one request, or stream a longer text over WebSocket "
                        "/v1/audio/speech/stream-input")
    if body.response_format in UNSUPPORTED:
        raise AudioFormatError(f"response_format {body.response_format!r} is not supported; "
                               "use mp3, opus, wav, flac, pcm or ogg")
    media_type = MEDIA_TYPES[body.response_format]
    if body.response_format in STREAMED:
        started = await run_in_threadpool(
            functools.partial(start_speech, body.input, body.voice, speed=body.speed,
                              language=body.language, who=who, state=state))
        return speech_stream(started, body.response_format, state, media_type=media_type,
                             events=body.stream_format == "sse")
    whole = await run_in_threadpool(
        functools.partial(start_whole, body.input, body.voice, speed=body.speed,
                          language=body.language, who=who, state=state))
    made = await whole_speech(whole, state, request)
    if made is None:  # nobody is listening
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    audio, record = made
    data = await run_in_threadpool(encode_audio, audio, body.response_format)
    headers = {"X-Voxclone-Synthesis": record.hex_id,
               "X-Voxclone-Seconds": f"{audio.duration:.3f}"}
    if body.stream_format == "sse":  # made whole, then sent as events
        return Response(b"".join(speech_events.file_events(data)),
                        media_type=speech_events.MEDIA_TYPE,
                        headers={**headers, **speech_events.HEADERS})
    return Response(data, media_type=media_type, headers=headers)


@router.post("/detect", tags=["watermark"])
async def detect_watermark(who: Caller, state: State,
                           file: Annotated[UploadFile, File(description="audio to check")],
                           ) -> dict[str, Any]:
    """Look for this installation's watermark in an audio file (WAV, FLAC, OGG, MP3):
    the first mark's fields, and ``marks``, every mark in time order (a file may join
    several syntheses). Where no mark can be read, a clip that matches the stored
    fingerprint of one of this server's syntheses is reported with ``matched_by``
    ``"fingerprint"``. A synthesis record is shown only to the owner of the voice it
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
    nothing = Detection(found=False) if marks else not_found(data, audio.duration)
    described = [_mark_body(mark, who, state) for mark in marks]
    first = described[0] if described else _mark_body(nothing, who, state)
    return {"found": bool(marks), "too_short": nothing.too_short,
            "low_bitrate": nothing.low_bitrate, **first, "marks": described}


def _mark_body(mark: Detection, who: Principal, state: ServerState) -> dict[str, Any]:
    """One mark's fields; its synthesis record only for the owner of the voice it was
    made with (or an administrator)."""
    entry = None if mark.payload is None else state.audit.find_payload(mark.payload)
    if entry is None or not (entry.owner_id == who.owner.id or who.owner.is_admin):
        return mark_json(mark, None)
    return mark_json(mark, record_of(entry, state.audit))  # a stream's seconds: its end
