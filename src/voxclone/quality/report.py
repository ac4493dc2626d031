"""The quality verdict: per clip good / usable with warnings / refused, with advice.

Thresholds come from real speech (LibriSpeech calibration speakers, never those the
figures are reported on): ``bench/results/quality_calibration.md`` for the signal
floors and ``bench/results/speaker_mix*.md`` for the speaker checks. The measure that
matters is how far a problem moves the reference's speaker embedding - the target
every clone is fitted to - towards a stranger's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from voxclone.quality.analyse import ClipAnalysis
from voxclone.quality.measures import SignalMeasures
from voxclone.quality.speakers import SetAgreement

__all__ = [
    "GOOD",
    "REFUSED",
    "WARNING",
    "ClipVerdict",
    "Problem",
    "QualityReport",
    "judge",
]

Verdict = Literal["good", "usable with warnings", "refused"]
GOOD: Final[Verdict] = "good"
WARNING: Final[Verdict] = "usable with warnings"
REFUSED: Final[Verdict] = "refused"
Severity = Literal["warning", "refuse"]

# Calibrated on 40 LibriSpeech calibration speakers (bench/results/quality_calibration.md):
# "drop" is how far a problem moves the reference's own d-vector - the target a clone
# is fitted to - towards a stranger's (normalised: 1 = all the way). A clip is refused
# where the mean drop reaches about 0.5 (or, for clipping, where distortion is heavy),
# and warned about where it exceeds 0.1.

#: Enrollment needs this much speech over all clips (seconds): 3 s drop 0.11.
MIN_SPEECH_S: Final[float] = 3.0
#: Below this, advise recording more (4 s: drop 0.06; the benchmarks use 6 s).
GOOD_SPEECH_S: Final[float] = 5.0
#: Estimated SNR (dB): 12.5-15 dB drop 0.54 (refused below 15 dB; 1 of 40 clean
#: LibriSpeech references, a noisy recording, is), 22.5-25 dB drop 0.20, 25-27.5 dB 0.09.
SNR_FLOOR_DB: Final[float] = 15.0
SNR_WARN_DB: Final[float] = 25.0
#: Share of samples on clipped, flat tops: 1 % drop 0.01, 3 % 0.05, 10 % 0.19.
CLIPPED_REFUSE: Final[float] = 0.10
CLIPPED_WARN: Final[float] = 0.01
#: A recording carrying nothing above this (Hz) is a phone line: drop 0.63, refused.
NARROWBAND_HZ: Final[float] = 4500.0
#: Quieter than this (LUFS, as recorded) and the microphone is too far or too low.
QUIET_LUFS: Final[float] = -45.0
#: Seconds of non-speech sound (music, a TV, knocks) worth a warning.
OTHER_SOUND_S: Final[float] = 1.0
#: Estimated reverberation time (s, :mod:`voxclone.quality.reverb`) worth a warning and
#: a refusal (bench/results/reverb.md, calibration speakers: 0.16 s warns about 2 % of
#: real recordings, no noisy one, and 65-98 % of rooms costing the d-vector 0.11-0.67;
#: 0.40 s refuses rooms costing it about 0.5).
REVERB_WARN_S: Final[float] = 0.16
REVERB_REFUSE_S: Final[float] = 0.40


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a clip (or with the set of clips).

    Attributes:
        code: stable identifier (``no_speech``, ``too_little_speech``, ``short``,
            ``noisy``, ``clipped``, ``narrowband``, ``quiet``, ``other_sounds``,
            ``reverberant``, ``two_speakers``, ``other_speaker``, ``mixed_speakers``).
        severity: ``refuse`` (enrollment refuses it unless forced) or ``warning``.
        message: what was found, in plain words.
        advice: what to do about it.
    """

    code: str
    severity: Severity
    message: str
    advice: str

    def __str__(self) -> str:
        return f"{self.message} - {self.advice}"


@dataclass(frozen=True)
class ClipVerdict:
    """The measures of one clip and what they mean.

    Attributes:
        name: the clip (file name, or ``clip N``).
        verdict: ``good``, ``usable with warnings`` or ``refused``.
        problems: what is wrong, worst first.
        total_seconds / speech_seconds / speech_ratio: length, speech (VAD), share.
        loudness_lufs: loudness as recorded (BS.1770), ``None`` without speech.
        snr_db: estimated speech-to-noise ratio, ``None`` without speech.
        bandwidth_hz: highest frequency the recording carries, ``None`` without speech.
        clipped_fraction: share of samples on clipped tops, ``None`` without speech.
        other_sound_seconds: non-speech sound, ``None`` without speech.
        reverb_s: estimated reverberation time in seconds (``inf``: very reverberant),
            ``None`` without speech or where the clip cannot tell (short or noisy); in
            :meth:`QualityReport.as_dict` both are ``None``, and a ``reverberant``
            problem tells the first apart.
        speaker_split_cosine: how alike its speech before and after the point where it
            changes most is (a cosine); ``None`` if too short.
        two_speaker_score: the second-speaker score that decides (above
            ``two_speaker_threshold``: two speakers; a single voice scores a median of
            about -4); ``None`` if too short.
        two_speaker_threshold: the score's threshold for this clip
            (``voxclone.quality.speakers.TWO_SPEAKER_THRESHOLD``, about 0, or the
            higher ``SHORT_TWO_SPEAKER_THRESHOLD`` under about 6 s of speech); ``None``
            if too short.
        cosine_to_others: few-shot: its speaker cosine to the other clips combined.
        excluded: left out of enrollment as another speaker's clip.
        denoised: its speech was denoised before enrollment.
        dereverberated: the room's echo was taken out of its speech before enrollment.
    """

    name: str
    verdict: Verdict
    problems: tuple[Problem, ...]
    total_seconds: float
    speech_seconds: float
    speech_ratio: float
    loudness_lufs: float | None
    snr_db: float | None
    bandwidth_hz: float | None
    clipped_fraction: float | None
    other_sound_seconds: float | None
    reverb_s: float | None
    speaker_split_cosine: float | None
    two_speaker_score: float | None
    two_speaker_threshold: float | None
    cosine_to_others: float | None
    excluded: bool
    denoised: bool
    dereverberated: bool = False


def _verdict(problems: Sequence[Problem]) -> Verdict:
    if any(p.severity == "refuse" for p in problems):
        return REFUSED
    return WARNING if problems else GOOD


@dataclass(frozen=True)
class QualityReport:
    """The quality of a set of reference clips (one clip: one-shot).

    Attributes:
        clips: one verdict per clip, in the order given.
        problems: problems of the set as a whole (too little speech in all, clips of
            different people).
        speech_seconds: speech in the clips that would be used.
    """

    clips: tuple[ClipVerdict, ...]
    problems: tuple[Problem, ...]
    speech_seconds: float

    @property
    def verdict(self) -> Verdict:
        """The worst of the set's problems and the used clips' verdicts.

        A clip set aside as another speaker's does not make the set refused (it is
        left out, with a warning); it is ``refused`` itself.
        """
        used = [c.verdict for c in self.clips if not c.excluded]
        if not used or REFUSED in used or _verdict(self.problems) == REFUSED:
            return REFUSED
        if WARNING in used or self.problems or any(c.excluded for c in self.clips):
            return WARNING
        return GOOD

    @property
    def refused(self) -> bool:
        """Whether enrollment refuses these clips (unless forced)."""
        return self.verdict == REFUSED

    @property
    def any_refused(self) -> bool:
        """Whether any clip, or the set, is refused (``voxclone check`` exits 1)."""
        return self.refused or any(c.verdict == REFUSED for c in self.clips)

    def refusals(self) -> list[str]:
        """``"NAME: problem - advice"`` for every refusing problem of the used clips/set."""
        lines = [f"{c.name}: {p}" for c in self.clips if not c.excluded
                 for p in c.problems if p.severity == "refuse"]
        return lines + [str(p) for p in self.problems if p.severity == "refuse"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (floats rounded; ``-inf``/``nan`` as ``None``)."""
        def clean(value: Any) -> Any:
            if isinstance(value, float):
                return round(value, 4) if math.isfinite(value) else None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value
        return clean({"verdict": self.verdict, "speech_seconds": self.speech_seconds,
                      "problems": [asdict(p) for p in self.problems],
                      "clips": [asdict(c) for c in self.clips]})


def _more_seconds(speech: float, target: float) -> str:
    """``"1 more second"`` / ``"N more seconds"``: what is missing up to ``target``."""
    n = max(1, math.ceil(target - speech))
    return f"{n} more second{'s' if n > 1 else ''}"


def _clip_problems(c: ClipAnalysis, *, several: bool) -> list[Problem]:
    """What is wrong with one clip on its own."""
    if c.error is not None or c.signal is None:
        return [Problem("no_speech", "refuse", f"no usable speech found ({c.error})",
                        "record yourself speaking for at least 6 seconds, close to the "
                        "microphone, in a quiet room")]
    found: list[Problem] = []
    s = c.signal
    if c.split is not None and c.split.two_speakers:
        where = (f"the voice changes about {c.split.change_s:.0f} s into the speech"
                 if c.split.changes_speaker else
                 f"another voice from about {c.split.scattered_start_s:.0f} s into the speech")
        advice = "only one person should speak: cut the other voice out, or record again alone"
        if c.split.short:  # under about 6 s of speech a single voice passes for two
            # more often (bench/results/speaker_mix.md), even at the short threshold
            advice += ("; if you were alone, record a few more seconds: in a clip this "
                       "short, one odd moment can sound like another voice")
        found.append(Problem(
            "two_speakers", "refuse", f"two different voices in this clip ({where})", advice))
    if s.snr_db < SNR_FLOOR_DB:
        found.append(Problem(
            "noisy", "refuse", f"too much background noise (signal-to-noise {s.snr_db:.0f} dB, "
            f"at least {SNR_FLOOR_DB:.0f} dB is needed)",
            "record in a quiet room: move away from the fan, TV, traffic or other people, "
            "and speak close to the microphone"))
    elif s.snr_db < SNR_WARN_DB:
        found.append(Problem(
            "noisy", "warning", f"audible background noise (signal-to-noise {s.snr_db:.0f} dB; "
            f"{SNR_WARN_DB:.0f} dB or more is best)",
            "for a closer clone, record where it is quieter: move away from the fan or "
            "other noise, and closer to the microphone"))
    if s.clipped_fraction >= CLIPPED_WARN:
        severity: Severity = "refuse" if s.clipped_fraction >= CLIPPED_REFUSE else "warning"
        found.append(Problem(
            "clipped", severity, f"the recording is distorted: {s.clipped_fraction:.1%} of "
            "it is clipped (too loud for the microphone)",
            "turn the microphone gain down or move a little further from it, and record again"))
    if s.bandwidth_hz < NARROWBAND_HZ:
        found.append(Problem(
            "narrowband", "refuse", f"this sounds like a phone line (nothing above "
            f"{s.bandwidth_hz / 1000:.1f} kHz)",
            "record with the microphone directly (a voice memo, not a call), at 16 kHz "
            "or more"))
    if s.loudness_lufs < QUIET_LUFS:
        found.append(Problem(
            "quiet", "warning", f"very quiet recording ({s.loudness_lufs:.0f} LUFS)",
            "speak closer to the microphone or turn its gain up"))
    if s.other_sound_seconds >= OTHER_SOUND_S:
        found.append(Problem(
            "other_sounds", "warning", f"{s.other_sound_seconds:.1f} s of sound that is "
            "not speech (music, a TV, knocks...)",
            "record without music or other sounds in the background, or cut them out"))
    found.extend(_reverb_problems(s))
    if not several:
        found.extend(_length_problems(c.speech_seconds))
    elif c.speech_seconds < MIN_SPEECH_S:
        found.append(Problem(
            "short", "warning", f"only {c.speech_seconds:.1f} s of speech in this clip",
            "that is fine with the other clips; longer clips of 5 s or more work best"))
    return sorted(found, key=lambda p: p.severity != "refuse")


def _reverb_problems(s: SignalMeasures) -> list[Problem]:
    """A reverberant room. Noise does not pass for one: it hides the syllables' decays
    (the estimate is then None or short; bench/results/reverb.md)."""
    if s.reverb_s is None or s.reverb_s < REVERB_WARN_S:
        return []
    how = ("very strong echo" if math.isinf(s.reverb_s)
           else f"echo lasting about {s.reverb_s:.1f} s")
    advice = ("record in a smaller room with soft furnishings (curtains, a sofa, a bed), "
              "away from bare walls, and speak close to the microphone")
    if s.reverb_s >= REVERB_REFUSE_S:
        return [Problem("reverberant", "refuse", f"the room echoes too much ({how})",
                        advice)]
    return [Problem("reverberant", "warning", f"the room echoes ({how})",
                    "for a closer clone, " + advice)]


def _length_problems(speech: float) -> list[Problem]:
    if speech < MIN_SPEECH_S:
        return [Problem(
            "too_little_speech", "refuse",
            f"only {math.floor(speech * 10) / 10:.1f} s of speech (at least "
            f"{MIN_SPEECH_S:.0f} s is needed)",
            f"record {_more_seconds(speech, GOOD_SPEECH_S)} of speech")]
    if speech < GOOD_SPEECH_S:
        return [Problem(
            "short", "warning", f"{speech:.1f} s of speech ({GOOD_SPEECH_S:.0f} s or more "
            "gives a closer clone)",
            f"record {_more_seconds(speech, GOOD_SPEECH_S)} of speech")]
    return []


def judge(clips: Sequence[ClipAnalysis], agreement: SetAgreement) -> QualityReport:
    """The verdicts of analysed clips, given how their speakers agree."""
    several = len(clips) > 1
    verdicts = []
    outliers = set(agreement.outliers)
    for i, c in enumerate(clips):
        found = _clip_problems(c, several=several)
        if i in outliers:
            found.insert(0, Problem(
                "other_speaker", "refuse",
                f"this clip sounds like a different person from the other clips (speaker "
                f"similarity {agreement.cosines[i]:.2f})",
                "it is left out; use recordings of the same person only"))
        s = c.signal
        verdicts.append(ClipVerdict(
            name=c.name, verdict=_verdict(found), problems=tuple(found),
            total_seconds=c.total_seconds, speech_seconds=c.speech_seconds,
            speech_ratio=c.speech_ratio,
            loudness_lufs=s.loudness_lufs if s else None, snr_db=s.snr_db if s else None,
            bandwidth_hz=s.bandwidth_hz if s else None,
            clipped_fraction=s.clipped_fraction if s else None,
            other_sound_seconds=s.other_sound_seconds if s else None,
            reverb_s=s.reverb_s if s else None,
            speaker_split_cosine=c.split.cosine if c.split and c.split.checked else None,
            two_speaker_score=c.split.score if c.split and c.split.checked else None,
            two_speaker_threshold=(c.split.threshold if c.split and c.split.checked
                                   else None),
            cosine_to_others=agreement.cosines[i] if several else None,
            excluded=i in outliers, denoised=c.denoised,
            dereverberated=c.dereverberated))
    used = [c for i, c in enumerate(clips) if i not in outliers and c.clean is not None]
    speech = sum(c.speech_seconds for c in used)
    problems: list[Problem] = []
    if agreement.ambiguous:
        problems.append(Problem(
            "mixed_speakers", "refuse",
            "the clips do not all sound like the same person, and no one voice is in most "
            "of them", "use recordings of one person only"))
    if several and used:
        problems.extend(_length_problems(speech))
    return QualityReport(tuple(verdicts), tuple(problems), speech)
