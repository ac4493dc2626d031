"""Watermark detection on cloned voices, through voxclone's own MP3, Ogg and Opus output
and LAME.

Run from the repo root (about 3 minutes on 2 cores; the clones' unmarked renderings are
cached, so a second run takes about 1)::

    VOXCLONE_HOME=/tmp/wm-bench python bench/watermark_clones.py [--speakers 14]
        [--sentences 5] [--compare OLD.json [--compare-label TEXT]]
        [--out bench/results/watermark_clones]

* Voices: ``fast`` clones of ``--speakers`` LibriSpeech speakers, half female (chosen
  by ``speech_data.choose_speakers``, enrolled from the first 6 s of speech of one
  utterance, as ``voxclone enroll ... --effort fast`` does; ``--also`` adds the QA
  report's clone of 1183, enrolled from its whole first utterance), and for reference two
  stock-voice mixtures (no pitch, range, rate, formant or tone change) like those of
  ``watermark.py``. Each speaks ``--sentences`` sentences of 4-7 s. A clone's pitch
  shift, range, rate and tone curve are applied before the mark, as in
  ``voxclone.synthesis.render``: the audio is rendered by the same ``Synthesizer`` and
  marked by ``QimWatermark.embed`` with a key made for the run and a random payload.
* Channels: ``wav`` (16-bit, as ``voxclone say -o x.wav`` writes it); ``voxclone mp3``
  (``encode_audio(..., "mp3")`` read back by ``load_audio``: what ``voxclone say -o
  x.mp3`` / the server's default ``response_format`` give, then ``voxclone detect``;
  no delay removed); ``lame 64`` and ``lame 32`` kbit/s (``attacks.mp3``, at 24 kHz:
  MPEG-2 layer III, delay removed); ``voxclone mp3, 3 s crop`` (a random 3 s excerpt);
  ``voxclone ogg`` and ``voxclone opus`` likewise (``say -o x.ogg`` / ``x.opus``), whole
  and as 3 s excerpts, and the same codecs at libsndfile's default quality for
  comparison (what ``encode_audio`` wrote before 5 Dec).
* Detection = found with the right payload; ``wrong`` = found with another payload.
  The same run also reads every clip with the detector before 6 Dec (every decode held
  to ``MIN_SYNC``, the whole clip not decoded on weaker sync): the baseline columns.
  ``sync z`` is the detector's lattice z-score over the whole clip at its best grid
  offset (it decodes from 3.5 up): the margin, also where nothing was found.
* Imperceptibility: SNR of the mark against the unmarked rendering, the same within
  the marked band (750-3250 Hz), and wide-band PESQ (16 kHz) of marked against
  unmarked. ``band share`` is the part of a clip's energy in the marked band.
* ``--compare OLD.json`` adds the detection rates of an earlier run (another version of
  the watermark, say) to the channel table.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import hashlib
import io
import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import soundfile as sf
import soxr
from pesq import pesq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attacks as atk
import speech_data as sd
import watermark_clips as wc

import voxclone
from voxclone.audio import Audio, encode_audio, load_audio
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.pipeline import SynthesisOptions, Synthesizer
from voxclone.watermark import QimWatermark
from voxclone.watermark import detect as detect_module

RATE = 24_000
#: The same-run baseline's label: every decode held to ``MIN_SYNC`` (before 6 Dec).
BASELINE = "MIN_SYNC only (before)"
OUT = sd.REPO_ROOT / "bench" / "results" / "watermark_clones"
BAND_HZ = (750.0, 3250.0)
#: Everyday sentences of 4-7 s (the QA report's).
TEXTS = (
    "The meeting moved to half past three. Please bring the documents.",
    "I think we should go to the beach tomorrow if the weather is nice enough for a swim.",
    "Numbers like forty two and seven hundred appear in the report, along with several "
    "dates.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Could you please send me the file again? The first one did not arrive in my inbox.",
    "Turn left at the second light, then look for the red brick building.",
)
#: Stock-voice mixtures for reference (weights of the stock packs, by sorted name).
STOCK_MIXTURES = ((0.6, 0.4, 0.0, 0.0, 0.0), (0.0, 0.0, 0.3, 0.3, 0.4))
#: voxclone's own lossy outputs, each also as a random 3 s excerpt; ``libsndfile
#: default`` is the same codec at libsndfile's default quality (the encoder before 5 Dec).
OWN_LOSSY = ("voxclone ogg", "voxclone opus", "ogg, libsndfile default",
             "opus, libsndfile default")
CHANNELS = ("wav", "voxclone mp3", "lame 64 kbit/s", "lame 32 kbit/s",
            "voxclone mp3, 3 s crop",
            *(f"{c}{crop}" for c in OWN_LOSSY for crop in ("", ", 3 s crop")))


@dataclass(frozen=True)
class Voice:
    label: str  # speaker id, or "stock-N"
    gender: str  # F, M, or "-" for a stock mixture
    profile: VoiceProfile


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clone_voices(count: int, speech_dir: str | None, also: list[str]) -> list[Voice]:
    folder = sd.corpus_dir(speech_dir)
    utterances = sd.read_index(folder)
    extra = [u for u in utterances if u.path.stem in also]
    usable = {u.speaker for u in utterances} - {u.speaker for u in extra}
    voices = []
    for utterance in sd.choose_speakers(utterances, usable, count, min_seconds=10.0) + extra:
        split = sd.split_utterance(utterance) if utterance not in extra else None
        reference = split.reference if split is not None else load_audio(str(utterance.path))
        profile = voxclone.enroll(f"wm-{utterance.speaker}", reference, effort="fast",
                                  save=False, i_am_the_speaker=True,  # public speech
                                  force=True)  # every speaker is measured, gate or not
        log(f"enrolled {utterance.speaker} ({utterance.gender}): pitch "
            f"{profile.pitch_shift:+.2f} st, range {profile.pitch_range:.2f}, rate "
            f"{profile.rate:.2f}, tone {'yes' if profile.tone is not None else 'no'}")
        voices.append(Voice(utterance.speaker, utterance.gender, profile))
    return voices


def stock_voices() -> list[Voice]:
    names = sorted(stock_packs())
    voices = []
    for index, weights in enumerate(STOCK_MIXTURES):
        base = wc._profile({n: w for n, w in zip(names, weights, strict=False) if w > 0})
        voices.append(Voice(f"stock-{index + 1}", "-", replace(base, name=f"stock-{index + 1}")))
    return voices


def all_voices(speakers: int, speech_dir: str | None) -> tuple[list[Voice], Synthesizer]:
    """This bench's voices (``speakers`` ``fast`` clones, then the stock mixtures) and the
    synthesizer that renders them: what the other watermark benches share."""
    voices = clone_voices(speakers, speech_dir, []) + stock_voices()
    return voices, Synthesizer(default_engine(), stock_packs())


def rendering(synthesizer: Synthesizer, voice: Voice, index: int) -> np.ndarray:
    """The unmarked rendering of sentence ``index`` (cached by voice parameters)."""
    body = {k: v for k, v in voice.profile.to_json().items()
            if k not in ("created", "sha256", "name", "warnings")}
    key = hashlib.sha256(json.dumps([TEXTS[index], body], sort_keys=True).encode())
    folder = sd.bench_cache_dir() / "watermark_clones"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{voice.label}-{index}-{key.hexdigest()[:16]}.wav"
    if path.exists():
        return np.asarray(sf.read(path, dtype="float32")[0])
    audio = synthesizer.synthesize(TEXTS[index], voice.profile, SynthesisOptions())
    sf.write(path, audio.samples, RATE, subtype="FLOAT")
    return audio.samples


def through(channel: str, marked: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``marked`` (float32 at 24 kHz) as read back after ``channel``, float64 24 kHz."""
    if not channel.startswith("lame"):
        fmt = "wav" if channel == "wav" else channel.split(",")[0].split()[-1]
        if "libsndfile default" in channel:
            buffer = io.BytesIO()
            sf.write(buffer, marked, RATE, format="OGG", subtype={"ogg": "VORBIS"}.get(
                fmt, fmt.upper()))
            encoded = buffer.getvalue()
        else:
            encoded = encode_audio(Audio(marked, RATE), fmt)
        heard = load_audio(encoded).resample(RATE).samples.astype(np.float64)
        return atk.crop(3.0)(heard, RATE, rng) if channel.endswith("crop") else heard
    bitrate = 64 if "64" in channel else 32
    return atk.mp3(bitrate)(marked.astype(np.float64), RATE, rng)


def sync_z(wm: QimWatermark, x: np.ndarray) -> float:
    """The detector's lattice z-score over the whole clip at its best offset (speed 1)."""
    x8 = np.asarray(soxr.resample(x, RATE, wm.layout.config.analysis_rate, quality="MQ"))
    grid = detect_module._grid(x8, wm.layout)
    return 0.0 if grid is None else detect_module._sync_z(grid, 0, grid.sync.shape[1])[1]


def band_energy(x: np.ndarray) -> tuple[float, float]:
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / RATE)
    inside = (freqs >= BAND_HZ[0]) & (freqs < BAND_HZ[1])
    return float(power[inside].sum()), float(power.sum())


def measure(wm: QimWatermark, voice: Voice, clean: np.ndarray, payload: int,
            rng: np.random.Generator) -> dict[str, Any]:
    marked = wm.embed(clean, RATE, payload)
    x, mark = clean.astype(np.float64), marked.astype(np.float64) - clean
    band_x, total_x = band_energy(x)
    band_mark, total_mark = band_energy(mark)
    row: dict[str, Any] = {
        "voice": voice.label, "seconds": round(len(clean) / RATE, 2),
        "band_share": band_x / total_x,
        "snr_db": 10 * np.log10(total_x / total_mark),
        "band_snr_db": 10 * np.log10(band_x / band_mark),
        "pesq": pesq(16_000, soxr.resample(x, RATE, 16_000),
                     soxr.resample(marked.astype(np.float64), RATE, 16_000), "wb"),
        "mp3_kbps": len(encode_audio(Audio(marked, RATE), "mp3")) * 8 / 1000 / (len(x) / RATE),
        "channels": {}}
    for channel in CHANNELS:
        heard = through(channel, marked, rng)
        found = wm.detect(heard, RATE)
        # the same-run baseline: the detector before the whole clip was decoded on weak sync
        with mock.patch.object(detect_module, "WEAK_SYNC", detect_module.MIN_SYNC):
            strict = wm.detect(heard, RATE)
        row["channels"][channel] = {
            "right": bool(found.found and found.payload == payload),
            "right_strict": bool(strict.found and strict.payload == payload),
            "wrong": bool(found.found and found.payload != payload),
            "sync_z": round(sync_z(wm, heard), 2)}
    return row


def rate(rows: list[dict[str, Any]], channel: str, key: str = "right") -> float:
    return float(np.mean([r["channels"][channel].get(key, False) for r in rows])) \
        if rows else 0.0


def channel_table(groups: dict[str, list[dict[str, Any]]], compare: dict[str, Any] | None,
                  label: str) -> tuple[list[str], dict[str, Any]]:
    head = "| channel | " + " | ".join(f"{g} ({len(r)} clips)" for g, r in groups.items()) \
        + " | wrong | median / 10th pct sync z (clones) | " + " | ".join(
            f"{g}, {BASELINE}" for g in groups) + " |"
    if compare:
        head += f" clones, {label} | sync z, {label} |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    summary: dict[str, Any] = {}
    clones = groups["clones"]
    for channel in CHANNELS:
        zs = [r["channels"][channel]["sync_z"] for r in clones]
        wrong = sum(r["channels"][channel]["wrong"] for rows in groups.values() for r in rows)
        summary[channel] = {g: rate(rows, channel) for g, rows in groups.items()}
        summary[channel].update(wrong=wrong, sync_z_median=statistics.median(zs),
                                sync_z_p10=float(np.percentile(zs, 10)),
                                baseline={g: rate(rows, channel, "right_strict")
                                          for g, rows in groups.items()})
        line = ("| " + channel + " | " + " | ".join(
            f"{rate(rows, channel):.3f}" for rows in groups.values())
            + f" | {wrong} | {statistics.median(zs):.1f} / {np.percentile(zs, 10):.1f} | "
            + " | ".join(f"{rate(rows, channel, 'right_strict'):.3f}"
                         for rows in groups.values()) + " |")
        old = compare["channels"].get(channel) if compare else None
        if old:
            line += (f" {old['clones']:.3f} | {old['sync_z_median']:.1f} / "
                     f"{old['sync_z_p10']:.1f} |")
        elif compare:  # a channel the earlier run did not have
            line += " - | - |"
        lines.append(line)
    return lines, summary


def quality_table(groups: dict[str, list[dict[str, Any]]]) -> tuple[list[str], dict[str, Any]]:
    lines = ["| voices | measure | median | 5th percentile | worst |",
             "| --- | --- | --- | --- | --- |"]
    summary: dict[str, Any] = {}
    for group, rows in groups.items():
        for key, label in (("snr_db", "SNR (dB)"), ("band_snr_db", "SNR in 750-3250 Hz (dB)"),
                           ("pesq", "PESQ wide-band")):
            values = [r[key] for r in rows]
            p5 = float(np.percentile(values, 5))
            summary[f"{group} {key}"] = {"median": statistics.median(values), "p5": p5,
                                         "worst": min(values)}
            lines.append(f"| {group} | {label} | {statistics.median(values):.2f} | "
                         f"{p5:.2f} | {min(values):.2f} |")
    return lines, summary


def voice_table(voices: list[Voice], rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| voice | sex | pitch (st) | range | rate | tone 2-4 kHz vs 0.8-2 kHz (dB) "
             "| band share | SNR (dB) | voxclone mp3 kbit/s | " + " | ".join(CHANNELS) + " |"]
    lines.append("|" + " --- |" * (9 + len(CHANNELS)))
    for voice in voices:
        mine = [r for r in rows if r["voice"] == voice.label]
        p = voice.profile
        tilt = "-"
        if p.tone is not None:
            tone = np.asarray(p.tone)
            tilt = f"{tone[22:27].mean() - tone[15:21].mean():+.1f}"  # band centres (Hz)
        cells = [f"{sum(r['channels'][c]['right'] for r in mine)}/{len(mine)}"
                 for c in CHANNELS]
        lines.append(
            f"| {voice.label} | {voice.gender} | {p.pitch_shift:+.2f} | {p.pitch_range:.2f} | "
            f"{p.rate:.2f} | {tilt} | {statistics.median(r['band_share'] for r in mine):.2f} | "
            f"{statistics.median(r['snr_db'] for r in mine):.1f} | "
            f"{statistics.median(r['mp3_kbps'] for r in mine):.0f} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = sd.speaker_parser(__doc__, speakers=14, out=OUT)
    parser.add_argument("--sentences", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--also", default="1183-124566-0000",
                        help="comma-separated utterances also cloned, each whole (default: "
                             "the QA report's clone of speaker 1183)")
    parser.add_argument("--compare", type=Path, default=None,
                        help="an earlier run's json, whose clone detection rates are shown")
    parser.add_argument("--compare-label", default=None,
                        help="what the compared run was (default: its file name)")
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    wm = QimWatermark(rng.bytes(32))
    voices = clone_voices(args.speakers, args.speech_dir,
                          [a.strip() for a in args.also.split(",") if a.strip()])
    stock = stock_voices()
    synthesizer = Synthesizer(default_engine(), stock_packs())
    groups: dict[str, list[dict[str, Any]]] = {"clones": [], "stock mixtures": []}
    for voice in voices + stock:
        group = "stock mixtures" if voice.gender == "-" else "clones"
        for index in range(min(args.sentences, len(TEXTS))):
            clean = rendering(synthesizer, voice, index)
            row = measure(wm, voice, clean, int(rng.integers(0, 1 << 32)), rng)
            groups[group].append(row)
        mine = [r for r in groups[group] if r["voice"] == voice.label]
        log(f"{voice.label}: " + ", ".join(
            f"{c} {sum(r['channels'][c]['right'] for r in mine)}/{len(mine)}"
            for c in CHANNELS))
    compare = json.loads(args.compare.read_text()) if args.compare else None
    label = args.compare_label or (args.compare.stem if args.compare else "")
    channels, channel_summary = channel_table(groups, compare, label)
    quality, quality_summary = quality_table(groups)
    lines = [f"# Watermark on cloned voices ({len(voices)} `fast` clones of LibriSpeech "
             f"speakers, "
             f"{len(groups['clones'])} clips of 4-7 s)", "",
             "Detection rate (right payload) per channel, by this detector and, on the "
             f"same audio, by the one before 6 Dec (`{BASELINE}`: every decode held to "
             "MIN_SYNC); `python bench/watermark_clones.py`"
             + (f"; the last columns are an earlier run ({label})" if compare else "") + ".",
             "",
             *channels, "", "## Imperceptibility (marked vs unmarked)", "", *quality, "",
             "## Per voice (clips detected per channel)", "",
             *voice_table(voices + stock, groups["clones"] + groups["stock mixtures"]), ""]
    summary = {"meta": sd.run_meta(started, source_tree=sd.source_tree(),
                                   watermark=wm.name),
               "channels": channel_summary, "quality": quality_summary,
               "compare": {"label": label, "meta": compare["meta"],
                           "channels": compare["channels"],
                           "quality": compare["quality"]} if compare else None,
               "voices": [{"voice": v.label, "gender": v.gender,
                           "pitch_shift": v.profile.pitch_shift,
                           "pitch_range": v.profile.pitch_range, "rate": v.profile.rate,
                           "formant_ratio": v.profile.formant_ratio,
                           "tone": v.profile.tone} for v in voices + stock],
               "clips": groups}
    sd.write_results(args.out, "\n".join(lines), summary)


if __name__ == "__main__":
    main()
