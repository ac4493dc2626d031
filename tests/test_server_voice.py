"""One voice's life over the HTTP API, run for real: alice enrolls joe as "ada" with his
spoken consent; ada speaks (whole, streamed, in another language), watermarked and found
by detection; a second owner's key is refused on every route that touches ada until alice
grants it; rate limits and quotas hold; bad requests get clear errors; revocation deletes
ada and is audited. The tests build on each other, in this order.

Requests that need no enrolled voice are in test_server_requests.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

import voxclone
from voxclone.audio import Audio, load_audio
from voxclone.audit import AuditLog
from voxclone.clone.conditioning import StyleConditioning

from .conftest import joe_consents
from .server_helpers import (
    Owner,
    add_owner,
    http_challenge,
    speak,
    wait_for_job,
    wav_bytes,
)

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True


@pytest.fixture(scope="module")
def admin(client: TestClient) -> Owner:
    return add_owner("root", admin=True)


@pytest.fixture(scope="module")
def enrolled(client: TestClient, alice: Owner, joe_reference: Audio) -> dict[str, Any]:
    """alice enrolls joe as "ada" over HTTP, with joe's spoken consent."""
    challenge, reading = joe_consents("ada", issue=http_challenge(client, alice))
    response = client.post(
        "/v1/voices", headers=alice.headers,
        data={"name": "ada", "challenge": challenge.id, "effort": "stock"},
        files=[("references", ("joe.wav", wav_bytes(joe_reference), "audio/wav")),
               ("consent", ("consent.wav", wav_bytes(reading), "audio/wav"))])
    assert response.status_code == 202, response.text
    job = wait_for_job(client, alice, response.json())
    assert job["status"] == "done", job
    return job


def test_enrollment_over_http_with_consent(client: TestClient, alice: Owner,
                                           enrolled: dict[str, Any]) -> None:
    assert enrolled["result"]["name"] == "ada" and enrolled["progress"] == 1.0
    voices = client.get("/v1/voices", headers=alice.headers).json()
    assert [v["name"] for v in voices] == ["ada"]
    record = client.get("/v1/voices/ada/consent", headers=alice.headers).json()
    assert record["decision"] == "verified" and record["name"] == "ada"


def test_speech_whole_and_streamed_is_watermarked(client: TestClient, alice: Owner,
                                                  enrolled: dict[str, Any]) -> None:
    for fmt in ("wav", "mp3", "pcm", "flac", "opus"):
        response = speak(client, alice, "ada", fmt)
        assert response.status_code == 200, response.text
        if fmt == "opus":  # Opus in Ogg, as OpenAI's
            assert response.headers["content-type"] == "audio/ogg"
            assert response.content[:4] == b"OggS" and b"OpusHead" in response.content[:64]
        payload = response.headers["X-Voxclone-Synthesis"]
        if fmt == "pcm":
            audio = Audio(
                (sf.read(io.BytesIO(response.content), samplerate=24_000, channels=1,
                         format="RAW", subtype="PCM_16", dtype="float32")[0]), 24_000)
        else:
            audio = load_audio(response.content)
        assert 2.0 < audio.duration < 10.0
        found = client.post("/v1/detect", headers=alice.headers,
                            files={"file": ("clip", wav_bytes(audio), "audio/wav")}).json()
        assert found["found"] and found["payload"] == payload
        assert found["synthesis"]["voice"] == "ada"
        if fmt not in ("mp3", "opus"):  # (decoders pad) a stream's seconds: from its end
            assert found["synthesis"]["seconds"] == pytest.approx(audio.duration, abs=0.01)
            record = voxclone.find_synthesis(int(payload, 16))
            assert record is not None and record.seconds == found["synthesis"]["seconds"]


def test_a_stream_cut_short_logs_what_it_sent(client: TestClient, alice: Owner,
                                              enrolled: dict[str, Any]) -> None:
    sentence = "The train left the station at noon, and nobody was on the platform. "
    with client.stream("POST", "/v1/audio/speech", headers=alice.headers,
                       json={"voice": "ada", "input": sentence * 8,
                             "response_format": "pcm"}) as response:
        assert response.status_code == 200
        payload = int(response.headers["X-Voxclone-Synthesis"], 16)
        received = next(response.iter_bytes())  # the first sentence's start; then hang up
    end = AuditLog().find_payload(payload, event="stream-end")  # logged by the time it closes
    assert end is not None and end.details["complete"] is False
    # what was sent, and at most a chunk made as the client left: not 8 sentences (~30 s)
    assert len(received) / 48_000 <= end.details["seconds"] < 12.0
    record = voxclone.find_synthesis(payload)
    assert record is not None and record.seconds == end.details["seconds"]


def test_speech_takes_a_language(client: TestClient, alice: Owner,
                                 enrolled: dict[str, Any]) -> None:
    def ask(language: str, text: str, fmt: str) -> Any:
        return client.post("/v1/audio/speech", headers=alice.headers,
                           json={"voice": "ada", "input": text, "response_format": fmt,
                                 "language": language})

    for fmt in ("wav", "flac"):  # streamed and whole
        spanish = ask("es", "Buenos días. El tren sale a las 3.", fmt)
        assert spanish.status_code == 200, spanish.text
        assert load_audio(spanish.content).duration > 1.5
    wrong = ask("xx", "Hola.", "wav")
    assert wrong.status_code == 422
    assert "unknown language 'xx'" in wrong.json()["error"]["message"]
    assert "pt-br" in wrong.json()["error"]["message"]


def test_another_owner_cannot_touch_the_voice(client: TestClient, alice: Owner, bob: Owner,
                                              enrolled: dict[str, Any]) -> None:
    h = bob.headers
    assert client.get("/v1/voices", headers=h).json() == []
    for method, url in (("GET", "/v1/voices/ada"), ("DELETE", "/v1/voices/ada"),
                        ("GET", "/v1/voices/ada/consent"), ("GET", "/v1/voices/ada/grants"),
                        ("DELETE", "/v1/voices/ada/grants/bob"),
                        ("GET", f"/v1/jobs/{enrolled['id']}")):
        assert client.request(method, url, headers=h).status_code == 404, (method, url)
    assert client.post("/v1/voices/ada/grants", json={"owner": "bob"},
                       headers=h).status_code == 404
    for voice in ("ada", "alice/ada"):
        assert speak(client, bob, voice).status_code == 404
    alice_key = client.get("/v1/keys", headers=alice.headers).json()[0]["prefix"]
    assert client.delete(f"/v1/keys/{alice_key}", headers=h).status_code == 404
    assert client.get("/v1/audit/verify", headers=h).status_code == 403
    assert client.post("/v1/owners", json={"name": "mallory"}, headers=h).status_code == 403
    # alice's audio: bob learns it is watermarked, not whose it is
    clip = speak(client, alice, "ada").content
    seen = client.post("/v1/detect", headers=h,
                       files={"file": ("clip.wav", clip, "audio/wav")}).json()
    assert seen["found"] and seen["synthesis"] is None
    assert client.get("/v1/voices/ada", headers=alice.headers).status_code == 200
    # bob's audit view: his own detection, nothing of alice's
    bobs_keys = {f"key:{k['prefix']}" for k in client.get("/v1/keys", headers=h).json()}
    bobs_view = client.get("/v1/audit?limit=1000", headers=h).json()
    assert bobs_view and all(e["actor"] in bobs_keys for e in bobs_view)
    assert not [e for e in bobs_view if e["voice"] == "ada"]


def test_a_grant_lets_another_owner_speak(client: TestClient, alice: Owner, bob: Owner,
                                          enrolled: dict[str, Any]) -> None:
    assert client.post("/v1/voices/ada/grants", json={"owner": "bob"},
                       headers=alice.headers).status_code == 204
    assert client.get("/v1/voices/ada/grants", headers=alice.headers).json() == ["bob"]
    assert [v["name"] for v in client.get("/v1/voices", headers=bob.headers).json()] == [
        "alice/ada"]
    response = speak(client, bob, "alice/ada")
    assert response.status_code == 200
    entry = AuditLog().find_payload(int(response.headers["X-Voxclone-Synthesis"], 16))
    assert entry is not None and entry.actor.startswith("key:")
    assert client.delete("/v1/voices/ada/grants/bob", headers=alice.headers).status_code == 204
    assert speak(client, bob, "alice/ada").status_code == 404


def test_rate_limit_and_quota(client: TestClient, enrolled: dict[str, Any]) -> None:
    limited = add_owner("carol", rate_per_minute=3)
    codes = [client.get("/v1/voices", headers=limited.headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/v1/voices", headers=limited.headers)
    assert int(response.headers["Retry-After"]) >= 1
    assert "3 requests a minute" in response.json()["error"]["message"]


def test_a_quota_stops_synthesis(client: TestClient, alice: Owner,
                                 enrolled: dict[str, Any]) -> None:
    small = client.post("/v1/keys", headers=alice.headers,
                        json={"label": "tiny", "quota_seconds_per_day": 1.0}).json()
    owner = Owner("alice", small["key"])
    over = speak(client, owner, "ada")  # ~5 s: refused before it is rendered
    assert over.status_code == 429 and "1.0 s of audio left for today" in over.json()[
        "error"]["message"]
    roomier = client.post("/v1/keys", headers=alice.headers,
                          json={"label": "small", "quota_seconds_per_day": 7.0}).json()
    owner = Owner("alice", roomier["key"])
    assert speak(client, owner, "ada").status_code == 200  # uses ~5 s
    over = speak(client, owner, "ada")
    assert over.status_code == 429 and "for today" in over.json()["error"]["message"]


def test_bad_requests_get_clear_errors(client: TestClient, alice: Owner,
                                       enrolled: dict[str, Any]) -> None:
    assert speak(client, alice, "ada", "aac").json()["error"]["message"].startswith(
        "response_format 'aac' is not supported")
    assert speak(client, alice, "ada", text="   ").status_code == 422
    empty = client.post("/v1/detect", headers=alice.headers,
                        files={"file": ("x.wav", b"", "audio/wav")})
    assert empty.status_code == 422
    assert empty.json()["error"]["message"].startswith("the file (x.wav) is empty")
    junk = client.post("/v1/detect", headers=alice.headers,
                       files={"file": ("x.wav", b"not audio at all", "audio/wav")})
    assert junk.status_code == 422
    assert junk.json()["error"]["message"].startswith("the file (x.wav) is not a readable")
    # invalid fields and unknown routes: the same body as every other error
    for response, says in (
            (client.post("/v1/audio/speech", headers=alice.headers,
                         json={"voice": "ada", "input": "", "speed": 0, "volume": 2}),
             ["input must not be empty", "speed must be at least 0.5 (got 0)",
              "volume is not a field of this request"]),
            (client.post("/v1/audio/speech",  # NaN: not JSON, but Python reads it
                         headers={**alice.headers, "Content-Type": "application/json"},
                         content=b'{"voice": "ada", "input": "Hi.", "speed": NaN}'),
             ["speed must be"]),
            (client.post("/v1/detect", headers=alice.headers), ["file is required"]),
            (client.post("/v1/voices", headers=alice.headers,
                         data={"name": "x", "challenge": "y", "effort": "slow"}),
             ["effort must be one of 'stock', 'fast', 'balanced' or 'best' (got 'slow')",
              "references is required", "consent is required"]),
            (client.get("/v1/voices/..%2Fx", headers=alice.headers), ["no such route"]),
            (client.put("/health"), ["/health does not accept PUT"])):
        error = response.json()["error"]
        assert response.status_code == {"RequestValidationError": 422, "NotFound": 404,
                                        "MethodNotAllowed": 405}[error["type"]]
        assert all(part in error["message"] for part in says), error
    taken = client.post("/v1/voices", headers=alice.headers,
                        data={"name": "ada", "challenge": "0" * 12},
                        files=[("references", ("a.wav", b"x", "audio/wav")),
                               ("consent", ("c.wav", b"x", "audio/wav"))])
    assert taken.status_code == 409


def test_a_voice_edited_in_the_database_is_refused(client: TestClient, alice: Owner,
                                                   enrolled: dict[str, Any]) -> None:
    # Someone with the database but not the installation secret swaps ada's timbre for
    # another voice's and redoes the profile's checksum: its seal no longer checks.
    from sqlalchemy import select, update

    from voxclone.registry.database import open_database
    from voxclone.registry.schema import voices

    engine = open_database()
    with engine.connect() as conn:
        row = conn.execute(select(voices.c.id, voices.c.profile).where(
            voices.c.name == "ada")).one()
    genuine = voxclone.VoiceProfile.from_json(json.loads(row.profile))
    assert genuine.seal is not None and genuine.content_digest() \
        == client.get("/v1/voices/ada/consent", headers=alice.headers).json()["profile_sha256"]
    swapped = dataclasses.replace(genuine, conditioning=StyleConditioning({"jf_nezumi": 1.0}))
    with engine.begin() as conn:
        conn.execute(update(voices).where(voices.c.id == row.id).values(
            profile=json.dumps(swapped.to_json())))
    try:
        refused = speak(client, alice, "ada")
        assert refused.status_code == 422, refused.text
        assert "fails its seal" in refused.json()["error"]["message"]
    finally:
        with engine.begin() as conn:
            conn.execute(update(voices).where(voices.c.id == row.id).values(
                profile=row.profile))
    assert speak(client, alice, "ada").status_code == 200


def test_revocation_deletes_the_voice_and_is_audited(client: TestClient, alice: Owner,
                                                     admin: Owner,
                                                     enrolled: dict[str, Any]) -> None:
    from voxclone.consent.voice_seal import speakable
    from voxclone.registry.access import Access
    from voxclone.registry.database import open_database
    from voxclone.registry.voices import VoiceRegistry

    engine = open_database()
    copy = VoiceRegistry(engine).own(Access(engine).owner("alice"), "ada").profile
    assert speakable(copy) is copy
    assert client.delete("/v1/voices/ada", headers=alice.headers).status_code == 204
    assert client.get("/v1/voices", headers=alice.headers).json() == []
    assert speak(client, alice, "ada").status_code == 404
    with pytest.raises(voxclone.errors.VoiceRevokedError):  # a copy taken from the database
        speakable(copy)
    events = [e["event"] for e in client.get("/v1/audit?limit=1000",
                                             headers=alice.headers).json()]
    assert {"challenge", "enroll", "synthesis", "detect", "grant", "ungrant",
            "revoke"} <= set(events)
    assert client.get("/v1/audit/verify", headers=admin.headers).json()["ok"]
