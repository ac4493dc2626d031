"""Pauses: a speaker's silences between phrases, and the silence around rendered speech.

Enrollment measures the speaker's pauses on the VAD's speech segments of the reference
(:func:`pauses_between`, :func:`speaker_pause`); synthesis trims the engine's own
leading and trailing silence (:func:`sound_span`) and puts the speaker's pause between
sentences instead.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

import numpy as np

#: Silero pads each speech segment by 30 ms at both ends
#: (:func:`voxclone.audio.detect_speech`), so a gap it reports as g seconds is about
#: g + 0.06 s of silence.
VAD_PAD_S = 0.03
#: Longer gaps are not a speaking habit (a page turned, an interruption).
MAX_PAUSE_S = 3.0
#: LibriSpeech readers' pause: the median over 183 speakers (those outside the clone
#: benchmarks' 48) of each one's median pause (bench/pause_habits.py).
POPULATION_PAUSE_S = 0.51
#: How many of a speaker's own pauses weigh as much as the population's median. The
#: 0-3 pauses of a 6 s reference do not predict a speaker's later ones (Spearman 0.11
#: on 129 LibriSpeech readers): with this weight its estimate stays within ~5 % of the
#: population's and predicts as well (bench/results/pause_habits.md), while a minute
#: of speech (~15 pauses) moves it halfway to the speaker's own.
PRIOR_PAUSES = 16
#: The frame of :func:`sound_span`, seconds.
_FRAME_S = 0.01


def pauses_between(segments: Sequence[tuple[float, float]]) -> tuple[float, ...]:
    """The silences between consecutive speech segments, in seconds.

    Args:
        segments: sorted ``(start, end)`` speech segments in seconds, as
            :func:`voxclone.audio.detect_speech` returns them.

    Returns:
        One length per gap between two segments (none before the first or after the
        last), with the VAD's padding added back; gaps over ``MAX_PAUSE_S`` are left
        out.
    """
    gaps = (b[0] - a[1] + 2 * VAD_PAD_S for a, b in itertools.pairwise(segments))
    return tuple(round(g, 3) for g in gaps if 0 < g <= MAX_PAUSE_S)


def speaker_pause(pauses: Sequence[float], prior: float = PRIOR_PAUSES) -> float | None:
    """A speaker's typical pause from the pauses of their reference, in seconds.

    The median of ``pauses`` drawn toward ``POPULATION_PAUSE_S`` (in log seconds) with
    the weight of ``prior`` pauses (default ``PRIOR_PAUSES``): a 6 s reference holds 0-3
    pauses, which do not tell the next ones (bench/results/pause_habits.md), so its
    estimate stays near the population's; a long or few-shot reference brings the
    speaker's own.

    Returns:
        Seconds, or None when there are no pauses.
    """
    if not pauses:
        return None
    count = len(pauses)
    own = math.log(statistics.median(pauses))
    return math.exp((count * own + prior * math.log(POPULATION_PAUSE_S)) / (count + prior))


def sound_span(samples: np.ndarray, rate: int, floor_db: float = -50.0) -> tuple[int, int] | None:
    """Where the sound of a rendered clip begins and ends.

    Args:
        samples: float mono audio, shape ``(n,)``, as an engine renders it (its silences
            are near digital silence).
        rate: sample rate in Hz.
        floor_db: a 10 ms frame is sound when its RMS about its own mean (a DC offset
            is not sound) is within this many dB of the loudest frame's (-50 dB keeps
            soft final consonants and drops the engine's trailing hiss, about -74 dB for
            Kokoro).

    Returns:
        ``(start, end)`` sample indices of the first and past the last frame of sound;
        None when the clip is silent.
    """
    frame = max(1, round(_FRAME_S * rate))
    count = len(samples) // frame
    if count == 0:
        return None
    frames = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    power = np.var(frames, axis=1)
    peak = float(power.max())
    if peak <= 0.0:
        return None
    loud = np.flatnonzero(power >= peak * 10.0 ** (floor_db / 10.0))
    return int(loud[0]) * frame, min(len(samples), (int(loud[-1]) + 1) * frame)


def reframe(samples: np.ndarray, rate: int, *, lead: float, after: float) -> np.ndarray:
    """A rendered clip with set silences around its sound.

    Args:
        samples: float32 mono audio, shape ``(n,)``.
        rate: sample rate in Hz.
        lead: seconds before the first sound.
        after: seconds after the last sound.

    Returns:
        float32 audio: ``lead`` seconds, the sound, ``after`` seconds. The clip's own
        samples fill them as far as it has them (its onset breath and release are in
        them; a cut end is faded over 5 ms), zeros beyond. A silent clip is returned
        unchanged.
    """
    span = sound_span(samples, rate)
    if span is None:
        return samples
    start, end = span
    want_lead, want_after = round(max(0.0, lead) * rate), round(max(0.0, after) * rate)
    head = samples[max(0, start - want_lead):start].astype(np.float32)
    tail = samples[end:end + want_after].astype(np.float32)
    fade = round(0.005 * rate)
    if start > want_lead and len(head) >= fade > 0:
        head[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
    if len(samples) - end > want_after and len(tail) >= fade > 0:
        tail[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return np.concatenate([np.zeros(want_lead - len(head), np.float32), head,
                           samples[start:end].astype(np.float32), tail,
                           np.zeros(want_after - len(tail), np.float32)])
