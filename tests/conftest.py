"""Shared fixtures: real voices the tests make themselves (no network, no data files).

"The person" is Piper's en_US "joe" voice - a different model from the one voxclone
clones with, so a clone that sounds like joe has really transferred identity.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import delete, insert, select

from voxclone.audio import Audio, load_audio, write_audio
from voxclone.demo import load_person, speak_person
from voxclone.keys import SECRET_FILE, installation_secret
from voxclone.registry.database import open_database
from voxclone.registry.schema import fingerprints

REFERENCE_TEXT = (
    "When the sunlight strikes raindrops in the air, they act as a prism. "
    "My grandmother kept bees behind the orchard for almost forty years."
)
HELDOUT_TEXT = (
    "Please remember to lock the back door before you leave the house tonight. "
    "The train to the city was late again this morning."
)
SPEECH_DIR = Path(os.environ.get("VOXCLONE_SPEECH_DIR",
                                 Path(__file__).resolve().parents[2] / "shared" / "speech"))


def opus_16k(audio: Audio, level: float) -> bytes:
    """``audio`` as Ogg Opus at 16 kHz and libsndfile's compression ``level`` (0.97:
    about 13 kbit/s on speech, a voice message's bitrate or under)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio.resample(16_000).samples, -1, 1), 16_000, format="OGG",
             subtype="OPUS", compression_level=level)
    return buffer.getvalue()


def longest_inner_silence(audio: Audio, frame_s: float = 0.01,
                          floor_db: float = -50.0) -> float:
    """Seconds of the longest run of frames ``floor_db`` below the loudest frame (by
    variance: a DC offset is not sound), between the first and the last sound."""
    frame = int(frame_s * audio.sample_rate)
    frames = audio.samples[: len(audio.samples) // frame * frame].reshape(-1, frame)
    power = frames.astype(np.float64).var(axis=1)
    loud = power > power.max() * 10 ** (floor_db / 10)
    inside = loud[np.argmax(loud): len(loud) - np.argmax(loud[::-1])]
    longest = run = 0
    for is_loud in inside:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest * frame_s


@contextlib.contextmanager
def forgotten(synthesis_id: int | None) -> Iterator[dict[str, Any]]:
    """The synthesis's stored fingerprint taken out of the database meanwhile (put back
    after, so the audit log's record of it holds again)."""
    with open_database().begin() as connection:
        row = connection.execute(select(fingerprints).where(
            fingerprints.c.synthesis_id == synthesis_id)).mappings().one()
        connection.execute(delete(fingerprints).where(
            fingerprints.c.synthesis_id == synthesis_id))
    try:
        yield dict(row)
    finally:
        with open_database().begin() as connection:
            connection.execute(insert(fingerprints).values(**row))


def piper_speak(text: str) -> Audio:
    """``text`` spoken by Piper's joe voice (22.05 kHz float32), the same way every
    time: the tests' margins are measured on one reading, not on Piper's luck."""
    said = _joe_says(text)
    return Audio(said.samples.copy(), said.sample_rate)


@functools.lru_cache(maxsize=64)
def _joe_says(text: str) -> Audio:
    # Piper samples pitch and durations anew at every call, from a generator seeded
    # when its session is created: a voice loaded for this text alone, seeded by the
    # text, reads it the same way whatever the tests before it had joe say (~0.6 s).
    return speak_person(load_person(seed=zlib.crc32(text.encode())), text)


def normalized(code: str, text: str) -> str:
    """``text`` as language ``code``'s front end normalises it (what is spoken)."""
    from voxclone.text.frontend import front_end

    return front_end(code).normalize(text)


def phonemes_of(code: str, text: str) -> str:
    """``text`` normalised and phonemised by language ``code``'s front end."""
    from voxclone.text.frontend import front_end

    front = front_end(code)
    return front.phonemize(front.normalize(text))


def with_noise(audio: Audio, snr_db: float, seed: int = 0) -> Audio:
    """``audio`` at 16 kHz plus white noise at ``snr_db`` (whole-clip powers)."""
    rng = np.random.default_rng(seed)
    return mixed_at_snr(audio, lambda n: rng.standard_normal(n), snr_db)


def mixed_at_snr(audio: Audio, noise: Callable[[int], np.ndarray], snr_db: float) -> Audio:
    """``audio`` at 16 kHz plus ``noise(samples)`` scaled to ``snr_db`` (whole-clip
    powers), peak-normalised to 0.9."""
    x = audio.resample(16_000).samples.astype(np.float64)
    added = np.asarray(noise(len(x)), dtype=np.float64)
    added *= np.sqrt(np.mean(x**2) / (np.mean(added**2) * 10 ** (snr_db / 10)))
    mixed = x + added
    return Audio((mixed * (0.9 / np.max(np.abs(mixed)))).astype(np.float32), 16_000)


#: Tries joe gets at a consent reading the recognizer hears (see :func:`joe_consents`).
CONSENT_ATTEMPTS = 4


def joe_consents(name: str = "joe", issue: Callable[..., Any] | None = None,
                 **kwargs: Any) -> tuple[Any, Audio]:
    """A consent challenge for ``name`` and joe reading it, heard by the recognizer.

    pocketsphinx mishears about 1 in 20 of joe's readings (bench/results/consent.md).
    Like a person asked to record again, joe then gets a fresh challenge (up to
    ``CONSENT_ATTEMPTS`` tries), so tests that need an accepted reading do not fail at
    random. ``issue`` defaults to :func:`voxclone.challenge`.
    """
    import voxclone
    from voxclone.consent.phrase_check import default_recognizer
    from voxclone.consent.verify import MIN_STATEMENT_RECALL

    issue = issue or voxclone.challenge
    for _ in range(CONSENT_ATTEMPTS):
        challenge = issue(name, **kwargs)
        audio = piper_speak(challenge.text)
        heard = default_recognizer().check(audio, challenge)
        if heard.phrase_heard and heard.statement_recall >= MIN_STATEMENT_RECALL:
            break
    return challenge, audio


@pytest.fixture(scope="session")
def joe_reference() -> Audio:
    """About 8 s of joe reading two sentences."""
    return piper_speak(REFERENCE_TEXT)


@pytest.fixture(scope="session")
def joe_heldout() -> Audio:
    """Other sentences by joe, never used for enrollment."""
    return piper_speak(HELDOUT_TEXT)


@pytest.fixture(scope="session")
def other_speaker() -> Audio:
    """A woman reading (LibriSpeech), 16 kHz; skips without the shared speech."""
    path = SPEECH_DIR / "librispeech-clean" / "103-1240-0000.flac"
    if not path.is_file():
        pytest.skip("shared LibriSpeech speech not available")
    return load_audio(str(path)).resample(16_000)


@pytest.fixture(scope="session")
def joe_wav(tmp_path_factory: pytest.TempPathFactory, joe_reference: Audio) -> Path:
    path = tmp_path_factory.mktemp("ref") / "joe.wav"
    write_audio(joe_reference, path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The home of what session- and module-scoped fixtures make (voices enrolled once
    and used by many tests), so that nothing touches the user's home."""
    path = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXCLONE_HOME", str(path))
        yield path


def _sharing_secret(home: Path, session_home: Path) -> Path:
    """``home``, holding the session home's installation secret: the tests' homes are
    one installation's, so a voice enrolled (and sealed) once speaks in every test."""
    home.mkdir(parents=True, exist_ok=True)
    secret = home / SECRET_FILE
    if not secret.exists():
        secret.write_bytes(installation_secret(session_home))
        secret.chmod(0o600)
    return home


@pytest.fixture(scope="module")
def module_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                _session_home: Path) -> Iterator[Path]:
    """One voxclone home for a whole test module (for modules that set
    ``SHARED_HOME = True``, such as the server's: one database, secret and voices)."""
    path = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1] + "-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXCLONE_HOME", str(_sharing_secret(path, _session_home)))
        yield path


@pytest.fixture(autouse=True)
def _isolated_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch, _session_home: Path) -> Path:
    """Every test gets its own voxclone home (or its module's, with ``SHARED_HOME``);
    nothing touches the user's. (Not inside ``tmp_path``, which stays the test's own.)"""
    if getattr(request.module, "SHARED_HOME", False):
        home: Path = request.getfixturevalue("module_home")
    else:
        home = _sharing_secret(tmp_path_factory.mktemp("home"), _session_home)
    monkeypatch.setenv("VOXCLONE_HOME", str(home))
    return home


if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from .server_helpers import Owner


@pytest.fixture(scope="module")
def client(module_home: Path) -> Iterator[TestClient]:
    """The HTTP API, run for real in this module's home (the server tests' shared
    client; the server extra must be installed)."""
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    from fastapi.testclient import TestClient

    from voxclone.server import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def alice(client: TestClient) -> Owner:
    """An owner of this module's server, with a key (server tests)."""
    from .server_helpers import add_owner

    return add_owner("alice")


@pytest.fixture(scope="module")
def bob(client: TestClient) -> Owner:
    """A second owner of this module's server, with a key (server tests)."""
    from .server_helpers import add_owner

    return add_owner("bob")
