"""Where should the noise compensation start from DeepFilterNet3's d-vector?

A reference the gate calls noisy (estimated SNR under 25 dB) has its d-vector corrected
by a learned model (``voxclone.speaker.noise_compensation``) that starts either from
the d-vector of the clip run through DeepFilterNet3 or from the noisy d-vector itself.
The first start is used under ``FILTERED_BELOW_DB`` (as shipped, 25 dB: wherever the
correction applies; the gate's noise floor, 15 dB, was tried on 7 Dec and not kept, on
this benchmark's figures). It measures both starts on every reference under 25 dB:

* the calibration speakers' own recordings whose reference the gate estimates under
  25 dB (real rooms and microphones; the held-out speech shares their noise);
* ``--speakers`` calibration speakers' clean references with white noise and babble
  (4 other calibration voices) added at 10 and 20 dB (the held-out speech is clean).

Each reference is enrolled at ``fast`` twice, the correction starting from
DeepFilterNet's d-vector (as up to 25 dB on 6 Dec) and from the noisy one, all else as
shipped; each clone speaks clone_quality's three sentences. Reported per condition and
per band of the gate's SNR estimate (under 15 dB, 15-25 dB): the normalised similarity
to the speaker's held-out speech of the enrolled d-vector and of the clone, as the mean
difference (DeepFilterNet's start minus the noisy one's) +- its standard error.

Speakers: calibration speakers outside every benchmark (``quality_data.dev_utterances``,
``fast_refine.dev_speakers``), so the threshold is not chosen on the speakers
``clone_quality.py`` and ``robustness.py`` score.

Run from the repo root: ``python bench/deep_filter_start.py [--speakers 24]``; writes
``bench/results/deep_filter_start.{md,json}``. About 15 s a reference.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

import voxclone
from voxclone.audio import Audio
from voxclone.quality.analyse import analyse_clip
from voxclone.quality.report import SNR_FLOOR_DB, SNR_WARN_DB
from voxclone.speaker import cosine, noise_compensation

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clone_quality as cq
import quality_data as qd
import speech_data as sd
from fast_refine import dev_speakers

OUT = sd.REPO_ROOT / "bench" / "results" / "deep_filter_start"
#: The correction's start, as ``FILTERED_BELOW_DB`` (DeepFilterNet's d-vector under it).
STARTS = {"deep_filter": SNR_WARN_DB, "noisy": float("-inf")}
LEVELS_DB = (10, 20)
NOISE_SEED = 7
BANDS = ((f"under {SNR_FLOOR_DB:g} dB", -np.inf, SNR_FLOOR_DB),
         (f"{SNR_FLOOR_DB:g}-{SNR_WARN_DB:g} dB", SNR_FLOOR_DB, SNR_WARN_DB))


def references(pool: list[sd.Utterance], speakers: int, speech_dir: str | None,
               heldout: dict[str, np.ndarray]) -> Iterator[tuple[str, str, Audio]]:
    """(condition, speaker, reference) of the calibration utterances ``pool``: the real
    ones first, then the degraded ones."""
    for utterance in pool:
        split = sd.split_utterance(utterance) if utterance.speaker in heldout else None
        if split is not None:
            yield "real", utterance.speaker, split.reference
    bank = qd.voice_bank(pool)
    for split in dev_speakers(speakers, speech_dir):
        speaker = split.utterance.speaker
        if speaker not in heldout:
            continue
        rng = np.random.default_rng((NOISE_SEED, zlib.crc32(speaker.encode())))
        babble = qd.babble(qd.babble_voices(bank, speaker, rng), split.audio.sample_rate,
                           rng)
        for level in LEVELS_DB:
            white = qd.white(len(split.reference), rng)
            yield f"white {level} dB", speaker, qd.add_noise(split.reference, white,
                                                              level, rng)
            yield f"babble {level} dB", speaker, qd.add_noise(split.reference, babble,
                                                               level, rng)


def enrolled(reference: Audio, held: np.ndarray, floor_db: float,
             norm: sd.Normalisation) -> dict[str, float]:
    """The enrolled d-vector's and the clone's normalised similarity to ``held``, the
    correction starting from DeepFilterNet's d-vector under ``floor_db``."""
    with mock.patch.object(noise_compensation, "FILTERED_BELOW_DB", floor_db):
        profile = voxclone.enroll("dev", reference, effort="fast", save=False,
                                  i_am_the_speaker=True, force=True)
    clone = cq.join([voxclone.synthesize(text, profile) for text in cq.SENTENCES])
    return {"enrolled": norm.normalise(cosine(profile.embedding, held)),
            "clone": norm.normalise(cosine(voxclone.embed(clone), held))}


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| reference | gate's SNR estimate | n | enrolled d-vector: DeepFilterNet's "
             "start - the noisy one's | clone: DeepFilterNet's start - the noisy one's "
             "| clones lower |",
             "|---|---|---|---|---|---|"]
    for condition in dict.fromkeys(r["condition"] for r in rows):
        for band, low, high in BANDS:
            chosen = [r for r in rows if r["condition"] == condition
                      and low <= r["snr_db"] < high]
            if not chosen:
                continue
            diff = {k: [r["deep_filter"][k] - r["noisy"][k] for r in chosen]
                    for k in ("enrolled", "clone")}
            lower = sum(d < 0 for d in diff["clone"])
            lines.append(f"| {condition} | {band} | {len(chosen)} | "
                         f"{sd.mean_se(diff['enrolled'])} | {sd.mean_se(diff['clone'])} | "
                         f"{lower} of {len(chosen)} |")
    return lines


def main() -> int:
    args = sd.speaker_parser(__doc__, speakers=24, out=OUT).parse_args()
    started, source = time.perf_counter(), sd.source_tree()
    pool = qd.dev_utterances(args.speech_dir)
    norm, heldout = sd.measure_normalisation(pool, voxclone.embed, cq.log, cache=True)
    rows: list[dict[str, Any]] = []
    for condition, speaker, reference in references(pool, args.speakers, args.speech_dir,
                                                    heldout):
        analysis = analyse_clip(reference, "reference")
        snr = analysis.signal.snr_db if analysis.signal is not None else None
        if snr is None or not np.isfinite(snr) or snr >= SNR_WARN_DB:
            continue
        row = {"condition": condition, "speaker": speaker, "snr_db": float(snr),
               **{start: enrolled(reference, heldout[speaker], floor, norm)
                  for start, floor in STARTS.items()}}
        rows.append(row)
        cq.log(f"{condition} {speaker} {snr:.1f} dB: clone "
            f"{row['deep_filter']['clone']:.3f} vs {row['noisy']['clone']:.3f}")
    meta = sd.run_meta(started, source_tree=source, speakers=args.speakers,
                       normalisation=dataclasses.asdict(norm), levels_db=list(LEVELS_DB))
    text = "\n".join([
        "# Noise compensation: DeepFilterNet's start or the noisy one's",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}; git: {meta['git_commit']}",
        f"- calibration speakers outside the benchmarks: their real references under "
        f"{SNR_WARN_DB:g} dB, and {args.speakers} clean ones with white noise and babble "
        f"at {' and '.join(map(str, LEVELS_DB))} dB; effort fast; normalisation over "
        f"{norm.speakers} of their utterances",
        f"- difference: mean +- its standard error, in normalised similarity to the "
        f"speaker's held-out speech (the real references' shares their noise); wall time "
        f"{meta['wall_s']:.0f} s",
        "",
        *table(rows),
        "",
    ])
    sd.write_results(args.out, text, {"meta": meta, "rows": rows})
    cq.log(f"median SNR estimate {statistics.median(r['snr_db'] for r in rows):.1f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
