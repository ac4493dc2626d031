"""What one request may make the server hold: reference files per request, bytes per
request and per file (413), uploads decoded before an enrollment is queued (a bad one
fails the request), enrollments queued or running per owner and in all (429), the
highest effort (403), and audio files declaring an impossible sample rate (refused from
the header). The server here runs with small limits; no enrollment runs to its end."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from voxclone.audio import Audio
from voxclone.server import create_app
from voxclone.server.state import ServerConfig, ServerState

from .server_helpers import Owner, add_owner, wav_bytes

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and owners.
SHARED_HOME = True

LIMITS = ServerConfig(max_upload_bytes=60_000, max_request_bytes=80_000, max_references=2,
                      max_enrollments=2, max_enrollments_per_owner=1)
#: A second of a tone: decodes, and is 32 KB as 16-bit WAV at 16 kHz.
TONE = wav_bytes(Audio((0.1 * np.sin(np.arange(16_000) / 5)).astype(np.float32), 16_000))


@pytest.fixture(scope="module")
def limited(module_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config=LIMITS)) as client:
        yield client


@pytest.fixture(scope="module")
def alice(limited: TestClient) -> Owner:
    return add_owner("alice")


def _state(client: TestClient) -> ServerState:
    state: ServerState = client.app.state.voxclone  # type: ignore[attr-defined]
    return state


def _enroll(client: TestClient, owner: Owner, references: list[bytes],
            consent: bytes = TONE, effort: str = "stock", name: str = "ada") -> Any:
    return client.post(
        "/v1/voices", headers=owner.headers,
        data={"name": name, "challenge": "0" * 12, "effort": effort},
        files=[*(("references", (f"r{i}.wav", r, "audio/wav"))
                 for i, r in enumerate(references, 1)),
               ("consent", ("consent.wav", consent, "audio/wav"))])


def _error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    return error


def test_too_many_reference_files_are_refused(limited: TestClient, alice: Owner) -> None:
    error = _error(_enroll(limited, alice, [TONE] * 3), 413)
    assert error["type"] == "AudioError"
    assert error["message"] == ("this request sends 3 reference recordings; this server "
                                "takes at most 2 in one request: send the best 2")
    check = limited.post("/v1/check", headers=alice.headers,
                         files=[("files", (f"{i}.wav", TONE, "audio/wav")) for i in range(3)])
    assert "sends 3 files" in _error(check, 413)["message"]
    assert _state(limited).jobs.active() == 0


def test_uploads_over_the_byte_limits_are_refused(limited: TestClient, alice: Owner) -> None:
    # each file is under the 60,000-byte limit, the three together over 80,000
    error = _error(_enroll(limited, alice, [TONE, TONE], consent=TONE), 413)
    assert error["message"] == (f"the recordings of this request are {3 * len(TONE)} bytes "
                                "together, over this server's limit of 80000 bytes per "
                                "request; send fewer or shorter recordings")
    big = TONE + bytes(30_000)
    error = _error(_enroll(limited, alice, [big]), 413)
    assert error["message"] == ("reference 1 (r1.wav) is over 60000 bytes, this server's "
                                "limit per file; send a shorter recording")
    assert _state(limited).jobs.active() == 0


def test_an_unreadable_upload_fails_the_request_not_a_job(limited: TestClient,
                                                           alice: Owner) -> None:
    for _ in range(3):  # (a refused request gives its place in the queue back)
        error = _error(_enroll(limited, alice, [TONE, b"not audio"]), 422)
        assert error["type"] == "AudioFormatError"
        assert error["message"].startswith("reference 2 (r2.wav) is not a readable audio")
    assert _state(limited).jobs.active() == 0


def test_an_upload_declaring_an_impossible_rate_is_refused(limited: TestClient,
                                                            alice: Owner) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(100, np.int16), 655_350, format="FLAC", subtype="PCM_16")
    error = _error(limited.post("/v1/detect", headers=alice.headers,
                                files={"file": ("bomb.flac", buffer.getvalue(),
                                                "audio/flac")}), 422)
    assert error["message"].startswith("the file (bomb.flac) declares 655350 samples per "
                                       "second; a recording has 4000-384000")
    error = _error(_enroll(limited, alice, [buffer.getvalue()]), 422)
    assert error["message"].startswith("reference 1 (r1.wav) declares 655350 samples")


def test_effort_above_the_servers_limit_is_refused(limited: TestClient,
                                                   alice: Owner) -> None:
    assert LIMITS.max_effort == ServerConfig().max_effort == "balanced"
    error = _error(_enroll(limited, alice, [TONE], effort="best"), 403)
    assert error["message"] == ("effort 'best' is not allowed on this server: it enrolls "
                                "at most at 'balanced'; send effort=balanced or lower")
    assert ServerConfig(max_effort="best").effort_allowed("best")
    with pytest.raises(ValueError, match="max_effort must be one of"):
        ServerConfig(max_effort="slow")  # type: ignore[arg-type]


def test_enrollments_queued_are_limited_per_owner_and_in_all(limited: TestClient,
                                                             alice: Owner) -> None:
    jobs = _state(limited).jobs
    release = threading.Event()

    def blocked(_progress: Any) -> dict[str, Any]:
        release.wait(60)
        return {}

    def hold(owner_id: int) -> None:
        with jobs.admit(owner_id) as place:
            jobs.submit(place, "held", blocked, lambda exc: {"message": str(exc)})

    bob, carol = add_owner("bob"), add_owner("carol")
    try:
        hold(_owner_id(alice))  # alice's one enrollment is running
        error = _error(_enroll(limited, alice, [TONE]), 429)
        assert error["type"] == "RateLimitError"
        assert error["message"].startswith("you have 1 enrollment(s) queued or running, "
                                           "this server's limit per owner (1)")
        assert int(_enroll(limited, alice, [TONE]).headers["Retry-After"]) >= 1
        hold(_owner_id(bob))  # and bob's queued: the server's two places are taken
        error = _error(_enroll(limited, carol, [TONE]), 429)
        assert error["message"].startswith("the server has 2 enrollments queued or running")
        assert jobs.active() == 2
    finally:
        release.set()
    for _ in range(100):
        if jobs.active() == 0:
            break
        threading.Event().wait(0.05)
    assert jobs.active() == 0


def _owner_id(owner: Owner) -> int:
    from voxclone.registry import open_database
    from voxclone.registry.access import Access

    return Access(open_database()).owner(owner.name).id


def test_a_body_over_every_limit_is_refused_as_it_arrives(limited: TestClient,
                                                          alice: Owner) -> None:
    """Not spooled to temporary files first: refused on its declared length, or, sent
    in chunks without one, as soon as the bytes received pass the limit."""
    from voxclone.server.body_limit import OVERHEAD_BYTES

    limit = LIMITS.max_request_bytes + OVERHEAD_BYTES
    big = b"x" * (limit + 1)
    declared = limited.post("/v1/detect", headers=alice.headers, content=big)
    error = _error(declared, 413)
    assert error["type"] == "AudioError" and "over this server's limit" in error["message"]

    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 40 x 64 KB: 2.5 MB, over the limit of ~1.1 MB
            yield b"y" * 65_536

    chunked = limited.post("/v1/voices", headers={**alice.headers,
                                                  "Content-Type": "multipart/form-data; "
                                                  "boundary=zzz"}, content=chunks())
    assert "over this server's limit" in _error(chunked, 413)["message"]
    assert limited.get("/health").json()["status"] == "ok"
    # a body within the limit is the route's to judge, as before
    assert limited.post("/v1/detect", headers=alice.headers, content=b"").status_code == 422


def test_serve_passes_each_limit_to_the_server(module_home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``ServerConfig`` field a deployment tunes is a ``voxclone serve`` option."""
    import uvicorn

    from voxclone.cli import main

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app))
    assert main(["serve", "--max-text-chars", "500", "--synthesis-slots", "3",
                 "--max-streams", "4", "--max-stream-chars", "9000",
                 "--stream-idle-seconds", "2.5", "--max-upload-mb", "7",
                 "--max-effort", "fast"]) == 0
    config = served["app"].state.voxclone.config
    assert (config.max_text_chars, config.synthesis_slots, config.max_streams,
            config.max_stream_chars, config.stream_idle_seconds) == (500, 3, 4, 9000, 2.5)
    assert (config.max_upload_bytes, config.max_effort) == (7 << 20, "fast")
    served["app"].state.voxclone.jobs.shutdown()
    assert main(["serve"]) == 0  # the options' defaults are the config's
    assert served["app"].state.voxclone.config == ServerConfig()
    served["app"].state.voxclone.jobs.shutdown()


@pytest.mark.parametrize(("flag", "value", "said"), [
    ("--stream-idle-seconds", "0", "not a positive number of seconds"),
    ("--stream-idle-seconds", "inf", "not a positive number of seconds"),
    ("--stream-idle-seconds", "soon", "not a number of seconds"),
    ("--max-stream-chars", "-5", "not at least 1"),
    ("--synthesis-slots", "two", "not a whole number"),
])
def test_serve_refuses_a_bad_limit_by_name(flag: str, value: str, said: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from voxclone.cli import main

    assert main(["serve", flag, value]) == 2
    err = capsys.readouterr().err
    assert flag in err and said in err


def test_speech_input_is_held_to_the_servers_max_text_chars(limited: TestClient,
                                                            alice: Owner) -> None:
    """``max_text_chars`` bounds ``POST /v1/audio/speech`` as configured, not a fixed 20,000."""
    def speak(client: TestClient, chars: int) -> Any:
        return client.post("/v1/audio/speech", headers=alice.headers,
                           json={"input": "a" * chars, "voice": "nobody"})

    assert speak(limited, 20_000).status_code == 404  # the default: past the text, to the voice
    error = _error(speak(limited, 20_001), 422)
    assert error["type"] == "TextError"
    assert error["message"].startswith("input has 20001 characters; send at most 20000")
    with TestClient(create_app(config=ServerConfig(max_text_chars=40))) as short:
        assert speak(short, 40).status_code == 404
        assert "send at most 40 in one request" in _error(speak(short, 41), 422)["message"]
    with TestClient(create_app(config=ServerConfig(max_text_chars=30_000))) as long:
        assert speak(long, 25_000).status_code == 404
