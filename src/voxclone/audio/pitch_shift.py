"""Shift the pitch of speech, widen or narrow its range, and move its formants.

Praat's PSOLA resynthesis (through parselmouth): the pitch contour is measured,
multiplied by one factor (and, for a range change, its distance in semitones from its
own mean multiplied by another), and the speech is rebuilt from its own pitch periods
by overlap-add. Durations and the spectral envelope (formants, so vowels and timbre)
stay as they were; the melody keeps its shape. It gives a cloned voice its speaker's
pitch level and range (:mod:`voxclone.clone.pitch_rate_match`) where the engine's
conditioning cannot.

A formant ratio other than 1 moves the spectral envelope too (the method of Praat's
"Change gender"): the speech is first played faster by the ratio (every frequency,
formants included, times the ratio; durations divided by it), then the same
resynthesis puts the pitch and the durations back. It gives a clone its speaker's
vocal-tract length (:mod:`voxclone.clone.formant_match`), in the same single pass.

Praat's overlap-add fills unvoiced stretches from its global random generator, so two
calls on the same speech differed by up to 0.2 in a sample, and enrollment's close
choices (the formant ratio, the tone curve) flipped from run to run. Each resynthesis
seeds that generator (and hands it back unpredictable), under a lock, so the same
input gives the same output.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

logger = logging.getLogger(__name__)

_praat_random = threading.Lock()
#: Seed of Praat's random generator for each resynthesis (any fixed value).
_SEED = 20261203

#: Pitch search range of the analysis, Hz (speech, both sexes).
PITCH_FLOOR_HZ = 60.0
PITCH_CEILING_HZ = 500.0


def shift_pitch(samples: np.ndarray, sample_rate: int, semitones: float, *,
                range_scale: float = 1.0, formant_ratio: float = 1.0) -> np.ndarray:
    """``samples`` with every pitch multiplied by ``2 ** (semitones / 12)``, its
    distance from the mean pitch (in semitones) multiplied by ``range_scale``, and its
    formants multiplied by ``formant_ratio``.

    The range scales around the piece's own mean (geometric, over its pitch points), so
    its level stays where the shift put it: a clip's median error is not magnified.

    Args:
        samples: float32 mono speech, shape ``(n,)``, any sample rate.
        sample_rate: Hz.
        semitones: the interval; 0 with ``range_scale`` and ``formant_ratio`` 1 returns
            ``samples`` itself.
        range_scale: the factor on the pitch range (1: unchanged, 1.2: 20 % wider).
        formant_ratio: the factor on the formants (1: unchanged; 1.05 a shorter vocal
            tract, 0.95 a longer one).
    Returns:
        float32 ``(n,)``, the same length and rate. Audio with no voiced speech to
        analyse (silence, a very short piece) comes back unchanged.
    Raises:
        ValueError: ``range_scale`` or ``formant_ratio`` is not positive.
    """
    if not range_scale > 0:
        raise ValueError(f"range_scale must be positive, not {range_scale}")
    if not formant_ratio > 0:
        raise ValueError(f"formant_ratio must be positive, not {formant_ratio}")
    scale_range, move_formants = range_scale != 1.0, formant_ratio != 1.0
    if (semitones == 0.0 and not scale_range and not move_formants) or samples.size == 0:
        return samples
    import parselmouth
    from parselmouth.praat import call, run

    played = samples
    if move_formants:  # played faster by the ratio: every frequency times it (soxr
        # resamples ~20x faster than Praat's sinc, and this runs on every piece)
        import soxr

        played = soxr.resample(samples.astype(np.float32), sample_rate,
                               sample_rate / formant_ratio, quality="HQ")
    sound = parselmouth.Sound(played.astype(np.float64), sample_rate)
    try:
        manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
        tier = call(manipulation, "Extract pitch tier")
        if call(tier, "Get number of points") == 0:
            return samples  # nothing voiced: nothing to shift
        if semitones or move_formants:  # the ratio's pitch change undone
            call(tier, "Multiply frequencies", sound.xmin, sound.xmax,
                 2.0 ** (semitones / 12) / formant_ratio)
        if move_formants:  # and its durations
            durations = call("Create DurationTier", "durations", sound.xmin, sound.xmax)
            call(durations, "Add point", sound.xmin, formant_ratio)
            call([manipulation, durations], "Replace duration tier")
        if scale_range:  # in semitones (re 1 Hz) around their mean, and back to Hz
            call(tier, "Formula", "12 * log2(self)")
            mean = call(tier, "Get mean (points)", sound.xmin, sound.xmax)
            call(tier, "Formula", f"2 ^ (({mean!r} + (self - {mean!r}) * {range_scale!r}) / 12)")
        call([tier, manipulation], "Replace pitch tier")
        with _praat_random:
            run(f"random_initializeWithSeedUnsafelyButPredictably ({_SEED})")
            try:
                shifted = call(manipulation, "Get resynthesis (overlap-add)")
            finally:
                run("random_initializeSafelyAndUnpredictably ()")
    except parselmouth.PraatError as exc:  # too short to analyse: leave it as it is
        logger.debug("pitch shift skipped on %d samples: %s", samples.size, exc)
        return samples
    out = np.asarray(shifted.values[0], dtype=np.float32)
    # Praat's overlap-add takes out the input's mean: its silences come back at minus
    # that offset (about -65 dB re peak on Kokoro's speech). Inaudible, but it fills the
    # silences the pauses are cut from, so the mean is put back.
    out += np.float32(samples.mean())
    if out.size >= samples.size:
        return out[: samples.size]
    return np.concatenate([out, np.zeros(samples.size - out.size, np.float32)])
