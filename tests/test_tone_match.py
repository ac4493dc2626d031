"""The tone match: band levels, the streaming equaliser, choosing a curve, and synthesis
applying a voice's curve (voxclone.audio.equalizer, voxclone.clone.tone_match)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

import voxclone
from voxclone.audio import Audio
from voxclone.audio.equalizer import (
    BAND_CENTRES_HZ,
    Equalizer,
    band_levels,
    design_fir,
    speech_band_levels,
)
from voxclone.clone.tone_match import MAX_GAIN_DB, level_difference, match_tone
from voxclone.consent.voice_seal import seal_voice

RATE = 24_000


def noise(seconds: float = 4.0, seed: int = 0, rate: int = RATE) -> Audio:
    rng = np.random.default_rng(seed)
    return Audio((0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)


def tilted(audio: Audio, db_per_octave: float) -> Audio:
    """``audio`` with a spectral tilt around 1 kHz (an equaliser curve of known shape)."""
    gains = db_per_octave * np.log2(BAND_CENTRES_HZ / 1000.0)
    return Equalizer(gains, audio.sample_rate).apply(audio)


def bursts(audio: Audio, on_s: float = 0.2, off_s: float = 0.1) -> Audio:
    """``audio`` switched on and off like syllables and the gaps between them: speech's
    quiet frames are what tell its noise floor."""
    period = round((on_s + off_s) * audio.sample_rate)
    on = (np.arange(len(audio.samples)) % period) < round(on_s * audio.sample_rate)
    return Audio((audio.samples * on).astype(np.float32), audio.sample_rate)


def test_filter_follows_the_curve() -> None:
    gains = np.clip(4.0 * np.log2(BAND_CENTRES_HZ / 1000.0), -9, 9)
    fir = design_fir(gains, RATE)
    freqs = np.fft.rfftfreq(8192, 1 / RATE)
    response = 20 * np.log10(np.abs(np.fft.rfft(fir, 8192)))
    for centre, gain in zip(BAND_CENTRES_HZ[4:], gains[4:], strict=True):  # above ~170 Hz
        assert response[np.argmin(np.abs(freqs - centre))] == pytest.approx(gain, abs=1.0)
    assert int(np.argmax(np.abs(fir))) < 8  # minimum phase: no pre-echo, no added delay


def test_streaming_in_chunks_equals_filtering_at_once() -> None:
    clip = noise(2.0)
    gains = np.linspace(-6, 6, 32)
    whole = Equalizer(gains, RATE).apply(clip).samples
    stream = Equalizer(gains, RATE)
    pieces = np.array_split(clip.samples, [1000, 1000, 1001, 17_000, 30_000])  # one empty
    joined = np.concatenate([stream.process(p) for p in pieces])
    np.testing.assert_allclose(joined, whole, atol=1e-6)


def test_level_difference_finds_the_tilt_and_ignores_missing_bands() -> None:
    clone = noise(seed=1)
    reference = tilted(bursts(noise(seed=2)), -3.0)  # darker than the clone by 3 dB/octave
    diff = level_difference(reference, clone)
    octaves = np.log2(BAND_CENTRES_HZ / 1000.0)
    slope = np.polyfit(octaves[2:], diff[2:], 1)[0]
    assert slope == pytest.approx(-3.0, abs=0.5)
    assert abs(diff.mean()) < 1e-9  # loudness is not the equaliser's business
    # A telephone reference (nothing above 3.4 kHz) must not make the clone muffled.
    sos = butter(10, 3400, fs=RATE, output="sos")
    phone = Audio(sosfilt(sos, bursts(noise(seed=3)).samples).astype(np.float32), RATE)
    phone_diff = level_difference(phone, clone)
    assert np.all(phone_diff[BAND_CENTRES_HZ > 4500] == 0.0)
    assert np.all(np.abs(phone_diff) <= 30)
    # A real phone line also has no lows (300-3400 Hz): the bands it holds still count.
    band = butter(10, (300, 3400), btype="bandpass", fs=RATE, output="sos")
    line = tilted(Audio(sosfilt(band, bursts(noise(seed=4)).samples).astype(np.float32),
                        RATE), -3.0)
    line_diff = level_difference(line, clone)
    inside = (BAND_CENTRES_HZ > 500) & (BAND_CENTRES_HZ < 3000)
    assert np.all(line_diff[BAND_CENTRES_HZ < 150] == 0.0)
    assert np.all(line_diff[BAND_CENTRES_HZ > 4500] == 0.0)
    assert np.polyfit(octaves[inside], line_diff[inside], 1)[0] == pytest.approx(-3.0, abs=0.7)


def test_a_references_steady_noise_is_not_taken_for_its_tone() -> None:
    clone = noise(seed=1)
    voice = tilted(bursts(noise(seed=2)), -3.0)
    hiss = 0.7 * noise(seed=7).samples  # white, 3 dB under the voice overall
    noisy = Audio(voice.samples + hiss, RATE)
    octaves = np.log2(BAND_CENTRES_HZ / 1000.0)
    heard = band_levels(noisy) - band_levels(clone)
    # As heard, the hiss fills the treble in: the tilt looks 40 % shallower ...
    assert np.polyfit(octaves[2:], heard[2:], 1)[0] > -2.0
    # ... with the floor of its quiet frames taken out, the voice's own tilt is back.
    diff = level_difference(noisy, clone)
    assert np.polyfit(octaves[2:], diff[2:], 1)[0] == pytest.approx(-3.0, abs=0.5)
    # A steady sound holds no quiet frames to tell its noise by: the floor taken out
    # never lowers a band by more than 20 dB.
    cut = band_levels(clone) - speech_band_levels(clone)
    assert np.all(cut >= -1e-9) and np.all(cut <= 20.0 + 1e-9)


def spectral_embed(audio: Audio) -> np.ndarray:
    """A stand-in speaker encoder that hears only the long-term spectrum."""
    levels = band_levels(audio)
    vector = levels - levels.mean()
    return vector / np.linalg.norm(vector)


def spectral_embed_all(audios: Sequence[Audio]) -> np.ndarray:
    return np.stack([spectral_embed(a) for a in audios])


def test_a_curve_is_kept_only_when_it_brings_the_clone_closer() -> None:
    probe, check = noise(seed=4), noise(seed=5)
    reference = tilted(noise(seed=6, rate=16_000), 2.5)
    target = spectral_embed(reference)
    chosen = match_tone(reference, probe, check, target, spectral_embed_all)
    assert chosen.gains_db is not None and chosen.strength > 0
    assert chosen.check_after > chosen.check_before + 0.005
    assert max(abs(g) for g in chosen.gains_db) <= MAX_GAIN_DB
    # The clone already has the speaker's spectrum: nothing to correct.
    probe, check = tilted(probe, 2.5), tilted(check, 2.5)
    same = match_tone(reference, probe, check, target, spectral_embed_all)
    assert same.check_before > 0.99
    assert same.gains_db is None and same.check_after == same.check_before


def test_synthesis_applies_the_voices_curve(joe_reference: Audio) -> None:
    voice = voxclone.enroll("joe", joe_reference, effort="stock", save=False,
                            i_am_the_speaker=True)
    assert voice.tone is None  # stock voices get no curve
    bright = seal_voice(dataclasses.replace(voice, tone=tuple(float(g) for g in np.where(
        BAND_CENTRES_HZ > 2000, 8.0, 0.0))))
    text = "The quick brown fox jumps over the lazy dog."
    plain, shaped = band_levels(voxclone.synthesize(text, voice)), \
        band_levels(voxclone.synthesize(text, bright))
    lift = (shaped - plain)[BAND_CENTRES_HZ > 2500].mean() \
        - (shaped - plain)[BAND_CENTRES_HZ < 1500].mean()
    assert lift == pytest.approx(8.0, abs=1.5)
