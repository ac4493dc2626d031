"""A key's daily audio quota holds for every request: the seconds a text will take are
estimated and reserved before it is rendered (a request that cannot fit is refused at
once, and concurrent requests cannot jointly overrun it); audio that runs past the
estimate is stopped where the quota ends; the key is charged the seconds made."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from voxclone.audit import AuditLog
from voxclone.errors import RateLimitError
from voxclone.registry import open_database
from voxclone.registry.access import Access
from voxclone.server import speaking
from voxclone.server.quota import estimate_seconds

from .server_helpers import Owner, add_owner, register_voice, used_seconds

pytest.importorskip("fastapi", reason="the server extra is not installed")

#: All tests here share one server home: its database, secret and voices.
SHARED_HOME = True

#: About 60 words: ~30 s of speech (the QA report's 27.8 s on a 5 s quota).
SIXTY_WORDS = ("The lighthouse keeper climbed the stairs every evening at dusk, counting "
               "the steps as his father had taught him. At the top he trimmed the wick, "
               "polished the great lens and watched the ships pass far out at sea. Some "
               "nights the fog rolled in so thick that he could not see his own hands, "
               "and then he rang the bell until morning.")
ONE_SENTENCE = "The train left the station at noon."


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    owner = add_owner("alice")
    register_voice("alice", "ada")
    return owner


def key_of(client: TestClient, owner: Owner, quota: float) -> Owner:
    """A new key of ``owner``'s with a daily quota of ``quota`` seconds."""
    issued = client.post("/v1/keys", headers=owner.headers,
                         json={"label": f"q{quota}", "quota_seconds_per_day": quota}).json()
    return Owner(owner.name, issued["key"])


def speak(client: TestClient, owner: Owner, text: str, fmt: str = "flac") -> Any:
    return client.post("/v1/audio/speech", headers=owner.headers,
                       json={"voice": "ada", "input": text, "response_format": fmt})


def test_a_request_longer_than_the_quota_left_is_refused_before_rendering(
        client: TestClient, alice: Owner) -> None:
    small = key_of(client, alice, 5.0)
    syntheses = len(AuditLog().entries(event="synthesis"))
    for fmt in ("mp3", "wav"):  # whole and streamed
        refused = speak(client, small, SIXTY_WORDS, fmt)
        assert refused.status_code == 429, refused.text
        error = refused.json()["error"]
        assert error["type"] == "RateLimitError"
        assert "5.0 s of audio left for today" in error["message"]
        assert "needs about" in error["message"] and int(refused.headers["Retry-After"]) >= 1
    assert used_seconds(small) == 0.0  # nothing charged, nothing made
    assert len(AuditLog().entries(event="synthesis")) == syntheses
    fits = speak(client, small, ONE_SENTENCE)  # ~2.5 s, estimated 3.5 s
    assert fits.status_code == 200, fits.text
    seconds = float(fits.headers["X-Voxclone-Seconds"])
    assert used_seconds(small) == pytest.approx(seconds, abs=1e-3)  # settled to the audio
    assert seconds < 5.0 <= seconds + estimate_seconds(ONE_SENTENCE)  # one more cannot fit
    assert speak(client, small, ONE_SENTENCE).status_code == 429



def test_the_silence_of_breaks_counts_in_the_estimate(client: TestClient,
                                                      alice: Owner) -> None:
    """A ``<break>`` is reserved as the silence it asks for: a short text with long
    breaks is refused up front, not cut off where the quota ends."""
    text = 'Yes. <break time="3s"/> No. <break time="2500ms"/> Maybe.'
    estimate = estimate_seconds(text)
    made = speak(client, key_of(client, alice, 60.0), text)
    assert made.status_code == 200, made.text
    seconds = float(made.headers["X-Voxclone-Seconds"])
    assert seconds - 1.0 < estimate < seconds + 2.0  # (the tags' 40 characters: 3.3 s)
    assert estimate_seconds(text, speed=2.0) > 5.5  # the silence does not speed up
    refused = speak(client, key_of(client, alice, seconds - 1.0), text)
    assert refused.status_code == 429 and "needs about" in refused.json()["error"]["message"]

def test_concurrent_requests_cannot_jointly_overrun_the_quota(
        client: TestClient, alice: Owner) -> None:
    estimate = estimate_seconds(ONE_SENTENCE)
    quota = 2.5 * estimate  # two fit, not three at once
    shared = key_of(client, alice, quota)
    barrier = threading.Barrier(4)
    responses: list[Any] = []

    def ask() -> None:
        barrier.wait()
        responses.append(speak(client, shared, ONE_SENTENCE))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    codes = sorted(r.status_code for r in responses)
    assert codes[:2] == [200, 200] and 429 in codes, [r.text for r in responses]
    made = sum(float(r.headers["X-Voxclone-Seconds"]) for r in responses
               if r.status_code == 200)
    assert made <= quota
    assert used_seconds(shared) == pytest.approx(made, abs=1e-3)


def test_the_reservation_is_atomic() -> None:
    access = Access(open_database())
    owner = access.add_owner("racer")
    _, key = access.issue_key(owner.id, quota_seconds_per_day=5.0)
    granted: list[bool] = []

    def reserve() -> None:
        try:
            access.reserve_audio(key, 1.0, now=1000.0)
            granted.append(True)
        except RateLimitError:
            granted.append(False)

    threads = [threading.Thread(target=reserve) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 5
    with pytest.raises(RateLimitError, match="for today"):
        access.check_quota(key, now=2000.0)
    access.add_audio(key, -2.0, now=1000.0)  # two seconds given back
    assert access.check_quota(key, now=2000.0) == pytest.approx(2.0)


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_audio_that_runs_past_the_estimate_stops_at_the_quota(
        client: TestClient, alice: Owner, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    """Text can take longer than estimated (numbers, abbreviations): the reservation
    grows with the audio, and the synthesis stops where the quota ends."""
    monkeypatch.setattr(speaking, "estimate_seconds", lambda *args: 0.5)
    small = key_of(client, alice, 6.0)
    response = speak(client, small, SIXTY_WORDS, fmt)
    if fmt == "pcm":  # a stream ends early, with what fit
        assert response.status_code == 200
        assert 0 < len(response.content) / 48_000 <= 6.0
        payload = int(response.headers["X-Voxclone-Synthesis"], 16)
        end = AuditLog().find_payload(payload, event="stream-end")
        assert end is not None and end.details["complete"] is False
        assert end.details["seconds"] < 12.0  # a sentence or two past it, not all 30 s
    else:  # a whole file cannot be cut short: refused
        assert response.status_code == 429
        assert "takes longer than estimated" in response.json()["error"]["message"]
    assert used_seconds(small) <= 6.0
