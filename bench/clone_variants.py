"""The rows of ``clone_quality.py``: an effort and its suffixes, and how each changes
enrollment and synthesis (the style map, the matches, the model, the watermark)."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from voxclone.clone import fit
from voxclone.clone.fit import EFFORTS
from voxclone.clone.pitch_rate_match import PitchRateMatch, match_pitch_rate
from voxclone.engines.kokoro import KokoroEngine, stock_packs
from voxclone.engines.session import SessionConfig
from voxclone.pipeline import Synthesizer
from voxclone.watermark import default_watermark

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speech_data as sd  # the shared benchmark helpers next to this file

#: Baseline: the single stock pack whose probe speech is closest to the speaker.
NEAREST = "nearest-pack"
#: Suffix of an effort enrolled without the learned style map (the package issue's method).
NOMAP = "-nomap"
#: Suffix of an effort whose style map has no drift (``StyleMap.fast_drift``, which
#: ``fast`` and ``balanced`` add, ``fit.DRIFT_EFFORTS``).
NODRIFT = "-nodrift"
#: Suffix of an effort whose map's style takes the drift at every effort, not only fast.
DRIFT_START = "+driftstart"
#: Suffix of an effort enrolled without the tone match (``match_tone=False``).
NOTONE = "-notone"
#: Suffix of an effort enrolled without the pitch shift (``match_pitch=False``).
NOPITCH = "-nopitch"
#: Suffix of an effort enrolled without the rate factor (``match_rate=False``).
NORATE = "-norate"
#: Suffix of an effort enrolled with the rate factor at any effort (``match_rate=True``:
#: ``fast`` leaves it out by default, ``fit.RATE_EFFORTS``).
RATE = "+rate"
#: Suffix of an effort enrolled with the pitch shift but without the F0 range factor.
NORANGE = "-norange"
#: Suffix of an effort enrolled without the formant ratio (``match_formants=False``).
NOFORMANT = "-noformant"
#: Suffix of an effort whose F0 range and rate factors are measured on the clone's
#: renderings before the pitch shift rather than after it (the earlier way).
PRESHIFT = "-preshift"
#: Suffix of an effort enrolled with the opt-in pitch and rate match in the style.
MATCH = "+match"
#: Suffix of a row whose sentences are synthesised with the self-check
#: (``check_words=True``).
CHECK = "+check"
#: Suffix of a row enrolled and synthesised with the shipped Kokoro model (dynamic int8)
#: instead of its static int8 rewrite (``voxclone.engines.static_int8``).
SHIPPED = "+shipped"
#: Suffix of a ``balanced``/``best`` row refined by the random search instead of the
#: gradient ascent (``voxclone.clone.gradient_fit``), as before 4 Dec evening.
SEARCH = "-search"
#: Suffix of a row whose pitch and rate match also measures the clone on
#: ``voxclone.clone.fit.MORE_PROSODY_TEXTS``.
MORE_TEXTS = "+moretexts"
#: Suffix of a row whose rate read from the words is measured on
#: ``voxclone.clone.fit.MORE_PROSODY_TEXTS`` too (``fit.TEMPO_TEXTS``; the pitch level
#: and range on enrollment's two sentences, as shipped).
TEMPO_TEXTS = "+tempotexts"
#: Suffix of a row whose F0 range factor is clamped to 0.5-2 (not 0.67-1.5) and may
#: be widened by a noisy reference too (``bench/range_match.py``; not the default).
WIDE_RANGE = "+widerange"
#: The range match's settings of :data:`WIDE_RANGE`.
WIDE_RANGE_SETTINGS = {"range_bounds": (0.5, 2.0), "widen_for_noisy": True}
#: Suffix of a row whose rate factor is read from the words
#: (``PitchRateSettings.rate_from_words``: a transcript of the reference, the syllables
#: of enrollment's sentences; not the default).
WORD_RATE = "+wordrate"
#: Suffix of a row whose rate factor is read from syllable peaks
#: (``PitchRateSettings(rate_from_words=False)``; the default before stop 74, 7 Dec).
PEAK_RATE = "+peakrate"
#: Suffix of a row whose clones are scored without their watermark (the same renderings,
#: unmarked): what the mark costs the similarity.
UNMARKED = "+unmarked"
#: Suffix of a row that keeps the voice of the row named without it and without
#: ``+wordrate``, ``+peakrate`` or ``+tempotexts`` (listed earlier), and measures only
#: the rate factor again, as its own settings say (``same_voice.py``): the pair then
#: differs in the rate factor alone, even where the ascent is bounded by time. Its
#: enrollment time is the earlier row's plus the second match.
SAME_VOICE = "+samevoice"
SUFFIXES = (NOMAP, NODRIFT, DRIFT_START, NOTONE, NOPITCH, NORATE, NORANGE, NOFORMANT,
            PRESHIFT, MATCH, CHECK, SHIPPED, SEARCH, MORE_TEXTS, WIDE_RANGE, WORD_RATE,
            PEAK_RATE, UNMARKED, SAME_VOICE, RATE, TEMPO_TEXTS)
#: The suffixes that change only how the rate factor is read, which a
#: :data:`SAME_VOICE` row may add to the row whose voice it keeps.
RATE_READINGS = (SAME_VOICE, WORD_RATE, PEAK_RATE, TEMPO_TEXTS)


@dataclass(frozen=True)
class Variant:
    """How a row enrolls: effort, learned map, tone, pitch and rate matches, and the
    opt-in style-based pitch and rate match."""

    effort: str
    use_map: bool = True
    match_tone: bool = True
    match_prosody: bool = False
    match_pitch: bool = True
    match_rate: bool | None = None  # None: as the effort says
    check_words: bool = False
    match_range: bool = True
    shipped_model: bool = False
    match_formants: bool = True
    measure_shifted: bool = True
    gradient: bool = True
    more_texts: bool = False
    tempo_texts: bool = False
    wide_range: bool = False
    #: the rate factor from the words (True), from the peaks (False), as shipped (None)
    word_rate: bool | None = None
    marked: bool = True
    drift: bool = True
    drift_start: bool = False
    same_voice: bool = False


def same_voice_base(label: str) -> str:
    """The row whose voice a :data:`SAME_VOICE` row keeps."""
    for suffix in RATE_READINGS:
        label = label.replace(suffix, "")
    return label


def parse_effort(label: str) -> Variant:
    """The :class:`Variant` of a row label such as ``fast-nomap-notone+match`` (the
    suffixes in any order)."""
    if label == NEAREST:
        return Variant("stock", use_map=False, match_tone=False, match_pitch=False,
                       match_rate=False, match_range=False, match_formants=False)
    base, found = label, set()
    while any(base.endswith(x) for x in SUFFIXES):
        suffix = next(x for x in SUFFIXES if base.endswith(x))
        found.add(suffix)
        base = base.removesuffix(suffix)
    return Variant(base, use_map=NOMAP not in found, match_tone=NOTONE not in found,
                   match_prosody=MATCH in found, match_pitch=NOPITCH not in found,
                   match_rate=False if NORATE in found else True if RATE in found else None,
                   check_words=CHECK in found,
                   match_range=NORANGE not in found, shipped_model=SHIPPED in found,
                   match_formants=NOFORMANT not in found,
                   measure_shifted=PRESHIFT not in found, gradient=SEARCH not in found,
                   more_texts=MORE_TEXTS in found, tempo_texts=TEMPO_TEXTS in found,
                   wide_range=WIDE_RANGE in found,
                   word_rate=True if WORD_RATE in found else
                   False if PEAK_RATE in found else None,
                   marked=UNMARKED not in found, drift=NODRIFT not in found,
                   drift_start=DRIFT_START in found, same_voice=SAME_VOICE in found)


@functools.lru_cache(maxsize=1)
def shipped_engine() -> KokoroEngine:
    return KokoroEngine(config=SessionConfig(static_int8=False))


def engine_of(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment and synthesis use the variant's model."""
    if not variant.shipped_model:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch("voxclone.api.default_engine", shipped_engine))
    synthesizer = Synthesizer(shipped_engine(), stock_packs())
    stack.enter_context(mock.patch("voxclone.synthesis._synthesizer", lambda: synthesizer))
    return stack


class Unmarked:
    """The installation's watermark, except that it leaves the audio as it is."""

    def __init__(self) -> None:
        self.name = default_watermark().name

    def embed(self, samples: np.ndarray, sample_rate: int, payload: int,
              **_: Any) -> np.ndarray:
        return np.asarray(samples, dtype=np.float32)


def marking(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, synthesis marks its audio as the variant says (as shipped, or not)."""
    return contextlib.nullcontext() if variant.marked else mock.patch(
        "voxclone.synthesis.default_watermark", Unmarked)


def unshifted_match(*args: Any, shifted: Any = None, **kwargs: Any) -> PitchRateMatch:
    """``match_pitch_rate`` measuring the range and rate before the pitch shift."""
    return match_pitch_rate(*args, **kwargs)


def style_map_as(variant: Variant) -> contextlib.AbstractContextManager[Any]:
    """Within it, enrollment uses the style map as ``variant`` says: none (``-nomap``), or
    the shipped one with its drift at the efforts the public API adds it
    (``fit.DRIFT_EFFORTS``), at none (``-nodrift``) or at every effort (``+driftstart``)."""
    if not variant.use_map:
        return mock.patch("voxclone.clone.fit.load_style_map", return_value=None)
    if variant.drift_start:
        return mock.patch.object(fit, "DRIFT_EFFORTS", frozenset(EFFORTS))
    if not variant.drift:
        return mock.patch.object(fit, "DRIFT_EFFORTS", frozenset())
    return contextlib.nullcontext()


@contextlib.contextmanager
def matching(variant: Variant) -> Iterator[None]:
    """Within it, the pitch and rate match runs as the variant says: its settings, its
    renderings (shifted or not) and its sentences."""
    changed = ({} if variant.match_range else {"match_range": False}) | \
        (WIDE_RANGE_SETTINGS if variant.wide_range else {}) | \
        ({} if variant.word_rate is None else {"rate_from_words": variant.word_rate})
    unshifted = contextlib.nullcontext() if variant.measure_shifted else mock.patch(
        "voxclone.clone.fit.match_pitch_rate", unshifted_match)
    texts = mock.patch.dict(fit.PROSODY_TEXTS, {variant.effort: fit.MORE_PROSODY_TEXTS}) \
        if variant.more_texts else contextlib.nullcontext()
    tempo = mock.patch.dict(fit.TEMPO_TEXTS, {variant.effort: fit.MORE_PROSODY_TEXTS}) \
        if variant.tempo_texts else contextlib.nullcontext()
    with sd.pitch_rate_settings(**changed), unshifted, texts, tempo:
        yield

