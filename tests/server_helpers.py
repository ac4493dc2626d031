"""Shared by the server tests: an app over its own voxclone home, owners with keys, and
joe enrolling through the HTTP API with spoken consent."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
from fastapi.testclient import TestClient

from voxclone.audio import Audio, write_audio
from voxclone.consent import ChallengeStore
from voxclone.consent.voice_seal import seal_voice
from voxclone.errors import RateLimitError
from voxclone.registry import open_database
from voxclone.registry.access import Access


@dataclass
class Owner:
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def add_owner(name: str, *, admin: bool = False, **limits: Any) -> Owner:
    access = Access(open_database())
    owner = access.add_owner(name, is_admin=admin)
    return Owner(name, access.issue_key(owner.id, **limits)[0])


def wav_bytes(audio: Audio) -> bytes:
    buffer = io.BytesIO()
    write_audio(audio, buffer, format="wav")
    return buffer.getvalue()


def http_challenge(client: TestClient, owner: Owner) -> Any:
    """An ``issue`` for ``joe_consents``: a challenge asked for over HTTP."""
    def issue(name: str) -> Any:
        response = client.post("/v1/consent/challenges", json={"name": name},
                               headers=owner.headers)
        assert response.status_code == 201, response.text
        return ChallengeStore().check(response.json()["id"], name)
    return issue


def wait_for_job(client: TestClient, owner: Owner, job: dict[str, Any],
                 timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "enrollment job did not finish"
        time.sleep(0.5)
        job = client.get(f"/v1/jobs/{job['id']}", headers=owner.headers).json()
    return job


#: What :func:`speak` says by default.
TEXT = "Good morning. This is a cloned voice, speaking over HTTP."


def speak(client: TestClient, owner: Owner, voice: str, fmt: str = "wav",
          text: str = TEXT) -> Any:
    return client.post("/v1/audio/speech", headers=owner.headers,
                       json={"model": "tts-1", "voice": voice, "input": text,
                             "response_format": fmt})


def enrollment_error(client: TestClient, owner: Owner, name: str, references: list[Any],
                     consent: Any, challenge: str = "0" * 12) -> dict[str, str]:
    """The error of an enrollment job that must fail (``references`` and ``consent``:
    ``(file name, bytes, media type)``)."""
    response = client.post(
        "/v1/voices", headers=owner.headers,
        data={"name": name, "challenge": challenge, "effort": "stock"},
        files=[*(("references", r) for r in references), ("consent", consent)])
    assert response.status_code == 202, response.text
    job = wait_for_job(client, owner, response.json())
    assert job["status"] == "failed", job
    error: dict[str, str] = job["error"]
    return error


def register_voice(owner: str, name: str = "ada") -> None:
    """Give ``owner`` a voice ``name`` straight in the registry (a stock voice's
    conditioning, no enrollment): enough for the speech route, in a second."""
    import numpy as np

    from voxclone.audio.prosody import ProsodyStats
    from voxclone.clone.conditioning import StyleConditioning
    from voxclone.clone.profile import VoiceProfile
    from voxclone.engines.kokoro import default_engine
    from voxclone.registry.voices import VoiceRegistry

    profile = VoiceProfile(
        name=name, embedding=np.full(256, 1 / 16, np.float32),
        conditioning=StyleConditioning({"jf_alpha": 1.0}, np.zeros(256, np.float32)),
        prosody=ProsodyStats(150.0, 100.0, 200.0, 4.0, 0.5), sources=(),
        engine=default_engine().name, effort="stock", score=0.0)
    engine = open_database()
    VoiceRegistry(engine).add(Access(engine).owner(owner), seal_voice(profile), {})


def used_seconds(owner: Owner) -> float:
    """Seconds of audio counted against ``owner``'s key today."""
    access = Access(open_database())
    key = access.authenticate(owner.key).key
    try:
        return key.quota_seconds_per_day - access.check_quota(key)
    except RateLimitError:
        return key.quota_seconds_per_day  # (at least)


async def post_then_hang_up(app: Any, path: str, owner: Owner, body: dict[str, Any],
                            hang_up: threading.Event) -> list[dict[str, Any]]:
    """POST ``body`` as JSON to ``app`` (ASGI, driven directly), the client going away
    once ``hang_up`` is set - which the test client cannot do before a response starts.
    The messages the app sent."""
    data = json.dumps(body).encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(data)).encode()),
                         *((k.lower().encode(), v.encode())
                           for k, v in owner.headers.items())]}
    requested = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": data, "more_body": False}
        while not hang_up.is_set():
            await anyio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@contextlib.contextmanager
def serving(home: Path) -> Iterator[int]:
    """``voxclone serve`` over ``home`` in a subprocess, once ``/health`` answers: its
    port on 127.0.0.1 (stopped on exit)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "voxclone.cli", "serve", "--port",
                               str(port)], env=dict(os.environ, VOXCLONE_HOME=str(home)))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
