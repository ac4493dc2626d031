"""Learn the instant conditioning: speaker d-vector + pitch/rate -> Kokoro style.

Two kinds of data:

1. **Synthetic** - the probe sentence rendered with random styles around the stock
   packs (:func:`style_response.sample_style`); each rendering gives a GE2E d-vector
   and its pitch and rate (:func:`voxclone.audio.prosody.prosody_stats`). A ridge
   regression learns the inverse: from what a voice sounds like back to the style
   that makes it.
2. **Real speakers, for calibration only** - LibriSpeech utterances in
   ``../shared/speech`` *shorter than 12 s*. ``bench/clone_quality.py`` only clones
   utterances of at least 12 s, so no benchmark speaker is seen here. Their first
   6 s of speech are embedded as enrollment does; the map is then calibrated
   (ridge strength, a gain on the step, and whether to move real d-vectors onto
   the synthetic ones' mean) by rendering its output for each and keeping the
   setting whose renderings come closest to the speakers.

    nice -n 10 python train/style_map.py --minutes 40

Renderings are kept in the user cache, so a later run adds to them; the fit alone
takes a few minutes. Writes ``src/voxclone/clone/data/style_map.npz`` (about 0.6 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxclone.audio import Audio, load_audio, prepare_reference
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone.fit import PROBE_TEXT, VoiceFitter
from voxclone.clone.search import fit_mixture
from voxclone.clone.style_map import StyleMap, features_of
from voxclone.engines.kokoro import cache_dir, default_engine, stock_packs
from voxclone.errors import NoSpeechError
from voxclone.speaker import default_encoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from speech_data import corpus_dir, read_index  # bench/speech_data.py: the corpus
from style_response import choose_ridge, collect, ridge  # the sibling script

#: bench/clone_quality.py clones only utterances at least this long.
BENCH_MIN_SECONDS = 12.0
REFERENCE_SECONDS = 6.0
SHIFTS = (0.0, 0.5, 1.0)
GAINS = (0.6, 1.0, 1.4)

OUT = Path(__file__).resolve().parents[1] / "src" / "voxclone" / "clone" / "data"
SAMPLES = cache_dir() / "train" / "style_map_samples.npz"


def measure(fitter: VoiceFitter, style: np.ndarray) -> np.ndarray | None:
    """d-vector (256) then log F0 median, log F0 range (st), log syllable rate of the
    probe rendered with ``style``; None when it has too little pitch to measure."""
    audio = Audio(fitter.engine.render(fitter.probe_ids, style), fitter.engine.sample_rate)
    try:
        stats = prosody_stats(audio)
    except NoSpeechError:
        return None
    if stats.syllable_rate <= 0 or stats.f0_p95 <= stats.f0_p5:
        return None
    embedding = fitter.encoder.embed(audio)
    logs = np.log([stats.f0_median, stats.f0_range_semitones, stats.syllable_rate])
    return np.concatenate([embedding, logs]).astype(np.float32)


@dataclass(frozen=True)
class MapFit:
    """The ridge inverse fitted on the synthetic renderings."""

    weights: np.ndarray  # (259, 256)
    input_mean: np.ndarray
    input_scale: np.ndarray
    style_mean: np.ndarray
    ridge: float
    r2: float

    def style_map(self, scale: np.ndarray, shift: np.ndarray, gain: float) -> StyleMap:
        return StyleMap(self.weights, self.input_mean, self.input_scale, self.style_mean,
                        scale.astype(np.float64), shift, gain)


@dataclass(frozen=True)
class Speaker:
    """A calibration speaker: unit d-vector ``(256,)`` and pitch/rate of 6 s of speech."""

    name: str
    embedding: np.ndarray
    prosody: ProsodyStats | None


def fit_map(styles: np.ndarray, measured: np.ndarray, scale: np.ndarray) -> MapFit:
    """Ridge regression from standardised measures to the style offset."""
    x = measured.astype(np.float64)
    mean, spread = x.mean(axis=0), x.std(axis=0) + 1e-6
    s = styles.astype(np.float64)
    style_mean = s.mean(axis=0)
    y = (s - style_mean) / scale
    xs = (x - mean) / spread
    lam, r2 = choose_ridge(xs, y)
    return MapFit(ridge(xs, y, lam), mean, spread, style_mean, lam, r2)


def real_speakers(fitter: VoiceFitter, speech_dir: Path | None) -> list[Speaker]:
    """Utterances too short for the benchmark, cut to 6 s of speech, cleaned and
    embedded as enrollment does."""
    found = []
    for utterance in read_index(corpus_dir(speech_dir)):
        if utterance.seconds >= BENCH_MIN_SECONDS:
            continue
        try:
            clean, _ = prepare_reference(load_audio(str(utterance.path)), min_speech=4.0)
        except NoSpeechError:
            continue
        clip = Audio(clean.samples[: round(REFERENCE_SECONDS * clean.sample_rate)],
                     clean.sample_rate)
        try:
            prosody: ProsodyStats | None = prosody_stats(clip)
        except NoSpeechError:
            prosody = None
        found.append(Speaker(utterance.speaker, fitter.encoder.embed(clip), prosody))
    return found


def calibrate(fitter: VoiceFitter, fit: MapFit,
              speakers: list[Speaker]) -> tuple[np.ndarray, float]:
    """The input shift (a fraction of the way from the real speakers' mean d-vector to
    the synthetic mean) and output gain whose renderings come closest to the
    speakers, judged by rendering the probe for each; prints the table, with the
    pack mixture (what enrollment had before) as the baseline."""
    real = np.stack([features_of(sp.embedding, sp.prosody, fit.input_mean)
                     for sp in speakers])
    towards_synthetic = fit.input_mean - real.mean(axis=0)
    towards_synthetic[256:] = 0.0  # pitch and rate are measured alike on both: no shift
    rows = fitter.pack_rows()
    mixture = [fit_mixture(sp.embedding, rows, fitter.evaluate, fitter.pack_embeddings())[2]
               for sp in speakers]
    print(f"pack mixture (baseline): mean cosine {np.mean(mixture):.4f}")
    best = (-np.inf, np.zeros(len(fit.input_mean)), 1.0)
    for fraction in SHIFTS:
        for gain in GAINS:
            shift = fraction * towards_synthetic
            style_map = fit.style_map(fitter.scale, shift, gain)
            scores = [float(fitter.evaluate(style_map.predict(sp.embedding, sp.prosody))
                            @ sp.embedding) for sp in speakers]
            wins = float(np.mean(np.asarray(scores) > np.asarray(mixture)))
            print(f"shift {fraction:.1f} gain {gain:.1f}: mean cosine {np.mean(scores):.4f}, "
                  f"beats the mixture for {wins:.0%}", flush=True)
            if np.mean(scores) > best[0]:
                best = (float(np.mean(scores)), shift, gain)
    return best[1], best[2]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=40.0,
                        help="time to spend rendering random styles")
    parser.add_argument("--max-samples", type=int, default=3000)
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--speech-dir", type=Path, default=None,
                        help="folder holding librispeech-clean/ (default ../shared/speech)")
    parser.add_argument("--collect-only", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT / "style_map.npz")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    fitter = VoiceFitter(default_engine(), default_encoder(), stock_packs())
    began = time.monotonic()
    styles, measured = collect(fitter, lambda style: measure(fitter, style), args.samples,
                               "measures", minutes=args.minutes,
                               max_samples=args.max_samples, seed=args.seed + 2000)
    print(f"{len(styles)} renderings ({time.monotonic() - began:.0f} s)")
    if args.collect_only:
        return
    speakers = real_speakers(fitter, args.speech_dir)
    print(f"{len(speakers)} calibration speakers (utterances under 12 s)")
    fit = fit_map(styles, measured, fitter.scale)
    print(f"synthetic cross-validated R^2 {fit.r2:.3f} (ridge {fit.ridge:g})")
    shift, gain = calibrate(fitter, fit, speakers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=fit.weights.astype(np.float32),
        input_mean=fit.input_mean.astype(np.float32),
        input_scale=fit.input_scale.astype(np.float32),
        style_mean=fit.style_mean.astype(np.float32),
        style_scale=fitter.scale.astype(np.float32),
        domain_shift=shift.astype(np.float32),
        gain=np.array(gain, dtype=np.float32),
        probe_sha256=np.array(hashlib.sha256(PROBE_TEXT.encode()).hexdigest()),
        samples=np.array(len(styles)),
        heldout_r2=np.array(fit.r2),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
