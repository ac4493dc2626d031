"""Build a voice profile from a speaker's cleaned reference: the fit, then the matches.

The order matters: the identity fit chooses the conditioning; the opt-in prosody match
may move it; the pitch shift, F0 range factor and rate factor are measured on its
renderings; the formant ratio is chosen on renderings that carry the pitch shift, and
the tone curve on renderings that carry both, as synthesis will. The pause is the
speaker's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.pauses import speaker_pause
from voxclone.audio.prosody import prosody_stats
from voxclone.clone.fit import QUICK_TEMPO_EFFORTS, RATE_EFFORTS, Effort, VoiceFitter
from voxclone.clone.pitch_rate_match import tempo_reader
from voxclone.clone.profile import SourceClip, VoiceProfile
from voxclone.clone.search import Progress
from voxclone.quality.noise_profile import NoiseProfile


@dataclass(frozen=True)
class Matches:
    """Which matches follow the fit (the ``match_*`` arguments of
    :func:`voxclone.enroll`).

    Attributes:
        prosody: the opt-in style-based pitch and rate match
            (:mod:`voxclone.clone.prosody_match`).
        tone: the equaliser curve (:mod:`voxclone.clone.tone_match`).
        pitch: the pitch shift and F0 range factor
            (:mod:`voxclone.clone.pitch_rate_match`).
        rate: the speaking-rate factor (same module; the prosody match sets it too);
            None: as the effort says (:data:`voxclone.clone.fit.RATE_EFFORTS`).
        formants: the formant ratio (:mod:`voxclone.clone.formant_match`).
        pauses: the speaker's pause between sentences (:mod:`voxclone.audio.pauses`).
    """

    prosody: bool = False
    tone: bool = True
    pitch: bool = True
    rate: bool | None = None
    pauses: bool = True
    formants: bool = True

    def for_effort(self, effort: Effort) -> Matches:
        """The matches at ``effort``: none at ``stock`` (it keeps a stock voice as it
        is); the rate, if not given, as :data:`voxclone.clone.fit.RATE_EFFORTS` says."""
        if effort == "stock":
            return Matches(False, False, False, False, False, False)
        if self.rate is None:
            return replace(self, rate=effort in RATE_EFFORTS)
        return self


def build_voice(fitter: VoiceFitter, name: str, target: np.ndarray,
                cleaned: Sequence[Audio], sources: Sequence[SourceClip], effort: Effort, *,
                matches: Matches, progress: Progress | None = None,
                seed: int = 0, pauses: Sequence[float] = (),
                noisy: bool = False, noises: Sequence[NoiseProfile] = (),
                warnings: Sequence[str] = (), pitch_level: float | None = None,
                deadline: float | None = None) -> VoiceProfile:
    """Fit a voice to ``target`` and match it to the speaker.

    Args:
        fitter: a fitter for this enrollment alone (it keeps its renderings).
        name: the voice's name.
        target: the speaker's unit d-vector ``(256,)``.
        cleaned: the speaker's cleaned reference speech (one sample rate).
        sources: what the profile records of the clips.
        effort: the fit's effort level.
        matches: the matches asked for (settled for ``effort`` here,
            :meth:`Matches.for_effort`).
        progress: called with ``(fraction_done, best_similarity)`` during the fit, and
            last with ``(1.0, the profile's score)``.
        seed: seeds the search.
        pauses: the silences between speech segments of the reference, seconds.
        noisy: the reference is noisy (the gate warned of its SNR): its F0 range may
            narrow the clone's melody but not widen it
            (:func:`voxclone.clone.pitch_rate_match.match_pitch_rate`).
        noises: the noisy clips' noise profiles: the gradient ascent also hears its
            clones through them (:mod:`voxclone.clone.gradient_fit`).
        pitch_level: the speaker's pitch level (Hz) heard without the noise
            (:attr:`voxclone.quality.gate.Screened.pitch_level`): it moves the cleaned
            speech's F0 median and percentiles together, so its range stays as heard.
        warnings: what the quality gate warned of; the profile keeps them, and the
            fit's own warning after them.
        deadline: when (:func:`time.monotonic`) the enrollment should be done; the
            fit's refinement is cut short to leave the matches after it their time
            (:meth:`voxclone.clone.fit.VoiceFitter.fit`).
    Raises:
        NoSpeechError: the reference holds too little voiced speech to measure pitch.
    """
    joined = Audio(np.concatenate([c.samples for c in cleaned]), cleaned[0].sample_rate)
    prosody = prosody_stats(joined, above_noise=True)
    if pitch_level is not None:
        moved = pitch_level / prosody.f0_median
        prosody = replace(prosody, f0_median=pitch_level, f0_p5=prosody.f0_p5 * moved,
                          f0_p95=prosody.f0_p95 * moved)
    # With the pitch match (and not the style-based one, which moves the style's own
    # pitch), the search scores candidates at the speaker's pitch.
    at_pitch = prosody.f0_median if matches.pitch and not matches.prosody else None
    matches = matches.for_effort(effort)  # none at stock; a rate left to the effort
    measure_rate = bool(matches.rate) and not matches.prosody  # the prosody match sets it
    # read before the fit (or beside it), so that the fit's deadline counts its time
    tempo = tempo_reader(joined, rate=measure_rate, quick=effort in QUICK_TEMPO_EFFORTS)
    result = fitter.fit(target, effort, seed=seed, progress=progress, prosody=prosody,
                        at_pitch=at_pitch, noises=noises, deadline=deadline)
    conditioning, score, rate, shift = result.conditioning, result.score, 1.0, 0.0
    widen = 1.0
    if matches.prosody:
        matched = fitter.match_prosody(result, target, prosody)
        conditioning, score, rate = matched.conditioning, matched.score, matched.rate
    if matches.pitch or measure_rate:
        levels = fitter.match_pitch_rate(conditioning, prosody, pitch=matches.pitch,
                                         rate=measure_rate, noisy_reference=noisy,
                                         effort=effort, speaker_tempo=tempo)
        shift, widen = levels.pitch_shift, levels.pitch_range
        rate = levels.rate if measure_rate else rate
    formants = 1.0
    if matches.formants:
        formants = fitter.match_formants(conditioning, target, pitch_shift=shift).ratio
    tone = None
    # The formant ratio, tone curve and score hear the pitch shift but not the range
    # factor: it changes the melody, not the timbre they and the d-vector judge.
    if matches.tone:
        toned = fitter.match_tone(conditioning, joined, target, pitch_shift=shift,
                                  formant_ratio=formants)
        tone, score = toned.gains_db, toned.probe_score
    elif shift or formants != 1.0:
        score = float(fitter.probe_embedding(conditioning, shift, formants) @ target)
    if progress is not None:  # end on the voice's own score (the matches moved the fit's)
        progress(1.0, score)
    return VoiceProfile(name=name, embedding=target, conditioning=conditioning,
                        prosody=prosody, sources=tuple(sources), engine=fitter.engine.name,
                        effort=effort, score=score, rate=rate, tone=tone, pitch_shift=shift,
                        pitch_range=widen, formant_ratio=formants,
                        pause=speaker_pause(pauses) if matches.pauses else None,
                        warnings=(*warnings, *filter(None, [result.warning])))
