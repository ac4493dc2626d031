"""``POST /v1/audio/speech`` with OpenAI's ``stream_format: "sse"``: the audio as
server-sent events. Joined, the deltas are the file ``"audio"`` would send, streamed
sentence by sentence for wav and pcm, watermarked; the last event is ``done``, or an
``error`` where the key's quota ended the audio."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.server import speaking, speech_events

from .server_helpers import Owner, add_owner, register_voice

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True

THREE_SENTENCES = ("The train left the station at noon. Nobody was on the platform. "
                   "A dog slept in the shade of the ticket office.")


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    owner = add_owner("alice")
    register_voice("alice", "ada")
    return owner


def ask(client: TestClient, owner: Owner, fmt: str, text: str = THREE_SENTENCES) -> Any:
    return client.post("/v1/audio/speech", headers=owner.headers,
                       json={"model": "gpt-4o-mini-tts", "voice": "ada", "input": text,
                             "response_format": fmt, "stream_format": "sse"})


def events_of(body: str) -> list[dict[str, Any]]:
    """The events of a ``text/event-stream`` body: each a ``data:`` line, then a blank
    line (what an SSE client splits on)."""
    blocks = body.split("\n\n")
    assert blocks[-1] == "", "an event stream ends with a blank line"
    events = []
    for block in blocks[:-1]:
        field, _, value = block.partition(": ")
        assert field == "data" and "\n" not in value, block
        events.append(json.loads(value))
    return events


def audio_of(events: list[dict[str, Any]]) -> bytes:
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert events[:len(deltas)] == deltas, "every delta comes before the end"
    return b"".join(base64.b64decode(e["audio"], validate=True) for e in deltas)


def pcm_audio(data: bytes) -> Audio:
    return Audio(np.frombuffer(data, "<i2").astype(np.float32) / 32768, 24_000)


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "opus"])
def test_the_deltas_are_the_file_and_it_carries_the_mark(client: TestClient, alice: Owner,
                                                         fmt: str) -> None:
    response = ask(client, alice, fmt)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = events_of(response.text)
    assert events[-1] == {"type": "speech.audio.done", "usage": {
        "input_tokens": 0, "output_tokens": 0, "total_tokens": 0}}
    data = audio_of(events)
    deltas = len(events) - 1
    if fmt in ("wav", "pcm"):  # streamed: a delta per sentence (and the header first)
        assert deltas >= 3 + (fmt == "wav")
    else:  # made whole, sent in pieces
        assert deltas == -(-len(data) // speech_events.PIECE_BYTES)
    if fmt == "wav":
        assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if fmt == "opus":
        assert data[:4] == b"OggS" and b"OpusHead" in data[:64]
    audio = pcm_audio(data) if fmt == "pcm" else load_audio(data)
    assert 4.0 < audio.duration < 15.0
    found = voxclone.detect(audio)
    assert found.found and f"{found.payload:08x}" == response.headers["X-Voxclone-Synthesis"]


def test_events_come_as_the_sentences_are_rendered(client: TestClient, alice: Owner) -> None:
    """The first delta is sent before the rest is made: read it, then hang up."""
    with client.stream("POST", "/v1/audio/speech", headers=alice.headers,
                       json={"voice": "ada", "input": THREE_SENTENCES * 4,
                             "response_format": "pcm", "stream_format": "sse"}) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
    event = json.loads(first.removeprefix("data: "))
    assert event["type"] == "speech.audio.delta"
    assert 0.5 < pcm_audio(base64.b64decode(event["audio"])).duration < 6.0  # one sentence


def test_where_the_quota_ends_the_stream_ends_with_an_error_event(
        client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Audio past the estimate (numbers, abbreviations) stops at the quota: the events
    say so, where a raw stream could only stop."""
    monkeypatch.setattr(speaking, "estimate_seconds", lambda *args: 0.5)
    issued = client.post("/v1/keys", headers=alice.headers,
                         json={"label": "small", "quota_seconds_per_day": 4.0}).json()
    response = ask(client, Owner("alice", issued["key"]), "pcm", THREE_SENTENCES * 3)
    assert response.status_code == 200
    events = events_of(response.text)
    assert "speech.audio.done" not in [e["type"] for e in events]
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "RateLimitError"
    assert "longer than estimated" in events[-1]["error"]["message"]
    assert 0 < pcm_audio(audio_of(events[:-1])).duration <= 4.0


def test_an_unknown_stream_format_is_named(client: TestClient, alice: Owner) -> None:
    response = client.post("/v1/audio/speech", headers=alice.headers,
                           json={"voice": "ada", "input": "Hello.", "stream_format": "chunks"})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "stream_format" in message and "'sse'" in message, message
