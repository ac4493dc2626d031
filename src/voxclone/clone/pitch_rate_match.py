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
* ``pitch_range``: the speaker's 5-95 % F0 range over the clone's (both in
  semitones), applied by the same resynthesis around each piece's own mean: Kokoro's
  styles speak in a narrower or wider melody than many speakers, and the fit does not
  move it. Changes under :attr:`PitchRateSettings.min_range_change` are left alone.
* ``rate``: the speaker's speaking rate over the clone's, which synthesis multiplies
  with the caller's speed (Kokoro's ``speed`` input scales durations directly). It is
  read from the words (:attr:`PitchRateSettings.rate_from_words`: syllables over
  seconds of speech, the speaker's from a transcript of the reference,
  :func:`tempo_reader`; the clone's on more sentences where the effort has the time,
  ``tempo_only``), else from syllable peaks.

The range and the rate are measured on the renderings *after* the pitch shift, as
synthesis will speak them: measured before it, a clone shifted 5 semitones down lost
its creaky phrase ends under the pitch tracker's 60 Hz floor and came out a third
narrower than asked, and shifted speech counts fewer syllable nuclei (a median 5 %
slower on 24 calibration speakers), so the clones came out narrower and slower
than their speakers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.prosody import (
    ProsodyStats,
    articulation_rate,
    prosody_stats,
    speech_seconds,
)
from voxclone.background import start_beside
from voxclone.clone.profile import PITCH_RANGE_BOUNDS, PITCH_SHIFT_LIMIT
from voxclone.errors import NoSpeechError
from voxclone.text.syllables import count_syllables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PitchRateSettings:
    """Knobs of the pitch and rate match (model config).

    Attributes:
        min_shift_st: smaller pitch errors are left alone (semitones).
        max_shift_st: the pitch shift is clamped to this (semitones, either way).
        rate_bounds: the clamp of the speaking-rate factor. Slowed clones lose
            words to pocketsphinx (WER 11 % at factors under 0.8, 1 % at 1 or more, on
            48 LibriSpeech speakers), but a clamp at 0.85 took the speakers within
            10 % of their rate from 73 % to 65 % for a quarter fewer word errors
            (``bench/results/clone_quality_rate085.md``): the voice's own pace is
            kept, and a caller who wants it quicker passes ``speed``.
        match_range: match the F0 range too (with the pitch level).
        range_bounds: the clamp of the F0 range factor.
        min_range_change: range factors within this of 1 are left at 1.
        rate_from_words: read the speaking rate from the words rather than from
            syllable peaks: the speaker's as the syllables of a transcript of the
            reference (``speaker_tempo``) over its seconds of speech, the clone's as
            the syllables of the sentences it spoke over theirs. The peak reading
            follows a clone's tempo by a slope of 0.63 on enrollment's sentences and
            0.34 on the benchmark's (``bench/results/rate_response.md``): its peaks
            merge in quick speech, and the clones came out a median 9 % slow. Read from
            the words, on the benchmark's 48 speakers, the clones within 10 % of their
            speaker's rate went from 40 % to 73 % at ``balanced`` (the same voices,
            ``bench/results/clone_quality_balanced_wordrate.md``), and at ``fast``,
            asked with ``match_rate=True``, 79 % against 60 % with no factor (its
            default, ``clone_quality_fast_matchrate.md``). The quicker clones lose some
            words (at ``balanced`` 123 errors against 105 in 1392 words, at ``fast``
            138 against 91). ``fast`` reads the transcript by a one-pass search beside
            the fit (:data:`voxclone.clone.fit.QUICK_TEMPO_EFFORTS`).
        widen_for_noisy: let a noisy reference's range widen the clone's melody too.
            Off: other voices' pitch under a reference widens its measured range
            (babble at 10 dB: 1.3 times the speaker's own, median), so a noisy
            reference only narrows the melody. The gate calls many ordinary
            recordings noisy (under 25 dB), and on 48 calibration speakers
            (``bench/results/range_match.md``) turning this on brought 3 more clones
            within 20 % of their speaker's range (52 % -> 58 %; the references
            themselves 73 %), but the 7 voices it widened lost 0.026 of similarity on
            average (one 0.071), -0.004 +- 0.002 over all 48. A clamp of 0.5-2 with it
            did no better on range (58 %) and cost -0.007 +- 0.004 (5393: -0.095 at
            factor 2). Signal processing is used only where it keeps the voice, so
            neither is the default.
    """

    min_shift_st: float = 0.5
    max_shift_st: float = 9.0
    rate_bounds: tuple[float, float] = (0.75, 1.33)
    match_range: bool = True
    range_bounds: tuple[float, float] = (0.67, 1.5)
    min_range_change: float = 0.1
    widen_for_noisy: bool = False
    rate_from_words: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_shift_st <= self.max_shift_st <= PITCH_SHIFT_LIMIT:
            raise ValueError("need 0 <= min_shift_st <= max_shift_st <= "
                             f"{PITCH_SHIFT_LIMIT}")
        low, high = self.range_bounds
        if not PITCH_RANGE_BOUNDS[0] <= low <= 1.0 <= high <= PITCH_RANGE_BOUNDS[1]:
            raise ValueError(f"range_bounds must hold 1 within {PITCH_RANGE_BOUNDS}")


@dataclass(frozen=True)
class PitchRateMatch:
    """Outcome of :func:`match_pitch_rate`.

    Attributes:
        pitch_shift: semitones to shift the voice's synthesis by (0: none).
        rate: speaking-rate factor (1: the engine's own rate).
        pitch_range: F0 range factor (1: none), applied around each piece's own mean.
        f0_error_st: the clone's median F0 minus the speaker's, semitones, before the
            shift (NaN when the renderings held no voiced speech).
    """

    pitch_shift: float
    rate: float
    f0_error_st: float
    pitch_range: float = 1.0


def pitch_shift_for(clone_f0: float, speaker_f0: float,
                    settings: PitchRateSettings | None = None) -> float:
    """Semitones from a clone's median F0 to the speaker's (both Hz): 0 below
    ``min_shift_st``, clamped to ``max_shift_st``."""
    settings = settings or PitchRateSettings()
    shift = float(12 * np.log2(speaker_f0 / clone_f0))
    if abs(shift) < settings.min_shift_st:
        return 0.0
    return float(np.clip(shift, -settings.max_shift_st, settings.max_shift_st))


def pitch_range_for(clone: ProsodyStats, speaker: ProsodyStats,
                    settings: PitchRateSettings | None = None) -> float:
    """The factor that scales a clone's 5-95 % F0 range (semitones) to the speaker's:
    1 within ``min_range_change``, clamped to ``range_bounds``."""
    settings = settings or PitchRateSettings()
    clone_st, speaker_st = clone.f0_range_semitones, speaker.f0_range_semitones
    if not (clone_st > 0 and speaker_st > 0):
        return 1.0
    factor = speaker_st / clone_st
    if abs(factor - 1.0) < settings.min_range_change:
        return 1.0
    return float(np.clip(factor, *settings.range_bounds))


#: The clone's renderings shifted by a number of semitones, as synthesis shifts them.
Shifter = Callable[[float], Sequence[Audio]]


def match_pitch_rate(speaker: ProsodyStats, renders: Sequence[Audio], *,
                     pitch: bool = True, rate: bool = True, noisy_reference: bool = False,
                     shifted: Shifter | None = None,
                     syllables: Sequence[int] | None = None,
                     speaker_tempo: Callable[[], float] | None = None,
                     tempo_only: Shifter | None = None,
                     tempo_syllables: Sequence[int] = (),
                     settings: PitchRateSettings | None = None) -> PitchRateMatch:
    """The pitch shift and rate factor that bring a clone to ``speaker``.

    Args:
        speaker: the speaker's prosody (from the reference clips).
        renders: the clone's speech at engine speed 1, unshifted (one sample rate).
        shifted: gives ``renders`` shifted by a number of semitones; with a shift, the
            range factor and rate factor are measured on them (see the module's
            docstring). None measures everything on ``renders``.
        pitch: measure the pitch shift and (with ``settings.match_range``) the range
            factor (else 0 and 1).
        rate: measure the rate factor (else 1).
        noisy_reference: the speaker's prosody comes from a noisy reference: its range
            then only narrows the clone's melody, unless ``settings.widen_for_noisy``.
        syllables: the syllables each rendering speaks; with ``speaker_tempo`` and
            ``settings.rate_from_words``, the rate factor is read from the words.
        speaker_tempo: the speaker's articulation rate (syllables per second of
            speech), called only when the rate is read from the words.
        tempo_only: gives the clone's renderings of more sentences, shifted by a
            number of semitones, that the rate read from the words is measured on too
            (with ``renders``; called only then): a clone's tempo varies from sentence
            to sentence, its pitch level and range less so.
        tempo_syllables: the syllables each of ``tempo_only``'s renderings speaks.
        settings: knobs.
    Returns:
        The match; ``(0, 1, nan)`` if the renderings hold too little voiced speech.
    """
    settings = settings or PitchRateSettings()
    if not renders or not (pitch or rate):
        return PitchRateMatch(0.0, 1.0, float("nan"))
    try:
        clone = _joined_stats(renders)
    except NoSpeechError:
        logger.warning("the clone's speech had too little voicing to match pitch and rate")
        return PitchRateMatch(0.0, 1.0, float("nan"))
    error = float(12 * np.log2(clone.f0_median / speaker.f0_median))
    shift = pitch_shift_for(clone.f0_median, speaker.f0_median, settings) if pitch else 0.0
    # the range and rate as synthesis will speak them (see the module's docstring)
    heard_renders = shifted(shift) if shift and shifted is not None else renders
    heard = _shifted_stats(heard_renders, clone) if heard_renders is not renders else clone
    widen = pitch_range_for(heard, speaker, settings) if pitch and settings.match_range \
        else 1.0
    if noisy_reference and not settings.widen_for_noisy:
        widen = min(widen, 1.0)

    def from_words(tempo: Callable[[], float]) -> float | None:
        # on the renderings heard, and on more sentences where the effort gives them
        more = list(tempo_only(shift)) if tempo_only is not None else []
        return _tempo_factor([*heard_renders, *more],
                             [*(syllables or ()), *tempo_syllables], tempo, settings)

    words = functools.partial(from_words, speaker_tempo) if syllables is not None \
        and speaker_tempo is not None and settings.rate_from_words else None
    factor = _rate_factor(speaker, heard, words, settings) if rate else 1.0
    logger.info("pitch and rate: clone F0 %.0f Hz vs speaker %.0f Hz (shift %+.1f st), "
                "range %.1f vs %.1f st (x%.2f), rate x%.2f", clone.f0_median,
                speaker.f0_median, shift, heard.f0_range_semitones,
                speaker.f0_range_semitones, widen, factor)
    return PitchRateMatch(round(shift, 2), round(factor, 4), error, round(widen, 3))


def _rate_factor(speaker: ProsodyStats, heard: ProsodyStats,
                 from_words: Callable[[], float | None] | None,
                 settings: PitchRateSettings) -> float:
    """The speaker's rate over the clone's as synthesis will speak it (``heard``),
    clamped: ``from_words()`` where it is given and can be read, else from syllable
    peaks; 1 when neither can be read."""
    words = from_words() if from_words is not None else None
    if words is not None:
        return words
    if heard.syllable_rate > 0 and speaker.syllable_rate > 0:
        return float(np.clip(speaker.syllable_rate / heard.syllable_rate,
                             *settings.rate_bounds))
    return 1.0


def _tempo_factor(renders: Sequence[Audio], syllables: Sequence[int],
                  speaker_tempo: Callable[[], float],
                  settings: PitchRateSettings) -> float | None:
    """The rate factor from articulation rates read from the words; None when either
    side has no syllables or no speech time (nothing recognised in the reference)."""
    seconds = sum(speech_seconds(r) for r in renders)
    spoken = sum(syllables)
    speaker = speaker_tempo()
    if not (seconds > 0 and spoken > 0 and np.isfinite(speaker) and speaker > 0):
        logger.warning("the speaking rate could not be read from the words; it is read "
                       "from syllable peaks")
        return None
    clone = spoken / seconds
    logger.info("articulation rate: clone %.2f vs speaker %.2f syllables/s", clone, speaker)
    return float(np.clip(speaker / clone, *settings.rate_bounds))


#: The speaker's tempo is read from at most this much of the reference (seconds): a
#: transcript takes ~0.13-0.27 s a second of audio, and a long few-shot reference would
#: spend it for no steadier a reading.
TEMPO_SPAN_S = 15.0


def _opening(audio: Audio, seconds: float) -> Audio:
    """The first ``seconds`` of ``audio``, cut at its quietest 10 ms in the last second
    before that (between words, so that no word is cut in two); all of a shorter clip."""
    rate, cap = audio.sample_rate, round(seconds * audio.sample_rate)
    if len(audio.samples) <= cap:
        return audio
    frame = max(rate // 100, 1)
    tail = audio.samples[cap - rate:cap]
    energy = np.square(tail[: len(tail) // frame * frame].reshape(-1, frame)).sum(axis=1)
    cut = cap - rate + int(np.argmin(energy)) * frame
    return Audio(audio.samples[:cut], rate)


def reference_tempo(reference: Audio, *, quick: bool = False) -> float:
    """The speaker's articulation rate: syllables of a transcript of ``reference``'s
    first :data:`TEMPO_SPAN_S` (pocketsphinx, offline; with ``quick``, its one-pass
    search, :func:`voxclone.asr.recognizer.quick_recognizer`) over its seconds of speech
    above its noise; NaN when nothing was recognised."""
    from voxclone.asr.recognizer import default_recognizer, quick_recognizer

    recognizer = quick_recognizer() if quick else default_recognizer()
    reference = _opening(reference, TEMPO_SPAN_S)
    heard = count_syllables(recognizer.transcribe(reference))
    return articulation_rate(reference, heard, above_noise=True)


def tempo_reader(reference: Audio, *, rate: bool = True,
                 quick: bool = False) -> Callable[[], float]:
    """The speaker's tempo (:func:`reference_tempo` of ``reference``) as a call that
    gives it. When the rate is to be read from the words (``rate`` and
    ``PitchRateSettings().rate_from_words``), the transcript starts now: with ``quick``,
    the one-pass search's in a background thread, so that it runs beside the fit;
    otherwise the full search's, read before the call returns, so that a fit bounded
    by time runs after it (beside, it would take the fit's steps) and a fit bounded by
    the enrollment's deadline counts it. Otherwise it is read on the first call, if
    any."""
    if not (rate and PitchRateSettings().rate_from_words):
        return functools.cache(functools.partial(reference_tempo, reference))
    if quick:
        return start_beside("tempo", reference_tempo, reference, quick=True).result
    tempo = reference_tempo(reference)
    return lambda: tempo


def _joined_stats(renders: Sequence[Audio]) -> ProsodyStats:
    """Prosody of the renderings as one clip. Raises NoSpeechError (too little voicing)."""
    return prosody_stats(Audio(np.concatenate([r.samples for r in renders]),
                               renders[0].sample_rate))


def _shifted_stats(renders: Sequence[Audio], unshifted: ProsodyStats) -> ProsodyStats:
    """Prosody of the shifted renderings; the unshifted one's if they lost their voicing."""
    try:
        return _joined_stats(renders)
    except NoSpeechError:
        logger.warning("the shifted clone's speech had too little voicing to measure; "
                       "its range and rate are measured before the shift")
        return unshifted
