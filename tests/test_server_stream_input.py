"""WebSocket /v1/audio/speech/stream-input: text sent as it is written is spoken back a
sentence at a time, as one synthesis (one audit entry, one watermark payload), with the
speech route's guarantees: the key's voices only, its quota, the synthesis slots; and
every mistake a client can make gets a clear error and a fitting close code."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import voxclone
from voxclone import synthesis
from voxclone.audio import Audio
from voxclone.audit import AuditLog
from voxclone.registry import open_database
from voxclone.registry.access import Access
from voxclone.server.quota import CHARS_PER_SECOND, estimate_seconds
from voxclone.server.slots import SynthesisSlots
from voxclone.server.state import ServerConfig
from voxclone.server.text_feed import SlotLease, StreamStopped, TextEstimate, TextFeed

from .server_helpers import Owner, add_owner, register_voice, serving, used_seconds

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True

URL = "/v1/audio/speech/stream-input"
#: A text as a language model writes it: in pieces that cut words and sentences.
PIECES = ["The train left ", "the station at noon. No", "body was on ", "the platform. ",
          "She looked at the clock twice."]
#: The pieces that hold the first sentence's end and the next one's start.
FIRST_SENTENCE_SENT = 2

_RECEIVER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ws-test-receive")


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    owner = add_owner("alice")
    register_voice("alice", "ada")
    return owner


@pytest.fixture(scope="module")
def bob(client: TestClient) -> Owner:
    owner = add_owner("bob")
    register_voice("bob", "bea")
    return owner


@pytest.fixture(scope="module")
def limited(client: TestClient) -> Iterator[TestClient]:
    """A second server over the same home, with small limits."""
    from voxclone.server import create_app

    config = ServerConfig(max_text_chars=40, max_stream_chars=60, stream_idle_seconds=0.5)
    with TestClient(create_app(config=config)) as test_client:
        yield test_client


def receive(ws: Any, timeout: float = 120.0) -> dict[str, Any]:
    """The server's next message (failing the test rather than hanging it)."""
    message: dict[str, Any] = _RECEIVER.submit(ws.receive).result(timeout=timeout)
    return message


def event(ws: Any) -> dict[str, Any]:
    message = receive(ws)
    assert message.get("text") is not None, message
    data: dict[str, Any] = json.loads(message["text"])
    return data


def drain(ws: Any) -> tuple[bytes, list[dict[str, Any]], dict[str, Any]]:
    """Everything the server sends until it closes: the audio, the JSON messages, and
    the close message."""
    audio, events = bytearray(), []
    while True:
        message = receive(ws)
        if message["type"] == "websocket.close":
            return bytes(audio), events, message
        if message.get("bytes") is not None:
            audio += message["bytes"]
        else:
            events.append(json.loads(message["text"]))


def pcm_audio(data: bytes) -> Audio:
    return Audio(np.frombuffer(data, "<i2").astype(np.float32) / 32768, 24_000)


def last_seq() -> int:
    entries = AuditLog().entries()
    return entries[-1].seq if entries else 0


def refused(ws: Any, kind: str, code: int, *words: str) -> dict[str, Any]:
    """Check that the server sends an error of ``kind`` (whose message has ``words``),
    then an end message if a synthesis started, then closes with ``code``."""
    _audio, events, closed = drain(ws)
    assert events and events[0]["event"] == "error", events
    error: dict[str, Any] = events[0]["error"]
    assert error["type"] == kind, error
    for word in words:
        assert word in error["message"], error
    assert closed["code"] == code and closed["reason"] == kind, closed
    if len(events) > 1:
        assert events[1]["event"] == "end" and events[1]["complete"] is False, events
    return events[-1]


def test_speech_comes_back_while_the_text_is_still_written(
        client: TestClient, alice: Owner) -> None:
    before, charged = last_seq(), used_seconds(alice)
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada", "model": "tts-1"})
        start = event(ws)
        assert start == {"event": "start", "synthesis": start["synthesis"],
                         "sample_rate": 24_000, "format": "pcm_s16le"}
        for piece in PIECES[:FIRST_SENTENCE_SENT]:
            ws.send_json({"text": piece})
        # the first sentence has ended (the next begun): its audio comes while the rest
        # of the text is yet to be written
        first = receive(ws)
        assert first.get("bytes"), first
        for piece in PIECES[FIRST_SENTENCE_SENT:]:
            ws.send_json({"text": piece})
        ws.send_json({"end": True})
        rest, events, closed = drain(ws)
    assert closed["code"] == 1000
    pcm = first["bytes"] + rest
    end = events[-1]
    assert events == [{"event": "end", "synthesis": start["synthesis"],
                       "seconds": end["seconds"], "complete": True}]
    assert end["seconds"] == pytest.approx(len(pcm) / 48_000, abs=1e-3)
    assert 5.0 < end["seconds"] < 15.0  # three sentences
    payload = int(start["synthesis"], 16)
    mark = voxclone.detect(pcm_audio(pcm))
    assert mark.found and mark.payload == payload
    # one synthesis, logged as alice's key for alice's voice; its end has the text's digest
    log = AuditLog()
    started = log.entries(event="synthesis", after=before)
    assert [entry.payload for entry in started] == [payload]
    key = Access(open_database()).authenticate(alice.key)
    assert started[0].actor == f"key:{key.key.prefix}" and started[0].owner_id == key.owner.id
    text = "".join(PIECES)
    ending = log.find_payload(payload, event="stream-end")
    assert ending is not None and ending.seq > started[0].seq
    fingerprinted = ending.details.pop("fingerprint_sha256")  # (tests/test_fingerprint.py)
    assert isinstance(fingerprinted, str) and len(fingerprinted) == 64
    assert ending.details == {"seconds": end["seconds"], "complete": True,
                              "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                              "characters": len(text), "language": "en-us"}
    record = voxclone.find_synthesis(payload)
    assert record is not None and record.text_sha256 == ending.details["text_sha256"]
    assert used_seconds(alice) - charged == pytest.approx(end["seconds"], abs=2e-3)


def test_a_browser_sends_the_key_in_the_first_message(client: TestClient,
                                                     alice: Owner) -> None:
    with client.websocket_connect(URL) as ws:
        ws.send_json({"voice": "ada", "api_key": alice.key, "speed": 1.2,
                      "sentence_pause": 0.2, "language": "en-us"})
        assert event(ws)["event"] == "start"
        ws.send_json({"text": "Good morning.", "end": True})
        audio, events, closed = drain(ws)
    assert closed["code"] == 1000 and events[-1]["complete"] is True
    assert 0.5 < len(audio) / 48_000 == pytest.approx(events[-1]["seconds"], abs=1e-3)


BAD_KEY = "vxk_000000000000_" + "a" * 32


@pytest.mark.parametrize(("in_header", "in_message", "query", "kind", "code", "words"), [
    ("bad", None, "", "UnknownKeyError", 4401, ("unknown API key",)),
    (None, None, "", "UnknownKeyError", 4401, ("\"api_key\" in the first message",
                                              "Authorization: Bearer")),
    (None, "bad", "", "UnknownKeyError", 4401, ("unknown API key",)),
    ("alice", "alice", "", "RequestValidationError", 4422, ("not both",)),
    ("alice", None, "?api_key=x", "RequestValidationError", 4422,
     ("never be put in a URL",)),
], ids=["bad-in-header", "none", "bad-in-message", "twice", "in-url"])
def test_keys_are_checked(client: TestClient, alice: Owner, in_header: str | None,
                          in_message: str | None, query: str, kind: str, code: int,
                          words: tuple[str, ...]) -> None:
    keys = {"alice": alice.key, "bad": BAD_KEY}
    headers = {"Authorization": f"Bearer {keys[in_header]}"} if in_header else {}
    settings: dict[str, Any] = {"voice": "ada"}
    if in_message:
        settings["api_key"] = keys[in_message]
    before = last_seq()
    with client.websocket_connect(URL + query, headers=headers) as ws:
        if in_header != "bad":  # (a bad key in the handshake is refused at once)
            ws.send_json(settings)
        refused(ws, kind, code, *words)
    assert AuditLog().entries(event="synthesis", after=before) == []


@pytest.mark.parametrize("voice", ["nobody", "bea", "bob/bea"])
def test_only_the_keys_voices_speak(client: TestClient, alice: Owner, bob: Owner,
                                    voice: str) -> None:
    before = last_seq()
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": voice})
        refused(ws, "VoiceNotFoundError", 4404, repr(voice))
    assert AuditLog().entries(event="synthesis", after=before) == []


@pytest.mark.parametrize(("message", "words"), [
    ("{voice: ada", ("message 1 is not valid JSON",)),
    ("[1, 2]", ("must be a JSON object",)),
    ({"voice": "ada", "colour": "red"}, ("colour is not a field",)),
    ({"voice": "ada", "speed": "fast"}, ("speed is not valid",)),
    ({"voice": "ada", "speed": 3}, ("speed must be at most 2",)),
    ({"speed": 1.0}, ("voice is required",)),
    ({"voice": "ada", "response_format": "mp3"}, ("response_format must be one of",)),
    ({"voice": "ada", "text": "Hello."}, ("only the settings",)),
    (b'{"voice": "ada"}', ("binary",)),
], ids=["json", "list", "unknown-field", "type", "range", "missing", "format", "text",
        "binary"])
def test_malformed_settings_are_refused(client: TestClient, alice: Owner,
                                        message: Any, words: tuple[str, ...]) -> None:
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        send_any(ws, message)
        assert refused(ws, "RequestValidationError", 4422, *words)["event"] == "error"


def send_any(ws: Any, message: Any) -> None:
    if isinstance(message, bytes):
        ws.send_bytes(message)
    elif isinstance(message, str):
        ws.send_text(message)
    else:
        ws.send_json(message)


@pytest.mark.parametrize(("messages", "kind", "words"), [
    ([{"txt": "Hello."}], "RequestValidationError", ("message 2", "txt is not a field")),
    ([{"text": 5}], "RequestValidationError", ("text is not valid",)),
    ([{"text": "Hello", "end": "yes"}], "RequestValidationError", ("end is not valid",)),
    ([{}], "RequestValidationError", ("message 2 is empty",)),
    ([{"text": "Hello. "}, "oops"], "RequestValidationError", ("message 3 is not valid",)),
    ([b"Hello."], "RequestValidationError", ("binary",)),
    ([{"text": "... !"}, {"end": True}], "TextError", ("nothing to pronounce",)),
], ids=["unknown-field", "type", "end-type", "empty", "json", "binary", "no-words"])
def test_malformed_text_messages_stop_the_synthesis(
        client: TestClient, alice: Owner, messages: list[Any], kind: str,
        words: tuple[str, ...]) -> None:
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        payload = int(event(ws)["synthesis"], 16)
        for message in messages:
            send_any(ws, message)
        end = refused(ws, kind, 4422, *words)
    assert end == {"event": "end", "synthesis": f"{payload:08x}", "seconds": 0.0,
                   "complete": False}
    ending = AuditLog().find_payload(payload, event="stream-end")
    assert ending is not None and ending.details["complete"] is False


def instrument(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times at which the engine starts rendering a chunk, as it does."""
    engine = synthesis._synthesizer().engine
    real = engine.render
    started: list[float] = []

    def render(ids: Any, style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        started.append(time.monotonic())
        return real(ids, style, speed)

    monkeypatch.setattr(engine, "render", render)
    return started


def test_a_client_that_leaves_stops_the_synthesis(client: TestClient, alice: Owner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = instrument(monkeypatch)
    charged = used_seconds(alice)
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        payload = int(event(ws)["synthesis"], 16)
        ws.send_json({"text": "The train left the station at noon. Nobody was"})
        received = receive(ws)["bytes"]  # the first sentence's start; then hang up
    chunks = len(rendered)
    ending = AuditLog().find_payload(payload, event="stream-end")  # logged as it closed
    assert ending is not None and ending.details["complete"] is False
    assert len(received) / 48_000 <= ending.details["seconds"] < 6.0
    assert ending.details["characters"] == len("The train left the station at noon. Nobody was")
    assert 0 < used_seconds(alice) - charged <= ending.details["seconds"] + 1e-3
    time.sleep(1.0)
    assert len(rendered) == chunks <= 2  # nothing rendered since: the lead-in and its rest


def test_a_stream_waiting_for_text_holds_no_synthesis_slot(client: TestClient,
                                                           alice: Owner) -> None:
    slots = client.app.state.voxclone.slots  # type: ignore[attr-defined]
    assert slots._free == 1  # (the default: one synthesis at a time)
    with client.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        assert event(ws)["event"] == "start"
        ws.send_json({"text": "The train left"})  # unfinished: it waits for the rest
        time.sleep(0.2)
        answers: list[Any] = []
        asked = threading.Thread(target=lambda: answers.append(client.post(
            "/v1/audio/speech", headers=alice.headers,
            json={"voice": "ada", "input": "Good morning.", "response_format": "flac"})))
        asked.start()
        asked.join(timeout=30)  # (well before the stream's idle timeout, 60 s)
        assert answers and answers[0].status_code == 200, answers
        ws.send_json({"text": " the station at noon.", "end": True})
        audio, events, closed = drain(ws)
    assert closed["code"] == 1000 and events[-1]["complete"] is True and audio


def key_of(client: TestClient, owner: Owner, quota: float) -> Owner:
    issued = client.post("/v1/keys", headers=owner.headers,
                         json={"label": f"q{quota}", "quota_seconds_per_day": quota}).json()
    return Owner(owner.name, issued["key"])


def test_the_quota_is_reserved_as_the_text_arrives(client: TestClient,
                                                   alice: Owner) -> None:
    before = last_seq()
    spent = key_of(client, alice, 0.3)  # not even the end's silence fits
    with client.websocket_connect(URL, headers=spent.headers) as ws:
        ws.send_json({"voice": "ada"})
        refused(ws, "RateLimitError", 4429, "0.3 s of audio left")
    assert AuditLog().entries(event="synthesis", after=before) == []
    small = key_of(client, alice, 8.0)
    long_text = "The train left the station at noon, and nobody was on the platform. " * 4
    assert estimate_seconds(long_text) > 8.0
    with client.websocket_connect(URL, headers=small.headers) as ws:
        ws.send_json({"voice": "ada"})
        assert event(ws)["event"] == "start"
        ws.send_json({"text": long_text})
        _audio, events, closed = drain(ws)
    assert events[0]["event"] == "error" and closed["code"] == 4429
    assert events[0]["error"]["type"] == "RateLimitError"
    assert "the text sent so far would take about" in events[0]["error"]["message"]
    assert events[0]["error"]["retry_after"] >= 1
    assert events[1]["complete"] is False
    assert used_seconds(small) == pytest.approx(events[1]["seconds"], abs=2e-3)


def test_text_and_waiting_are_limited(limited: TestClient, alice: Owner) -> None:
    with limited.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        assert event(ws)["event"] == "start"
        ws.send_json({"text": "x" * 41})
        refused(ws, "TextError", 4422, "message 2 has 41 characters", "at most 40")
    with limited.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        assert event(ws)["event"] == "start"
        for _ in range(3):
            ws.send_json({"text": "one two three four five six "})  # 28 each
        refused(ws, "TextError", 4422, "passed 60 characters", "new connection")
    with limited.websocket_connect(URL, headers=alice.headers) as ws:  # no settings
        refused(ws, "RequestTimeout", 4408, "no message for 0.5 s", "the settings")
    with limited.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        assert event(ws)["event"] == "start"
        ws.send_json({"text": "Hello"})
        refused(ws, "RequestTimeout", 4408, "more text")


def test_streams_open_at_once_are_limited(client: TestClient, alice: Owner) -> None:
    from voxclone.server import create_app

    with TestClient(create_app(config=ServerConfig(max_streams=1))) as one_stream:
        with one_stream.websocket_connect(URL, headers=alice.headers) as first:
            first.send_json({"voice": "ada"})
            assert event(first)["event"] == "start"
            with one_stream.websocket_connect(URL, headers=alice.headers) as second:
                refused(second, "RateLimitError", 4429, "1 text streams are open",
                        "--max-streams")
            first.send_json({"text": "Hello there.", "end": True})
            assert drain(first)[2]["code"] == 1000
        for _ in range(100):  # the first one's count is given back as it winds up
            with one_stream.websocket_connect(URL, headers=alice.headers) as again:
                again.send_json({"voice": "ada"})
                if event(again)["event"] == "start":
                    break
            time.sleep(0.05)
        else:
            pytest.fail("a stream ended, yet no other could open")


def test_no_more_text_is_read_while_max_text_chars_wait(limited: TestClient,
                                                       alice: Owner) -> None:
    slots = limited.app.state.voxclone.slots  # type: ignore[attr-defined]
    with limited.websocket_connect(URL, headers=alice.headers) as ws:
        ws.send_json({"voice": "ada"})
        payload = int(event(ws)["synthesis"], 16)
        with slots.slot():  # the only slot: nothing is rendered, the text waits
            ws.send_json({"text": "The train left at noon. "})
            ws.send_json({"text": "Nobody was on the platform. "})  # 52 > 40 waiting
            ws.send_json({"txt": "a mistake"})  # not read yet
            pending = _RECEIVER.submit(ws.receive)
            with pytest.raises(FutureTimeout):
                pending.result(timeout=0.5)
        # the renderer takes the first piece, which makes room for the second; then the
        # next message is read (and refused: the stream stops)
        first = pending.result(timeout=120)
        _audio, events, closed = drain(ws)
    if first.get("text") is not None:
        events.insert(0, json.loads(first["text"]))
    assert events[0]["event"] == "error", events
    assert "message 4: invalid request: txt is not a field" in events[0]["error"]["message"]
    assert closed["code"] == 4422
    ending = AuditLog().find_payload(payload, event="stream-end")
    # (had the mistake been read at once, it would have stopped the stream before the
    # renderer took any text)
    assert ending is not None and ending.details["characters"] >= 24


def test_a_plain_http_request_is_told_to_use_a_websocket(client: TestClient,
                                                         alice: Owner) -> None:
    response = client.get(URL, headers=alice.headers)
    assert response.status_code == 426 and response.headers["upgrade"] == "websocket"
    assert "ws://HOST/v1/audio/speech/stream-input" in response.json()["error"]["message"]
    described = client.app.openapi()["paths"][URL]["get"]["description"]  # type: ignore[attr-defined]
    assert '{"end": true}' in described and "4429" in described


def test_the_estimate_of_arriving_text_is_the_estimate_of_the_whole() -> None:
    rng = random.Random(7)
    text = ("Hello  there. 今日は いい天気ですね。 The train left at 12:30 -- on time!\n\n"
            "   Nobody <break  time=\"1.5s\"/>  was there. a < b <break/> ") * 3
    for speed, rate in ((1.0, 1.0), (1.5, 0.8)):
        estimate = TextEstimate(speed, rate)
        cuts = sorted(rng.sample(range(1, len(text)), 60))
        for start, stop in zip([0, *cuts], [*cuts, len(text)], strict=True):
            estimate.add(text[start:stop])
        assert estimate.seconds == pytest.approx(estimate_seconds(text, speed, rate))
    one_by_one = TextEstimate(1.0, 1.0)
    for character in text:
        one_by_one.add(character)
    assert one_by_one.seconds == pytest.approx(estimate_seconds(text))
    # three times 1.5 s and 0.75 s of silence; each of the six tags leaves a space more
    untagged = re.sub(r"<break[^>]*>", "", text)
    assert estimate_seconds(text) - estimate_seconds(untagged) == \
        pytest.approx(6.75 + 6 / CHARS_PER_SECOND)


@pytest.mark.parametrize(("field", "value"), [("max_stream_chars", 0), ("max_streams", 0),
                                              ("stream_idle_seconds", 0.0),
                                              ("stream_idle_seconds", float("nan"))])
def test_the_limits_are_checked(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"ServerConfig.{field} must be a positive"):
        ServerConfig(**{field: value})


def test_the_feed_hands_on_text_and_waits_without_the_slot() -> None:
    slots = SynthesisSlots(1)
    lease = SlotLease(slots)
    feed = TextFeed(lease)
    feed.put("x" * (TextFeed.PULL_CHARS + 500))
    lease.take()
    pieces = feed.pieces()
    assert next(pieces) == "x" * TextFeed.PULL_CHARS and feed.held == 500
    assert next(pieces) == "x" * 500 and feed.held == 0
    pulled: list[Any] = []

    def pull() -> None:
        try:
            pulled.append(next(pieces))
        except StreamStopped as exc:
            pulled.append(exc)

    waiting = threading.Thread(target=pull)
    waiting.start()
    deadline = time.monotonic() + 10
    while feed.starved_since is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert feed.starved_since is not None
    with slots.slot():  # free while the feed waits for text
        pass
    feed.put("Hello.")
    waiting.join(timeout=10)
    assert pulled == ["Hello."] and feed.starved_since is None
    waiting = threading.Thread(target=pull)
    waiting.start()
    feed.stop()  # wakes it: the stream ends there
    waiting.join(timeout=10)
    assert isinstance(pulled[-1], StreamStopped)
    lease.release()
    ended = TextFeed(SlotLease(slots))
    ended.put("Bye.")
    ended.end()
    assert list(ended.pieces()) == ["Bye."]


def test_a_real_server_speaks_over_a_websocket(module_home: Path, alice: Owner) -> None:
    """uvicorn with its WebSocket library (the server extra), as `voxclone serve` runs."""
    client = pytest.importorskip("websockets.sync.client")
    from websockets.exceptions import ConnectionClosed

    with serving(module_home) as port:
        url = f"ws://127.0.0.1:{port}{URL}"
        with client.connect(url, additional_headers=alice.headers, open_timeout=30) as ws:
            ws.send(json.dumps({"voice": "ada"}))
            start = json.loads(ws.recv(timeout=60))
            ws.send(json.dumps({"text": "Good morning. How are"}))
            audio = ws.recv(timeout=60)  # the first sentence, before the rest is sent
            assert isinstance(audio, bytes) and audio
            ws.send(json.dumps({"text": " you?", "end": True}))
            messages: list[str | bytes] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(ws.recv(timeout=60))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
        assert isinstance(messages[-1], str)
        end = json.loads(messages[-1])
        assert end["synthesis"] == start["synthesis"] and end["complete"] is True
        assert all(isinstance(m, bytes) for m in messages[:-1])
        sent = len(audio) + sum(map(len, messages[:-1]))
        assert sent / 48_000 == pytest.approx(end["seconds"], abs=1e-3)
        with client.connect(url, additional_headers={"Authorization": f"Bearer {BAD_KEY}"},
                            open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=60))["error"]["type"] == "UnknownKeyError"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=60)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

