"""Tracing a synthesis by its stored fingerprint where the watermark is lost: short
clips, voice-message bitrates, noise, a telephone line; against the watermark alone, in
the same run, on the same clips.

Run from the repo root (about 20 minutes on 2 cores; renderings are shared with
``watermark_clones.py``'s cache)::

    VOXCLONE_HOME=/tmp/fp-bench python bench/fingerprint.py [--speakers 14]
        [--out bench/results/fingerprint]

* Voices: ``watermark_clones.py``'s (``fast`` clones of ``--speakers`` LibriSpeech
  speakers, half female, and two stock-voice mixtures), each speaking its six sentences
  of 4-7 s, each marked with the run's key and a random payload.
* Stored: each voice's first four sentences (their fingerprints, as synthesis stores
  them), and as other installations' speech ``--padding`` LibriSpeech utterances of
  speakers the clones are not made from.
* Traced: each voice's first two sentences through each channel, then a random excerpt
  of each length (or whole). ``watermark``: the mark read with the right payload;
  ``fingerprint``: the stored fingerprint matched with it; ``detect``: what
  ``voxclone.detect`` reports, the mark first and the fingerprint where no mark is read.
  ``wrong``: a payload that is not the clip's.
* Not stored: each voice's last two sentences (the same voices, other words) and
  LibriSpeech utterances outside the padding, whole and as excerpts, clean and through
  Opus at 13 kbit/s: any match is a false one. Their best scores, against the score a
  match needs, show the margin; the spread of their z-scores checks ``NULL_SPREAD``.
* Speeds: a clip is searched at its own speed, then at 2 % and 4 % faster and slower,
  as ``voxclone.detect`` does; ``speed +4 %`` and ``-3 %`` fall on and between them.
* Time: a lookup against this run's index, and against one of ten hours of speech
  (the stored fingerprints repeated with a quarter of their bits flipped), and loading
  that many from SQLite.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.stats import norm
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attacks as atk
import speech_data as sd
import watermark_clones as wcl
import watermark_voice_messages as wvm

from voxclone.audio import Audio, encode_audio, load_audio
from voxclone.fingerprint import (
    SHIFTS,
    Fingerprint,
    FingerprintIndex,
    fingerprint,
    load_index,
    save_fingerprint,
    search_clip,
    shifted_fingerprints,
)
from voxclone.fingerprint import match as fp_match
from voxclone.registry.database import migrate
from voxclone.watermark import QimWatermark

RATE = wcl.RATE
OUT = sd.REPO_ROOT / "bench" / "results" / "fingerprint"
LENGTHS = (0.5, 1.0, 1.5, 2.0, 3.0, None)  # None: the whole sentence
CHANNELS = ("wav", "voxclone mp3", "Opus 16 kHz, 22 kbit/s", "Opus 16 kHz, 13 kbit/s",
            "white noise 20 dB", "white noise 10 dB", "telephone (8 kHz)", "speed +2 %",
            "speed +4 %", "speed -3 %")
STORED, TRACED = 4, 2  # sentences of each voice stored, and traced of those


def through(channel: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` (float32 24 kHz) as heard after ``channel``: float64 at 24 kHz."""
    if channel == "wav":
        return load_audio(encode_audio(Audio(x, RATE), "wav")).samples.astype(np.float64)
    if channel == "voxclone mp3":
        return load_audio(encode_audio(Audio(x, RATE), "mp3")).resample(RATE) \
            .samples.astype(np.float64)
    if channel.startswith("Opus"):
        return wvm.opus(x, 0.93 if "22" in channel else 0.97)[0]
    x64 = x.astype(np.float64)
    if channel.startswith("white noise"):
        return atk.white_noise(float(channel.split()[2]))(x64, RATE, rng)
    if channel.startswith("telephone"):
        return atk.resample_through(8000)(x64, RATE, rng)
    return atk.speed(1.0 + float(channel.split()[1].rstrip("%")) / 100)(x64, RATE, rng)


def excerpt(x: np.ndarray, seconds: float | None, rng: np.random.Generator) -> np.ndarray:
    if seconds is None:
        return x
    n = int(seconds * RATE)
    first = int(rng.integers(0, max(1, len(x) - n)))
    return x[first:first + n]


def lookup(index: FingerprintIndex, clip: np.ndarray) -> fp_match.Match | None:
    """What ``voxclone.detect`` finds by fingerprint (every shift, then every speed)."""
    return search_clip(index, clip, RATE)


def best_alignment(index: FingerprintIndex, clip: np.ndarray) -> fp_match.Match | None:
    """The best alignment at the clip's own speed, accepted or not."""
    return index.search(shifted_fingerprints(clip, RATE, SHIFTS), max_false_positive=1.0)


def trace_rows(voices: list[wcl.Voice], marked: dict[tuple[str, int], tuple[np.ndarray, int]],
               index: FingerprintIndex, wm: QimWatermark,
               rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for voice in voices:
        for sentence in range(TRACED):
            x, payload = marked[voice.label, sentence]
            for channel in CHANNELS:
                heard = through(channel, x, rng)
                for seconds in LENGTHS:
                    clip = excerpt(heard, seconds, rng)
                    mark = wm.detect(clip, RATE)
                    found = lookup(index, clip)
                    by_print = found is not None
                    rows.append({
                        "voice": voice.label, "sentence": sentence, "channel": channel,
                        "seconds": seconds,
                        "mark": mark.found and mark.payload == payload,
                        "mark_wrong": mark.found and mark.payload != payload,
                        "print": by_print and found is not None
                        and found.synthesis_id == payload,
                        "print_wrong": by_print and found is not None
                        and found.synthesis_id != payload,
                        "score": None if found is None else found.score})
        wcl.log(f"{voice.label}: traced")
    for row in rows:
        # what detect reports: the mark where one is read, else the fingerprint
        marked_any = row["mark"] or row["mark_wrong"]
        row["detect"] = row["mark"] or (not marked_any and row["print"])
        row["detect_wrong"] = row["mark_wrong"] or (not marked_any and row["print_wrong"])
    return rows


def null_rows(strangers: list[tuple[str, np.ndarray]], index: FingerprintIndex,
              rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    for label, x in strangers:
        for channel in ("wav", "Opus 16 kHz, 13 kbit/s"):
            heard = through(channel, x, rng)
            for seconds in (1.0, 2.0, 3.0, None):
                clip = excerpt(heard, seconds, rng)
                found = lookup(index, clip)
                best = best_alignment(index, clip)
                rows.append({"source": label, "channel": channel, "seconds": seconds,
                             "score": None if best is None else best.score,
                             "false_match": found is not None,
                             "fpp": None if best is None
                             else best.false_positive_probability})
    return rows


def needed_score(index: FingerprintIndex, seconds: float) -> float:
    """The z-score a clip of ``seconds`` must reach to be accepted against ``index``."""
    windows = 1 + fp_match._window_count(int(seconds / 0.016))  # (as search counts them)
    trials = index.frames * SHIFTS * windows
    return float(norm.isf(fp_match.MAX_FALSE_POSITIVE / trials))


def null_spread(strangers: list[tuple[str, np.ndarray]], index: FingerprintIndex,
                synthesised: int) -> tuple[float, int]:
    """The spread of unrelated speech's agreement z-scores before ``NULL_SPREAD``
    divides them, at every alignment of 1 s excerpts against the first ``synthesised``
    stored fingerprints (no voting: every alignment), and how many were scored."""
    pop, bits = fp_match.popcount_table(), 16
    scores: list[np.ndarray] = []
    for _, x in strangers[:40]:
        query = fingerprint(x[RATE // 2:RATE // 2 + RATE], RATE)
        n = len(query)
        for first, last in zip(index.starts[:synthesised], index.starts[1:synthesised + 1],
                               strict=True):
            words, active = index.words[first:last], index.active[first:last]
            k = len(words) - n
            if k <= 0:
                continue
            errors, compared = np.zeros(k), np.zeros(k)
            for i in range(n):
                both = query.active[i] & active[i:i + k]
                errors += np.where(both, pop[query.words[i] ^ words[i:i + k]], 0)
                compared += both
            ok = compared >= fp_match.MIN_FRAMES
            share = errors[ok] / (compared[ok] * bits)
            scores.append((0.5 - share) * 2 * np.sqrt(compared[ok] * bits))
    z = np.concatenate(scores) if scores else np.zeros(1)
    return float(np.std(z)), len(z)


def repeated(stored: list[tuple[int, Fingerprint]], hours: float,
             rng: np.random.Generator, flip: float = 0.25) -> list[tuple[int, Fingerprint]]:
    """``stored`` repeated to ``hours`` of speech, a share ``flip`` of the bits of each
    copy flipped (ids from 1)."""
    frames_needed = int(hours * 3600 / 0.016)
    big: list[tuple[int, Fingerprint]] = []
    total = 0
    while total < frames_needed:
        for _, fp in stored:
            flips = (rng.random((len(fp), 16)) < flip) << np.arange(16)
            big.append((len(big) + 1, Fingerprint(
                fp.words ^ flips.sum(axis=1).astype(np.uint16), fp.active)))
            total += len(fp)
    return big


def timing(index: FingerprintIndex, probe: np.ndarray, stranger: np.ndarray,
           rng: np.random.Generator, hours: float) -> dict[str, Any]:
    """Lookup times (median of 5) of a 1 s and a 5 s clip of ``probe`` (stored) and of
    ``stranger`` (not stored: every speed is searched) against ``index`` and against
    ``hours`` of stored speech; storing and loading that many from SQLite."""
    def median_time(target: FingerprintIndex, clip: np.ndarray) -> float:
        times = []
        for _ in range(5):
            began = time.perf_counter()
            search_clip(target, clip, RATE)
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    stored = [(int(sid), Fingerprint(index.words[a:b], index.active[a:b]))
              for sid, a, b in zip(index.ids, index.starts[:-1], index.starts[1:],
                                   strict=True)]
    big = repeated(stored, hours, rng)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/fp.db")
        migrate(engine)
        began = time.perf_counter()
        for sid, fp in big:
            save_fingerprint(engine, sid, fp)
        store_s = time.perf_counter() - began
        began = time.perf_counter()
        loaded = load_index(engine)
        load_s = time.perf_counter() - began
        size = os.path.getsize(f"{folder}/fp.db")
        engine.dispose()
    out: dict[str, Any] = {"run_index_frames": index.frames, "big_index_frames": loaded.frames,
                           "big_hours": loaded.frames * 0.016 / 3600,
                           "store_ms_per_synthesis": 1000 * store_s / len(big),
                           "load_s": load_s, "db_bytes_per_audio_s":
                           size / (loaded.frames * 0.016)}
    for seconds in (1.0, 5.0):
        clip = probe[:int(seconds * RATE)]
        out[f"lookup_{seconds:g}s_run"] = median_time(index, clip)
        out[f"lookup_{seconds:g}s_big"] = median_time(loaded, clip)
        # a clip that matches nothing is searched at every speed
        out[f"miss_{seconds:g}s_run"] = median_time(index, stranger[:int(seconds * RATE)])
        out[f"miss_{seconds:g}s_big"] = median_time(loaded, stranger[:int(seconds * RATE)])
    return out


def rate_of(rows: list[dict[str, Any]], key: str, **where: Any) -> float:
    mine = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return float(np.mean([r[key] for r in mine])) if mine else float("nan")


def main() -> None:
    parser = sd.speaker_parser(__doc__, speakers=14, out=OUT)
    parser.add_argument("--seed", type=int, default=2029)
    parser.add_argument("--padding", type=int, default=150,
                        help="LibriSpeech utterances stored as other speech")
    parser.add_argument("--hours", type=float, default=10.0,
                        help="stored speech for the timing of a large installation")
    args = parser.parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    wm = QimWatermark(rng.bytes(32))
    voices, synthesizer = wcl.all_voices(args.speakers, args.speech_dir)
    marked: dict[tuple[str, int], tuple[np.ndarray, int]] = {}
    for voice in voices:
        for sentence in range(len(wcl.TEXTS)):
            payload = int(rng.integers(0, 1 << 32))
            clean = wcl.rendering(synthesizer, voice, sentence)
            marked[voice.label, sentence] = (wm.embed(clean, RATE, payload), payload)
    cloned = {v.label for v in voices}
    utterances = [u for u in sd.read_index(sd.corpus_dir(args.speech_dir))
                  if u.speaker not in cloned]
    padding, outside = utterances[:args.padding], utterances[args.padding:]

    def speech(path: Path) -> np.ndarray:
        x, rate = sf.read(path, dtype="float32")
        return Audio(x, rate).resample(RATE).samples

    items = [(payload, fingerprint(x, RATE)) for (_, sentence), (x, payload)
             in marked.items() if sentence < STORED]
    synthesised = len(items)
    items += [(-(n + 1), fingerprint(speech(u.path), RATE)) for n, u in enumerate(padding)]
    index = FingerprintIndex(items)
    wcl.log(f"index: {synthesised} syntheses and {len(padding)} utterances, "
            f"{index.frames} frames ({index.frames * 0.016 / 60:.0f} min)")
    rows = trace_rows(voices, marked, index, wm, rng)
    strangers = [(f"{label}/{sentence}", x) for (label, sentence), (x, _) in marked.items()
                 if sentence >= STORED]
    strangers += [(u.path.stem, speech(u.path)) for u in outside]
    nulls = null_rows(strangers, index, rng)
    spread, aligned = null_spread(strangers[len(voices) * 2:], index, synthesised)
    times = timing(index, marked[voices[0].label, 0][0], strangers[-1][1], rng, args.hours)
    lines = report(voices, rows, nulls, index, spread, aligned, times, synthesised,
                   len(padding))
    sd.write_results(args.out, "\n".join(lines), {
        "meta": sd.run_meta(started, source_tree=sd.source_tree(), watermark=wm.name,
                            shifts=SHIFTS, max_false_positive=fp_match.MAX_FALSE_POSITIVE,
                            null_spread_setting=fp_match.NULL_SPREAD),
        "null_spread_measured": spread, "null_alignments": aligned, "timing": times,
        "traced": rows, "not_stored": nulls})


def report(voices: list[wcl.Voice], rows: list[dict[str, Any]],
           nulls: list[dict[str, Any]], index: FingerprintIndex, spread: float,
           aligned: int, times: dict[str, Any], synthesised: int,
           padding: int) -> list[str]:
    def name(seconds: float | None) -> str:
        return "whole" if seconds is None else f"{seconds:g} s"

    lines = [f"# Tracing by fingerprint where the watermark is lost ({len(voices)} voices: "
             f"{len(voices) - 2} `fast` clones, 2 stock mixtures)", "",
             f"`python bench/fingerprint.py`. Stored: {synthesised} syntheses and "
             f"{padding} LibriSpeech utterances ({index.frames * 0.016 / 60:.0f} min of "
             f"speech); traced: {len(voices) * TRACED} sentences of 4-7 s per channel and "
             "length. Each cell: the watermark alone / the fingerprint alone / `detect` "
             "(the mark, else the fingerprint), right payload.", ""]
    head = "| channel | " + " | ".join(name(s) for s in LENGTHS) + " | wrong (mark / fingerprint) |"
    lines += [head, "|" + " --- |" * (head.count("|") - 1)]
    for channel in CHANNELS:
        cells = []
        for seconds in LENGTHS:
            cells.append(" / ".join(f"{rate_of(rows, k, channel=channel, seconds=seconds):.2f}"
                                    for k in ("mark", "print", "detect")))
        mine = [r for r in rows if r["channel"] == channel]
        lines.append(f"| {channel} | " + " | ".join(cells) + f" | "
                     f"{sum(r['mark_wrong'] for r in mine)} / "
                     f"{sum(r['print_wrong'] for r in mine)} |")
    lines += ["", "All channels, by length (`detect` against the watermark alone):", "",
              "| length | watermark | fingerprint | detect |", "| --- | --- | --- | --- |"]
    for seconds in LENGTHS:
        lines.append(f"| {name(seconds)} | " + " | ".join(
            f"{rate_of(rows, k, seconds=seconds):.2f}" for k in ("mark", "print", "detect"))
            + " |")
    false = sum(r["false_match"] for r in nulls)
    same_voice = [r for r in nulls if "/" in r["source"]]
    lines += ["", f"Not stored ({len(voices) * 2} sentences of the same voices, "
              f"{len({r['source'] for r in nulls}) - len(voices) * 2} other LibriSpeech "
              f"utterances; 1, 2, 3 s excerpts and whole, clean and Opus 13 kbit/s): "
              f"**{false} false matches in {len(nulls)} lookups** "
              f"({sum(r['false_match'] for r in same_voice)} of {len(same_voice)} on the "
              "same voices).", "",
              "| excerpt | best score of a stranger (median / max) | score a match needs "
              "| true matches' score (median, wav) |", "| --- | --- | --- | --- |"]
    for seconds in (1.0, 2.0, 3.0):
        scores = [r["score"] for r in nulls if r["seconds"] == seconds and r["score"]]
        true = [r["score"] for r in rows if r["seconds"] == seconds and r["score"]
                and r["channel"] == "wav" and r["print"]]
        lines.append(f"| {seconds:g} s | {statistics.median(scores):.1f} / {max(scores):.1f} | "
                     f"{needed_score(index, seconds):.1f} | "
                     f"{statistics.median(true) if true else float('nan'):.1f} |")
    lines += ["", f"Unrelated speech's agreement over all {aligned} alignments of 1 s "
              f"excerpts with the stored syntheses spreads {spread:.2f} times as wide as "
              f"independent bits would (`NULL_SPREAD` is {fp_match.NULL_SPREAD}).", "",
              "| lookup (median of 5) | this run's index | "
              f"{times['big_hours']:.0f} h of stored speech |", "| --- | --- | --- |",
              *(f"| {what} {n} s clip | {times[f'{key}_{n}s_run'] * 1000:.0f} ms | "
                f"{times[f'{key}_{n}s_big'] * 1000:.0f} ms |"
                for key, what in (("lookup", "a stored"), ("miss", "an unstored"))
                for n in (1, 5)), "",
              f"Storing: {times['store_ms_per_synthesis']:.1f} ms a synthesis; the SQLite "
              f"database holds {times['db_bytes_per_audio_s']:.0f} bytes per second of "
              f"speech; loading {times['big_hours']:.0f} h of it takes "
              f"{times['load_s']:.1f} s.", ""]
    return lines


if __name__ == "__main__":
    main()
