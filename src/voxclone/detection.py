"""Reading the watermark back: :func:`detect` (a clip's mark), :func:`detect_all` (every
mark in a file that joins several syntheses) and :func:`find_synthesis` (the record a
payload names). Each detection is written to the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import replace

from voxclone.audio import Audio
from voxclone.audio.bitrate import lossy_coding
from voxclone.audio.inputs import as_audio
from voxclone.fingerprint import SHIFTS, SPEEDS, FingerprintIndex, cached_index, search_clip
from voxclone.provenance import AuditContext, SynthesisRecord, find_record
from voxclone.watermark import Detection, default_watermark

logger = logging.getLogger(__name__)

#: Files longer than this (an hour) are refused by :func:`detect` (split them first).
MAX_DETECT_SECONDS = 3600.0
#: Under this (s), a clip's mark is often unreadable (crops of voxclone speech: 7 of 10
#: found at 1.5 s, 10 of 10 from 2 s; a 1.4 s "Hello there." with its pauses, none).
MIN_DETECT_SECONDS = 2.0
#: Under this average bitrate (kbit/s), a lossy file's "no watermark" means little.
#: Through Opus at 16 kHz, where it codes speech by linear prediction (SILK), the mark
#: was kept in every message at 28 kbit/s, lost from half of 5 s messages at 21, from
#: every one under 10 s at 17 and from all at 13
#: (bench/results/watermark_voice_messages.md).
LOW_BITRATE_KBPS = 24.0

#: :func:`detect_all` lists at most this many syntheses found by fingerprint, after at
#: most ``MAX_FINGERPRINT_SEARCHES`` searches; stretches under ``MIN_MATCH_SECONDS``
#: hold too little speech to match.
MAX_FINGERPRINT_MATCHES = 16
MAX_FINGERPRINT_SEARCHES = 48
MIN_MATCH_SECONDS = 0.55
#: How far into a mark's span (s) the stretches searched by fingerprint reach: the span
#: is known to about a second.
MARK_EDGE_SECONDS = 1.0
#: Clips shorter than this (s) are fingerprinted at every sub-hop shift to be matched;
#: longer ones at one, which matched them as often, in a quarter of the time
#: (bench/results/fingerprint_search.md).
ONE_SHIFT_SECONDS = 4.0
#: Clips up to this long (s) are searched at every speed; longer ones at their own.
ALL_SPEEDS_SECONDS = 30.0

AudioSource = str | os.PathLike[str] | bytes | Audio


def detect(source: AudioSource, *, audit: AuditContext | None = None) -> Detection:
    """Look for this installation's watermark in a clip (path, encoded bytes, ``Audio``,
    or ``-`` for stdin), any format and rate >= 8 kHz.

    The payload, when found, is a synthesis id: :func:`find_synthesis` gives its record.
    When no mark can be read (a clip under 2 s, a voice message coded at 13-22 kbit/s),
    the clip is looked up among the stored fingerprints of this installation's
    syntheses instead, and a match is reported with ``matched_by="fingerprint"``.
    Each detection is written to the audit log (as ``audit.actor``, default the local
    user), with the SHA-256 of the audio checked. A clip joining several syntheses
    yields one of their marks: :func:`detect_all` gives them all.

    Raises:
        AudioError: unreadable, empty or longer than an hour.
        AuditError: the audit log cannot be written, or the stored fingerprints read.
    """
    audio = as_audio(source, max_seconds=MAX_DETECT_SECONDS, name="the clip")
    context = audit or AuditContext()
    result = _read_mark(audio)
    if not result.found:
        result = _fingerprint_match(audio, context) or result
    if not result.found:
        nothing = not_found(source, audio.duration)
        result = replace(result, too_short=nothing.too_short, low_bitrate=nothing.low_bitrate)
    _log_detection(audio, result, context)
    logger.info("detect: %s",
                f"synthesis {result.payload:08x}" if result.found and result.payload is not None
                else "no watermark")
    return result


def not_found(source: AudioSource | None, seconds: float) -> Detection:
    """What finding no mark in ``source`` (``seconds`` long once decoded) is worth: a
    ``Detection`` that found nothing, with ``too_short`` (under
    :data:`MIN_DETECT_SECONDS`) and ``low_bitrate`` (how a lossy file under
    :data:`LOW_BITRATE_KBPS` was coded, ``"Opus at 17 kbit/s"``, where a mark is often
    lost; None for other files, and for decoded ``Audio``, standard input, file objects
    and ``None``, whose coding is not known here). The one place :func:`detect`, the
    command line and the server all take both from."""
    coding = lossy_coding(source, seconds) \
        if isinstance(source, (str, os.PathLike, bytes)) else None
    return Detection(found=False, too_short=seconds < MIN_DETECT_SECONDS,
                     low_bitrate=str(coding) if coding is not None
                     and coding.kbps < LOW_BITRATE_KBPS else None)


def detect_all(source: AudioSource, *, audit: AuditContext | None = None) -> list[Detection]:
    """Every watermark of this installation in a clip that may join several syntheses
    (two clones in a podcast, two takes): the same sources and checks as :func:`detect`.

    Returns one ``Detection`` per mark (``found`` True, its own ``payload``,
    ``start_s``/``end_s`` to within about a second, ``speed`` and
    ``false_positive_probability``), in time order; stretches of one payload less than
    3 s apart are one mark (the same synthesis heard twice further apart is listed
    twice). Stretches of at least 0.55 s where no mark was read are then looked up among
    the stored fingerprints, and each synthesis found there that no mark names is
    listed too (``matched_by="fingerprint"``; up to ``MAX_FINGERPRINT_MATCHES``).
    An empty list means nothing was found; in a clip under
    :data:`MIN_DETECT_SECONDS`, or a lossy file under :data:`LOW_BITRATE_KBPS`, that
    means little, as ``Detection.too_short`` and ``Detection.low_bitrate`` say for
    :func:`detect` (:func:`not_found` tells which).

    False positives: a mark is reported only when :func:`detect`'s own search finds one,
    so unmarked audio is flagged exactly as often as by :func:`detect`; the further
    windows searched around a mark are counted in every mark's
    ``false_positive_probability`` (a union bound over all windows searched, so their
    sum bounds the chance that any mark listed is spurious). See
    :mod:`voxclone.watermark.multi`. Audio with no mark is searched by fingerprint
    further only once its whole has matched, as :func:`detect` would report; each
    further stretch's match has its own bound.

    One ``detect`` entry is written to the audit log per call, its ``payload`` the first
    mark's and ``details["payloads"]`` every payload found, in order.

    Raises:
        AudioError: unreadable, empty or longer than an hour.
        AuditError: the audit log cannot be written, or the stored fingerprints read.
    """
    audio = as_audio(source, max_seconds=MAX_DETECT_SECONDS, name="the clip")
    context = audit or AuditContext()
    readable = _readable(audio)
    marks = default_watermark().detect_all(readable.samples, readable.sample_rate)
    # where no mark was read, syntheses found by their fingerprints
    marks = sorted(marks + _fingerprint_matches(audio, context, marks),
                   key=lambda m: m.start_s or 0.0)
    first = marks[0] if marks else Detection(found=False)
    _log_detection(audio, first, context,
                   payloads=[m.payload for m in marks if m.payload is not None])
    logger.info("detect_all: %s", ", ".join(f"synthesis {m.payload:08x}" for m in marks
                                            if m.payload is not None) or "no watermark")
    return marks


def mark_json(mark: Detection, record: SynthesisRecord | None) -> dict[str, object]:
    """One mark's fields as JSON shows them (``voxclone detect --json``, ``POST
    /v1/detect``): its payload as 8 hex digits, where it was found and how, and the
    record of its synthesis (None when there is none, or the caller may not see it)."""
    return {
        "payload": f"{mark.payload:08x}" if mark.payload is not None else None,
        "false_positive_probability": mark.false_positive_probability,
        "start_s": mark.start_s, "end_s": mark.end_s, "speed": mark.speed,
        "matched_by": mark.matched_by if mark.found else None,
        "synthesis": None if record is None else record.described(),
    }


def _log_detection(audio: Audio, result: Detection, context: AuditContext,
                   payloads: list[int] | None = None) -> None:
    """One ``detect`` audit entry; ``payloads`` (every mark found) from :func:`detect_all`.

    Raises:
        AuditError: it could not be written.
    """
    details: dict[str, object] = {
        "found": result.found,
        "matched_by": result.matched_by if result.found else None,
        "audio_sha256": hashlib.sha256(audio.samples.tobytes()).hexdigest(),
        "seconds": round(audio.duration, 3),
        "false_positive_probability": result.false_positive_probability}
    if payloads is not None:
        details["payloads"] = payloads
    context.audit_log().append(
        "detect", actor=context.actor, owner_id=context.owner_id,
        payload=result.payload if result.found else None, details=details)


def find_synthesis(payload: int | str) -> SynthesisRecord | None:
    """The record of the synthesis whose watermark carries ``payload`` (an int, or the
    8 hex digits the command line prints), if it was made here (looked up in the audit
    log).

    Raises:
        ValueError: ``payload`` is not a 32-bit id.
    """
    if isinstance(payload, str):
        try:
            payload = int(payload, 16)
        except ValueError:
            raise ValueError(f"{payload!r} is not a synthesis id (8 hex digits)") from None
    if isinstance(payload, bool) or not isinstance(payload, int) or not 0 <= payload < 2**32:
        raise ValueError(f"a synthesis id is a 32-bit number, got {payload!r}")
    return find_record(payload)


def is_voxclone_output(audio: Audio) -> bool:
    """Whether ``audio`` carries this installation's watermark (any rate), or matches
    the fingerprint of one of its syntheses. An internal check (enrollment's, on its
    recordings), so not audited as a detection: the enrollment's own entry stands for
    it.

    Raises:
        AuditError: the stored fingerprints cannot be read.
    """
    return _read_mark(audio).found or _fingerprint_match(audio, AuditContext()) is not None


def _fingerprint_match(audio: Audio, context: AuditContext) -> Detection | None:
    """The synthesis ``audio`` was cut from, found by its stored fingerprint (for a clip
    whose mark could not be read), or None.

    Raises:
        AuditError: the stored fingerprints cannot be read.
    """
    index = cached_index(context.audit_log().engine)
    return _stretch_match(index, _readable(audio), 0.0, audio.duration) \
        if index.frames else None


def _fingerprint_matches(audio: Audio, context: AuditContext,
                         marks: list[Detection]) -> list[Detection]:
    """The syntheses found by fingerprint in the stretches of ``audio`` that ``marks``
    do not cover (each stretch searched, then what is left of it on either side of a
    match), leaving out those the marks name; in no order.

    Raises:
        AuditError: the stored fingerprints cannot be read.
    """
    index = cached_index(context.audit_log().engine)
    if index.frames == 0:
        return []
    named = {m.payload for m in marks}
    # a mark's span is known to about a second: the stretches reach that far into it (a
    # match there to the marked synthesis itself is left out, and what is beside it kept)
    pending = _uncovered(audio.duration, [
        ((m.start_s or 0.0) + MARK_EDGE_SECONDS, (m.end_s or audio.duration) - MARK_EDGE_SECONDS)
        for m in marks])
    readable = _readable(audio)
    found: list[Detection] = []
    searched = 0
    while pending and searched < MAX_FINGERPRINT_SEARCHES:
        start, end = pending.pop()
        if end - start < MIN_MATCH_SECONDS:
            continue
        searched += 1
        match = _stretch_match(index, readable, start, end)
        if match is None:
            continue
        pending += [(start, match.start_s or start), (match.end_s or end, end)]
        if match.payload not in named and len(found) < MAX_FINGERPRINT_MATCHES:
            found.append(match)
    return found


def _stretch_match(index: FingerprintIndex, readable: Audio, start: float,
                   end: float) -> Detection | None:
    """The synthesis the stretch ``[start, end)`` (s) of ``readable`` was cut from, by
    its fingerprint in ``index``; placed in the whole audio's time."""
    rate = readable.sample_rate
    # a longer stretch has bits to spare, and each other cut of it is another search
    # as long (an enrollment's reference, searched as a whole, is 6 s or more)
    match = search_clip(index, readable.samples[round(start * rate):round(end * rate)],
                        rate, shifts=SHIFTS if end - start < ONE_SHIFT_SECONDS else 1,
                        speeds=SPEEDS if end - start <= ALL_SPEEDS_SECONDS else (1.0,))
    if match is None:
        return None
    logger.info("no readable watermark, but %.2f-%.2f s matches the fingerprint of "
                "synthesis %08x (%.0f %% of bits differing)", start + match.start_s,
                start + match.end_s, match.synthesis_id, 100 * match.bit_errors)
    return Detection(found=True, payload=match.synthesis_id,
                     false_positive_probability=match.false_positive_probability,
                     start_s=round(start + match.start_s, 3),
                     end_s=round(start + match.end_s, 3), speed=match.speed,
                     matched_by="fingerprint")


def _uncovered(seconds: float, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The stretches of ``[0, seconds]`` outside ``spans``."""
    gaps, at = [], 0.0
    for start, end in sorted(spans):
        if end <= start:
            continue
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < seconds:
        gaps.append((at, seconds))
    return gaps


def _read_mark(audio: Audio) -> Detection:
    readable = _readable(audio)
    return default_watermark().detect(readable.samples, readable.sample_rate)


def _readable(audio: Audio) -> Audio:
    """``audio`` at a rate the detector reads (8 kHz or more: lower rates are resampled)."""
    return audio.resample(8000) if audio.sample_rate < 8000 else audio
