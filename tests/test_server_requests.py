"""The HTTP API, run for real, on requests that need no enrolled voice: /health and the
key every other route asks for, keys issued and revoked, enrollments refused or warned
about, errors that name the upload at fault, the quality check, detection off the event
loop, and `voxclone serve`.

One voice's life (enrollment, speech, grants, quotas, revocation) is in
test_server_voice.py.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import voxclone
from voxclone.audio import Audio

from .conftest import joe_consents
from .server_helpers import (
    Owner,
    enrollment_error,
    http_challenge,
    serving,
    wait_for_job,
    wav_bytes,
)

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"


def test_every_other_route_needs_a_key(client: TestClient) -> None:
    routes = [(path, method) for path, item in client.app.openapi()["paths"].items()
              for method in item if path != "/health"]
    assert len(routes) >= 15
    for path, method in routes:
        url = path.replace("{name}", "ada").replace("{job_id}", "x").replace(
            "{prefix}", "x").replace("{owner}", "bob").replace("{model}", "tts-1")
        for headers in ({}, {"Authorization": "Bearer vxk_000000000000_" + "a" * 32}):
            response = client.request(method, url, headers=headers)
            assert response.status_code == 401, (method, path, response.text)


def test_enrollment_says_what_it_warned_of(client: TestClient, alice: Owner,
                                          joe_reference: Audio, joe_heldout: Audio,
                                          other_speaker: Audio) -> None:
    challenge, reading = joe_consents("ada-few", issue=http_challenge(client, alice))
    clips = {"joe.wav": joe_reference, "joe-later.wav": joe_heldout, "anna.wav": other_speaker}
    response = client.post(
        "/v1/voices", headers=alice.headers,
        data={"name": "ada-few", "challenge": challenge.id, "effort": "stock"},
        files=[*(("references", (n, wav_bytes(a), "audio/wav")) for n, a in clips.items()),
               ("consent", ("consent.wav", wav_bytes(reading), "audio/wav"))])
    job = wait_for_job(client, alice, response.json())
    assert job["status"] == "done", job
    (warning,) = job["result"]["warnings"]
    assert warning.startswith(
        "left out reference 3 (anna.wav): this clip sounds like a different person")
    voice = client.get("/v1/voices/ada-few", headers=alice.headers).json()
    assert voice["warnings"] == [warning]  # kept with the voice
    assert client.delete("/v1/voices/ada-few", headers=alice.headers).status_code == 204


def test_enrollment_without_the_challenge_read_is_refused(
        client: TestClient, alice: Owner, joe_reference: Audio) -> None:
    challenge = http_challenge(client, alice)("eve")
    response = client.post(
        "/v1/voices", headers=alice.headers,
        data={"name": "eve", "challenge": challenge.id, "effort": "stock"},
        files=[("references", ("joe.wav", wav_bytes(joe_reference), "audio/wav")),
               ("consent", ("consent.wav", wav_bytes(joe_reference), "audio/wav"))])
    job = wait_for_job(client, alice, response.json())
    assert job["status"] == "failed"
    assert job["error"]["type"] == "PhraseNotHeardError"
    assert "eve" not in [v["name"] for v in client.get("/v1/voices",
                                                        headers=alice.headers).json()]


def test_models_are_listed_as_openai_lists_them(client: TestClient, alice: Owner) -> None:
    from voxclone.server.routes_speech import SpeechRequest

    listing = client.get("/v1/models", headers=alice.headers)
    assert listing.status_code == 200
    body = listing.json()
    assert body["object"] == "list" and body["data"]
    ids = [model["id"] for model in body["data"]]
    assert {"voxclone", "tts-1", "tts-1-hd"} <= set(ids)
    for model in body["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model" and model["owned_by"] == "voxclone"
        assert isinstance(model["created"], int)
        assert client.get(f"/v1/models/{model['id']}", headers=alice.headers).json() == model
        SpeechRequest.model_validate(  # the speech route takes it
            {"model": model["id"], "input": "Hi.", "voice": "ada"})
    unknown = client.get("/v1/models/whisper-1", headers=alice.headers)
    assert unknown.status_code == 404
    assert "GET /v1/models lists them" in unknown.json()["error"]["message"]
    assert client.get("/v1/models").status_code == 401


def test_keys_can_be_issued_and_revoked(client: TestClient, alice: Owner) -> None:
    new = client.post("/v1/keys", headers=alice.headers, json={"label": "laptop"}).json()
    fresh = Owner("alice", new["key"])
    assert client.get("/v1/voices", headers=fresh.headers).status_code == 200
    assert client.delete(f"/v1/keys/{new['prefix']}", headers=alice.headers).status_code == 204
    refused = client.get("/v1/voices", headers=fresh.headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]


def test_voxclone_serve_starts_the_server(module_home: Path) -> None:
    import httpx

    with serving(module_home) as port:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
        assert response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/voices").status_code == 401
        assert "voxclone" in httpx.get(f"http://127.0.0.1:{port}/").text


def test_quality_check_route(client: TestClient, alice: Owner, joe_reference: Audio) -> None:
    good = client.post("/v1/check", headers=alice.headers,
                       files=[("files", ("joe.wav", wav_bytes(joe_reference), "audio/wav"))])
    assert good.status_code == 200, good.text
    clip = good.json()["clips"][0]
    assert clip["name"] == "joe.wav" and clip["verdict"] != "refused"
    short = Audio(joe_reference.samples[: joe_reference.sample_rate * 2],
                  joe_reference.sample_rate)
    refused = client.post("/v1/check", headers=alice.headers,
                          files=[("files", ("short.wav", wav_bytes(short), "audio/wav"))])
    body = refused.json()
    assert body["clips"][0]["verdict"] == "refused"
    assert any("more seconds" in p["advice"] for p in body["clips"][0]["problems"]
               + body["problems"])


def test_detection_runs_off_the_event_loop(client: TestClient, alice: Owner,
                                          joe_reference: Audio,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A long detection holds up no other request: /health answers while it runs."""
    from voxclone.server import routes_speech

    detecting, answered, held_up = threading.Event(), threading.Event(), threading.Event()

    def long_detection(*args: Any, **kwargs: Any) -> Any:
        detecting.set()
        if not answered.wait(timeout=30):  # on the event loop, /health never comes
            held_up.set()
        return voxclone.detect_all(*args, **kwargs)

    monkeypatch.setattr(routes_speech, "detect_all", long_detection)
    responses: list[Any] = []
    upload = {"file": ("joe.wav", wav_bytes(joe_reference), "audio/wav")}
    worker = threading.Thread(target=lambda: responses.append(
        client.post("/v1/detect", headers=alice.headers, files=upload)))
    worker.start()
    assert detecting.wait(timeout=120)
    assert client.get("/health").status_code == 200
    answered.set()
    worker.join(timeout=120)
    assert not held_up.is_set(), "/health waited for the detection to finish"
    assert responses[0].status_code == 200 and responses[0].json()["found"] is False


def test_enrollment_errors_name_the_upload_at_fault(client: TestClient, alice: Owner,
                                                    joe_reference: Audio,
                                                    module_home: Path) -> None:
    joe = ("joe.wav", wav_bytes(joe_reference), "audio/wav")
    text = ("text.wav", b"this is not audio", "audio/wav")

    failed = functools.partial(enrollment_error, client, alice, "nam")

    def refused(references: list[Any], consent: Any) -> dict[str, str]:
        """An upload that cannot be decoded fails the request itself, not a job."""
        response = client.post(
            "/v1/voices", headers=alice.headers,
            data={"name": "nam", "challenge": "0" * 12, "effort": "stock"},
            files=[*(("references", r) for r in references), ("consent", consent)])
        assert response.status_code == 422, response.text
        error: dict[str, str] = response.json()["error"]
        return error

    error = refused([joe, text], joe)
    assert error["type"] == "AudioFormatError"
    assert error["message"].startswith("reference 2 (text.wav) is not a readable audio file")
    error = refused([joe], ("consent.wav", *text[1:]))
    assert error["message"].startswith("the consent recording (consent.wav) is not a readable")
    # a challenge refused: what to do over HTTP, and nothing of the server's files
    for challenge, problem in (("0" * 12, "is unknown"), ("deadbeef", "not a challenge id")):
        error = failed([joe], joe, challenge)
        assert error["type"] == "ChallengeError" and problem in error["message"]
        assert "POST /v1/consent/challenges" in error["message"]
        assert "voxclone challenge" not in error["message"]
        assert str(module_home) not in error["message"]
    # the quality gate names each clip by its file
    short = ("short.wav", wav_bytes(Audio(joe_reference.samples[: joe_reference.sample_rate * 2],
                                          joe_reference.sample_rate)), "audio/wav")
    error = failed([short], joe, http_challenge(client, alice)("nam").id)
    assert error["type"] == "ReferenceQualityError"
    assert "reference 1 (short.wav): only " in error["message"]
    assert "clip 1" not in error["message"]
    assert "POST /v1/check" in error["message"] and "--force" not in error["message"]
