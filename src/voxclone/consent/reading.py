"""Whose voice the consent speaker check judges: the reader's, and every reference clip.

Three rules keep the speaker check on the person who consents:

* **only the reading is embedded.** The recognizer places the statement's and the
  phrase's words in the recording (:attr:`voxclone.consent.PhraseCheck.words`); speech
  the VAD finds outside them (each word widened by ``WORD_MARGIN_S``, and covering at
  most ``MAX_WORD_S``: a word stretched over other speech does not cover it) is
  *unread*. A recording with more than ``MAX_UNREAD_S`` of it is refused; otherwise the
  speaker check embeds the recording from the silence before the first word to the
  silence after the last (:func:`reading_bounds`), so speech before or after the
  reading - such as the victim's own clip joined to a stranger's reading - never
  counts. A genuine reading (Piper joe, the tests' consents) leaves none.
* **the phrase is judged on its own too** (:func:`phrase_spans`). The fresh phrase is
  the one part of a reading that no earlier recording of the victim can hold, so a
  stranger who reads it can only lift the whole reading's match by mixing the victim's
  speech *under* the statement (inside the words, where nothing is unread) or splicing
  short pieces of it between the words. The phrase's words - their own spans, not the
  pauses between them - must then match the reference as well, at
  ``PHRASE_THRESHOLD`` (raised for noise like the reading's threshold). It does not
  stop the victim's speech mixed under the *whole* reading, quieter than the reader
  (``bench/results/consent_mixing.md``), nor - for the closest voices - a statement mix
  with moderate noise over the whole recording, which lifts a short phrase's cosine
  more than the threshold rises (red-team run of 5 Dec).
* **every reference clip must be the consent speaker**, not only their combination,
  when the quality gate heard more than one person in them (:func:`reference_clips`):
  two clips of different people, forced past the gate, would otherwise blend a voice
  the consent speaker only half owns. A clip the
  gate found to hold two voices is checked part by part: each part (the windows before
  and after its change point, or its two window groups) must match the consent
  speaker, so such a clip is only usable when the gate was wrong about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.audio import Audio
from voxclone.quality.gate import Screened
from voxclone.quality.speakers import (
    HOP_S,
    OUTLIER_THRESHOLD,
    speech_windows,
    split_speakers,
    two_means,
)
from voxclone.speaker import SpeakerEncoder, default_encoder
from voxclone.speaker.encoder import embed_all

#: Speech (seconds, VAD) outside the reading's words that a consent recording may hold:
#: a breath, a cough, an "um" or a word the recognizer left out. Speech beyond it is
#: refused, and the speech outside the reading is never embedded either way. The tests'
#: genuine readings (Piper joe) leave 0.0-0.1 s.
MAX_UNREAD_S = 1.5
#: Each word counts as covering this much more on either side (VAD segments run a
#: little past the words the recognizer places).
WORD_MARGIN_S = 0.25
#: A word covers at most this long (slow speech: "voxclone" took 0.7 s): the decoder
#: may stretch a word over other speech to reach the end of the phrase.
MAX_WORD_S = 1.5

#: GE2E cosine at or above which the phrase's stretch (2-3 s of speech) is taken to be
#: the reference speaker, besides the whole reading's ``SAME_SPEAKER_THRESHOLD``.
#: ``bench/consent_mixing.py`` (152 LibriSpeech speakers, 2.5 s phrases): FAR 0.48 %,
#: FRR 0.66 %; a stranger closest to the victim with the victim's speech mixed under
#: the statement passed 9.9 % (0.74: 19.7 %; 0.78: 3.9 %). The cost, on noisy recordings
#: (``bench/consent_noise.py``): 16.0 % of genuine speakers refused with both sides at
#: 10 dB or more against 5.5 % without the check (0.74: 10.4 %; 0.78: 25.9 %).
PHRASE_THRESHOLD = 0.76

#: Each phrase word's span is widened by this much on either side when the phrase is
#: judged on its own (the recognizer's word edges cut a little early or late).
PHRASE_WORD_MARGIN_S = 0.03

Span = tuple[float, float]


@dataclass(frozen=True)
class Reading:
    """Where the reading lies in a consent recording.

    Attributes:
        start / end: the stretch the speaker check embeds (seconds): from the end of
            any unread speech before the first word (else the recording's start) to the
            start of any unread speech after the last word (else its end).
        unread: the stretches of speech outside the reading's words (seconds).
        whole: whether the stretch is the whole recording (nothing unread before or after).
    """

    start: float
    end: float
    unread: tuple[Span, ...]
    whole: bool

    @property
    def unread_seconds(self) -> float:
        """Seconds of speech outside the reading's words."""
        return sum(e - s for s, e in self.unread)


def _covered(words: Sequence[Span]) -> list[Span]:
    """The stretches the words cover (capped, widened), merged and sorted."""
    spans = sorted((s - WORD_MARGIN_S, min(e, s + MAX_WORD_S) + WORD_MARGIN_S)
                   for s, e in words if e > s)
    merged: list[Span] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _minus(segment: Span, covered: Sequence[Span]) -> list[Span]:
    """``segment`` less the ``covered`` stretches."""
    left = [segment]
    for cs, ce in covered:
        left = [piece for s, e in left
                for piece in ((s, min(e, cs)), (max(s, ce), e)) if piece[1] > piece[0]]
    return left


def find_reading(segments: Sequence[Span], words: Sequence[Span], duration: float) -> Reading:
    """Where the reading of ``words`` (the recognizer's word times, seconds) lies among
    the VAD's speech ``segments`` of a recording ``duration`` seconds long.

    Without words (a recognizer that places none) the whole recording is the reading.
    """
    if not words:
        return Reading(0.0, duration, (), True)
    covered = _covered(words)
    unread = [piece for seg in segments for piece in _minus(seg, covered)]
    first, last = covered[0][0], covered[-1][1]
    start = max([0.0] + [min(e, first) for s, e in unread if s < first])
    end = min([duration] + [max(s, last) for s, e in unread if e > last])
    return Reading(start, end, tuple(unread), start <= 0.0 and end >= duration)


def phrase_spans(reading: Reading, phrase_start: float | None,
                 words: Sequence[Span] = ()) -> tuple[Span, ...]:
    """Where the challenge phrase's words lie in ``reading`` (seconds): each of ``words``
    (the reading's words, the phrase's last) from ``phrase_start`` (the recognizer's
    start of the phrase's first word) on, widened by ``PHRASE_WORD_MARGIN_S`` and kept
    inside the reading. Only the words: speech spliced into the pauses between them
    is left out (a red-team attack passed that way when the whole stretch was
    embedded). Without words, the stretch from ``phrase_start`` to the reading's end;
    empty when the recognizer placed no word of the phrase."""
    if phrase_start is None:
        return ()
    placed = [(s, e) for s, e in words if s >= phrase_start - 1e-6] or \
        [(phrase_start, reading.end)]
    spans = ((max(reading.start, s - PHRASE_WORD_MARGIN_S),
              min(reading.end, e + PHRASE_WORD_MARGIN_S)) for s, e in placed)
    return tuple((s, e) for s, e in spans if e > s)


def joined(recording: Audio, spans: Sequence[Span]) -> Audio:
    """The ``spans`` (seconds) of ``recording``, joined in order."""
    rate = recording.sample_rate
    return Audio(np.concatenate([recording.samples[round(s * rate):round(e * rate)]
                                 for s, e in spans]), rate)


def cropped(recording: Audio, reading: Reading) -> Audio:
    """The stretch of ``recording`` the speaker check embeds."""
    return joined(recording, [(reading.start, reading.end)])


@dataclass(frozen=True)
class ReferenceClip:
    """One kept reference clip, as the consent speaker must match it.

    Attributes:
        name: how messages refer to the clip.
        embedding: its unit d-vector ``(256,)`` (noise-compensated, as enrolled).
        snr_db: its estimated SNR (raises the threshold, as for the combined target).
        parts: for a clip the gate found to hold two voices, the unit d-vectors of its
            two parts; each must match too.
    """

    name: str
    embedding: np.ndarray
    snr_db: float
    parts: tuple[np.ndarray, ...] = ()


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / (np.linalg.norm(x) + 1e-12)).astype(np.float32)


def voice_parts(speech: Audio, encoder: SpeakerEncoder) -> tuple[np.ndarray, ...]:
    """The two parts of a clip's cleaned ``speech`` that differ most, as unit d-vectors
    (the mean of their 1.6 s windows' d-vectors, as GE2E embeds an utterance): before
    and after the change point when the voice changes there, else the two window groups
    (2-means). None when the clip is too short to split."""
    windows = speech_windows(speech)
    if len(windows) < 2:
        return ()
    rows = embed_all(encoder, windows).astype(np.float64)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True) + 1e-12
    split = split_speakers(rows.astype(np.float32))
    if split.minority_seconds > 0 and split.cosine <= split.measures[1] + 1e-9:
        cut = round(split.change_s / HOP_S)
        labels = np.arange(len(rows)) >= cut
    else:  # the gate's 2-means groups
        labels = two_means(rows)
    if labels.all() or not labels.any():
        return ()
    return _unit(rows[~labels].mean(axis=0)), _unit(rows[labels].mean(axis=0))


def two_voices(screened: Screened, index: int) -> bool:
    """Whether the gate found two voices in the clip ``screened.keep[index]``."""
    verdict = screened.report.clips[screened.keep[index]]
    return any(p.code == "two_speakers" for p in verdict.problems)


def speakers_disputed(screened: Screened) -> bool:
    """Whether the gate heard more than one person in the kept clips: clips of
    different people with no majority, a kept clip unlike the others (under
    ``OUTLIER_THRESHOLD``), or two voices in a kept clip - refusals only ``force`` lets
    through."""
    report = screened.report
    if any(p.code == "mixed_speakers" for p in report.problems):
        return True
    return any(two_voices(screened, k) or (
        (c := report.clips[i].cosine_to_others) is not None and c < OUTLIER_THRESHOLD)
        for k, i in enumerate(screened.keep))


def reference_clips(screened: Screened,
                    encoder: SpeakerEncoder | None = None) -> tuple[ReferenceClip, ...]:
    """The kept clips of ``screened``, each as the consent speaker must match it, when
    the gate heard more than one person in them (:func:`speakers_disputed`); else none.

    Clips the gate found to be one person's are only compared in combination: checking
    each on its own as well refused 2 of 172 genuine LibriSpeech speakers (1.2 %; 2-3
    clips of 3-5 s speech each and a 5 s consent, all cut from one utterance), against
    none for their combination. Where the gate heard several people, the consent
    must match each clip.
    """
    if not speakers_disputed(screened):
        return ()
    clips = []
    for k, i in enumerate(screened.keep):
        verdict = screened.report.clips[i]
        snr = -np.inf if verdict.snr_db is None else float(verdict.snr_db)
        parts = (voice_parts(screened.clean[k], encoder or default_encoder())
                 if two_voices(screened, k) else ())
        clips.append(ReferenceClip(verdict.name, screened.check_embeddings[k], snr, parts))
    return tuple(clips)
