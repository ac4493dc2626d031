"""Speech from text sent as it is written (a language model's tokens, say), streamed back
a sentence at a time: `WebSocket /v1/audio/speech/stream-input`. The whole is one
synthesis, as `POST /v1/audio/speech` makes: one audit entry, one watermark payload.

**Key.** In the handshake's `Authorization: Bearer vxk_...` header or, where that
cannot be set (a browser), as `"api_key"` in the first message; never in the URL.

**The client sends** JSON text messages:

1. the settings, first: `{"voice": "ada", "speed": 1.0, "language": "en-us",
   "sentence_pause": 0.4}` - the fields of `POST /v1/audio/speech` but `input`
   (`voice` required; `model`, `speed`, `language`, and `response_format`, which can
   only be `"pcm"`), plus `sentence_pause` (0-3 s; default: the voice's own);
2. the text, in pieces as it is written: `{"text": "Hello the"}`, `{"text": "re. How
   are"}`... Joined, the pieces are the text spoken (and hashed in the audit log). A
   sentence is spoken once the text shows it has ended: the next one begun, or a line
   break (`"\\n"`);
3. `{"end": true}` when the text is complete (or with the last piece: `{"text": "...",
   "end": true}`). Closing the connection instead stops the synthesis, which the
   audit log records as incomplete.

**The server sends:**

- `{"event": "start", "synthesis": "1a2b3c4d", "sample_rate": 24000, "format":
  "pcm_s16le"}` once the settings are accepted: `synthesis` is the watermark payload
  and audit record of the speech to come;
- binary messages: the speech, 16-bit little-endian mono PCM at 24 kHz, about a
  sentence each, as each is rendered;
- `{"event": "end", "synthesis": ..., "seconds": 4.2, "complete": true}` last:
  seconds sent (what the key is charged), `complete` false if it stopped early;
- on an error, `{"event": "error", "error": {"type": ..., "message": ...}}` as the HTTP
  routes' error bodies (`"retry_after"` seconds too for `RateLimitError`), then the end
  message if the synthesis had started; then it closes with 4000 + the error's HTTP
  status: 4401 no, unknown or revoked key; 4404 no such voice (or another owner's not
  granted to you); 4408 no text for `stream_idle_seconds` while there was none left
  to speak; 4422 a malformed message, or too much text; 4429 the key's request rate
  or audio quota, or `max_streams` connections open already; 4503 the audit log
  cannot be written; 1011 for a failure of the server. After the end message without
  an error: 1000.

**Limits** (`ServerConfig`). A message holds at most `max_text_chars` characters of
text (20,000), a connection `max_stream_chars` (100,000); while `max_text_chars` wait
to be spoken, the server reads no more messages. With all the text so far spoken, it
waits `stream_idle_seconds` (60) for the next message. The key's audio quota is
reserved as the text arrives, from its estimated length (as for `POST
/v1/audio/speech`); text that no longer fits stops the synthesis (`RateLimitError`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
from fastapi import APIRouter, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from voxclone.audio import encode_audio
from voxclone.errors import RateLimitError, TextError, UnknownKeyError
from voxclone.registry.access import Principal
from voxclone.server.auth import Poller
from voxclone.server.slots import LATER
from voxclone.server.speaking import SAMPLE_RATE, Speech, start_speech
from voxclone.server.state import ServerState, close
from voxclone.server.stream_messages import (
    INTERNAL_ERROR,
    ClientGone,
    StreamInputError,
    StreamInputSettings,
    error_message,
    parsed,
    settings_of,
    text_message_of,
)
from voxclone.server.text_feed import SlotLease, StreamStopped, TextEstimate, TextFeed

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["speech"])

PATH = "/audio/speech/stream-input"
#: Quota reserved beyond a text's estimate as it arrives, seconds: one update of the
#: key's counter every few sentences rather than one per piece.
RESERVE_AHEAD_S = 5.0
#: How often a connection with its most text waiting looks whether it may read on, s.
_BACKLOG_POLL_S = 0.05


def _caller(state: ServerState, secret: str | None) -> Principal:
    """The key's owner and key, looked up and counted against its request rate as
    every HTTP route's are (:func:`voxclone.server.auth.principal`).

    Raises:
        UnknownKeyError / RateLimitError: as :meth:`Access.authenticate`,
            :meth:`Access.charge_request`.
    """
    if not secret:
        raise UnknownKeyError(
            "this needs an API key: send 'Authorization: Bearer vxk_...' with the "
            "WebSocket handshake or, where that cannot be set (a browser), \"api_key\" in "
            "the first message - never in the URL (an operator issues keys with "
            "`voxclone key issue OWNER`)")
    who = state.access.authenticate(secret)
    state.access.charge_request(who.key)
    return who


def _handshake_key(websocket: WebSocket) -> str | None:
    scheme, value = get_authorization_scheme_param(websocket.headers.get("authorization"))
    return value if scheme.lower() == "bearer" and value else None


@router.get(PATH, status_code=426, summary="Speak text as it is written (WebSocket)",
            description=__doc__,
            responses={426: {"description": "this route is a WebSocket: connect with one"}})
async def stream_input_over_http(_who: Poller, request: Request) -> JSONResponse:
    """What a plain HTTP request gets: where to connect (and the protocol, in /docs)."""
    if request.headers.get("upgrade", "").lower() == "websocket":  # uvicorn could not
        message = ("this server cannot take WebSocket connections: install its "
                   "WebSocket library (pip install 'voxclone[server]') and restart it")
    else:
        message = (f"this route is a WebSocket: connect to ws://HOST/v1{PATH} (wss:// "
                   "over TLS); GET /docs describes its messages")
    return JSONResponse({"error": {"type": "UpgradeRequired", "message": message}},
                        status_code=426, headers={"Upgrade": "websocket"})


@router.websocket(PATH)
async def speech_stream_input(websocket: WebSocket) -> None:
    """The protocol is the module's docstring."""
    await _Connection(websocket, websocket.app.state.voxclone).serve()


class _Connection:
    """One client's stream: a task receiving its text into a :class:`TextFeed`, and one
    sending the audio that a worker thread renders from it (a thread of its own at a
    time, outside the thread pool's limit: it waits in it for text)."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.config = state.config
        self.lease = SlotLease(state.slots)
        self.feed = TextFeed(self.lease)
        self.renderer = anyio.CapacityLimiter(1)
        self.speech: Speech | None = None
        self.estimate: TextEstimate | None = None
        self.failure: BaseException | None = None
        self.complete = False
        self.ended = False
        self.sent = 0.0  # seconds of audio sent
        self.chars = 0  # characters of text received
        self.number = 0  # messages received
        self.last_message = time.monotonic()

    async def serve(self) -> None:
        await self.websocket.accept()
        try:
            with self.state.streams.one():
                await self._start()
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._receive_text, tasks.cancel_scope)
                    await self._speak(tasks.cancel_scope)
        except WebSocketDisconnect:  # (sending the start)
            self._fail(ClientGone())
        except Exception as exc:
            self._fail(exc)
        finally:
            with anyio.CancelScope(shield=True):  # (when cancelled, too)
                await self._wind_up()
        await self._report()

    def _fail(self, exc: BaseException, tasks: anyio.CancelScope | None = None) -> None:
        """Stop on ``exc`` (the first one is reported)."""
        if self.failure is None:
            self.failure = exc
            if error_message(exc)[1] == INTERNAL_ERROR and not isinstance(exc, ClientGone):
                logger.error("a stream-input connection failed", exc_info=exc)
        self.feed.stop()
        if tasks is not None:
            tasks.cancel()

    async def _start(self) -> None:
        """Check the key and settings, reserve the quota of the end's silence, and start
        the synthesis (logged; nothing rendered), telling the client its id."""
        if self.websocket.url.query:
            raise StreamInputError(
                "this route takes no URL parameters, and an API key must never be put "
                "in a URL (logs keep them): send it in the Authorization header, or as "
                "\"api_key\" in the first message")
        secret = _handshake_key(self.websocket)
        who = await run_in_threadpool(_caller, self.state, secret) if secret else None
        settings = settings_of(await self._receive_json())
        if who is None:
            key = settings.api_key.get_secret_value() if settings.api_key else None
            who = await run_in_threadpool(_caller, self.state, key)
        elif settings.api_key is not None:
            raise StreamInputError("the API key came twice: send it either in the "
                                   "Authorization header or as \"api_key\", not both")
        self.speech = await run_in_threadpool(self._begin, who, settings)
        await self.websocket.send_json({"event": "start", "synthesis": self.speech.record.hex_id,
                                        "sample_rate": SAMPLE_RATE, "format": "pcm_s16le"})

    def _begin(self, who: Principal, settings: StreamInputSettings) -> Speech:
        """:func:`voxclone.server.speaking.start_speech` of the text still to come."""
        speech = start_speech(self.feed.pieces(), settings.voice, speed=settings.speed,
                              language=settings.language, who=who, state=self.state,
                              sentence_pause=settings.sentence_pause)
        self.estimate = TextEstimate(settings.speed, speech.voice_rate)
        return speech

    async def _receive_text(self, tasks: anyio.CancelScope) -> None:
        """Hand the client's text to the feed until the client leaves or fails."""
        try:
            while True:
                data = await self._receive_json()
                if self.ended:
                    raise StreamInputError(
                        f"message {self.number} came after {{\"end\": true}}: the text was "
                        "complete; send more on a new connection")
                message = text_message_of(data, self.number)
                await self._take(message.text)
                if message.end:
                    self.ended = True
                    self.feed.end()
        except Exception as exc:
            self._fail(exc, tasks)

    async def _take(self, text: str) -> None:
        """Reserve ``text``'s estimated seconds and hand it on, once less than
        ``max_text_chars`` wait to be spoken.

        Raises:
            TextError: too much text in the message, or on this connection.
            RateLimitError: the quota has not the seconds the text so far needs.
        """
        limit = self.config.max_text_chars
        if len(text) > limit:
            raise TextError(f"message {self.number} has {len(text)} characters of text; "
                            f"send at most {limit} in one message")
        self.chars += len(text)
        if self.chars > self.config.max_stream_chars:
            raise TextError(
                f"the text has passed {self.config.max_stream_chars} characters, the most "
                "one connection may send: end it ({\"end\": true}) sooner and send the "
                "rest on a new connection")
        if self.estimate is None or not text:
            return
        needed = self.estimate.add(text)
        if self.speech is not None and needed > self.speech.quota.held:
            await run_in_threadpool(self._reserve, needed)
        while self.feed.held and self.feed.held + len(text) > limit:  # not read meanwhile
            await anyio.sleep(_BACKLOG_POLL_S)
        self.feed.put(text)

    def _reserve(self, needed: float) -> None:
        """Hold ``needed`` seconds of the quota (some ahead where they fit)."""
        if self.speech is None:
            return
        quota = self.speech.quota
        try:
            quota.cover(needed + RESERVE_AHEAD_S)
            return
        except RateLimitError:
            pass
        try:
            quota.cover(needed)
        except RateLimitError as exc:
            raise RateLimitError(
                f"the text sent so far would take about {needed:.1f} s of audio, more than "
                "this API key has left for today (UTC); the audio sent is charged. End the "
                "text sooner, or ask the key's owner for a larger quota",
                retry_after=exc.retry_after) from None

    async def _speak(self, tasks: anyio.CancelScope) -> None:
        """Send each chunk as it is rendered, until the synthesis ends or is stopped."""
        try:
            while True:
                made = await anyio.to_thread.run_sync(self._render_next,
                                                      limiter=self.renderer)
                if made is None:
                    self.complete = True
                    return
                await self.websocket.send_bytes(made[0])
                self.sent += made[1]
        except StreamStopped:
            pass  # whoever stopped it says why
        except WebSocketDisconnect:
            self._fail(ClientGone())
        except Exception as exc:
            self._fail(exc)
        finally:
            tasks.cancel()  # the receiving task too

    def _render_next(self) -> tuple[bytes, float] | None:
        """The next chunk as PCM and its seconds (None at the end), rendered holding a
        synthesis slot (given back while the text is awaited), its seconds covered by
        the quota (in the rendering thread).

        Raises:
            StreamStopped: the stream was stopped.
            RateLimitError: the audio ran past the text's estimate, past the quota.
            TextError: nothing pronounceable came; AuditError: the end is not logged.
        """
        if self.speech is None:
            return None
        self.lease.take()
        try:
            chunk = next(self.speech.chunks, None)
        finally:
            self.lease.release()
        if chunk is None:
            return None
        self.lease.priority = LATER
        self.speech.quota.cover(self.sent + chunk.duration)
        return encode_audio(chunk, "pcm"), chunk.duration

    async def _wind_up(self) -> None:
        """Stop the synthesis (its ``stream-end`` entry says how far it got) and charge
        the seconds sent."""
        self.feed.stop()  # (wakes the rendering thread if it waits for text)
        if self.speech is not None:
            await anyio.to_thread.run_sync(self._close_stream, limiter=self.renderer)

    def _close_stream(self) -> None:
        if self.speech is None:
            return
        try:
            close(self.speech.chunks)
            self.lease.release()
        finally:
            self.speech.quota.settle(self.sent)

    async def _report(self) -> None:
        """The error (if any), the end message (if a synthesis started), and the close."""
        hex_id = self.speech.record.hex_id if self.speech is not None else None
        if isinstance(self.failure, ClientGone):
            logger.info("stream-input %s: the client left after %.1f s of audio",
                        hex_id, self.sent)
            return
        code, kind = 1000, ""
        try:
            if self.failure is not None:
                body, code = error_message(self.failure)
                kind = str(body["type"])
                await self.websocket.send_json({"event": "error", "error": body})
            if hex_id is not None:
                await self.websocket.send_json({"event": "end", "synthesis": hex_id,
                                                "seconds": round(self.sent, 3),
                                                "complete": self.complete})
            await self.websocket.close(code, reason=kind)
        except (WebSocketDisconnect, RuntimeError, OSError):
            logger.info("stream-input %s: the client left before its end was sent", hex_id)

    async def _receive_json(self) -> dict[str, Any]:
        """The client's next message, a JSON object.

        Raises:
            ClientGone: the client closed the connection.
            StreamInputError / TextError: as :func:`parsed`; or no message in time.
        """
        message = await self._receive()
        self.number += 1
        return parsed(message, self.number, self.config.max_text_chars)

    async def _receive(self) -> Message:
        """The next message, waiting ``stream_idle_seconds`` at most while there is no
        text to speak (before the settings, after the text so far is spoken)."""
        idle = self.config.stream_idle_seconds
        while True:
            if self.speech is None:
                since: float | None = self.last_message
            else:
                starved = None if self.ended else self.feed.starved_since
                since = None if starved is None else max(starved, self.last_message)
            wait = idle if since is None else since + idle - time.monotonic()
            if wait <= 0:
                what = "the settings" if self.speech is None else "more text"
                raise StreamInputError(
                    f"no message for {idle:g} s while waiting for {what}: send the text as "
                    "it is written, and {\"end\": true} when it is complete",
                    kind="RequestTimeout", status=408)
            with anyio.move_on_after(wait):
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    raise ClientGone()
                self.last_message = time.monotonic()
                return message
