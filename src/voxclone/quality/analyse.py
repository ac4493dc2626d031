"""Analyse reference clips: every measure the quality gate judges, and the cleaned speech.

One clip: decode (elsewhere), VAD at 16 kHz, signal measures, clean-up
(:func:`voxclone.audio.prepare_reference`), optional denoising or dereverberation,
speaker windows.
A set: the clips' d-vectors compared with each other (few-shot outliers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voxclone.audio import VAD_SAMPLE_RATE, Audio, detect_speech, prepare_reference
from voxclone.audio.pauses import pauses_between
from voxclone.audio.prosody import prosody_stats
from voxclone.errors import ModelError, NoSpeechError
from voxclone.quality.deep_filter import available as deep_filter_available
from voxclone.quality.deep_filter import embed_filtered, start_deep_filter
from voxclone.quality.denoise import denoised_embedding, wiener_denoise
from voxclone.quality.dereverb import dereverberate, echoing
from voxclone.quality.measures import SignalMeasures, estimate_snr, measure_signal, spectrum
from voxclone.quality.noise_profile import NoiseProfile, noise_profile
from voxclone.quality.speakers import (
    SetAgreement,
    SpeakerSplit,
    find_outliers,
    speech_windows,
    split_speakers,
)
from voxclone.speaker import default_encoder
from voxclone.speaker.encoder import SpeakerEncoder, embed_all
from voxclone.speaker.noise_compensation import compensate_noise, uses_filtered

__all__ = ["ClipAnalysis", "analyse_clip", "analyse_set"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipAnalysis:
    """Everything measured on one clip, and the speech to enroll from.

    Attributes:
        name: how messages refer to the clip.
        total_seconds: length of the recording.
        speech_seconds: speech the VAD found (0 when none).
        signal: the signal measures (``None`` when the clip holds no speech).
        split: the two-group split of its speech windows (``None``: no speech).
        clean: the speech, trimmed and loudness-normalised, 16 kHz float32 (denoised
            when ``denoised``); ``None`` when there is no usable speech.
        embedding: d-vector of ``clean``, float32 ``(256,)``, with the pull of noise
            taken out when the clip is noisy (:mod:`voxclone.speaker.noise_compensation`);
            ``None`` without speech.
        denoised: whether ``clean`` went through the Wiener denoiser.
        dereverberated: whether ``clean`` went through the dereverberation
            (:mod:`voxclone.quality.dereverb`).
        error: why the clip could not be used at all (no speech), else ``None``.
        pauses: the silences between its speech segments, seconds
            (:func:`voxclone.audio.pauses.pauses_between`).
        noise: the clip's noise and its d-vector as heard, when its SNR is under
            ``noise_below_db`` and it was neither denoised nor dereverberated (else
            ``None``): what the identity fit hears its clones through
            (:mod:`voxclone.quality.noise_profile`).
        check_embedding: the d-vector the speaker checks compare (consent, a few-shot
            clip of another person): ``embedding`` compensated as the checks' thresholds
            were calibrated, from the noisy d-vector, not from DeepFilterNet's; equal to
            ``embedding`` for a clean clip. ``None`` without speech.
        pitch_level: the median F0 (Hz) of DeepFilterNet's output, for a noisy clip it
            filtered (else ``None``): the speaker's pitch level without the noise, which
            pulls the clip's own (other voices' pitch, under babble).
    """

    name: str
    total_seconds: float
    speech_seconds: float
    signal: SignalMeasures | None
    split: SpeakerSplit | None
    clean: Audio | None
    embedding: np.ndarray | None
    denoised: bool = False
    error: str | None = None
    pauses: tuple[float, ...] = ()
    dereverberated: bool = False
    noise: NoiseProfile | None = None
    check_embedding: np.ndarray | None = None
    pitch_level: float | None = None

    @property
    def speech_ratio(self) -> float:
        """Share of the recording that is speech (0..1)."""
        return self.speech_seconds / self.total_seconds if self.total_seconds > 0 else 0.0


def analyse_clip(audio: Audio, name: str, *, denoise_below_db: float | None = None,
                 dereverb_from_s: float | None = None,
                 noise_below_db: float | None = None,
                 encoder: SpeakerEncoder | None = None) -> ClipAnalysis:
    """Measure one recording (any sample rate) and prepare its speech.

    Args:
        audio: the recording as decoded.
        name: how messages refer to it.
        denoise_below_db: denoise the speech when its estimated SNR is below this
            (``None``: never).
        dereverb_from_s: take the room's echo out of the speech when its estimated
            reverberation time is at least this (seconds; ``None``: never). A clip
            dereverberated is not also denoised.
        noise_below_db: keep the noise profile of a clip under this SNR
            (``None``: never).
        encoder: speaker encoder (default: the shared GE2E one).

    Returns:
        A :class:`ClipAnalysis`; a clip without (enough) speech is returned with
        ``error`` set rather than raised, so a report can cover every clip.
    """
    encoder = encoder or default_encoder()
    audio16k = audio.resample(VAD_SAMPLE_RATE)
    segments = detect_speech(audio16k)
    speech = sum(end - start for start, end in segments)
    if not segments:
        return ClipAnalysis(name, audio.duration, 0.0, None, None, None, None,
                            error="no speech found")
    spec = spectrum(audio16k, segments)
    # DeepFilterNet (~0.12 x real time on one core) runs beside the rest of the analysis
    # for a clip whose correction will ask for it; wasted only if the clip is
    # dereverberated or denoised instead.
    filtering = (start_deep_filter(audio)
                 if uses_filtered(estimate_snr(spec), encoder) and deep_filter_available()
                 else None)
    signal = measure_signal(audio, spec)
    dereverberated = echoing(signal.reverb_s, dereverb_from_s)
    denoised = (not dereverberated and denoise_below_db is not None
                and signal.snr_db < denoise_below_db)
    source = (dereverberate(audio16k) if dereverberated
              else wiener_denoise(spec) if denoised else audio)
    try:
        # (the VAD already ran on the recording; a processed one needs its own)
        clean, _ = prepare_reference(source, name=name,
                                     segments=None if denoised or dereverberated
                                     else segments)
        # the clip and its 1.6 s windows (the speaker split) in one batch
        rows = embed_all(encoder, [clean, *speech_windows(clean)])
    except NoSpeechError as exc:
        return ClipAnalysis(name, audio.duration, speech, signal, None, None, None,
                            error=str(exc))
    heard = rows[0]
    # The learned correction was measured on undenoised speech; a clean clip (high
    # SNR) is returned unchanged.
    # (nor on dereverberated speech: its d-vector is enrolled as heard)
    embedding = checked = heard
    level = None
    if not (denoised or dereverberated):
        wiener = lru_cache(maxsize=1)(lambda: denoised_embedding(spec, encoder))
        embedding = compensate_noise(
            heard, signal.snr_db, encoder, denoised=wiener,
            filtered=None if filtering is None
            else lambda: embed_filtered(filtering.result(), encoder, name))
        # The speaker checks' thresholds were set on the correction from the noisy
        # d-vector; DeepFilterNet's, closer for the clone, refused more genuine consent
        # readings under noise (bench/results/consent_noise_deep_filter.md).
        checked = compensate_noise(heard, signal.snr_db, encoder, denoised=wiener)
        level = None if filtering is None else filtered_pitch_level(filtering, name)
    # (no profile for a clip with no speech above its noise: SNR -inf)
    noise = noise_profile(spec, heard, signal.snr_db) if (
        noise_below_db is not None and -np.inf < signal.snr_db < noise_below_db
        and not (denoised or dereverberated)) else None
    split = split_speakers(rows[1:])
    logger.debug("%s: %.1f s speech, SNR %.1f dB, split cosine %.3f", name, speech,
                 signal.snr_db, split.cosine)
    return ClipAnalysis(name, audio.duration, speech, signal, split, clean, embedding,
                        denoised=denoised, pauses=pauses_between(segments),
                        dereverberated=dereverberated, noise=noise,
                        check_embedding=checked, pitch_level=level)


def filtered_pitch_level(filtering: Future[Audio], name: str) -> float | None:
    """The median F0 (Hz) of a clip's DeepFilterNet output, or None when the filter
    failed or left too little voicing. Measured on the filter's output because babble
    pulls the level measured through it, by 0.37 semitones (median) at 10 dB against
    0.22 on the output (white noise 0.17 against 0.11; 23 dev speakers, 6 s references,
    against each one's clean reference); the range and rate are not (the filter narrows
    the one and speeds up the other)."""
    try:
        return prosody_stats(filtering.result().resample(VAD_SAMPLE_RATE)).f0_median
    except (ModelError, NoSpeechError) as exc:
        logger.info("%s: pitch level measured through the noise (%s)", name, exc)
        return None


def analyse_set(clips: Sequence[ClipAnalysis]) -> SetAgreement:
    """Compare the usable clips' speakers; indices in the result refer to ``clips``."""
    usable = [i for i, c in enumerate(clips) if c.check_embedding is not None]
    agreement = find_outliers([clips[i].check_embedding for i in usable],  # type: ignore[misc]
                              [clips[i].speech_seconds for i in usable])
    cosines = [float("nan")] * len(clips)
    for k, i in enumerate(usable):
        cosines[i] = agreement.cosines[k]
    return SetAgreement(tuple(cosines), tuple(usable[k] for k in agreement.outliers),
                        agreement.ambiguous)
