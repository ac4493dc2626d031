"""The speech route shares the synthesis slot: a whole (non-streamed) request is rendered
a sentence at a time, so a short request goes between the sentences of a long one; and
a request whose client goes away stops rendering, is logged as cut short and is
charged for what was rendered. (Quotas: test_server_quota.py.)

The engine is instrumented, not slowed: the tests follow the order in which chunks are
rendered, so they depend on no timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient

import voxclone
from voxclone import synthesis
from voxclone.audio import load_audio
from voxclone.audit import AuditLog

from .server_helpers import Owner, add_owner, post_then_hang_up, register_voice, used_seconds

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True

LONG = ("The train left the station at noon. Nobody was on the platform. "
        "She looked at the clock twice. Then she picked up her bag. "
        "The rain had stopped by the time she reached the bridge.")
SHORT = "Good morning. This is a cloned voice, speaking over HTTP."
#: The short request's speed, which tells its chunks from the long one's.
SHORT_SPEED = 1.5


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    owner = add_owner("alice")
    register_voice("alice", "ada")
    return owner


Render = Callable[[Any, np.ndarray, float], np.ndarray]


def instrument(monkeypatch: pytest.MonkeyPatch,
               before: Callable[[float], None]) -> None:
    """Call ``before(speed)`` as the engine starts each chunk (in the rendering thread,
    holding the synthesis slot)."""
    engine = synthesis._synthesizer().engine
    real: Render = engine.render

    def render(ids: Any, style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        before(speed)
        return real(ids, style, speed)

    monkeypatch.setattr(engine, "render", render)


def test_a_short_request_goes_between_the_chunks_of_a_long_one(
        client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    slots = client.app.state.voxclone.slots  # type: ignore[attr-defined]
    order: list[str] = []
    long_started = threading.Event()

    def before(speed: float) -> None:
        who = "short" if speed == SHORT_SPEED else "long"
        if not order:
            # The long request's first chunk: hold the slot (as rendering it does) until
            # the short request waits for it.
            long_started.set()
            deadline = time.monotonic() + 120
            while not slots.waiting and time.monotonic() < deadline:
                time.sleep(0.01)
        order.append(who)

    instrument(monkeypatch, before)
    responses: dict[str, Any] = {}

    def ask(name: str, text: str, speed: float) -> None:
        responses[name] = client.post(
            "/v1/audio/speech", headers=alice.headers,
            json={"voice": "ada", "input": text, "speed": speed, "response_format": "flac"})

    long = threading.Thread(target=ask, args=("long", LONG, 1.0))
    long.start()
    assert long_started.wait(timeout=120)
    short = threading.Thread(target=ask, args=("short", SHORT, SHORT_SPEED))
    short.start()
    short.join(timeout=300)
    long.join(timeout=300)
    # The short request started right after the chunk the long one was rendering, and
    # was done before the long one: not after the long one's last chunk.
    assert order[:2] == ["long", "short"], order
    assert order[-1] == "long" and order.count("long") >= 5, order
    for name in ("long", "short"):
        response = responses[name]
        assert response.status_code == 200, response.text
        audio = load_audio(response.content)  # watermarked, headers as before
        seconds = float(response.headers["X-Voxclone-Seconds"])
        assert audio.duration == pytest.approx(seconds, abs=1e-3)
        found = client.post("/v1/detect", headers=alice.headers,
                            files={"file": ("clip.flac", response.content, "audio/flac")})
        assert found.json()["payload"] == response.headers["X-Voxclone-Synthesis"], (
            name, seconds, found.json())
        record = voxclone.find_synthesis(response.headers["X-Voxclone-Synthesis"])
        assert record is not None and record.seconds == pytest.approx(seconds, abs=1e-3)


def _leave_during_chunk(client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch,
                        fmt: str, chunk: int) -> tuple[list[float], int, float]:
    """alice asks for ``LONG`` as ``fmt`` and goes while its ``chunk``-th chunk is rendered:
    the chunks rendered, the audit log's last entry before, and alice's charge before."""
    hang_up = threading.Event()
    chunks: list[float] = []

    def before(speed: float) -> None:
        chunks.append(speed)
        if len(chunks) == chunk:
            hang_up.set()

    instrument(monkeypatch, before)
    entries = AuditLog().entries()
    last = entries[-1].seq if entries else 0
    charged = used_seconds(alice)
    body = {"voice": "ada", "input": LONG, "response_format": fmt}
    anyio.run(post_then_hang_up, client.app, "/v1/audio/speech", alice, body, hang_up)
    return chunks, last, charged


def test_a_request_whose_client_leaves_stops_rendering(
        client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks, last, charged = _leave_during_chunk(client, alice, monkeypatch, "mp3", 1)
    log = AuditLog()
    assert len(chunks) == 1  # of five sentences
    # No audio left the server: nothing is logged as synthesised, nothing charged.
    assert log.entries(event="synthesis", after=last) == []
    assert used_seconds(alice) == pytest.approx(charged, abs=1e-6)


def test_a_stream_whose_client_leaves_logs_its_end(
        client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks, last, charged = _leave_during_chunk(client, alice, monkeypatch, "pcm", 2)
    log = AuditLog()
    assert len(chunks) <= 3  # of five sentences and a lead-in
    started = log.entries(event="synthesis", after=last)
    assert len(started) == 1 and started[0].payload is not None
    end = log.find_payload(started[0].payload, event="stream-end")
    assert end is not None and end.details["complete"] is False
    assert 0 < end.details["seconds"] < 8
    assert used_seconds(alice) - charged == pytest.approx(end.details["seconds"], abs=2e-3)
