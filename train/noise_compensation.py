"""Learn the noise compensation of d-vectors (``voxclone.speaker.noise_compensation``).

Noise in a reference pulls its GE2E d-vector in ways the encoder shares across
speakers. This script measures that pull on the *calibration* speakers of
``../shared/speech`` (``bench/quality_data.partition``; ``bench/robustness.py`` scores
only the evaluation speakers): each speaker's first 6 s of speech is degraded with
white, pink and brown noise and babble of 3 and of 6 other calibration speakers, each
at 22, 16, 10 and 5 dB (the babble's voices come from the speaker's own
cross-validation fold, so no model is scored on voices it was trained on, as target or
as babble), analysed as enrollment does (``voxclone.quality.gate.analyse``: cleaned
speech and the gate's SNR estimate) and embedded by the encoder.

A ridge regression then predicts the clean reference's d-vector from a starting one:
``clean - start ~ [start, denoised - start, 1] @ W``, where ``start`` is the noisy
d-vector (the fallback model) or the d-vector of the clip run through DeepFilterNet3
(the default, ``voxclone.quality.deep_filter``), and ``denoised`` the clip's through the
gate's Wiener denoiser. Each model's strength and where the full correction starts
(``full_below_db``) are chosen by 5-fold cross-validation over speakers (no speaker is
scored by a model that saw them), as the mean cosine of the corrected d-vector to the
speaker's *held-out* speech. The correction stops at the SNR the gate calls good
(``SNR_WARN_DB``, 25 dB): a reference with no noise warning is enrolled exactly as the
encoder heard it.

    nice -n 10 python train/noise_compensation.py

writes ``src/voxclone/speaker/data/noise_compensation.npz`` and
``noise_compensation_deep_filter.npz`` (about 260 kB each); about 50 min on 2 cores
(DeepFilterNet runs on one).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxclone.audio import Audio, detect_speech
from voxclone.errors import NoSpeechError
from voxclone.quality import gate
from voxclone.quality.deep_filter import deep_filtered_embedding
from voxclone.quality.denoise import denoised_embedding
from voxclone.quality.measures import spectrum
from voxclone.quality.report import SNR_WARN_DB
from voxclone.speaker import default_encoder
from voxclone.speaker.noise_compensation import (
    ENCODER_ID,
    FILTERED,
    FILTERED_MODEL_FILE,
    HEARD,
    MODEL_FILE,
    NoiseCompensation,
    features,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import quality_data as qd  # bench/quality_data.py: speaker partition and degradations
import speech_data as sd

OUT = Path(__file__).resolve().parents[1] / "src" / "voxclone" / "speaker" / "data"
LEVELS_DB = (22, 16, 10, 5)
NOISES = ("white", "pink", "brown", "babble3", "babble6")
STRENGTHS = (0.3, 1.0, 3.0, 10.0, 30.0)
FULL_BELOW_DB = (15.0, 20.0)  # at least 5 dB of ramp: the SNR estimate jitters
FOLDS = 5


@dataclass(frozen=True)
class Measured:
    """The references' raw d-vectors, with their speakers' clean and held-out ones.

    Attributes:
        noisy: d-vectors ``(n, 256)``; the clean references are among them.
        denoised: the same clips' d-vectors through the Wiener denoiser ``(n, 256)``.
        filtered: the same clips' d-vectors through DeepFilterNet3 ``(n, 256)`` (the
            noisy one where it left too little speech to embed).
        clean: the same speaker's clean-reference d-vector, row for row ``(n, 256)``.
        held: the same speaker's held-out speech d-vector ``(n, 256)``.
        snrs: the gate's SNR estimates ``(n,)``, dB.
        is_clean: ``(n,)`` bool, True for the clean references themselves.
        speakers: ``(n,)`` speaker ids (the folds of the cross-validation).
    """

    noisy: np.ndarray
    denoised: np.ndarray
    filtered: np.ndarray
    clean: np.ndarray
    held: np.ndarray
    snrs: np.ndarray
    is_clean: np.ndarray
    speakers: np.ndarray

    def subset(self, mask: np.ndarray) -> Measured:
        return Measured(self.noisy[mask], self.denoised[mask], self.filtered[mask],
                        self.clean[mask], self.held[mask], self.snrs[mask],
                        self.is_clean[mask], self.speakers[mask])

    def start(self, start: str) -> np.ndarray:
        """The d-vectors a ``start`` (``HEARD`` or ``FILTERED``) correction starts from."""
        return self.noisy if start == HEARD else self.filtered


def degraded(ref: Audio, speaker: str, bank: dict[str, Audio],
             rng: np.random.Generator) -> list[Audio]:
    """``ref`` under every noise of ``NOISES`` at every level of ``LEVELS_DB``."""
    out = []
    for kind in NOISES:
        for level in LEVELS_DB:
            if kind == "white":
                noise = qd.white(len(ref), rng)
            elif kind in ("pink", "brown"):  # a fan; traffic or air conditioning
                noise = qd.colored(len(ref), rng, 1.0 if kind == "pink" else 2.0)
            else:
                voices = qd.babble_voices(bank, speaker, rng, count=int(kind[len("babble"):]))
                noise = qd.babble(voices, ref.sample_rate, rng)
            out.append(qd.add_noise(ref, noise, level, rng))
    return out


def assign_folds(speakers: list[str], seed: int) -> dict[str, int]:
    """Each speaker's cross-validation fold (0 .. FOLDS - 1)."""
    order = np.array(sorted(set(speakers)))
    np.random.default_rng(seed).shuffle(order)
    return {str(s): i for i, part in enumerate(np.array_split(order, FOLDS)) for s in part}


def measure(pool: list[sd.Utterance], seed: int, folds: dict[str, int]) -> Measured:
    """Degrade and embed every calibration speaker's reference (``pool``); babble is made
    of voices from the speaker's own fold (``folds``), never the speaker's."""
    rng = np.random.default_rng(seed)
    encoder = default_encoder()
    voices = qd.voice_bank(pool, count=len(pool))
    keys = ("noisy", "denoised", "filtered", "clean", "held", "snrs", "is_clean",
            "speakers")
    rows: dict[str, list] = {k: [] for k in keys}
    for index, utterance in enumerate(pool, 1):
        split = sd.split_utterance(utterance)
        if split is None:
            continue
        ref = split.reference
        bank = {k: v for k, v in voices.items() if folds[k] == folds[utterance.speaker]}
        conditions = [ref, *degraded(ref, utterance.speaker, bank, rng)]
        analyses = [gate.analyse([a], [utterance.speaker])[0] for a in conditions]
        if analyses[0].clean is None:
            continue
        # The encoder's own d-vectors: the gate's are already compensated.
        base, held = encoder.embed(analyses[0].clean), encoder.embed(split.heldout)
        for position, (a, audio) in enumerate(zip(analyses, conditions, strict=True)):
            if a.clean is not None and a.signal is not None:
                audio16k = audio.resample(16_000)
                denoised = denoised_embedding(spectrum(audio16k, detect_speech(audio16k)),
                                              encoder)
                heard = encoder.embed(a.clean)
                try:
                    filtered = deep_filtered_embedding(audio, encoder)
                except NoSpeechError:  # enrollment then corrects the noisy d-vector
                    filtered = heard
                for key, value in (("noisy", heard), ("denoised", denoised),
                                   ("filtered", filtered), ("clean", base),
                                   ("held", held), ("snrs", a.signal.snr_db),
                                   ("is_clean", position == 0),
                                   ("speakers", utterance.speaker)):
                    rows[key].append(value)
        print(f"[{index}/{len(pool)}] {utterance.speaker}", flush=True)
    return Measured(*(np.array(rows[k]) for k in keys))


def fit(data: Measured, strength: float, start: str = HEARD) -> np.ndarray:
    """Ridge weights ``(513, 256)`` from the noisy references (their ``start``
    d-vectors, and the denoised ones' difference) to their clean ones."""
    noisy = data.subset(~data.is_clean)
    x = features(noisy.start(start), noisy.denoised)
    return np.linalg.solve(x.T @ x + strength * np.eye(x.shape[1]),
                           x.T @ (noisy.clean - noisy.start(start)))


def corrected(model: NoiseCompensation, data: Measured) -> np.ndarray:
    """The d-vectors of ``data``'s references as ``model`` corrects them ``(n, 256)``."""
    return np.array([model.apply(e, s, d, f) for e, s, d, f in
                     zip(data.noisy, data.snrs, data.denoised, data.filtered, strict=True)])


def score(model: NoiseCompensation, data: Measured) -> float:
    """Mean cosine of the corrected d-vectors to held-out speech (noisy references)."""
    noisy = data.subset(~data.is_clean)
    return float((corrected(model, noisy) * noisy.held).sum(axis=1).mean())


def cross_validate(data: Measured, folds: dict[str, int],
                   start: str = HEARD) -> dict[tuple[float, float], float]:
    """Held-out score of every (strength, full_below_db), folds over speakers."""
    fold_of = np.array([folds[str(s)] for s in data.speakers])
    scores: dict[tuple[float, float], list[float]] = {}
    for fold in range(FOLDS):
        held_out = fold_of == fold
        for strength in STRENGTHS:
            weights = fit(data.subset(~held_out), strength, start)
            for full in FULL_BELOW_DB:
                model = NoiseCompensation(weights, full, float(SNR_WARN_DB), start)
                scores.setdefault((strength, full), []).append(
                    score(model, data.subset(held_out)))
    return {key: float(np.mean(values)) for key, values in scores.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--speech-dir", default=None)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", type=Path, default=OUT,
                        help="the folder the two models are written to")
    parser.add_argument("--starts", default=f"{HEARD},{FILTERED}",
                        help="which models to fit: from the noisy d-vector (heard), from "
                        "the DeepFilterNet3-filtered one (deep_filtered), or both")
    parser.add_argument("--cache", type=Path, default=None,
                        help="an .npz of the measurements: read if it exists, else written "
                        "(to refit without measuring again)")
    args = parser.parse_args()
    began = time.perf_counter()
    pool = qd.speakers_of("calibration", args.speech_dir)
    folds = assign_folds([u.speaker for u in pool], args.seed)
    if args.cache is not None and args.cache.exists():
        with np.load(args.cache) as cached:
            data = Measured(**{k: cached[k] for k in cached.files})
    else:
        data = measure(pool, args.seed, folds)
        if args.cache is not None:
            np.savez(args.cache, **dataclasses.asdict(data))
    uncorrected = float((data.noisy * data.held).sum(axis=1)[~data.is_clean].mean())
    for name, ok in (("noisy", ~data.is_clean), ("clean", data.is_clean)):
        print(f"{name} references' held-out cosine as heard: "
              f"{float((data.noisy * data.held).sum(axis=1)[ok].mean()):.4f}")
    starts = {s.strip() for s in args.starts.split(",")}
    if not starts or not starts <= {HEARD, FILTERED}:
        parser.error(f"--starts names {HEARD} and/or {FILTERED}, not {args.starts!r}")
    for start, file in ((HEARD, MODEL_FILE), (FILTERED, FILTERED_MODEL_FILE)):
        if start not in starts:
            continue
        scores = cross_validate(data, folds, start)
        for (strength, full), value in sorted(scores.items()):
            print(f"from {start}: ridge strength {strength:g}, full below {full:g} dB: "
                  f"held-out cosine {value:.4f}")
        strength, full = max(scores, key=lambda key: scores[key])
        model = NoiseCompensation(fit(data, strength, start), full, float(SNR_WARN_DB), start)
        args.out.mkdir(parents=True, exist_ok=True)
        np.savez(args.out / file, weights=model.weights.astype(np.float32),
                 full_below_db=np.float32(full), none_above_db=np.float32(SNR_WARN_DB),
                 ridge_strength=np.float32(strength), encoder=np.str_(ENCODER_ID),
                 start=np.str_(start), speakers=np.int32(data.is_clean.sum()))
        print(f"from {start}: {data.is_clean.sum()} speakers, {len(data.noisy)} "
              f"references; strength {strength:g}, ramp {full:g}-{SNR_WARN_DB:g} dB; "
              f"held-out cosine {uncorrected:.4f} -> {scores[(strength, full)]:.4f} "
              f"(cross-validated); wrote {args.out / file}")
    print(f"{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
