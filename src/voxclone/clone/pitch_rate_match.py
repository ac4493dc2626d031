"""Give a fitted voice its speaker's pitch level and speaking rate, after the fit.

The identity fit moves Kokoro's style toward the speaker's d-vector, and a d-vector
cares little for pitch: clones came out a median of 3 semitones off their speaker's
F0, some 6-9 (``bench/results/clone_quality.md``). Two corrections are measured on
renderings the enrollment makes anyway (the probe and a second sentence, engine speed
1) and stored in the voice:

* ``pitch_shift``: semitones from the clone's median F0 to the speaker's, applied to
  synthesis by PSOLA (:func:`voxclone.audio.pitch_shift.shift_pitch`), which keeps
  durations and formants. Below :attr:`PitchRateSettings.min_shift_st` nothing is
  shifted (the resynthesis costs a little clarity and is not worth it).
* ``rate``: the speaker's syllable rate over the clone's, which synthesis multiplies
  with the caller's speed (Kokoro's ``speed`` input scales durations directly).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone.profile import PITCH_SHIFT_LIMIT
from voxclone.errors import NoSpeechError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PitchRateSettings:
    """Knobs of the pitch and rate match (model config).

    Attributes:
        min_shift_st: smaller pitch errors are left alone (semitones).
        max_shift_st: the pitch shift is clamped to this (semitones, either way).
        rate_bounds: the clamp of the speaking-rate factor.
    """

    min_shift_st: float = 0.5
    max_shift_st: float = 9.0
    rate_bounds: tuple[float, float] = (0.75, 1.33)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_shift_st <= self.max_shift_st <= PITCH_SHIFT_LIMIT:
            raise ValueError("need 0 <= min_shift_st <= max_shift_st <= "
                             f"{PITCH_SHIFT_LIMIT}")


@dataclass(frozen=True)
class PitchRateMatch:
    """Outcome of :func:`match_pitch_rate`.

    Attributes:
        pitch_shift: semitones to shift the voice's synthesis by (0: none).
        rate: speaking-rate factor (1: the engine's own rate).
        f0_error_st: the clone's median F0 minus the speaker's, semitones, before the
            shift (NaN when the renderings held no voiced speech).
    """

    pitch_shift: float
    rate: float
    f0_error_st: float


def pitch_shift_for(clone_f0: float, speaker_f0: float,
                    settings: PitchRateSettings | None = None) -> float:
    """Semitones from a clone's median F0 to the speaker's (both Hz): 0 below
    ``min_shift_st``, clamped to ``max_shift_st``."""
    settings = settings or PitchRateSettings()
    shift = float(12 * np.log2(speaker_f0 / clone_f0))
    if abs(shift) < settings.min_shift_st:
        return 0.0
    return float(np.clip(shift, -settings.max_shift_st, settings.max_shift_st))


def match_pitch_rate(speaker: ProsodyStats, renders: Sequence[Audio], *,
                     pitch: bool = True, rate: bool = True,
                     settings: PitchRateSettings | None = None) -> PitchRateMatch:
    """The pitch shift and rate factor that bring a clone to ``speaker``.

    Args:
        speaker: the speaker's prosody (from the reference clips).
        renders: the clone's speech at engine speed 1, unshifted (one sample rate).
        pitch: measure the pitch shift (else 0).
        rate: measure the rate factor (else 1).
        settings: knobs.
    Returns:
        The match; ``(0, 1, nan)`` if the renderings hold too little voiced speech.
    """
    settings = settings or PitchRateSettings()
    if not renders or not (pitch or rate):
        return PitchRateMatch(0.0, 1.0, float("nan"))
    joined = Audio(np.concatenate([r.samples for r in renders]), renders[0].sample_rate)
    try:
        clone = prosody_stats(joined)
    except NoSpeechError:
        logger.warning("the clone's speech had too little voicing to match pitch and rate")
        return PitchRateMatch(0.0, 1.0, float("nan"))
    error = float(12 * np.log2(clone.f0_median / speaker.f0_median))
    shift = pitch_shift_for(clone.f0_median, speaker.f0_median, settings) if pitch else 0.0
    factor = 1.0
    if rate and clone.syllable_rate > 0 and speaker.syllable_rate > 0:
        low, high = settings.rate_bounds
        factor = float(np.clip(speaker.syllable_rate / clone.syllable_rate, low, high))
    logger.info("pitch and rate: clone F0 %.0f Hz vs speaker %.0f Hz (shift %+.1f st), "
                "rate x%.2f", clone.f0_median, speaker.f0_median, shift, factor)
    return PitchRateMatch(round(shift, 2), round(factor, 4), error)
