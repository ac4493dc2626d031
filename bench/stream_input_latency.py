"""How soon the server speaks a text sent to it as it is written.

A real ``voxclone serve`` runs in a subprocess over a fresh voxclone home with one
owner's voice (joe, as in ``server_load.py``). A paragraph (``follow_latency.py``'s,
68 words) is written word by word at ``--words-per-s`` (a language model's reply):

* over ``WebSocket /v1/audio/speech/stream-input``, each word sent as it is written:
  the first audio from the first word, and from the word that shows the first sentence
  has ended (the next one's first), and the last audio from the last word; the joined
  audio's watermark is checked against the synthesis the server named;
* baseline, ``POST /v1/audio/speech`` (pcm, streamed) sent once the whole paragraph is
  written, as a client without the WebSocket must: its first and last audio, from the
  paragraph's first and last word.

Each is run ``--rounds`` times, alternately; medians. Run from the repo root:
``python bench/stream_input_latency.py``; writes
``bench/results/stream_input_latency.{md,json}``. About 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.sync.client import connect

import voxclone
from voxclone.audio import Audio

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
from follow_latency import PARAGRAPH
from server_load import prepare, serving

PATH = "/v1/audio/speech/stream-input"
BYTES_PER_S = 2 * 24_000  # 16-bit mono 24 kHz


def words() -> list[str]:
    """The paragraph's pieces as written: each word with the space after it."""
    split = PARAGRAPH.split()
    return [w + (" " if i < len(split) - 1 else "") for i, w in enumerate(split)]


def first_sentence_ends(pieces: list[str]) -> int:
    """The index of the piece that shows the first sentence has ended (the next
    sentence's first word)."""
    return next(i + 1 for i, p in enumerate(pieces) if p.rstrip().endswith("."))


def over_websocket(url: str, key: str, words_per_s: float) -> dict[str, Any]:
    pieces = words()
    arrivals: list[tuple[float, int]] = []
    audio = bytearray()
    texts: list[dict[str, Any]] = []
    with connect(f"ws://{url}{PATH}", additional_headers={"Authorization": f"Bearer {key}"},
                 open_timeout=60) as ws:
        ws.send(json.dumps({"voice": "joe"}))
        start = json.loads(ws.recv(timeout=60))

        def read() -> None:
            for message in ws:
                if isinstance(message, bytes):
                    arrivals.append((time.perf_counter(), len(message)))
                    audio.extend(message)
                else:
                    texts.append(json.loads(message))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        written = []
        for piece in pieces:
            ws.send(json.dumps({"text": piece}))
            written.append(time.perf_counter())
            time.sleep(1.0 / words_per_s)
        ws.send(json.dumps({"end": True}))
        reader.join(timeout=120)
    end = texts[-1]
    mark = voxclone.detect(Audio(np.frombuffer(bytes(audio), "<i2").astype(np.float32)
                                 / 32768, 24_000))
    cut = first_sentence_ends(pieces)
    return {"first_after_first_word_s": arrivals[0][0] - written[0],
            "first_after_sentence_end_s": arrivals[0][0] - written[cut],
            "last_after_last_word_s": arrivals[-1][0] - written[-1],
            "audio_s": len(audio) / BYTES_PER_S, "messages": len(arrivals),
            "complete": bool(end.get("complete")),
            "mark_is_synthesis": mark.found and f"{mark.payload:08x}" == start["synthesis"]}


def over_http(url: str, key: str, words_per_s: float) -> dict[str, Any]:
    pieces = words()
    began = time.perf_counter()
    time.sleep((len(pieces) - 1) / words_per_s)  # the paragraph is being written
    last_word = time.perf_counter()
    first: float | None = None
    size = 0
    with httpx.Client(timeout=600) as http, http.stream(
            "POST", f"http://{url}/v1/audio/speech",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "tts-1", "voice": "joe", "input": "".join(pieces),
                  "response_format": "pcm"}) as response:
        response.raise_for_status()
        for part in response.iter_bytes():
            if part and first is None:
                first = time.perf_counter()
            size += len(part)
    done = time.perf_counter()
    assert first is not None
    return {"first_after_first_word_s": first - began,
            "first_after_last_word_s": first - last_word,
            "last_after_last_word_s": done - last_word, "audio_s": size / BYTES_PER_S}


def median(rows: list[dict[str, Any]], field: str) -> float:
    return statistics.median(r[field] for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--words-per-s", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(sd.REPO_ROOT / "bench" / "results"
                                             / "stream_input_latency"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="voxclone-stream-input-"))
    key = prepare(home)
    with serving(home) as address:
        url = address.removeprefix("http://")
        over_http(url, key, 1000.0)  # warm-up: the models load before the clock starts
        socket_rows, http_rows = [], []
        for _ in range(args.rounds):
            socket_rows.append(over_websocket(url, key, args.words_per_s))
            http_rows.append(over_http(url, key, args.words_per_s))
    meta = sd.run_meta(started, words_per_s=args.words_per_s, rounds=args.rounds)
    sentence_word = first_sentence_ends(words()) + 1
    text = "\n".join([
        "# Text sent as it is written: `WebSocket /v1/audio/speech/stream-input`", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- `voxclone serve` on loopback, joe's voice; a paragraph of {len(words())} words "
        f"written at {args.words_per_s:g} words/s; medians of {args.rounds} rounds, the two "
        f"ways alternately; wall time {meta['wall_s']:.0f} s", "",
        "| how | first audio, from the first word | first audio, from the text it needs | "
        "last audio, from the last word | audio |",
        "|---|---|---|---|---|",
        f"| WebSocket, each word sent as written | "
        f"{median(socket_rows, 'first_after_first_word_s'):.2f} s | "
        f"{median(socket_rows, 'first_after_sentence_end_s'):.2f} s after word "
        f"{sentence_word}, which ends the first sentence | "
        f"{median(socket_rows, 'last_after_last_word_s'):.2f} s | "
        f"{median(socket_rows, 'audio_s'):.1f} s |",
        f"| `POST /v1/audio/speech` once written (baseline) | "
        f"{median(http_rows, 'first_after_first_word_s'):.2f} s | "
        f"{median(http_rows, 'first_after_last_word_s'):.2f} s after the last word | "
        f"{median(http_rows, 'last_after_last_word_s'):.2f} s | "
        f"{median(http_rows, 'audio_s'):.1f} s |", "",
        f"Every WebSocket round complete: {all(r['complete'] for r in socket_rows)}; its "
        f"joined audio's watermark the synthesis the server named: "
        f"{all(r['mark_is_synthesis'] for r in socket_rows)}.",
    ]) + "\n"
    sd.write_results(args.out, text, {"meta": meta, "websocket": socket_rows,
                                      "http": http_rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
