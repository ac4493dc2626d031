"""``check``: the quality report of reference clips, and the gate enrollment applies."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.inputs import MAX_CLIP_SECONDS, as_audio
from voxclone.audio.prosody import prosody_stats
from voxclone.errors import NoSpeechError, ReferenceQualityError
from voxclone.quality.analyse import ClipAnalysis, analyse_clip, analyse_set
from voxclone.quality.noise_profile import NoiseProfile
from voxclone.quality.report import REVERB_WARN_S, QualityReport, judge

__all__ = ["DENOISE_BELOW_DB", "DEREVERB_FROM_S", "NOISE_MATCH_BELOW_DB", "Screened", "check",
           "screen"]

logger = logging.getLogger(__name__)

Clip = Union[str, "os.PathLike[str]", bytes, Audio]

#: Denoise a clip's speech when its estimated SNR is below this (dB); ``None``: never.
#: Off: the gentle Wiener denoiser restores the reference's d-vector (40 calibration
#: speakers, 20 dB white noise: drop 0.39 -> 0.08; quality_calibration.md) but not the
#: clone (6 evaluation speakers, effort fast, robustness.md: drop 0.041 -> 0.035 with
#: white noise, 0.122 -> 0.141 with babble at 20 dB), so it is left off.
DENOISE_BELOW_DB: float | None = None

#: Take the room's echo out of a clip whose estimated reverberation time is at least
#: this (seconds; the gate's warning); ``None``: never. On 48 evaluation speakers' `fast`
#: clones from references in a room of RT60 0.3 s it gave +0.072 +- 0.021 of
#: similarity (microphone close) and +0.028 +- 0.015 (at arm's length), paired
#: (bench/results/robustness_rooms.md); it costs a dry reference's d-vector, so dry
#: clips are left alone.
DEREVERB_FROM_S: float | None = REVERB_WARN_S

#: Keep the noise of a clip whose estimated SNR is under this (dB; ``SNR_WARN_DB``, the
#: gate's noise warning, is the natural setting), so that the identity fit also hears
#: its clones through it (:mod:`voxclone.quality.noise_profile`,
#: :mod:`voxclone.clone.gradient_fit`); ``None``: never.
#: Off: it helped `balanced` on 7 dev speakers (raw cosine +0.011 +- 0.006 at white
#: noise 10 dB, +0.005 +- 0.008 at babble) but not on the first 8 of the robustness
#: benchmark's 48 (docs/quality_gate.md), where any change to the ascent moves a clone
#: by up to 0.1 either way; ``robustness.py --noise-match`` measures it.
NOISE_MATCH_BELOW_DB: float | None = None


def _name(clip: Clip, index: int) -> str:
    return str(clip) if isinstance(clip, (str, os.PathLike)) else f"clip {index + 1}"


def analyse(audios: Sequence[Audio], names: Sequence[str]) -> list[ClipAnalysis]:
    """:func:`~voxclone.quality.analyse.analyse_clip` of every clip, denoising below
    :data:`DENOISE_BELOW_DB`, dereverberating from :data:`DEREVERB_FROM_S` and keeping
    the noise under :data:`NOISE_MATCH_BELOW_DB` (all read at call time)."""
    return [analyse_clip(a, n, denoise_below_db=DENOISE_BELOW_DB,
                         dereverb_from_s=DEREVERB_FROM_S,
                         noise_below_db=NOISE_MATCH_BELOW_DB)
            for a, n in zip(audios, names, strict=True)]


def check(clips: Clip | Sequence[Clip]) -> QualityReport:
    """Check reference recordings before cloning from them.

    Measures, per clip: seconds of speech and speech ratio, loudness, estimated SNR,
    clipping, bandwidth (phone line), non-speech sound, reverberation and a second
    speaker; across clips, a clip of a different person. Each clip gets a verdict (``good``,
    ``usable with warnings``, ``refused``) and each problem plain-words advice.

    Args:
        clips: one clip or several: paths (WAV/FLAC/OGG/MP3), encoded bytes or
            ``Audio`` (any sample rate).

    Returns:
        A :class:`~voxclone.quality.report.QualityReport`; ``report.refused`` says
        whether :func:`voxclone.enroll` would refuse them.

    Raises:
        AudioError / AudioFormatError: a clip cannot be read (missing, corrupt, empty).
    """
    if not isinstance(clips, (str, os.PathLike, bytes, Audio, Sequence)):  # (an ndarray too)
        raise TypeError("check() takes a recording (a path, bytes or voxclone.Audio) or a "
                        f"list of them, not {type(clips).__name__}")
    sources = [clips] if isinstance(clips, (str, os.PathLike, bytes, Audio)) else list(clips)
    audios = [as_audio(c, max_seconds=MAX_CLIP_SECONDS, name=_name(c, i))
              for i, c in enumerate(sources)]
    return _report(analyse(audios, [_name(c, i) for i, c in enumerate(sources)]))


def _report(analyses: Sequence[ClipAnalysis]) -> QualityReport:
    return judge(analyses, analyse_set(analyses))


@dataclass(frozen=True)
class Screened:
    """What passed the gate: the report, and the clips to enroll from.

    Attributes:
        report: the quality report of all clips.
        keep: indices (into the clips given) of the clips to use.
        clean: their cleaned speech, 16 kHz float32 (denoised or dereverberated where
            the report says).
        embeddings: their d-vectors, float32 ``(256,)`` each (noise-compensated: what
            enrollment clones).
        check_embeddings: their d-vectors as the speaker checks compare them
            (:attr:`voxclone.quality.analyse.ClipAnalysis.check_embedding`); the same
            as ``embeddings`` where the clips are clean.
        pauses: the silences between speech segments in them, seconds.
        noises: the noise profiles of the noisy ones among them (see
            :data:`NOISE_MATCH_BELOW_DB`).
        pitch_levels: each one's pitch level heard without its noise
            (:attr:`voxclone.quality.analyse.ClipAnalysis.pitch_level`; None for a
            clip DeepFilterNet did not filter).
        warnings: what the gate warned of, in plain words with advice (clips left out,
            a forced refusal, each kept clip's warnings).
    """

    report: QualityReport
    keep: tuple[int, ...]
    clean: tuple[Audio, ...]
    embeddings: tuple[np.ndarray, ...]
    check_embeddings: tuple[np.ndarray, ...]
    pauses: tuple[float, ...] = ()
    noises: tuple[NoiseProfile, ...] = ()
    warnings: tuple[str, ...] = ()
    pitch_levels: tuple[float | None, ...] = ()

    @property
    def pitch_level(self) -> float | None:
        """The speaker's pitch level (median F0, Hz) with the noise of the clips
        DeepFilterNet filtered taken out, or None when it filtered none: the clips'
        levels (a filtered one's without its noise, another's as heard) weighed by their
        speech, in log frequency."""
        if not any(level is not None for level in self.pitch_levels):
            return None
        logs, weights = [], []
        for index, level, clean in zip(self.keep, self.pitch_levels, self.clean,
                                       strict=True):
            try:
                level = level or prosody_stats(clean, above_noise=True).f0_median
            except NoSpeechError:  # (too little voicing in this clip to count)
                continue
            logs.append(np.log(level))
            weights.append(self.report.clips[index].speech_seconds)
        return float(np.exp(np.average(logs, weights=weights)))

    @property
    def lowest_snr_db(self) -> float:
        """The lowest estimated SNR (dB) among the kept clips: how much noise the
        consent check must allow for in ``embeddings``."""
        snrs = [self.report.clips[i].snr_db for i in self.keep]
        return min(-np.inf if snr is None else float(snr) for snr in snrs)


def screen(audios: Sequence[Audio], names: Sequence[str], *, force: bool = False) -> Screened:
    """The quality gate of :func:`voxclone.enroll`.

    A clip of another speaker (when the other clips agree) is left out with a warning.
    Anything else the report refuses raises, unless ``force``: then it is logged as a
    warning and the clips are used anyway (but for clips without usable speech).

    Raises:
        ReferenceQualityError: the report refuses the clips and ``force`` is false
            (its ``report`` attribute holds the report; the message lists each refusal
            with its advice).
        NoSpeechError: no clip holds usable speech (even with ``force``).
    """
    analyses = analyse(audios, names)
    report = _report(analyses)
    warnings: list[str] = []  # logged, and kept on the voice's profile
    for verdict in report.clips:
        if verdict.excluded:
            warnings.append(f"left out {verdict.name}: {verdict.problems[0]}")
    keep = tuple(i for i, v in enumerate(report.clips)
                 if not v.excluded and analyses[i].clean is not None)
    if not keep:
        raise NoSpeechError(f"no speech found in {', '.join(names)}; record yourself speaking "
                            "for at least 6 seconds, close to the microphone, in a quiet room")
    if report.refused:
        if not force:
            raise ReferenceQualityError(report)
        warnings.append(f"quality gate overridden (forced): {'; '.join(report.refusals())}")
    warnings += [f"{report.clips[i].name}: {problem}" for i in keep
                 for problem in report.clips[i].problems if problem.severity == "warning"]
    for warning in warnings:
        logger.warning("%s", warning)
    return Screened(report, keep,
                    tuple(analyses[i].clean for i in keep),  # type: ignore[misc]
                    tuple(analyses[i].embedding for i in keep),  # type: ignore[misc]
                    tuple(analyses[i].check_embedding for i in keep),  # type: ignore[misc]
                    tuple(p for i in keep for p in analyses[i].pauses),
                    tuple(n for i in keep if (n := analyses[i].noise) is not None),
                    tuple(warnings), tuple(analyses[i].pitch_level for i in keep))
