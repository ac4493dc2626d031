"""Watermark detection through Opus at voice-message and VoIP bitrates, by length.

Messaging apps and calls code speech with Opus at 16-24 kbit/s and 16 kHz, where Opus
codes speech with its SILK layer (linear prediction), not the transform layer that
``bench/watermark_clones.py``'s Opus channels (libsndfile's default, about 30 kbit/s)
exercise. This bench measures how the mark fares there, and how that depends on how
long the message is: the codeword repeats every 2.05 s, and the detector adds its
periods up.

Run from the repo root (about 5 minutes on 2 cores; renderings are shared with
``watermark_clones.py``'s cache)::

    VOXCLONE_HOME=/tmp/wm-bench python bench/watermark_voice_messages.py [--speakers 14]
        [--out bench/results/watermark_voice_messages]

* Voices: ``watermark_clones.py``'s (``fast`` clones of ``--speakers`` LibriSpeech
  speakers, half female, and two stock-voice mixtures), each speaking its six
  sentences of 4-7 s.
* Messages: each voice's first 1, 2, 4 and 6 sentences joined (about 5, 11, 22 and 33
  s), marked with the run's key and a random payload, resampled to 16 kHz and coded as
  Ogg Opus by libsndfile at compression levels 0.9, 0.93, 0.95 and 0.97 (bitrates
  measured and shown: about 28, 22, 18 and 12 kbit/s on this speech), then read back
  and detected at 24 kHz.
* Detection = found with the right payload; ``wrong`` = another payload. The same
  messages unmarked, through the same codec, give the false-positive count.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import io
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd
import watermark_clones as wcl

from voxclone.audio import Audio, load_audio
from voxclone.watermark import QimWatermark

RATE = wcl.RATE
CODEC_RATE = 16_000
#: libsndfile's Opus compression levels tried (0: its highest bitrate, 1: its lowest).
LEVELS = (0.9, 0.93, 0.95, 0.97)
#: Sentences joined into one message.
LENGTHS = (1, 2, 4, 6)
OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_voice_messages"


def opus(samples: np.ndarray, level: float) -> tuple[np.ndarray, float]:
    """``samples`` (24 kHz) through Ogg Opus at 16 kHz and ``level``, read back at 24
    kHz (float64), and the stream's bitrate (kbit/s)."""
    coded = Audio(samples.astype(np.float32), RATE).resample(CODEC_RATE)
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(coded.samples, -1.0, 1.0), CODEC_RATE, format="OGG",
             subtype="OPUS", compression_level=level)
    data = buffer.getvalue()
    heard = load_audio(data).resample(RATE).samples.astype(np.float64)
    return heard, len(data) * 8 / 1000 / (len(samples) / RATE)


def main() -> None:
    parser = sd.speaker_parser(__doc__, speakers=14, out=OUT)
    parser.add_argument("--seed", type=int, default=2028)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    wm = QimWatermark(rng.bytes(32))
    voices, synthesizer = wcl.all_voices(args.speakers, args.speech_dir)
    rows: list[dict[str, Any]] = []
    for voice in voices:
        sentences = [wcl.rendering(synthesizer, voice, i) for i in range(max(LENGTHS))]
        for count in LENGTHS:
            clean = np.concatenate(sentences[:count])
            payload = int(rng.integers(0, 1 << 32))
            marked = wm.embed(clean, RATE, payload)
            for level in LEVELS:
                heard, kbps = opus(marked, level)
                found = wm.detect(heard, RATE)
                false = wm.detect(opus(clean, level)[0], RATE)
                rows.append({"voice": voice.label, "sentences": count,
                             "seconds": len(clean) / RATE, "level": level, "kbps": kbps,
                             "right": bool(found.found and found.payload == payload),
                             "wrong": bool(found.found and found.payload != payload),
                             "false_positive": bool(false.found)})
        wcl.log(f"{voice.label}: " + ", ".join(
            f"{r['sentences']}/{r['level']} {'y' if r['right'] else '-'}"
            for r in rows if r["voice"] == voice.label))
    lines = [f"# Watermark through Opus at voice-message bitrates ({len(voices)} voices: "
             f"{len(voices) - 2} `fast` clones, 2 stock mixtures)", "",
             "Right payload read, by libsndfile's Opus compression level (16 kHz; its "
             "median bitrate on these messages) and message length (sentences joined; "
             "median seconds); `python bench/watermark_voice_messages.py`.", ""]
    head = "| Opus level (kbit/s) | " + " | ".join(
        f"{n} sentence{'s' if n > 1 else ''} "
        f"({statistics.median(r['seconds'] for r in rows if r['sentences'] == n):.0f} s)"
        for n in LENGTHS) + " | wrong payload | false positives (unmarked) |"
    lines += [head, "|" + " --- |" * (head.count("|") - 1)]
    summary: dict[str, Any] = {}
    for level in LEVELS:
        mine = [r for r in rows if r["level"] == level]
        kbps = statistics.median(r["kbps"] for r in mine)
        rates = {n: float(np.mean([r["right"] for r in mine if r["sentences"] == n]))
                 for n in LENGTHS}
        wrong = sum(r["wrong"] for r in mine)
        false = sum(r["false_positive"] for r in mine)
        summary[str(level)] = {"kbps": kbps, "right": rates, "wrong": wrong,
                               "false_positives": false, "messages": len(mine)}
        lines.append(f"| {level} ({kbps:.0f}) | " + " | ".join(
            f"{rates[n]:.2f}" for n in LENGTHS) + f" | {wrong} | {false} of {len(mine)} |")
    lines.append("")
    sd.write_results(args.out, "\n".join(lines),
                     {"meta": sd.run_meta(started, source_tree=sd.source_tree(),
                                          watermark=wm.name),
                      "levels": summary, "messages": rows})


if __name__ == "__main__":
    main()
