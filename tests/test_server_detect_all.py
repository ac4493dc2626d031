"""``POST /v1/detect`` on a file joining two syntheses: the first mark's fields as before,
and ``marks``, every one in time order, each synthesis record shown only to the owner
of its voice. (That it runs off the event loop: test_server_requests.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from voxclone.audio import Audio
from voxclone.audit import AuditLog
from voxclone.provenance import AuditContext, SynthesisRecord, log_synthesis, new_payload
from voxclone.registry import open_database
from voxclone.registry.access import Access
from voxclone.watermark import default_watermark

from .server_helpers import Owner, wav_bytes

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True
RATE = 24_000


@pytest.fixture(scope="module")
def joined(alice: Owner, joe_reference: Audio, joe_heldout: Audio) -> tuple[bytes, int, int]:
    """A WAV of two of alice's syntheses with a second of silence between (joe's
    speech marked with this server's key, each payload with its ``synthesis`` entry,
    as synthesis makes them), and the two payloads."""
    owner_id = Access(open_database()).owner("alice").id
    context = AuditContext(actor="key:test", owner_id=owner_id)
    mark = default_watermark()
    parts: list[np.ndarray] = []
    payloads: list[int] = []
    for speech, voice in ((joe_reference, "ada"), (joe_heldout, "bea")):
        samples = speech.resample(RATE).samples
        record = SynthesisRecord(id=new_payload(AuditLog()), voice=voice,
                                 text_sha256="0" * 64, engine="test", watermark=mark.name,
                                 seconds=round(len(samples) / RATE, 3), actor=context.actor)
        log_synthesis(record, context)
        parts += [mark.embed(samples, RATE, record.id), np.zeros(RATE, np.float32)]
        payloads.append(record.id)
    return wav_bytes(Audio(np.concatenate(parts[:-1]), RATE)), payloads[0], payloads[1]


def test_detect_lists_every_mark(client: TestClient, alice: Owner, bob: Owner,
                                 joined: tuple[bytes, int, int],
                                 joe_reference: Audio) -> None:
    data, first, second = joined
    upload = {"file": ("both.wav", data, "audio/wav")}
    seen = client.post("/v1/detect", headers=alice.headers, files=upload)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    # the fields of one mark, as before: the first one's
    assert body["found"] is True and body["too_short"] is False
    assert body["payload"] == f"{first:08x}" and body["synthesis"]["voice"] == "ada"
    marks = body["marks"]
    assert [m["payload"] for m in marks] == [f"{first:08x}", f"{second:08x}"]
    assert [m["synthesis"]["voice"] for m in marks] == ["ada", "bea"]
    assert body["start_s"] == marks[0]["start_s"] and body["end_s"] == marks[0]["end_s"]
    joint = joe_reference.duration + 1.0  # where the second synthesis starts
    assert marks[0]["start_s"] < 1.5 and marks[1]["end_s"] > joint + 3
    assert marks[0]["end_s"] == pytest.approx(joe_reference.duration, abs=1.5)
    assert marks[1]["start_s"] == pytest.approx(joint, abs=1.5)
    assert all(m["false_positive_probability"] < 1e-9 and m["speed"] == 1.0 for m in marks)
    # another owner learns that it is watermarked, and by which synthesis ids, not more
    other = client.post("/v1/detect", headers=bob.headers, files=upload).json()
    assert [m["payload"] for m in other["marks"]] == [f"{first:08x}", f"{second:08x}"]
    assert other["synthesis"] is None and all(m["synthesis"] is None for m in other["marks"])
    # one audit entry per request, naming both
    entry = AuditLog().entries(event="detect")[-1]
    assert entry.payload == first and entry.details["payloads"] == [first, second]


def test_detect_without_a_mark(client: TestClient, alice: Owner,
                               joe_reference: Audio) -> None:
    for audio, short in ((joe_reference, False),
                         (Audio(np.zeros(RATE, np.float32), RATE), True)):
        upload = {"file": ("joe.wav", wav_bytes(audio), "audio/wav")}
        body = client.post("/v1/detect", headers=alice.headers, files=upload).json()
        assert body == {"found": False, "too_short": short, "low_bitrate": None,
                        "payload": None,
                        "false_positive_probability": 1.0, "start_s": None, "end_s": None,
                        "speed": 1.0, "matched_by": None, "synthesis": None, "marks": []}

