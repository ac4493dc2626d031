"""Pitch and speaking-rate statistics of speech (Praat, through parselmouth).

They describe a speaker in a voice profile and score a clone against the speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.audio.types import Audio
from voxclone.errors import NoSpeechError

_PITCH_FLOOR = 60.0
_PITCH_CEILING = 500.0
#: Voiced 10 ms frames needed to measure pitch at all.
MIN_VOICED_FRAMES = 20
#: Noise level of a clip: this percentile of its frames' intensity.
_NOISE_PERCENTILE = 5
#: How far above the noise level syllable nuclei and speech time must be (dB).
_ABOVE_NOISE_DB = 3.0
#: A clip whose loudest frame is less than this far above its noise level is noisy
#: (dB): its pitch is measured on its loud voiced frames only. Gate-cleaned 6 s
#: references of 48 calibration speakers: clean median 38 dB (10th percentile 29),
#: babble at 10 dB 25 (90th 28), white at 20 dB 29.
_NOISY_RANGE_DB = 32.0
#: In a noisy clip, voiced frames count for pitch within this many dB of the loudest.
_PITCH_WITHIN_DB = 20.0


@dataclass(frozen=True)
class ProsodyStats:
    """Summary of a speaker's pitch and tempo.

    Attributes:
        f0_median: median fundamental frequency of voiced frames, Hz.
        f0_p5, f0_p95: 5th and 95th percentiles of F0, Hz (the speaker's range).
        syllable_rate: syllable nuclei per second of speech (pauses excluded).
        voiced_fraction: share of 10 ms frames that are voiced.
    """

    f0_median: float
    f0_p5: float
    f0_p95: float
    syllable_rate: float
    voiced_fraction: float

    @property
    def f0_range_semitones(self) -> float:
        """Width of the 5-95 % F0 range, in semitones."""
        return float(12 * np.log2(self.f0_p95 / self.f0_p5))


def f0_track(audio: Audio) -> np.ndarray:
    """F0 per 10 ms frame in Hz, 0 where unvoiced (float64, shape ``(frames,)``)."""
    return _pitch(audio)[1]


def _pitch(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """Frame centres in seconds and :func:`f0_track` (both float64 ``(frames,)``)."""
    import parselmouth

    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
    pitch = sound.to_pitch_ac(
        time_step=0.01, pitch_floor=_PITCH_FLOOR, pitch_ceiling=_PITCH_CEILING
    )
    return np.asarray(pitch.xs()), np.nan_to_num(pitch.selected_array["frequency"])


def _intensity(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """Praat intensity per 10 ms frame: ``(times_s, level_db)``, float64 ``(frames,)``."""
    import parselmouth

    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
    intensity = sound.to_intensity(minimum_pitch=50.0, time_step=0.01)
    return np.asarray(intensity.xs()), np.asarray(intensity.values[0], dtype=np.float64)


def _speech_floor(db: np.ndarray, within_db: float, above_noise: bool) -> float:
    """Level (dB) speech frames exceed: ``within_db`` of the loudest frame and, when
    ``above_noise``, 3 dB above the clip's quiet frames (its 5th percentile)."""
    floor = float(db.max()) - within_db
    if above_noise:
        floor = max(floor, float(np.percentile(db, _NOISE_PERCENTILE)) + _ABOVE_NOISE_DB)
    return floor


def speech_seconds(audio: Audio, *, above_noise: bool = False) -> float:
    """Seconds of speech in ``audio`` as :func:`syllable_rate` counts them: the 10 ms
    frames within 25 dB of the loudest (pauses and silence excluded) and, when
    ``above_noise``, 3 dB above the clip's quiet frames. Meant for clips that hold
    speech: in pure digital silence every frame is as loud as the loudest."""
    _, db = _intensity(audio)
    if db.size < 3:
        return 0.0
    return float(np.count_nonzero(db > _speech_floor(db, 25.0, above_noise))) * 0.01


def articulation_rate(audio: Audio, syllables: int, *, above_noise: bool = False) -> float:
    """``syllables`` (counted in the words ``audio`` speaks) per second of its
    :func:`speech_seconds`: a speaking rate that follows the tempo, where the syllable
    peaks of :func:`syllable_rate` merge in quick speech. NaN when there are no
    syllables or no speech time."""
    seconds = speech_seconds(audio, above_noise=above_noise)
    return syllables / seconds if syllables > 0 and seconds > 0 else float("nan")


def syllable_rate(audio: Audio, f0: np.ndarray | None = None, *,
                  above_noise: bool = False,
                  intensity: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Syllables per second of speech, from voiced intensity peaks (de Jong & Wempe).

    A syllable nucleus is a peak in intensity that rises at least 2 dB above the
    surrounding dips, is voiced, and is within 25 dB of the loudest frame; speech time
    is the time within those 25 dB.

    Args:
        audio: the speech (any sample rate).
        f0: its :func:`f0_track`, when already known.
        above_noise: also require nuclei and speech time to be 3 dB above the clip's
            quiet frames (its 5th percentile of intensity). In a noisy clip the noise
            is within 25 dB of the speech, so its pauses count as speech time: white
            noise at 10 dB made 40 calibration speakers' references 26 % slower than
            clean (median; babble 11 %), and above the noise 5 % faster (babble 3 %
            slower). On clean speech the 25 dB rule is the stricter one: 97 % of 190
            LibriSpeech utterances measure within 2 % of it.
        intensity: its ``(times_s, level_db)`` intensity track, when already known.
    """
    from scipy.signal import find_peaks

    times, db = intensity if intensity is not None else _intensity(audio)
    if db.size < 3:
        return 0.0
    floor = _speech_floor(db, 25.0, above_noise)
    peaks, _ = find_peaks(db, prominence=2.0, height=floor)
    if f0 is None:
        f0 = f0_track(audio)
    frames = np.clip(np.round(times[peaks] / 0.01).astype(int), 0, len(f0) - 1)
    voiced_peaks = int(np.count_nonzero(f0[frames] > 0)) if len(f0) else 0
    speech_seconds = float(np.count_nonzero(db > floor)) * 0.01
    return voiced_peaks / speech_seconds if speech_seconds > 0 else 0.0


def prosody_stats(audio: Audio, *, above_noise: bool = False) -> ProsodyStats:
    """Pitch and tempo statistics of a speech clip.

    Args:
        audio: the speech (any sample rate).
        above_noise: measure the clip as one that may be noisy: the syllable rate above
            its noise (:func:`syllable_rate`) and, when its loudest frame is less than
            32 dB above its noise level, the pitch on voiced frames within 20 dB of the
            loudest only, so that babble and hum under the speech do not count as the
            speaker's pitch. Enrollment measures a reference so; a clone or a clean
            recording measures the same either way.
    Raises:
        NoSpeechError: fewer than 20 voiced frames (0.2 s) were found.
    """
    times, f0 = _pitch(audio)
    intensity = _intensity(audio)
    voiced = f0[f0 > 0]
    if voiced.size < MIN_VOICED_FRAMES:
        raise NoSpeechError(
            "too little voiced speech to measure pitch; give a clip with a few seconds of speech"
        )
    if above_noise:
        voiced = _loud_voiced(times, f0, intensity, voiced)
    p5, median, p95 = np.percentile(voiced, [5, 50, 95])
    return ProsodyStats(
        f0_median=float(median),
        f0_p5=float(p5),
        f0_p95=float(p95),
        syllable_rate=syllable_rate(audio, f0, above_noise=above_noise, intensity=intensity),
        voiced_fraction=float(np.count_nonzero(f0) / max(1, f0.size)),
    )


def _loud_voiced(times: np.ndarray, f0: np.ndarray, intensity: tuple[np.ndarray, np.ndarray],
                 voiced: np.ndarray) -> np.ndarray:
    """F0 of the voiced frames a noisy clip's speaker owns; ``voiced`` when it is clean.

    In babble the other talkers' voicing is pitch too, and widens the range (1.3 times
    the speaker's, median, at 10 dB). Their level is the clip's noise level; the
    speaker's syllables rise above it. On 48 calibration speakers' gate-cleaned
    references with babble at 10 dB, keeping the frames within 20 dB of the loudest
    (and 3 dB above the noise) put the median F0 within a semitone for 77 % of them
    (60 % with every frame); a clean reference is left as it is.
    """
    level_times, db = intensity
    if db.size < 3 or db.max() - np.percentile(db, _NOISE_PERCENTILE) >= _NOISY_RANGE_DB:
        return voiced
    level = np.interp(times, level_times, db)
    loud = f0[(f0 > 0) & (level >= _speech_floor(db, _PITCH_WITHIN_DB, above_noise=True))]
    return loud if loud.size >= MIN_VOICED_FRAMES else voiced
