"""A "no watermark" in a file coded at a bitrate that strips the mark says so: the API's
``Detection.low_bitrate``, ``voxclone detect``'s line and JSON, and POST /v1/detect.
(Opus at voice-message bitrates loses the mark from short clips:
bench/results/watermark_voice_messages.md.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

import voxclone
from voxclone.audio import Audio, encode_audio, write_audio
from voxclone.audio.bitrate import lossy_coding
from voxclone.cli import main
from voxclone.detection import LOW_BITRATE_KBPS
from voxclone.registry.database import open_database
from voxclone.registry.schema import fingerprints

from .conftest import opus_16k
from .server_helpers import add_owner

TEXT = "The lighthouse keeper counted the ships every evening, and wrote them down."
#: One installation (secret + synthesis log) shared by this module's tests.
SHARED_HOME = True


@pytest.fixture(scope="module")
def take(module_home: Path, joe_reference: Audio) -> Audio:
    voice = voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                            i_am_the_speaker=True)
    take = voxclone.synthesize(TEXT, voice)
    # Its stored fingerprint would find it without the mark (tests/test_fingerprint.py):
    # these tests are about a synthesis whose fingerprint is not kept here, as one made
    # before fingerprints were.
    with open_database().begin() as connection:
        assert connection.execute(delete(fingerprints)).rowcount == 1
    return take


def test_a_mark_lost_to_a_low_bitrate_is_not_read_as_absent(take: Audio) -> None:
    low = opus_16k(take, 0.97)
    coding = lossy_coding(low, take.duration)
    assert coding is not None and coding.codec == "Opus" and coding.kbps < LOW_BITRATE_KBPS
    result = voxclone.detect(low)
    assert not result.found and result.low_bitrate == str(coding)
    assert result.low_bitrate.startswith("Opus at ") and "kbit/s" in result.low_bitrate
    # voxclone's own Opus (about 58 kbit/s) keeps the mark
    own = voxclone.detect(encode_audio(take, "opus"))
    assert own.found and own.low_bitrate is None


def test_not_found_at_a_high_bitrate_stands(joe_reference: Audio) -> None:
    high = encode_audio(joe_reference, "opus")
    coding = lossy_coding(high, joe_reference.duration)
    assert coding is not None and coding.kbps > LOW_BITRATE_KBPS
    result = voxclone.detect(high)
    assert not result.found and result.low_bitrate is None and not result.too_short


def test_what_the_coding_is_read_from(tmp_path: Path, joe_reference: Audio) -> None:
    mp3 = encode_audio(joe_reference, "mp3")
    coding = lossy_coding(mp3, joe_reference.duration)
    assert coding is not None and coding.codec == "MP3"
    assert coding.kbps == pytest.approx(len(mp3) * 8 / 1000 / joe_reference.duration)
    path = tmp_path / "joe.mp3"
    path.write_bytes(mp3)
    assert lossy_coding(path, joe_reference.duration) == coding
    flac = tmp_path / "joe.flac"
    write_audio(joe_reference, flac)
    assert lossy_coding(flac, joe_reference.duration) is None  # lossless
    assert lossy_coding(b"not audio at all", 1.0) is None
    assert lossy_coding("-", 1.0) is None  # standard input: read once, by the decoder
    assert voxclone.detect(joe_reference).low_bitrate is None  # decoded audio: not known


def test_the_command_line_says_why_not_found_means_little(
        tmp_path: Path, take: Audio, capsys: pytest.CaptureFixture[str]) -> None:
    low = tmp_path / "message.ogg"
    low.write_bytes(opus_16k(take, 0.97))
    assert main(["detect", str(low)]) == 1
    line = capsys.readouterr().out
    assert "no voxclone watermark" in line and "(but the file is Opus at " in line
    assert "does not show that the speech is not voxclone's" in line
    assert main(["detect", "--json", str(low)]) == 1
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert shown["found"] is False and shown["low_bitrate"].startswith("Opus at ")
    wav = tmp_path / "take.wav"
    write_audio(take, wav)
    assert main(["detect", "--json", str(wav)]) == 0
    assert json.loads(capsys.readouterr().out)["low_bitrate"] is None


def test_the_server_says_so_too(client: Any, joe_reference: Audio) -> None:
    owner = add_owner("alice")
    upload = {"file": ("message.ogg", opus_16k(joe_reference, 0.97), "audio/ogg")}
    body = client.post("/v1/detect", headers=owner.headers, files=upload).json()
    assert body["found"] is False and body["low_bitrate"].startswith("Opus at ")
