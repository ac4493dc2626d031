"""``POST /v1/detect`` on a voice message made from this server's speech, coded at a
bitrate that strips the watermark: the server's own synthesis is found by the
fingerprint it stored, its record shown only to the voice's owner."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from voxclone.audio import load_audio
from voxclone.audit import AuditLog
from voxclone.watermark import default_watermark

from .conftest import opus_16k
from .server_helpers import Owner, add_owner, register_voice

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    owner = add_owner("alice")
    register_voice("alice", "ada")
    return owner


def test_the_servers_speech_is_traced_without_its_mark(client: TestClient,
                                                       alice: Owner) -> None:
    spoken = client.post("/v1/audio/speech", headers=alice.headers, json={
        "model": "tts-1", "voice": "ada", "response_format": "wav",
        "input": "The harbour lights came on one by one as the fog rolled in."})
    assert spoken.status_code == 200, spoken.text
    payload = spoken.headers["X-Voxclone-Synthesis"]
    message = opus_16k(load_audio(spoken.content), 0.97)  # about 13 kbit/s
    heard = load_audio(message)
    assert not default_watermark().detect(heard.samples, heard.sample_rate).found
    upload = {"file": ("message.ogg", message, "audio/ogg")}
    body = client.post("/v1/detect", headers=alice.headers, files=upload).json()
    assert body["found"] is True and body["matched_by"] == "fingerprint"
    assert body["payload"] == payload and body["synthesis"]["voice"] == "ada"
    assert body["low_bitrate"] is None and body["marks"][0]["matched_by"] == "fingerprint"
    entry = AuditLog().entries(event="detect")[-1]
    assert entry.details["matched_by"] == "fingerprint"
    # another owner learns which synthesis it is, not more
    bob = add_owner("bob")
    other = client.post("/v1/detect", headers=bob.headers, files=upload).json()
    assert other["payload"] == payload and other["synthesis"] is None
