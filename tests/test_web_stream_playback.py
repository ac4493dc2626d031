"""The web page plays speech as it streams: its WAV stream decoder (static/wav_stream.js,
run under Node.js) gives the samples the server sent, however the network splits the
bytes, and its player schedules them back to back."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from .server_helpers import add_owner, register_voice, speak

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
SCRIPT = Path(str(files("voxclone.server") / "static" / "wav_stream.js"))

#: Feeds the decoder a stream's bytes in the given pieces, then gives the player the
#: samples on a stand-in AudioContext, and prints what each did.
_DRIVER = """
const { WavStreamDecoder, StreamPlayer } = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const bytes = Buffer.from(input.bytes, "base64");
const decoder = new WavStreamDecoder(), samples = [], starts = [];
const context = {
  currentTime: 0, destination: {},
  createBuffer: (channels, length, rate) => {
    const data = new Float32Array(length);
    return { duration: length / rate, length, getChannelData: () => data };
  },
  createBufferSource: () => ({ connect() {}, start(t) { starts.push([t, this.buffer.length]); } }),
};
const player = new StreamPlayer(context);
let at = 0, error = null;
try {
  for (const size of input.pieces.concat([bytes.length])) {
    const end = Math.min(at + size, bytes.length);
    const piece = decoder.push(new Uint8Array(bytes.subarray(at, end)));
    at = end;
    samples.push(...piece);
    player.add(piece, decoder.sampleRate);
    context.currentTime += 0.01;
  }
  player.flush(decoder.sampleRate);
} catch (e) { error = `${e.name}: ${e.message}`; }
console.log(JSON.stringify({ samples, rate: decoder.sampleRate, starts, error }));
"""


def _decode(data: bytes, pieces: list[int]) -> dict[str, Any]:
    import base64

    result = subprocess.run(
        [NODE or "node", "-e", _DRIVER, str(SCRIPT)], check=True, capture_output=True,
        text=True, timeout=60,
        input=json.dumps({"bytes": base64.b64encode(data).decode(), "pieces": pieces}))
    decoded: dict[str, Any] = json.loads(result.stdout)
    return decoded


@pytest.fixture(scope="module")
def speech(client: Any) -> bytes:
    """What the server streams for a short text in a voice (WAV)."""
    owner = add_owner("alice")
    register_voice("alice", "ada")
    response = speak(client, owner, "ada")
    assert response.status_code == 200, response.text
    data: bytes = response.content
    return data


def _pcm(wav: bytes) -> np.ndarray:
    samples, _ = sf.read(io.BytesIO(wav), dtype="int16")
    return samples.astype(np.float64) / 32768


def test_the_page_decodes_the_servers_speech_however_it_is_split(speech: bytes) -> None:
    wav = speech
    assert struct.unpack("<I", wav[4:8])[0] == 0xFFFFFFFF  # streamed: sizes unknown
    expected = _pcm(wav)
    rng = np.random.default_rng(0)
    # odd pieces split the header and the samples; the first byte alone, then all at once
    for pieces in ([1, 2, 40, 3, *rng.integers(1, 4000, 400).tolist()], [len(wav)]):
        result = _decode(wav, pieces)
        assert result["error"] is None
        assert result["rate"] == 24000
        np.testing.assert_array_equal(np.array(result["samples"]), expected)


def test_the_player_plays_every_sample_once_back_to_back(speech: bytes) -> None:
    wav = speech
    result = _decode(wav, [44, *[999] * (len(wav) // 999)])
    starts = np.array(result["starts"], dtype=np.float64)
    assert sum(starts[:, 1]) == len(_pcm(wav))
    ends = starts[:, 0] + starts[:, 1] / 24000
    np.testing.assert_allclose(starts[1:, 0], ends[:-1])  # no gap, no overlap
    assert starts[:-1, 1].min() >= 0.25 * 24000  # small pieces gathered first


def test_a_wav_with_a_chunk_before_its_data_is_decoded() -> None:
    samples = (np.sin(np.arange(1000) / 7) * 20000).astype(np.int16)
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    wav = (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + fmt
           + b"LIST" + struct.pack("<I", 5) + b"INFOx\0"  # odd size, padded
           + b"data" + struct.pack("<I", 0xFFFFFFFF) + samples.tobytes())
    result = _decode(wav, [7] * 20)
    assert result["error"] is None and result["rate"] == 16000
    np.testing.assert_array_equal(np.array(result["samples"]), samples / 32768)


@pytest.mark.parametrize(("data", "said"), [
    (b"ID3\x04" + bytes(60), "not a WAV stream"),
    (b"RIFF" + bytes(4) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 24000, 96000, 4, 16)
     + b"data" + bytes(8), "2 channels"),
], ids=["mp3", "stereo"])
def test_audio_the_page_cannot_play_is_named(data: bytes, said: str) -> None:
    result = _decode(data, [5])
    assert result["error"].startswith("WavFormatError") and said in result["error"]
