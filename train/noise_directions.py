"""Learn the directions in which noise moves a d-vector (for nuisance-attribute projection).

Noise and babble in a reference pull its GE2E d-vector along a few directions shared
by all speakers (a babble of other voices, or hiss, sounds alike to the encoder
whoever is talking). This script measures them on the *calibration* speakers of
``../shared/speech`` (``bench/quality_data.partition``; ``bench/robustness.py`` scores
only the evaluation speakers): each speaker's first 6 s of speech is degraded with
babble (4 other calibration speakers) at 20, 10 and 5 dB and white noise at 20 and
10 dB, analysed as enrollment does (``voxclone.quality.gate.analyse``: cleaned speech
and the gate's SNR estimate), embedded by the encoder, and compared with the clean
reference's d-vector.

The first direction is the mean shift; the next are the principal directions of what
is left. The correction stops at the SNR the gate calls good (``SNR_WARN_DB``, 25 dB):
a reference with no noise warning is enrolled exactly as the encoder heard it. Where
the full correction starts (``full_below_db``) is chosen on the same speakers, to
bring the noisy d-vectors closest to the clean ones.

    nice -n 10 python train/noise_directions.py

writes ``src/voxclone/speaker/data/noise_directions.npz`` (under 4 kB); about 5 min.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxclone.quality import gate
from voxclone.quality.report import SNR_WARN_DB
from voxclone.speaker import default_encoder
from voxclone.speaker.noise_projection import ENCODER_ID, NoiseProjection

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import quality_data as qd  # bench/quality_data.py: speaker partition and degradations
import speech_data as sd

OUT = Path(__file__).resolve().parents[1] / "src" / "voxclone" / "speaker" / "data"
SNRS = (20, 10, 5)
DIRECTIONS = 2


@dataclass(frozen=True)
class Measured:
    """The references' raw d-vectors, each with its clean one and the gate's SNR.

    Attributes:
        noisy: d-vectors ``(n, 256)``; the clean references are among them.
        clean: the same speaker's clean-reference d-vector, row for row ``(n, 256)``.
        snrs: the gate's SNR estimates ``(n,)``, dB.
        is_clean: ``(n,)`` bool, True for the clean references themselves.
    """

    noisy: np.ndarray
    clean: np.ndarray
    snrs: np.ndarray
    is_clean: np.ndarray


def measure(speech_dir: str | None, seed: int) -> Measured:
    """Degrade and embed every calibration speaker's reference."""
    rng = np.random.default_rng(seed)
    encoder = default_encoder()
    pool = qd.speakers_of("calibration", speech_dir)
    bank = qd.voice_bank(pool)
    noisy, clean, snrs, is_clean = [], [], [], []
    for index, utterance in enumerate(pool, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        ref = split.reference
        babble = qd.babble(qd.babble_voices(bank, utterance.speaker, rng), ref.sample_rate, rng)
        conditions = [ref] + [qd.add_noise(ref, babble, s, rng) for s in SNRS] + \
            [qd.add_noise(ref, qd.white(len(ref), rng), s, rng) for s in SNRS[:2]]
        analyses = [gate.analyse([a], [utterance.speaker])[0] for a in conditions]
        if analyses[0].clean is None:
            continue
        # The encoder's own d-vectors: the gate's are already compensated with the
        # directions shipped now, and learning from those would learn only a remainder.
        base = encoder.embed(analyses[0].clean)
        for position, a in enumerate(analyses):
            if a.clean is not None and a.signal is not None:
                noisy.append(encoder.embed(a.clean))
                clean.append(base)
                snrs.append(a.signal.snr_db)
                is_clean.append(position == 0)
        print(f"[{index}/{len(pool)}] {utterance.speaker}", flush=True)
    return Measured(np.array(noisy, dtype=np.float64), np.array(clean, dtype=np.float64),
                    np.array(snrs), np.array(is_clean))


def directions(data: Measured, count: int) -> np.ndarray:
    """Orthonormal ``(count, 256)``: the mean shift, then the residual's principal axes."""
    shift = (data.noisy - data.clean)[~data.is_clean]
    first = shift.mean(axis=0)
    first /= np.linalg.norm(first)
    rest = shift - np.outer(shift @ first, first)
    _, _, axes = np.linalg.svd(rest, full_matrices=False)
    return np.vstack([first, axes[:count - 1]])


def choose_ramp(data: Measured, basis: np.ndarray,
                clean_mean: np.ndarray) -> tuple[float, float]:
    """(full_below_db, none_above_db): the correction ends at the gate's "good" SNR and
    starts in full where the noisy d-vectors come closest to their clean ones."""
    none = float(SNR_WARN_DB)
    scores = {}
    # At least 5 dB of ramp: the SNR estimate jitters by about a decibel between takes
    # of the same room, and that must not switch the correction on and off.
    for full in (10.0, 14.0, 18.0, none - 5.0):
        projection = NoiseProjection(basis, clean_mean, full, none)
        fixed = np.array([projection.apply(e, s)
                          for e, s in zip(data.noisy, data.snrs, strict=True)])
        scores[full] = float((fixed * data.clean).sum(axis=1)[~data.is_clean].mean())
    return max(scores, key=lambda full: scores[full]), none


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", type=Path, default=OUT / "noise_directions.npz")
    args = parser.parse_args()
    began = time.perf_counter()
    data = measure(args.speech_dir, args.seed)
    basis = directions(data, DIRECTIONS)
    clean_mean = (data.noisy[data.is_clean] @ basis.T).mean(axis=0)
    full, none = choose_ramp(data, basis, clean_mean)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, basis=basis.astype(np.float32), clean_mean=clean_mean.astype(np.float32),
             full_below_db=np.float32(full), none_above_db=np.float32(none),
             encoder=np.str_(ENCODER_ID), speakers=np.int32(data.is_clean.sum()))
    print(f"{data.is_clean.sum()} speakers, {len(data.noisy)} references; "
          f"ramp {full:.0f}-{none:.0f} dB; wrote {args.out} in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
