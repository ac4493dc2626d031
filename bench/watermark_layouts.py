"""Exploring the mark's grid for speech codecs: the shipped ``WatermarkConfig`` against
coarser cells and a larger lattice step, on the same clips, keys and payloads.

Opus under 24 kbit/s codes speech by linear prediction (SILK), which keeps the
spectral envelope, not the balance of adjacent 156 Hz bands that carries each bit
(``bench/results/watermark_voice_messages.md``). Wider cells sit closer to what the
envelope keeps; a larger lattice step moves each ratio further. This bench measures
what each variant buys through Opus and what it costs elsewhere, before any layout
change (a new layout is a new watermark version: the detector would have to read
both). Nothing here changes what voxclone embeds.

Run from the repo root (about 10 minutes on 2 cores; renderings are shared with
``watermark_clones.py``'s cache)::

    VOXCLONE_HOME=/tmp/wm-bench python bench/watermark_layouts.py [--speakers 14]
        [--out bench/results/watermark_layouts]

* Clips: ``watermark_clones.py``'s voices (``fast`` clones of ``--speakers``
  LibriSpeech speakers and two stock-voice mixtures), their first three sentences (4-7
  s) one by one, and the first two joined (about 10 s).
* Every variant marks the same clip with the same key and payload; a two-layer variant
  embeds both grids in turn (the second with a key of its own) and reads the clip with
  either grid's detector, so its false-positive bound is twice a single grid's.
  Channels: the clip as it is and a random 3 s crop; Ogg Opus at 16 kHz at
  libsndfile's compression 0.93 and 0.95 (about 21 and 17 kbit/s on this speech), the
  crop through the first; LAME MP3 at 32 kbit/s; white noise at 20 dB SNR.
* Quality: SNR of the mark against the unmarked clip, and wide-band PESQ (16 kHz).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from pesq import pesq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attacks as atk
import speech_data as sd
import watermark_clones as wcl
import watermark_voice_messages as wvm

from voxclone.watermark import QimWatermark
from voxclone.watermark.layout import WatermarkConfig

RATE = wcl.RATE
OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_layouts"
#: The variants, each a stack of layers embedded in turn (the first with the run's key,
#: each further one with a key of its own): the shipped grid, each change alone, both,
#: wide bands with the shipped grid's number of cells per symbol, and that grid as a
#: second layer over the shipped one (read by either layer's detector).
_WIDE = {"band_bins": 10, "bands": 8, "frames_per_unit": 2, "units_per_symbol": 8}
VARIANTS: dict[str, tuple[WatermarkConfig, ...]] = {
    "shipped (16 bands of 156 Hz, step 5 dB)": (WatermarkConfig(),),
    "step 8 dB": (WatermarkConfig(delta_db=8.0),),
    "8 bands of 312 Hz": (WatermarkConfig(band_bins=10, bands=8),),
    "8 bands of 312 Hz, step 8 dB": (WatermarkConfig(band_bins=10, bands=8, delta_db=8.0),),
    # as many pairs per bit as the shipped grid: twice the columns, each half as long
    "8 bands of 312 Hz, 32 ms columns, step 8 dB": (WatermarkConfig(**_WIDE, delta_db=8.0),),
    "8 bands of 312 Hz, 32 ms columns, step 6.5 dB": (
        WatermarkConfig(**_WIDE, delta_db=6.5),),
    "shipped + a 312 Hz / 32 ms layer at 8 dB": (
        WatermarkConfig(), WatermarkConfig(**_WIDE, delta_db=8.0)),
    "shipped + a 312 Hz / 32 ms layer at 6.5 dB": (
        WatermarkConfig(), WatermarkConfig(**_WIDE, delta_db=6.5)),
}
CHANNELS = ("as is", "3 s crop", "opus ~21 kbit/s", "opus ~17 kbit/s",
            "opus ~21 kbit/s, 3 s crop", "lame mp3 32 kbit/s", "white noise 20 dB")


def through(channel: str, marked: np.ndarray, start: int) -> np.ndarray:
    """``marked`` (24 kHz) after ``channel``; ``start``: where a crop begins."""
    x = marked.astype(np.float64)
    if "crop" in channel:
        x = x[start: start + 3 * RATE]
    if channel.startswith("opus"):
        return wvm.opus(x, 0.93 if "21" in channel else 0.95)[0]
    if channel.startswith("lame"):
        return atk.mp3(32)(x, RATE, np.random.default_rng(0))
    if channel.startswith("white"):
        return atk.white_noise(20.0)(x, RATE, np.random.default_rng(start))
    return x


def main() -> None:
    parser = sd.speaker_parser(__doc__, speakers=14, out=OUT)
    parser.add_argument("--seed", type=int, default=2029)
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    voices, synthesizer = wcl.all_voices(args.speakers, args.speech_dir)
    clips: list[tuple[str, np.ndarray]] = []
    for voice in voices:
        sentences = [wcl.rendering(synthesizer, voice, i) for i in range(3)]
        clips += [("5 s", s) for s in sentences] + [("10 s", np.concatenate(sentences[:2]))]
    rows: list[dict[str, Any]] = []
    for length, clean in clips:
        key, payload = rng.bytes(32), int(rng.integers(0, 1 << 32))
        start = int(rng.integers(0, len(clean) - 3 * RATE))
        reference = soxr.resample(clean.astype(np.float64), RATE, 16_000)
        for name, layers in VARIANTS.items():
            marks = [QimWatermark(key if i == 0 else key + bytes([i]), config)
                     for i, config in enumerate(layers)]
            marked = clean
            for wm in marks:
                marked = wm.embed(marked, RATE, payload)
            mark = marked.astype(np.float64) - clean
            row: dict[str, Any] = {
                "variant": name, "length": length,
                "snr_db": 10 * np.log10(np.sum(clean.astype(np.float64) ** 2)
                                        / np.sum(mark ** 2)),
                "pesq": pesq(16_000, reference,
                             soxr.resample(marked.astype(np.float64), RATE, 16_000), "wb")}
            for channel in CHANNELS:
                heard = through(channel, marked, start)
                found = [d for d in (wm.detect(heard, RATE) for wm in marks) if d.found]
                row[channel] = ("wrong" if any(d.payload != payload for d in found)
                                else "right" if found else "none")
            rows.append(row)
        wcl.log(f"{len(rows) // len(VARIANTS)}/{len(clips)} clips")
    head = ("| variant | clips | " + " | ".join(CHANNELS)
            + " | wrong payloads | SNR dB (median / 5th pct) | PESQ (median / worst) |")
    lines = [f"# The mark's grid through speech codecs ({len(voices)} voices, "
             f"{len(clips)} clips; `python bench/watermark_layouts.py`)", "",
             "Right payload read per channel; every variant marks the same clips with "
             "the same keys and payloads. Only the shipped grid is what voxclone embeds.",
             "", head, "|" + " --- |" * (head.count("|") - 1)]
    summary: dict[str, Any] = {}
    for name in VARIANTS:
        for length in ("5 s", "10 s"):
            mine = [r for r in rows if r["variant"] == name and r["length"] == length]
            rates = {c: float(np.mean([r[c] == "right" for r in mine])) for c in CHANNELS}
            wrong = sum(r[c] == "wrong" for r in mine for c in CHANNELS)
            snr = [r["snr_db"] for r in mine]
            quality = [r["pesq"] for r in mine]
            summary[f"{name} / {length}"] = {"right": rates, "wrong": wrong,
                                             "snr_db_median": statistics.median(snr),
                                             "pesq_median": statistics.median(quality),
                                             "clips": len(mine)}
            lines.append(f"| {name} | {len(mine)} of {length} | " + " | ".join(
                f"{rates[c]:.2f}" for c in CHANNELS) + f" | {wrong} | "
                f"{statistics.median(snr):.1f} / {np.percentile(snr, 5):.1f} | "
                f"{statistics.median(quality):.2f} / {min(quality):.2f} |")
    lines.append("")
    sd.write_results(args.out, "\n".join(lines),
                     {"meta": sd.run_meta(started, source_tree=sd.source_tree()),
                      "variants": {k: [repr(c) for c in v] for k, v in VARIANTS.items()},
                      "summary": summary, "clips": rows})


if __name__ == "__main__":
    main()
