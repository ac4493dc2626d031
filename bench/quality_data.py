"""Shared helpers for the quality-gate benchmarks: speaker partition and degradations.

Speakers are split once, by a fixed hash of their id, into *calibration* speakers (the
gate's thresholds are chosen on them: ``bench/quality_calibration.py`` and
``bench/speaker_mix.py --split calibration``) and *evaluation* speakers (the figures
reported: ``bench/speaker_mix.py``, ``bench/robustness.py``). No speaker is in both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import numpy as np
import speech_data as sd
from scipy import signal

from voxclone.audio import Audio, load_audio

SPLITS = ("calibration", "evaluation")
#: The quality benchmark's per-speaker rows (``bench/clone_quality.py``): its speakers.
BENCHMARK_ROWS = sd.REPO_ROOT / "bench" / "results" / "clone_quality.json"
TELEPHONE_RATE = 8_000
TELEPHONE_BAND = (300.0, 3400.0)


def partition(utterances: Sequence[sd.Utterance], split: str) -> list[sd.Utterance]:
    """The utterances of the ``calibration`` or ``evaluation`` speakers (about half each)."""
    if split not in SPLITS:
        raise SystemExit(f"split must be one of {SPLITS}, got {split!r}")
    def is_calibration(u: sd.Utterance) -> bool:
        digest = hashlib.sha256(f"voxclone-quality:{u.speaker}".encode()).digest()
        return digest[0] < 128
    return [u for u in utterances if is_calibration(u) == (split == "calibration")]


def speakers_of(split: str, speech_dir: str | None) -> list[sd.Utterance]:
    """The utterances of ``split``'s speakers in the speech folder (``--speech-dir``)."""
    return partition(sd.read_index(sd.corpus_dir(speech_dir)), split)


def dev_utterances(speech_dir: str | None) -> list[sd.Utterance]:
    """The calibration speakers' utterances without the quality benchmark's speakers
    (``BENCHMARK_ROWS``): where choices for ``clone_quality.py`` are made, so that none
    is made on the speakers it scores."""
    benchmark = {r["speaker"] for r in json.loads(BENCHMARK_ROWS.read_text())["rows"]}
    return [u for u in speakers_of("calibration", speech_dir) if u.speaker not in benchmark]


def power(x: np.ndarray) -> float:
    return float(np.mean(x.astype(np.float64) ** 2)) + 1e-20


def fit_length(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``noise`` tiled and cut to ``n`` samples, from a random offset."""
    reps = int(np.ceil((n + len(noise)) / len(noise)))
    long = np.tile(noise, reps)
    start = int(rng.integers(0, len(noise)))
    return long[start:start + n]


def add_noise(clean: Audio, noise: np.ndarray, snr_db: float,
              rng: np.random.Generator) -> Audio:
    """``clean`` plus ``noise`` (same rate) scaled to ``snr_db`` (whole-clip powers)."""
    fitted = fit_length(noise, len(clean), rng)
    gain = np.sqrt(power(clean.samples) / (power(fitted) * 10 ** (snr_db / 10)))
    mixed = clean.samples + gain * fitted
    peak = float(np.max(np.abs(mixed)))
    if peak > 0.99:  # keep the mixture unclipped: clipping is a separate condition
        mixed = mixed * (0.99 / peak)
    return Audio(mixed.astype(np.float32), clean.sample_rate)


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def colored(n: int, rng: np.random.Generator, exponent: float = 1.0) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (1: pink, a fan or a room's rumble)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.maximum(np.arange(len(spectrum)), 1)
    return np.fft.irfft(spectrum / freqs ** (exponent / 2), n).astype(np.float32)


def babble(others: Sequence[Audio], rate: int, rng: np.random.Generator,
           seconds: float = 20.0) -> np.ndarray:
    """Several other speakers talking at once, each at the same power."""
    n = round(seconds * rate)
    total = np.zeros(n, dtype=np.float64)
    for other in others:
        x = other.resample(rate).samples
        total += fit_length(x, n, rng) / np.sqrt(power(x))
    return total.astype(np.float32)


def voice_bank(utterances: Sequence[sd.Utterance], count: int = 16) -> dict[str, Audio]:
    """Up to ``count`` speakers' utterances (fixed order), decoded once, to make babble from."""
    chosen = sorted(utterances, key=lambda u: sd._order_key(u.speaker))[-count:]
    return {u.speaker: load_audio(str(u.path)) for u in chosen}


def babble_voices(bank: dict[str, Audio], speaker: str, rng: np.random.Generator,
                  count: int = 4) -> list[Audio]:
    """``count`` random voices of ``bank``, never ``speaker``'s own."""
    names = sorted(k for k in bank if k != speaker)
    return [bank[k] for k in rng.choice(names, count, replace=False)]


def telephone(audio: Audio) -> Audio:
    """A phone line: 8 kHz, band-passed to 300-3400 Hz (4th-order Butterworth)."""
    narrow = audio.resample(TELEPHONE_RATE)
    sos = signal.butter(4, TELEPHONE_BAND, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    return Audio(signal.sosfilt(sos, narrow.samples).astype(np.float32), TELEPHONE_RATE)


def clip(audio: Audio, fraction: float) -> Audio:
    """Amplify until ``fraction`` of the samples exceed full scale, then hard-clip."""
    level = float(np.quantile(np.abs(audio.samples), 1.0 - fraction))
    return Audio(np.clip(audio.samples / level, -1.0, 1.0).astype(np.float32),
                 audio.sample_rate)


def room_response(rt60: float, drr_db: float, rate: int,
                  rng: np.random.Generator) -> np.ndarray:
    """A synthetic room impulse response: the direct sound, then a tail of Gaussian
    noise decaying 60 dB in ``rt60`` seconds (Polack's model), ``drr_db`` dB below it
    in energy (direct-to-reverberant ratio: about +10 dB for a phone held close, 0 dB
    across a living room)."""
    n = round(rate * max(1.2 * rt60, 0.1))
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-3 * np.log(10) * t / rt60)
    tail[: round(0.002 * rate)] = 0.0  # the first reflection arrives after ~2 ms
    tail *= np.sqrt(1.0 / (np.sum(tail ** 2) * 10 ** (drr_db / 10)))
    tail[0] = 1.0
    return tail


def reverberate(audio: Audio, rt60: float, drr_db: float, rng: np.random.Generator) -> Audio:
    """``audio`` as heard in a room (:func:`room_response`), at the same power."""
    wet = signal.fftconvolve(audio.samples.astype(np.float64),
                             room_response(rt60, drr_db, audio.sample_rate, rng))[: len(audio)]
    wet *= np.sqrt(power(audio.samples) / power(wet))
    peak = float(np.max(np.abs(wet)))
    if peak > 0.99:
        wet *= 0.99 / peak
    return Audio(wet.astype(np.float32), audio.sample_rate)
