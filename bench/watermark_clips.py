"""Test material for the watermark benchmark: unmarked voxclone renderings of 3-15 s
(cached), and unmarked audio of other kinds for the false-positive count."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import speech_data as sd  # the shared benchmark helpers next to this file (on sys.path)

from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.profile import VoiceProfile
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.pipeline import SynthesisOptions, Synthesizer

logger = logging.getLogger(__name__)

RATE = 24_000
#: Public-domain "Harvard" style sentences of varied length and sound.
SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "Please call me back before nine tomorrow, if you can.",
    "We measured the room twice, and it was still too small for the piano.",
    "Why did the committee postpone the vote until after the holidays?",
    "Turn left at the second light, then look for the red brick building.",
    "Thanks to the new schedule, the buses now run every twelve minutes.",
    "She read the letter aloud, slowly, so that everyone could hear.",
    "In the morning the valley was covered in a thick white fog.",
    "My flight lands at half past four, so dinner may be a little late.",
)


def _profile(weights: dict[str, float]) -> VoiceProfile:
    return VoiceProfile(
        name="bench", embedding=np.zeros(256, dtype=np.float32),
        conditioning=StyleConditioning(weights), prosody=ProsodyStats(0, 0, 0, 0, 0),
        sources=(), engine=default_engine().name, effort="stock", score=0.0)


def synthesis_clips(count: int, seed: int = 7) -> list[Path]:
    """``count`` unmarked renderings of 3-15 s (random stock-voice mixtures, random
    sentences, speed 0.9-1.1), cached under the model cache."""
    folder = sd.bench_cache_dir() / "watermark"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    packs = stock_packs()
    names = sorted(packs)
    synthesizer: Synthesizer | None = None
    paths = []
    for index in range(count):
        target = rng.uniform(3.0, 15.0)
        weights = rng.dirichlet(np.full(len(names), 0.5))
        speed = float(rng.uniform(0.9, 1.1))
        order = rng.permutation(len(SENTENCES))
        path = folder / f"clip-{seed}-{index:04d}.wav"
        paths.append(path)
        if path.exists():
            continue
        if synthesizer is None:
            synthesizer = Synthesizer(default_engine(), packs)
        voice = _profile({n: float(w) for n, w in zip(names, weights, strict=True) if w > 0.01})
        text, audio = "", None
        for pick in order:
            text = f"{text} {SENTENCES[pick]}".strip()
            if len(text) / 14.0 < target and audio is None:
                continue
            audio = synthesizer.synthesize(text, voice, SynthesisOptions(speed=speed))
            if audio.duration >= min(target, 3.2):
                break
        assert audio is not None
        samples = audio.samples[: int(15.0 * RATE)]
        sf.write(path, samples, RATE, subtype="FLOAT")
        logger.info("rendered %s (%.1f s)", path.name, len(samples) / RATE)
    return paths


def consent_readings(count: int, seed: int = 13) -> Iterator[Audio]:
    """Piper's joe (the demo's person) reading ``count`` consent challenges: the
    statement for ``demo-joe`` and four random challenge words, as enrollment asks.
    Piper's sampling noise makes every reading differ. Needs ``voxclone[demo]``."""
    from voxclone.consent.challenge import STATEMENT
    from voxclone.consent.wordlist import CHALLENGE_WORDS
    from voxclone.demo import load_person, speak_person

    person = load_person()
    rng = np.random.default_rng(seed)
    words = sorted(CHALLENGE_WORDS)
    for _ in range(count):
        phrase = ", ".join(rng.choice(words, 4, replace=False)).capitalize() + "."
        yield speak_person(person, f"{STATEMENT.format(name='demo-joe')} {phrase}")


def windows(x: np.ndarray, rate: int, seconds: float, hop: float) -> Iterator[np.ndarray]:
    """Consecutive excerpts of ``x`` (the last one may be cut short if it is >= 3 s)."""
    n, step = int(seconds * rate), int(hop * rate)
    for start in range(0, max(1, len(x) - n + step), step):
        piece = x[start: start + n]
        if len(piece) >= 3 * rate:
            yield piece


def noise_clips(count: int, seed: int = 11) -> Iterator[tuple[str, np.ndarray]]:
    """White, pink and brown noise, hum, silence and near-silence, 3-10 s at 24 kHz."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        n = int(rng.uniform(3, 10) * RATE)
        kind = ("white", "pink", "brown", "hum", "silence", "hiss")[index % 6]
        if kind == "silence":
            yield kind, np.zeros(n)
            continue
        white = rng.normal(0, 1, n)
        if kind == "white":
            x = white
        elif kind in ("pink", "brown"):
            spectrum = np.fft.rfft(white)
            freqs = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 1.0)
            spectrum /= np.sqrt(freqs) if kind == "pink" else freqs
            x = np.fft.irfft(spectrum, n)
        elif kind == "hum":
            t = np.arange(n) / RATE
            x = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 8)) + 0.05 * white
        else:
            x = white * 1e-4
        yield kind, 0.1 * x / (np.max(np.abs(x)) + 1e-12)
