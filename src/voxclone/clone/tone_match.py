"""Tone match: give a clone its speaker's long-term spectrum.

Kokoro's style vector sets timbre only as far as its stock voices reach; what is left
between a clone and its speaker shows in the long-term average spectrum (vocal tract
resonances averaged over many sounds, breathiness, and the recording's own colour).
Enrollment compares the band levels of the speaker's cleaned reference, its noise floor
taken out (:func:`voxclone.audio.equalizer.speech_band_levels`: hiss under a reference
would otherwise count as a bright voice), with those of two renderings of the clone
(:func:`voxclone.audio.equalizer.band_levels`) and keeps
the difference, at half or full strength, as an equaliser curve - only if it brings
the d-vector of a sentence the fit never saw closer to the speaker's; otherwise the
voice keeps no curve.

Bands the reference does not hold (a telephone recording has nothing above 3.4 kHz)
are left alone rather than cut, so a narrowband reference does not muffle the clone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio.equalizer import Equalizer, band_levels, speech_band_levels
from voxclone.audio.types import Audio

logger = logging.getLogger(__name__)

#: Strengths tried: the share of the level difference the curve makes up.
STRENGTHS = (0.5, 1.0)
#: The curve never boosts or cuts a band by more than this, dB.
MAX_GAIN_DB = 9.0
#: A band more than this far below the reference's median level is outside its bandwidth.
EMPTY_BAND_DB = 30.0
#: The curve is kept only if it raises the check sentence's cosine by this much.
MIN_GAIN = 0.005


@dataclass(frozen=True)
class ToneMatch:
    """The chosen curve (None: none helped) and the cosines it was chosen by.

    Attributes:
        gains_db: 32 band gains, dB, or None.
        strength: share of the level difference the curve makes up (0: no curve).
        check_before, check_after: cosine of the check sentence to the speaker without
            and with the curve.
        probe_score: cosine of the probe, with the curve if one was kept.
    """

    gains_db: tuple[float, ...] | None
    strength: float
    check_before: float
    check_after: float
    probe_score: float


def level_difference(reference: Audio, clone: Audio) -> np.ndarray:
    """Reference (its noise floor out) minus clone band levels, dB ``(32,)``, zero-mean
    over the bands the reference holds (its first run of non-empty bands: a phone line
    has no lows, and nothing above its bandwidth counts) and 0 elsewhere."""
    ref = speech_band_levels(reference)
    diff = ref - band_levels(clone)
    held = ref >= np.median(ref) - EMPTY_BAND_DB
    if not held.any():
        return np.zeros_like(diff)
    low = int(np.argmax(held))
    empty_above = np.flatnonzero(~held[low:])
    if empty_above.size:
        held[low + int(empty_above[0]):] = False
    return np.asarray(np.where(held, diff - diff[held].mean(), 0.0))


def match_tone(reference: Audio, probe: Audio, check: Audio, target: np.ndarray,
               embed: Callable[[Sequence[Audio]], np.ndarray]) -> ToneMatch:
    """Choose the equaliser curve for a clone.

    The clone's spectrum is measured on two renderings: the probe sentence, which the
    fit tuned the voice on, and a ``check`` sentence it never saw. The strength is
    chosen on the check sentence alone: the probe's d-vector was optimised directly,
    so it resists any change, wanted or not.

    Args:
        reference: the speaker's cleaned reference speech (any rate).
        probe: the clone speaking the probe sentence (engine rate).
        check: the clone speaking another sentence (same rate).
        target: the speaker's unit d-vector ``(256,)``.
        embed: the speaker encoder on a batch: clips -> unit d-vectors ``(clips, 256)``
            (:func:`voxclone.speaker.encoder.embed_all`).
    """
    rate = probe.sample_rate
    diff = level_difference(reference, Audio(np.concatenate([probe.samples, check.samples]),
                                             rate))
    curves = [np.clip(strength * diff, -MAX_GAIN_DB, MAX_GAIN_DB) for strength in STRENGTHS]
    scores = embed([check, *(Equalizer(g, rate).apply(check) for g in curves)]) @ target
    before = float(scores[0])
    chosen: tuple[float, np.ndarray | None, float] = (0.0, None, before)
    for strength, gains, score in zip(STRENGTHS, curves, scores[1:].tolist(), strict=True):
        logger.debug("tone match at %.1f: cosine %.3f (plain %.3f)", strength, score, before)
        if score > chosen[2] and score >= before + MIN_GAIN:
            chosen = (strength, gains, score)
    strength, kept, after = chosen
    if kept is None:
        return ToneMatch(None, 0.0, before, before, float(embed([probe])[0] @ target))
    probe_score = float(embed([Equalizer(kept, rate).apply(probe)])[0] @ target)
    return ToneMatch(tuple(round(float(g), 2) for g in kept), strength, before, after,
                     probe_score)
