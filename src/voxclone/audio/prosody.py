"""Pitch and speaking-rate statistics of speech (Praat, through parselmouth).

They describe a speaker in a voice profile and score a clone against the speaker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from voxclone.audio.types import Audio
from voxclone.errors import NoSpeechError

logger = logging.getLogger(__name__)

_PITCH_FLOOR = 60.0
_PITCH_CEILING = 500.0
#: Voiced 10 ms frames needed to measure pitch at all.
MIN_VOICED_FRAMES = 20
#: Noise level of a clip: this percentile of its frames' intensity.
_NOISE_PERCENTILE = 5
#: How far above the noise level syllable nuclei and speech time must be (dB).
_ABOVE_NOISE_DB = 3.0
#: A clip's quiet frames: its frames up to this percentile of intensity.
_QUIET_PERCENTILE = 20
#: A reference whose quiet frames are voiced this often has babble under it.
BABBLE_SHARE = 0.3
#: Under babble, voiced frames count toward pitch this far above the quiet ones (dB).
BABBLE_GATE_DB = 9.0


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


def _pitch(audio: Audio) -> tuple[np.ndarray, np.ndarray]:
    """(F0 in Hz, 0 where unvoiced; each frame's centre in seconds) per 10 ms frame."""
    import parselmouth

    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
    pitch = sound.to_pitch_ac(
        time_step=0.01, pitch_floor=_PITCH_FLOOR, pitch_ceiling=_PITCH_CEILING
    )
    return np.nan_to_num(pitch.selected_array["frequency"]), np.asarray(pitch.xs())


def f0_track(audio: Audio) -> np.ndarray:
    """F0 per 10 ms frame in Hz, 0 where unvoiced (float64, shape ``(frames,)``)."""
    return _pitch(audio)[0]


def syllable_rate(audio: Audio, f0: np.ndarray | None = None, *,
                  above_noise: bool = False) -> float:
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
            noise at 10 dB made LibriSpeech readers 26 % slower (median over 40
            calibration speakers), and this brings them within 5 %; on clean speech the
            25 dB rule is the stricter one (190 utterances: 97 % unchanged).
    """
    import parselmouth
    from scipy.signal import find_peaks

    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
    intensity = sound.to_intensity(minimum_pitch=50.0, time_step=0.01)
    db = np.asarray(intensity.values[0], dtype=np.float64)
    times = np.asarray(intensity.xs())
    if db.size < 3:
        return 0.0
    floor = db.max() - 25.0
    if above_noise:
        floor = max(floor, float(np.percentile(db, _NOISE_PERCENTILE)) + _ABOVE_NOISE_DB)
    peaks, _ = find_peaks(db, prominence=2.0, height=floor)
    if f0 is None:
        f0 = f0_track(audio)
    frames = np.clip(np.round(times[peaks] / 0.01).astype(int), 0, len(f0) - 1)
    voiced_peaks = int(np.count_nonzero(f0[frames] > 0)) if len(f0) else 0
    speech_seconds = float(np.count_nonzero(db > floor)) * 0.01
    return voiced_peaks / speech_seconds if speech_seconds > 0 else 0.0


def prosody_stats(audio: Audio) -> ProsodyStats:
    """Pitch and tempo statistics of a speech clip, every voiced frame counted.

    Raises:
        NoSpeechError: fewer than 20 voiced frames (0.2 s) were found.
    """
    f0 = f0_track(audio)
    return _stats(f0, f0 > 0, syllable_rate(audio, f0))


def _stats(f0: np.ndarray, counted: np.ndarray, rate: float) -> ProsodyStats:
    voiced = f0[counted]
    if voiced.size < MIN_VOICED_FRAMES:
        raise NoSpeechError(
            "too little voiced speech to measure pitch; give a clip with a few seconds of speech"
        )
    p5, median, p95 = np.percentile(voiced, [5, 50, 95])
    return ProsodyStats(
        f0_median=float(median),
        f0_p5=float(p5),
        f0_p95=float(p95),
        syllable_rate=rate,
        voiced_fraction=float(np.count_nonzero(f0 > 0) / max(1, f0.size)),
    )


def _intensity_at(audio: Audio, times: np.ndarray) -> np.ndarray:
    """Intensity (dB) at ``times`` (seconds), Praat's, as the pitch frames see it."""
    import parselmouth

    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.sample_rate)
    intensity = sound.to_intensity(minimum_pitch=_PITCH_FLOOR, time_step=0.01)
    return np.interp(times, np.asarray(intensity.xs()), np.asarray(intensity.values[0]))


def babble_share(f0: np.ndarray, db: np.ndarray) -> float:
    """How often a clip's quietest fifth of frames is voiced (0-1): its 10 ms frames'
    F0 (Hz, 0 unvoiced) and intensity (dB), same length. A clip's quiet frames are its
    pauses; they are voiced when other voices fill them."""
    if f0.size == 0:
        return 0.0
    quiet = db <= np.percentile(db, _QUIET_PERCENTILE)
    quiet_frames = int(np.count_nonzero(quiet))
    return float(np.count_nonzero(f0[quiet] > 0)) / max(1, quiet_frames)


def reference_prosody(audio: Audio) -> ProsodyStats:
    """A speaker's pitch and tempo from their reference speech, which may be noisy.

    - The syllable rate is measured above the noise (``syllable_rate(above_noise=True)``).
    - When other voices fill the reference's pauses (:func:`babble_share` at least
      :data:`BABBLE_SHARE`), its pitch counts only the voiced frames
      :data:`BABBLE_GATE_DB` above its quiet ones (their 10th percentile of intensity),
      since the quieter frames carry the babble's pitch. Babble at 10 dB had moved 40
      calibration speakers' median F0 by 0.88 semitones and widened their F0 range
      1.42x (medians); so counted, 0.68 semitones and 0.99x. Clean speech and white
      noise almost never look like babble (0 % and 0-5 % of those references; 3 % of
      190 real LibriSpeech references, whose figures it left as they were), and their
      quiet frames are part of the speaker's range, so all voiced frames count there.

    Raises:
        NoSpeechError: too little voiced speech.
    """
    f0, times = _pitch(audio)
    counted = f0 > 0
    db = _intensity_at(audio, times)
    share = babble_share(f0, db)
    if share >= BABBLE_SHARE:
        loud = counted & (db >= np.percentile(db, 10) + BABBLE_GATE_DB)
        logger.info("other voices under the reference (%.0f %% of its quiet frames "
                    "voiced): its pitch is measured on its louder frames", 100 * share)
        if np.count_nonzero(loud) >= MIN_VOICED_FRAMES:
            counted = loud
    return _stats(f0, counted, syllable_rate(audio, f0, above_noise=True))
