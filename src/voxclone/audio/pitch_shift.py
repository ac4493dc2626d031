"""Shift the pitch of speech by a constant interval, keeping its timing and formants.

Praat's PSOLA resynthesis (through parselmouth): the pitch contour is measured,
multiplied by one factor, and the speech is rebuilt from its own pitch periods by
overlap-add. Durations and the spectral envelope (formants, so vowels and timbre) stay
as they were; the melody keeps its shape. It gives a cloned voice its speaker's pitch
level (:mod:`voxclone.clone.pitch_rate_match`) where the engine's conditioning cannot.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

#: Pitch search range of the analysis, Hz (speech, both sexes).
PITCH_FLOOR_HZ = 60.0
PITCH_CEILING_HZ = 500.0


def shift_pitch(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """``samples`` with every pitch multiplied by ``2 ** (semitones / 12)``.

    Args:
        samples: float32 mono speech, shape ``(n,)``, any sample rate.
        sample_rate: Hz.
        semitones: the interval; 0 returns ``samples`` itself.
    Returns:
        float32 ``(n,)``, the same length and rate. Audio with no voiced speech to
        analyse (silence, a very short piece) comes back unchanged.
    """
    if semitones == 0.0 or samples.size == 0:
        return samples
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(samples.astype(np.float64), sample_rate)
    try:
        manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
        tier = call(manipulation, "Extract pitch tier")
        if call(tier, "Get number of points") == 0:
            return samples  # nothing voiced: nothing to shift
        call(tier, "Multiply frequencies", sound.xmin, sound.xmax, 2.0 ** (semitones / 12))
        call([tier, manipulation], "Replace pitch tier")
        shifted = call(manipulation, "Get resynthesis (overlap-add)")
    except parselmouth.PraatError as exc:  # too short to analyse: leave it as it is
        logger.debug("pitch shift skipped on %d samples: %s", samples.size, exc)
        return samples
    out = np.asarray(shifted.values[0], dtype=np.float32)
    if out.size >= samples.size:
        return out[: samples.size]
    return np.concatenate([out, np.zeros(samples.size - out.size, np.float32)])
