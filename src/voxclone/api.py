"""The Python API: enroll a voice, speak text in it, compare speakers.

Example::

    import voxclone

    voice = voxclone.enroll("ada", ["ada1.wav", "ada2.flac"], effort="fast")
    audio = voxclone.synthesize("Hello there.", voice)
    audio.save("hello.wav")  # or voxclone.audio.write_audio(audio, "hello.mp3")
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Union

import numpy as np

from voxclone.audio import Audio, load_audio, prepare_reference
from voxclone.audio.prosody import prosody_stats
from voxclone.clone.fit import Effort, VoiceFitter, check_effort
from voxclone.clone.profile import SourceClip, VoiceProfile, VoiceStore, check_name
from voxclone.digest import file_sha256
from voxclone.engines.kokoro import default_engine, stock_packs
from voxclone.errors import AudioError, NoSpeechError, VoxcloneError
from voxclone.pipeline import SynthesisOptions, Synthesizer
from voxclone.progress import ProgressCallback, progress_bar
from voxclone.provenance import SynthesisLog, SynthesisRecord, text_digest
from voxclone.speaker import combine_embeddings, cosine, default_encoder
from voxclone.watermark import Detection, Watermark, default_watermark

logger = logging.getLogger(__name__)

ClipSource = Union[str, "os.PathLike[str]", bytes, Audio]
VoiceRef = str | VoiceProfile

#: Enrollment needs at least this much speech over all clips, in seconds.
MIN_SPEECH_SECONDS = 3.0
#: Reference clips longer than this are refused (trim them first).
MAX_CLIP_SECONDS = 600.0
#: Files longer than this (an hour) are refused by :func:`detect` (split them first).
MAX_DETECT_SECONDS = 3600.0


@lru_cache(maxsize=1)
def _synthesizer() -> Synthesizer:
    return Synthesizer(default_engine(), stock_packs())


@lru_cache(maxsize=1)
def _fitter() -> VoiceFitter:
    return VoiceFitter(default_engine(), default_encoder(), stock_packs())


def _clip_name(source: ClipSource, index: int) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return f"clip {index + 1}"


def _clip_hash(source: ClipSource, audio: Audio) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    if isinstance(source, (str, os.PathLike)) and str(source) != "-":
        return file_sha256(source)
    return hashlib.sha256(audio.samples.tobytes()).hexdigest()


def _load_clip(source: ClipSource, index: int) -> Audio:
    if isinstance(source, Audio):
        if source.duration > MAX_CLIP_SECONDS:
            raise AudioError(f"clip {index + 1} is longer than {MAX_CLIP_SECONDS:.0f} s; trim it")
        return source
    return load_audio(source, max_seconds=MAX_CLIP_SECONDS)


def embed(source: ClipSource) -> np.ndarray:
    """Speaker embedding of one clip (file path, encoded bytes or ``Audio``).

    Returns a float32 unit vector of shape ``(256,)``. The clip is trimmed to speech
    and loudness-normalised first.

    Raises:
        AudioError: unreadable, empty or too long input.
        NoSpeechError: no (or under 1 s of) speech.
    """
    audio = _load_clip(source, 0)
    clean, _ = prepare_reference(audio, name=_clip_name(source, 0))
    return default_encoder().embed(clean)


def enroll(
    name: str,
    clips: ClipSource | Sequence[ClipSource],
    *,
    effort: Effort = "balanced",
    voices_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    save: bool = True,
    progress: bool | ProgressCallback = False,
    seed: int = 0,
) -> VoiceProfile:
    """Clone a voice from one clip (one-shot) or several (few-shot).

    Args:
        name: the voice's name in the voices directory.
        clips: WAV/FLAC/OGG/MP3 paths, encoded bytes, or ``Audio`` objects.
        effort: ``stock`` (instant, nearest stock voice), ``fast`` (~10 s),
            ``balanced`` (~1 min) or ``best`` (~4 min).
        voices_dir: where profiles live (default: :func:`default_voices_dir`).
        overwrite: replace an existing voice of that name.
        save: store the profile (False: just return it).
        progress: True for a progress bar on stderr, or a callback
            ``(fraction_done, best_similarity)``.
        seed: seeds the search, so the same clips give the same voice.

    Raises:
        ValueError: bad name or effort.
        VoiceExistsError: the name is taken and ``overwrite`` is false (checked first).
        AudioError / NoSpeechError: a clip is unusable, or there is under 3 s of speech.
    """
    check_name(name)
    check_effort(effort)
    store = VoiceStore(voices_dir)
    if save and not overwrite:
        store.check_free(name)  # fail before minutes of work, not after
    sources = [clips] if isinstance(clips, (str, os.PathLike, bytes, Audio)) else list(clips)
    if not sources:
        raise AudioError("no reference clips given; pass at least one recording of the speaker")

    began = time.monotonic()
    cleaned: list[Audio] = []
    records: list[SourceClip] = []
    for index, source in enumerate(sources):
        audio = _load_clip(source, index)
        clean, report = prepare_reference(audio, name=_clip_name(source, index))
        cleaned.append(clean)
        records.append(SourceClip(_clip_hash(source, audio), round(audio.duration, 3),
                                  round(report.speech_seconds, 3)))
    speech = sum(r.speech_seconds for r in records)
    if speech < MIN_SPEECH_SECONDS:
        raise NoSpeechError(
            f"only {speech:.1f} s of speech in the reference; at least "
            f"{MIN_SPEECH_SECONDS:.0f} s is needed - record a few seconds more"
        )
    encoder = default_encoder()
    target = combine_embeddings([encoder.embed(c) for c in cleaned],
                                [r.speech_seconds for r in records])
    joined = Audio(np.concatenate([c.samples for c in cleaned]), cleaned[0].sample_rate)
    prosody = prosody_stats(joined)

    fitter = _fitter()
    if callable(progress):
        result = fitter.fit(target, effort, seed=seed, progress=progress)
    else:
        with progress_bar(f"enrolling {name} ({effort})", enabled=bool(progress)) as bar:
            result = fitter.fit(target, effort, seed=seed, progress=bar)
    profile = VoiceProfile(
        name=name,
        embedding=target,
        conditioning=result.conditioning,
        prosody=prosody,
        sources=tuple(records),
        engine=fitter.engine.name,
        effort=effort,
        score=result.score,
    )
    if save:
        store.save(profile, overwrite=overwrite)
    logger.info("enrolled %s: similarity %.3f in %.1f s", name, result.score,
                time.monotonic() - began)
    return profile


def load_voice(name: str, *, voices_dir: str | os.PathLike[str] | None = None) -> VoiceProfile:
    """Load a stored voice. Raises VoiceNotFoundError or ProfileError."""
    return VoiceStore(voices_dir).load(name)


def list_voices(*, voices_dir: str | os.PathLike[str] | None = None) -> list[VoiceProfile]:
    """All stored voices, sorted by name (damaged profiles are skipped with a warning)."""
    store = VoiceStore(voices_dir)
    voices = []
    for name in store.names():
        try:
            voices.append(store.load(name))
        except VoxcloneError as exc:
            logger.warning("skipping voice %s: %s", name, exc)
    return voices


def _voice(voice: VoiceRef, voices_dir: str | os.PathLike[str] | None) -> VoiceProfile:
    return voice if isinstance(voice, VoiceProfile) else load_voice(voice, voices_dir=voices_dir)


def synthesize_stream(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    voices_dir: str | os.PathLike[str] | None = None,
) -> Iterator[Audio]:
    """Speak ``text`` in ``voice``, yielding one ``Audio`` chunk (24 kHz) per sentence.

    The chunks carry one continuous watermark whose payload is the id of the
    synthesis record, which is logged before the first chunk is yielded. The text
    and voice are validated before the first chunk is rendered.

    Raises:
        TextError: empty or unpronounceable text.
        VoiceNotFoundError / ProfileError: unknown or damaged voice.
        ValueError: speed outside 0.5-2.0.
    """
    profile = _voice(voice, voices_dir)
    options = SynthesisOptions(speed=speed)
    synthesizer = _synthesizer()
    synthesizer.plan(text)  # validate eagerly, not at the first next()
    watermark = default_watermark()
    log = SynthesisLog()
    record = SynthesisRecord(id=log.new_id(), voice=profile.name, text_sha256=text_digest(text),
                             engine=synthesizer.engine.name, watermark=watermark.name,
                             streamed=True)
    return _marked_chunks(synthesizer.stream(text, profile, options), watermark, record, log)


def _marked_chunks(chunks: Iterator[Audio], watermark: Watermark, record: SynthesisRecord,
                   log: SynthesisLog) -> Iterator[Audio]:
    log.append(record)
    position = 0  # chunks are marked on one grid, so the joined stream reads as one mark
    for chunk in chunks:
        marked = watermark.embed(chunk.samples, chunk.sample_rate, record.id,
                                 start_sample=position)
        position += len(chunk.samples)
        yield Audio(marked, chunk.sample_rate)


def synthesize(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    voices_dir: str | os.PathLike[str] | None = None,
) -> Audio:
    """Speak ``text`` in ``voice`` (a name or a profile); float32 mono 24 kHz ``Audio``,
    watermarked with the id of its synthesis record (read it back with :func:`detect`).

    Raises the same errors as :func:`synthesize_stream`.
    """
    return render(text, voice, speed=speed, voices_dir=voices_dir)[0]


def render(
    text: str,
    voice: VoiceRef,
    *,
    speed: float = 1.0,
    voices_dir: str | os.PathLike[str] | None = None,
) -> tuple[Audio, SynthesisRecord]:
    """Like :func:`synthesize`, also returning the synthesis record (for front ends)."""
    profile = _voice(voice, voices_dir)
    options = SynthesisOptions(speed=speed)
    synthesizer = _synthesizer()
    raw = synthesizer.synthesize(text, profile, options)
    watermark = default_watermark()
    log = SynthesisLog()
    record = SynthesisRecord(id=log.new_id(), voice=profile.name, text_sha256=text_digest(text),
                             engine=synthesizer.engine.name, watermark=watermark.name,
                             seconds=round(raw.duration, 3))
    marked = watermark.embed(raw.samples, raw.sample_rate, record.id)
    log.append(record)
    return Audio(marked, raw.sample_rate), record


def detect(source: ClipSource) -> Detection:
    """Look for this installation's watermark in a clip (path, encoded bytes, ``Audio``,
    or ``-`` for stdin), any format and rate >= 8 kHz.

    The payload, when found, is a synthesis id: :func:`find_synthesis` gives its record.

    Raises:
        AudioError: unreadable, empty or longer than an hour.
    """
    if isinstance(source, Audio):
        audio = source
    else:
        audio = load_audio(source, max_seconds=MAX_DETECT_SECONDS)
    if audio.sample_rate < 8000:
        audio = audio.resample(8000)
    result = default_watermark().detect(audio.samples, audio.sample_rate)
    logger.info("detect %s: %s", _clip_name(source, 0),
                f"synthesis {result.payload:08x}" if result.found and result.payload is not None
                else "no watermark")
    return result


def find_synthesis(payload: int) -> SynthesisRecord | None:
    """The record of the synthesis whose watermark carries ``payload``, if it was made here."""
    return SynthesisLog().find(payload)


def similarity(
    a: ClipSource | VoiceProfile,
    b: ClipSource | VoiceProfile,
) -> float:
    """Cosine similarity (-1..1) of the speakers in two clips or voice profiles.

    Same speaker, other recording: about 0.85-0.9; different speakers: about 0.5.
    """
    def vector(x: ClipSource | VoiceProfile) -> np.ndarray:
        return x.embedding if isinstance(x, VoiceProfile) else embed(x)

    return cosine(vector(a), vector(b))
