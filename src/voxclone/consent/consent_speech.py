"""The consent recording's speech as the speaker check hears it: its VAD speech, cleaned
and (in an echoing room) dereverberated like a reference, its noise, and its d-vector
compensated for that noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.audio import VAD_SAMPLE_RATE, Audio, detect_speech, prepare_reference
from voxclone.quality import gate
from voxclone.quality.denoise import denoised_embedding
from voxclone.quality.dereverb import dereverberate, echoing
from voxclone.quality.measures import Spectrum, estimate_snr, spectrum
from voxclone.quality.reverb import estimate_reverb
from voxclone.speaker import SpeakerEncoder
from voxclone.speaker.noise_compensation import compensate_noise


@dataclass(frozen=True)
class ConsentSpeech:
    """The consent recording's speech and its noise, as the speaker check uses them.

    Attributes:
        clean: its speech as :func:`voxclone.audio.prepare_reference` returns it (16 kHz),
            with the room's echo taken out where the gate would take it out of a
            reference (``voxclone.quality.gate.DEREVERB_FROM_S``): the two d-vectors
            compared are then made alike.
        snr_db: the quality gate's SNR estimate of the recording (dB).
        spectrum: the recording's 16 kHz spectrum and noise estimate (for the noise
            compensation's denoised d-vector).
        dereverberated: whether ``clean`` had the echo taken out.
        segments: the VAD's speech segments in the recording (seconds).
    """

    clean: Audio
    snr_db: float
    spectrum: Spectrum
    dereverberated: bool = False
    segments: tuple[tuple[float, float], ...] = ()


def consent_speech(recording: Audio) -> ConsentSpeech:
    """The consent recording's speech and noise, from one pass of the VAD.

    Args:
        recording: the consent recording as decoded (any sample rate).

    Raises:
        NoSpeechError: the recording holds no (or too little) speech.
    """
    audio16k = recording.resample(VAD_SAMPLE_RATE)
    segments = detect_speech(audio16k)
    spec = spectrum(audio16k, segments)
    threshold = gate.DEREVERB_FROM_S  # read at call time, as the gate reads it
    reverb = estimate_reverb(audio16k) if threshold is not None and segments else None
    if echoing(reverb, threshold):
        clean, _ = prepare_reference(dereverberate(audio16k), name="consent recording")
        return ConsentSpeech(clean, estimate_snr(spec), spec, dereverberated=True,
                             segments=tuple(segments))
    clean, _ = prepare_reference(recording, name="consent recording", segments=segments)
    return ConsentSpeech(clean, estimate_snr(spec), spec, segments=tuple(segments))


def consent_embedding(speech: ConsentSpeech, encoder: SpeakerEncoder) -> np.ndarray:
    """The unit d-vector ``(256,)`` of the consent recording's speech (from
    :func:`consent_speech`), compensated for its noise
    (:func:`voxclone.speaker.noise_compensation.compensate_noise`): what the speaker
    check compares with the reference's. A dereverberated recording's d-vector is used
    as heard, as the gate uses a dereverberated reference's."""
    if speech.dereverberated:
        return encoder.embed(speech.clean)
    # Compensated from the noisy d-vector, as the reference's check_embedding is: the
    # rule's thresholds were set on that correction (DeepFilterNet's refused more
    # genuine readings, bench/results/consent_noise_deep_filter.md).
    return compensate_noise(encoder.embed(speech.clean), speech.snr_db, encoder,
                            denoised=lambda: denoised_embedding(speech.spectrum, encoder))
