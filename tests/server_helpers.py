"""Shared by the server tests: an app over its own voxclone home, owners with keys, and
joe enrolling through the HTTP API with spoken consent."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from voxclone.audio import Audio, write_audio
from voxclone.consent import ChallengeStore
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
