"""Calibrate the quality gate's signal floors on real speech (calibration speakers only).

For each calibration speaker (LibriSpeech, ``quality_data.partition``): the reference
(first 6 s of speech) is degraded - white noise and babble of 4 other calibration
speakers at 20/10/5/0 dB SNR, a phone line, clipping of 0.3/1/3 % of the samples,
truncation to 2/3/4 s of speech - and measured by the gate (estimated SNR,
bandwidth, clipped fraction), and its d-vector is compared with the speaker's clean
held-out speech. The normalised similarity of the *reference itself* (0 = stranger,
1 = same speaker) is what a clone is fitted to: its drop from the clean reference is
the harm a degradation does before any cloning. Noisy conditions are also measured
after the Wiener denoiser.

Run from the repo root: ``python bench/quality_calibration.py``; writes
``bench/results/quality_calibration.{md,json}``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.audio import Audio, detect_speech, prepare_reference
from voxclone.quality.denoise import wiener_denoise
from voxclone.quality.measures import measure_signal, spectrum
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_data as qd
import speech_data as sd

DEFAULT_OUT = sd.REPO_ROOT / "bench" / "results" / "quality_calibration"
SNRS = (20, 10, 5, 0)
CLIPS = (0.003, 0.01, 0.03, 0.1)
LENGTHS = (2.0, 3.0, 4.0)


def log(message: str) -> None:
    print(message, flush=True)


def measure(audio: Audio, *, denoise: float = 0.0) -> dict[str, Any]:
    """The gate's signal measures of ``audio`` and the d-vector of its cleaned speech."""
    audio16k = audio.resample(16_000)
    segments = detect_speech(audio16k)
    spec = spectrum(audio16k, segments)
    m = measure_signal(audio, spec)
    source = wiener_denoise(spec, denoise) if denoise else audio
    clean, report = prepare_reference(source)
    return {"snr_db": m.snr_db, "bandwidth_hz": m.bandwidth_hz,
            "clipped_fraction": m.clipped_fraction, "speech_s": report.speech_seconds,
            "embedding": default_encoder().embed(clean)}


#: Denoiser variants: the Wiener gain with the noise estimate scaled by this.
DENOISERS = {"+denoise": 1.0, "+denoise 0.3": 0.3}


def conditions(ref: Audio, babble_noise: np.ndarray,
               rng: np.random.Generator) -> list[tuple[str, Audio, float]]:
    """(name, audio, denoiser noise scale or 0 for none) of every condition."""
    out: list[tuple[str, Audio, float]] = [("clean", ref, 0.0)]
    out += [(f"clean{k}", ref, v) for k, v in DENOISERS.items()]
    for snr in SNRS:
        for kind, audio in (("white", qd.add_noise(ref, qd.white(len(ref), rng), snr, rng)),
                            ("babble", qd.add_noise(ref, babble_noise, snr, rng))):
            out.append((f"{kind} {snr} dB", audio, 0.0))
            out += [(f"{kind} {snr} dB{k}", audio, v) for k, v in DENOISERS.items()]
    out.append(("telephone", qd.telephone(ref), 0.0))
    out += [(f"clipped {f:.1%}", qd.clip(ref, f), 0.0) for f in CLIPS]
    return out


def summarise(rows: Sequence[dict[str, Any]], norm: sd.Normalisation) -> list[dict[str, Any]]:
    clean = {r["speaker"]: r["similarity"] for r in rows if r["condition"] == "clean"}
    names = list(dict.fromkeys(r["condition"] for r in rows))
    table = []
    for name in names:
        sel = [r for r in rows if r["condition"] == name]
        drops = [clean[r["speaker"]] - r["similarity"] for r in sel]
        snr = sorted(r["snr_db"] for r in sel)
        table.append({
            "condition": name, "n": len(sel),
            "similarity": statistics.fmean(r["similarity"] for r in sel),
            "drop_mean": statistics.fmean(drops),
            "drop_over_0.1": sum(d > 0.1 for d in drops) / len(sel),
            "drop_over_0.3": sum(d > 0.3 for d in drops) / len(sel),
            "snr_p10": snr[len(snr) // 10], "snr_median": statistics.median(snr),
            "snr_p90": snr[(9 * len(snr)) // 10],
            "bandwidth_median": statistics.median(r["bandwidth_hz"] for r in sel),
            "clipped_median": statistics.median(r["clipped_fraction"] for r in sel),
            "clipped_min": min(r["clipped_fraction"] for r in sel),
            "clipped_max": max(r["clipped_fraction"] for r in sel),
        })
    return table


def by_snr(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop of the reference's similarity by *estimated* SNR (2.5 dB bins), no denoising."""
    clean = {r["speaker"]: r["similarity"] for r in rows if r["condition"] == "clean"}
    noisy = [r for r in rows if ("white" in r["condition"] or "babble" in r["condition"]
                                 or r["condition"] == "clean")
             and "denoise" not in r["condition"]]
    out = []
    for lo in np.arange(-5.0, 40.0, 2.5):
        sel = [r for r in noisy if lo <= r["snr_db"] < lo + 2.5]
        if not sel:
            continue
        drops = [clean[r["speaker"]] - r["similarity"] for r in sel]
        out.append({"snr_from": float(lo), "n": len(sel), "drop_mean": statistics.fmean(drops),
                    "drop_over_0.1": sum(d > 0.1 for d in drops) / len(sel),
                    "drop_over_0.3": sum(d > 0.3 for d in drops) / len(sel)})
    return out


def markdown(meta: dict[str, Any], table: Sequence[dict[str, Any]],
             bins: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Quality-gate calibration (calibration speakers only)", "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- {meta['speakers']} calibration speakers; reference = first 6 s of speech; "
        f"normalisation same_mean {meta['same_mean']:.3f}, diff_mean {meta['diff_mean']:.3f}",
        "- similarity: the degraded reference's own d-vector vs the clean held-out speech, "
        "normalised (0 = stranger, 1 = same speaker); drop = clean minus degraded, paired",
        f"- wall time {meta['wall_s']:.0f} s", "",
        "| condition | n | similarity | drop | drop > 0.1 | drop > 0.3 | est. SNR p10 / "
        "median / p90 (dB) | bandwidth (Hz, median) | clipped (median, min-max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['condition']} | {r['n']} | {r['similarity']:.3f} | {r['drop_mean']:+.3f} | "
            f"{r['drop_over_0.1']:.0%} | {r['drop_over_0.3']:.0%} | {r['snr_p10']:.1f} / "
            f"{r['snr_median']:.1f} / {r['snr_p90']:.1f} | {r['bandwidth_median']:.0f} | "
            f"{r['clipped_median']:.2e} ({r['clipped_min']:.1e}-{r['clipped_max']:.1e}) |")
    lines += ["", "By estimated SNR (clean, white and babble, no denoising):", "",
              "| est. SNR (dB) | n | drop | drop > 0.1 | drop > 0.3 |", "|---|---|---|---|---|"]
    for b in bins:
        lines.append(f"| {b['snr_from']:.1f} - {b['snr_from'] + 2.5:.1f} | {b['n']} | "
                     f"{b['drop_mean']:+.3f} | {b['drop_over_0.1']:.0%} | "
                     f"{b['drop_over_0.3']:.0%} |")
    lines += ["", "Speech length (first N s of the clean reference's speech):", "",
              "| speech | similarity | drop |", "|---|---|---|"]
    for r in meta["lengths"]:
        lines.append(f"| {r['seconds']:.0f} s | {r['similarity']:.3f} | {r['drop']:+.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = sd.speaker_parser(__doc__, speakers=40, out=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(20261125)
    pool = qd.speakers_of("calibration", args.speech_dir)
    splits = []
    for u in sorted(pool, key=lambda u: sd._order_key(u.speaker)):
        if u.seconds >= 12.0 and (s := sd.split_utterance(u)) is not None:
            splits.append(s)
        if len(splits) == args.speakers:
            break
    log(f"calibration: {len(splits)} speakers")
    bank = qd.voice_bank(pool)
    encoder = default_encoder()
    held = {s.utterance.speaker: encoder.embed(prepare_reference(s.heldout)[0]) for s in splits}
    raw_rows: list[dict[str, Any]] = []
    lengths: dict[float, list[tuple[str, np.ndarray]]] = {n: [] for n in LENGTHS}
    for index, s in enumerate(splits, 1):
        spk = s.utterance.speaker
        noise = qd.babble(qd.babble_voices(bank, spk, rng), s.audio.sample_rate, rng)
        for name, audio, den in conditions(s.reference, noise, rng):
            m = measure(audio, denoise=den)
            raw_rows.append({"speaker": spk, "condition": name, **m})
        clean, _ = prepare_reference(s.reference)
        for n in LENGTHS:
            part = Audio(clean.samples[: round(n * clean.sample_rate)], clean.sample_rate)
            lengths[n].append((spk, encoder.embed(part)))
        log(f"  [{index}/{len(splits)}] {spk}")
    speakers = [s.utterance.speaker for s in splits]
    refs = {r["speaker"]: r["embedding"] for r in raw_rows if r["condition"] == "clean"}
    norm = sd.Normalisation.of([refs[k] for k in speakers], [held[k] for k in speakers])
    rows = [{k: v for k, v in r.items() if k != "embedding"}
            | {"similarity": norm.normalise(float(r["embedding"] @ held[r["speaker"]]))}
            for r in raw_rows]
    clean_sim = {r["speaker"]: r["similarity"] for r in rows if r["condition"] == "clean"}
    length_rows = []
    for secs, embs in lengths.items():
        sims = [norm.normalise(float(e @ held[k])) for k, e in embs]
        length_rows.append({"seconds": secs, "similarity": statistics.fmean(sims),
                            "drop": statistics.fmean(clean_sim[k] - v for (k, _), v
                                                     in zip(embs, sims, strict=True))})
    table, bins = summarise(rows, norm), by_snr(rows)
    meta = {"date": sd.now(), "machine": sd.machine(), "git_commit": sd.git_commit(),
            "speakers": norm.speakers, "speaker_ids": speakers, "same_mean": norm.same_mean,
            "diff_mean": norm.diff_mean, "lengths": length_rows,
            "wall_s": time.perf_counter() - started}
    sd.write_results(args.out, markdown(meta, table, bins),
                     {"meta": meta, "conditions": table, "by_snr": bins, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
