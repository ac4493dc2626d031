"""Fit a voice to a speaker embedding with an effort level (the time budget)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Literal, get_args

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.pitch_shift import shift_pitch
from voxclone.audio.prosody import MIN_VOICED_FRAMES, ProsodyStats, f0_track
from voxclone.clone import gradient_fit
from voxclone.clone.conditioning import StyleConditioning, pack_scale
from voxclone.clone.deadline import TimedEvaluator, refinement_budget
from voxclone.clone.formant_match import FormantMatch, match_formants
from voxclone.clone.learned_probe import learned_probe
from voxclone.clone.pitch_rate_match import (
    PitchRateMatch,
    match_pitch_rate,
    pitch_shift_for,
)
from voxclone.clone.prosody_match import ProsodyMatch, learned_response, match_prosody
from voxclone.clone.search import Evaluator, Progress, SearchResult, fit_mixture, refine
from voxclone.clone.style_map import load_style_map
from voxclone.clone.tone_match import ToneMatch, match_tone
from voxclone.engines.base import Engine
from voxclone.quality.noise_profile import NoiseProfile
from voxclone.speaker import SpeakerEncoder
from voxclone.speaker.encoder import embed_all
from voxclone.text import normalize_text, phonemize
from voxclone.text.syllables import count_syllables

logger = logging.getLogger(__name__)

Effort = Literal["stock", "fast", "balanced", "best"]
EFFORTS: tuple[str, ...] = get_args(Effort)

#: Seconds of refinement per effort level. ``stock`` only picks the nearest pack mixture;
#: ``fast`` also tries the learned style map (:mod:`voxclone.clone.style_map`), and the
#: refinement of ``balanced`` and ``best`` starts from the better of the two.
REFINE_SECONDS: dict[str, float] = {"stock": 0.0, "fast": 0.0, "balanced": 45.0, "best": 240.0}

#: At most this many refinement renderings per effort (None: the time budget alone).
#: ``fast`` spends none: up to 4 gave its clones +0.010 +- 0.005 raw cosine to held-out
#: speech on dev speakers for ~2 s more than its 3 s (``bench/results/fast_refine.md``).
REFINE_EVALUATIONS: dict[str, int | None] = {"stock": 0, "fast": 0, "balanced": None,
                                             "best": None}

#: Efforts whose refinement is the gradient ascent of the timbre
#: (:mod:`voxclone.clone.gradient_fit`) rather than the random search, where the engine
#: and encoder allow it; its steps count against ``REFINE_EVALUATIONS`` too.
GRADIENT_EFFORTS: frozenset[str] = frozenset({"balanced", "best"})

#: Efforts whose map style takes the map's drift (the mean step of the ascent from it,
#: :attr:`~voxclone.clone.style_map.StyleMap.fast_drift`): ``fast`` speaks from it and
#: ``balanced`` ascends from it (+0.050 +- 0.011 on the benchmark's 48 speakers,
#: ``bench/results/clone_quality_balanced_driftstart48.md``). ``best`` ascends from the
#: plain map: after its 240 s the start matters little (from the drift +0.017 +- 0.035 on
#: 8 speakers, ``bench/results/clone_quality_best_driftstart_part1of2.md``).
DRIFT_EFFORTS: frozenset[str] = frozenset({"fast", "balanced"})

#: Efforts that match the speaking rate unless told otherwise (``enroll``'s
#: ``match_rate=None``), the rate read from the words
#: (:attr:`~voxclone.clone.pitch_rate_match.PitchRateSettings.rate_from_words`). Not
#: ``fast``: its 3 s have no room for the transcript (beside the fit 1.16-1.22x the
#: time, +0.45-0.63 s, in two runs, ``bench/results/tempo_enroll_time.md`` and
#: ``tempo_enroll_time_first.md``), and the syllable peaks,
#: which need none, put fewer of its clones within 10 % of their speaker's rate than no
#: factor at all (44 % against 60 % on 48 speakers, ``clone_quality_tempo.md``).
RATE_EFFORTS: frozenset[str] = frozenset({"balanced", "best"})

#: Efforts that read the speaker's tempo, when they match the rate, by pocketsphinx's
#: one-pass search (:data:`voxclone.asr.recognizer.QUICK_SEARCH`) in a thread beside
#: the fit (:func:`voxclone.clone.pitch_rate_match.tempo_reader`): ``fast`` (asked
#: with ``match_rate=True``) has no room for the full search after the fit (+1.8-1.9 s,
#: ``tempo_enroll_time.md``). The others read it by the full search after the fit,
#: which is bounded by time and would lose steps to a transcript beside it.
QUICK_TEMPO_EFFORTS: frozenset[str] = frozenset({"fast"})

#: The probe sentence rendered at every evaluation (about 3.4 s of speech).
PROBE_TEXT = "Bright yellow boats drift past the old harbor."

#: Rendered after the probe to measure a clone's speaking rate on more syllables.
RATE_TEXT = "She said the children would be home by seven, after the game."

#: More sentences for the pitch and rate match to measure a clone on, where an effort
#: has the time (~0.6 s each): the rate a clone is heard at varies from sentence to
#: sentence, and its factor, measured on two, misses what other sentences will speak.
MORE_PROSODY_TEXTS = (
    "The old man walked slowly along the river, watching the boats go by.",
    "Please remember to bring your umbrella, because it looks like rain.",
    "Our neighbours painted their fence a bright shade of green last weekend.",
    "When the music started, everyone in the room stood up to dance.",
)

#: Sentences, beyond the probe and ``RATE_TEXT``, that the pitch and rate match renders
#: per effort.
PROSODY_TEXTS: dict[str, tuple[str, ...]] = {"stock": (), "fast": (), "balanced": (),
                                             "best": ()}

#: Sentences, beyond the probe, ``RATE_TEXT`` and ``PROSODY_TEXTS[effort]``, that the
#: rate read from the words is measured on too, per effort (the pitch level and range
#: are not): Kokoro speaks the two enrollment sentences at a pace of their own, and a
#: factor set on them missed the pace of other sentences. On the benchmark's 48
#: speakers at ``balanced`` (the same voices, ``bench/results/
#: clone_quality_balanced_tempotexts.md``) the clones within 10 % of their speaker's
#: rate went from 73 % to 83 % (5 voices in, none out), their mean offset from +4.2 %
#: to +2.6 %, for ~3-6 s of renderings on a slow machine (``bench/results/
#: intelligibility_balanced_tempotexts.md``); a voice's own error did not shrink. ``fast``
#: has no time for them.
TEMPO_TEXTS: dict[str, tuple[str, ...]] = {"stock": (), "fast": (),
                                           "balanced": MORE_PROSODY_TEXTS,
                                           "best": MORE_PROSODY_TEXTS}

#: Renderings (probe or second sentence) a fitter keeps for reuse: the matches after
#: the fit need the probe and the second sentence, unshifted, after the pitch and rate
#: match has rendered its other sentences (``PROSODY_TEXTS`` and ``TEMPO_TEXTS``, each
#: at most ``MORE_PROSODY_TEXTS``).
_RECENT_RENDERS = 4 + 2 * len(MORE_PROSODY_TEXTS)

_cache_lock = threading.Lock()
_pack_embedding_cache: dict[tuple[int, str], dict[str, np.ndarray]] = {}


def check_effort(effort: str) -> Effort:
    """Validate an effort name. Raises ValueError listing the valid ones."""
    if effort not in EFFORTS:
        raise ValueError(f"unknown effort {effort!r}; choose one of {', '.join(EFFORTS)}")
    return effort  # type: ignore[return-value]


def _prior() -> np.ndarray | None:
    learned = learned_probe(PROBE_TEXT)
    return None if learned is None else learned.response


class VoiceFitter:
    """Renders a probe sentence with candidate styles and fits them to a target."""

    def __init__(self, engine: Engine, encoder: SpeakerEncoder,
                 packs: dict[str, np.ndarray]) -> None:
        self.engine = engine
        self.encoder = encoder
        self.packs = packs
        self.probe_ids = self.token_ids(PROBE_TEXT)
        self.scale = pack_scale(packs)
        # The last few renderings (token ids, style, audio): the matches after the fit
        # reuse the fitted voice's instead of rendering it again (the engine is
        # deterministic). One fitter per enrollment.
        self._recent: list[tuple[list[int], np.ndarray, Audio]] = []

    def evaluate(self, style: np.ndarray) -> np.ndarray:
        """Embedding ``(256,)`` of the probe rendered with ``style`` ``(256,)``."""
        return self.encoder.embed(self._render_style(self.probe_ids, style))

    def evaluate_at_pitch(self, style: np.ndarray, *, at_pitch: float,
                          ids: list[int] | None = None) -> np.ndarray:
        """Embedding ``(256,)`` of the probe (or the token ``ids``) rendered with
        ``style`` and shifted from its median F0 to ``at_pitch`` Hz as the pitch match
        would (:func:`voxclone.clone.pitch_rate_match.pitch_shift_for`)."""
        audio = self._render_style(self.probe_ids if ids is None else ids, style)
        voiced = f0_track(audio)
        voiced = voiced[voiced > 0]
        if voiced.size >= MIN_VOICED_FRAMES:
            shift = pitch_shift_for(float(np.median(voiced)), at_pitch)
            audio = Audio(shift_pitch(audio.samples, audio.sample_rate, shift),
                          audio.sample_rate)
        return self.encoder.embed(audio)

    def _render_style(self, ids: list[int], style: np.ndarray) -> Audio:
        # At engine speed 1; the last few renderings are kept (the engine is
        # deterministic), so the matches after the fit reuse the fit's own.
        for seen_ids, seen, audio in self._recent:
            if seen_ids == ids and np.allclose(seen, style, rtol=0.0, atol=1e-6):
                return audio
        audio = Audio(self.engine.render(ids, style), self.engine.sample_rate)
        self._recent = [*self._recent[-(_RECENT_RENDERS - 1):],
                        (ids, np.array(style, dtype=np.float32), audio)]
        return audio

    def render(self, ids: list[int], conditioning: StyleConditioning,
               pitch_shift: float = 0.0, formant_ratio: float = 1.0) -> Audio:
        """Token ids spoken with ``conditioning`` at engine speed 1, shifted by
        ``pitch_shift`` semitones, formants times ``formant_ratio`` (engine rate,
        float32)."""
        audio = self._render_style(ids, conditioning.style(self.packs, len(ids)))
        return Audio(shift_pitch(audio.samples, audio.sample_rate, pitch_shift,
                                 formant_ratio=formant_ratio), audio.sample_rate)

    def match_pitch_rate(self, conditioning: StyleConditioning, speaker: ProsodyStats, *,
                         pitch: bool = True, rate: bool = True,
                         noisy_reference: bool = False,
                         effort: Effort = "fast",
                         speaker_tempo: Callable[[], float] | None = None,
                         ) -> PitchRateMatch:
        """Pitch shift and rate factor for a fitted voice
        (:func:`voxclone.clone.pitch_rate_match.match_pitch_rate`, the same arguments),
        measured on the probe, a second sentence and ``PROSODY_TEXTS[effort]``, the
        range and rate once shifted, the rate read from the words on
        ``TEMPO_TEXTS[effort]`` too. With ``speaker_tempo`` (the speaker's articulation
        rate, :func:`voxclone.clone.pitch_rate_match.tempo_reader`), the rate can be
        read from the words (``PitchRateSettings.rate_from_words``)."""
        texts = [PROBE_TEXT, RATE_TEXT, *PROSODY_TEXTS[effort]]
        sentences = [self.probe_ids, self.rate_ids, *(self.token_ids(t) for t in texts[2:])]
        tempo_texts = TEMPO_TEXTS[effort]

        def shifted(semitones: float, ids: Sequence[list[int]] = sentences) -> list[Audio]:
            return [self.render(i, conditioning, semitones) for i in ids]

        return match_pitch_rate(speaker, shifted(0.0), pitch=pitch, rate=rate,
                                noisy_reference=noisy_reference, shifted=shifted,
                                syllables=[count_syllables(t) for t in texts],
                                speaker_tempo=speaker_tempo,
                                tempo_only=functools.partial(
                                    shifted, ids=[self.token_ids(t) for t in tempo_texts]),
                                tempo_syllables=[count_syllables(t) for t in tempo_texts])

    def match_formants(self, conditioning: StyleConditioning, target: np.ndarray,
                       pitch_shift: float = 0.0) -> FormantMatch:
        """The formant ratio for a fitted voice
        (:func:`voxclone.clone.formant_match.match_formants`) with its pitch shift, on
        the probe and a second sentence."""
        def move(render: Audio, ratio: float) -> Audio:
            return Audio(shift_pitch(render.samples, render.sample_rate, pitch_shift,
                                     formant_ratio=ratio), render.sample_rate)

        renders = [self.render(ids, conditioning) for ids in (self.probe_ids, self.rate_ids)]
        return match_formants(renders, target, move, functools.partial(embed_all, self.encoder))

    def match_tone(self, conditioning: StyleConditioning, reference: Audio,
                   target: np.ndarray, pitch_shift: float = 0.0,
                   formant_ratio: float = 1.0) -> ToneMatch:
        """The tone curve for a fitted voice (:func:`voxclone.clone.tone_match.match_tone`)
        with its pitch shift and formant ratio: the probe and a second sentence, then a
        few embeddings."""
        return match_tone(reference,
                          self.render(self.probe_ids, conditioning, pitch_shift, formant_ratio),
                          self.render(self.rate_ids, conditioning, pitch_shift, formant_ratio),
                          target, functools.partial(embed_all, self.encoder))

    def probe_embedding(self, conditioning: StyleConditioning, pitch_shift: float = 0.0,
                        formant_ratio: float = 1.0) -> np.ndarray:
        """d-vector ``(256,)`` of the probe spoken with ``conditioning``, shifted by
        ``pitch_shift`` semitones, formants times ``formant_ratio``."""
        return self.encoder.embed(self.render(self.probe_ids, conditioning, pitch_shift,
                                              formant_ratio))

    def token_ids(self, text: str) -> list[int]:
        """The engine's token ids of English ``text``."""
        return self.engine.tokenize(phonemize(normalize_text(text)))

    @cached_property
    def rate_ids(self) -> list[int]:
        """Token ids of ``RATE_TEXT``, the second sentence (rate and tone checks)."""
        return self.token_ids(RATE_TEXT)

    def pack_rows(self) -> dict[str, np.ndarray]:
        row = len(self.probe_ids) - 1
        return {name: pack[row] for name, pack in self.packs.items()}

    def pack_embeddings(self) -> dict[str, np.ndarray]:
        """Probe embeddings of the stock packs, computed once per process and engine."""
        learned = learned_probe(PROBE_TEXT)
        if learned is not None and set(learned.pack_embeddings) == set(self.packs):
            return learned.pack_embeddings
        key = (id(self.engine), PROBE_TEXT)
        with _cache_lock:
            cached = _pack_embedding_cache.get(key)
        if cached is None:
            cached = {name: self.evaluate(row) for name, row in self.pack_rows().items()}
            with _cache_lock:
                _pack_embedding_cache[key] = cached
        return cached

    def fit(self, target: np.ndarray, effort: Effort, *, seed: int = 0,
            progress: Progress | None = None, budget_s: float | None = None,
            prosody: ProsodyStats | None = None, use_map: bool = True,
            at_pitch: float | None = None,
            noises: Sequence[NoiseProfile] = (),
            deadline: float | None = None) -> SearchResult:
        """Conditioning whose speech embeds close to ``target`` (unit ``(256,)``).

        Every effort but ``stock`` also tries the learned style map
        (:mod:`voxclone.clone.style_map`, fed ``target`` and the speaker's
        ``prosody``) and refines from the better of it and the pack mixture (at
        ``fast``: the nearest pack, and no refinement; the map's style at ``fast`` and
        ``balanced`` also takes the mean step of the ascent, :data:`DRIFT_EFFORTS`).
        ``at_pitch`` (the speaker's median F0, Hz) scores every candidate of
        ``balanced`` and ``best`` as synthesis will speak it once the pitch match has
        shifted it there, so the search looks for the closest voice at the speaker's
        pitch rather than at the engine's.
        ``noises`` (noisy references' noise profiles) makes the gradient ascent also
        hear its probe through that noise (:mod:`voxclone.clone.gradient_fit`).
        ``deadline`` (a :func:`time.monotonic` time, the enrollment's
        :data:`~voxclone.clone.deadline.ENROLL_DEADLINE_S`) cuts the refinement short
        so that the work after it ends by then too
        (:func:`~voxclone.clone.deadline.refinement_budget`). ``budget_s`` overrides
        the effort's refinement time and ``use_map=False`` leaves the map out (both for
        benchmarks).
        """
        began = time.monotonic()
        rows = self.pack_rows()
        evaluate: Evaluator = self.evaluate
        if at_pitch is not None and effort in ("balanced", "best"):
            evaluate = functools.partial(self.evaluate_at_pitch, at_pitch=at_pitch)
        evaluate = timed = TimedEvaluator(evaluate)
        style_map = load_style_map(PROBE_TEXT) if use_map and effort != "stock" else None
        # At fast the map stands against the nearest pack alone (its probe embedding is
        # known): rendering the mixture too would cost a third of fast's time.
        start, start_embedding, score = fit_mixture(
            target, rows, evaluate, self.pack_embeddings(),
            mix=not (effort == "fast" and style_map is not None))
        base = start.style(self.packs, len(self.probe_ids))  # the start has no offset yet
        if style_map is not None:
            style = style_map.predict(target, prosody, drift=effort in DRIFT_EFFORTS)
            mapped_embedding = evaluate(style)
            mapped_score = float(mapped_embedding @ target)
            logger.debug("style map: cosine %.3f (pack mixture %.3f)", mapped_score, score)
            if mapped_score > score:
                start = start.with_delta(style - base)
                start_embedding, score = mapped_embedding, mapped_score
        budget = REFINE_SECONDS[effort] if budget_s is None else budget_s
        cut = None  # why a refinement the effort asks for did not run
        if deadline is not None and budget > 0:
            budget = refinement_budget(budget, deadline, timed, effort)
            if budget <= 0:
                cut = (f"no time was left for the {effort} refinement by the enrollment's "
                       "deadline")
        if progress is not None:
            progress(0.0 if budget > 0 else 1.0, score)
        if budget <= 0:
            return _quick_fit(start, score, 0, began, cut)
        if effort in GRADIENT_EFFORTS and gradient_fit.supported(self.engine, self.encoder):
            result = gradient_fit.ascend(
                start, score, target, packs=self.packs, probe_ids=self.probe_ids,
                scale=self.scale, encoder=self.encoder,  # type: ignore[arg-type]
                evaluate=evaluate, budget_s=budget,
                max_steps=REFINE_EVALUATIONS[effort], progress=progress,
                noises=noises, seed=seed)
        else:
            result = refine(target, start, start_embedding, base, self.scale, evaluate,
                            budget_s=budget, prior=_prior(), seed=seed,
                            max_evaluations=REFINE_EVALUATIONS[effort], progress=progress)
        if result.score <= score:  # nothing better found in the budget (a busy CPU?)
            # Rare on an idle machine (none of 120 logged benchmark ascents): say so, as the
            # user waited for a closer voice and got the quick fit's.
            return _quick_fit(start, score, result.evaluations, began,
                              f"the {effort} refinement found no voice closer to the speaker "
                              f"than its start in {result.seconds:.0f} s "
                              f"({result.evaluations} renderings)")
        return SearchResult(result.conditioning, result.score, result.evaluations,
                            time.monotonic() - began)

    def match_prosody(self, fitted: SearchResult, target: np.ndarray,
                      speaker: ProsodyStats) -> ProsodyMatch:
        """Correct a fit's pitch toward ``speaker``'s and measure its rate factor
        (:func:`voxclone.clone.prosody_match.match_prosody`): up to 4 renderings of the
        probe, then a second sentence for the rate."""
        probe_rows = len(self.probe_ids)

        def probe_style(conditioning: StyleConditioning) -> np.ndarray:
            return conditioning.style(self.packs, probe_rows)

        def render(style: np.ndarray, speed: float) -> Audio:
            return Audio(self.engine.render(self.probe_ids, style, speed),
                         self.engine.sample_rate)

        def rate_probe(conditioning: StyleConditioning) -> Audio:
            # a second sentence: more syllables, a steadier rate
            return self.render(self.rate_ids, conditioning)

        return match_prosody(speaker, target, fitted.conditioning, fitted.score, probe_style,
                             self.scale, render, self.encoder.embed,
                             learned_response(PROBE_TEXT), rate_probe=rate_probe)


def _quick_fit(start: StyleConditioning, score: float, evaluations: int, began: float,
               why: str | None) -> SearchResult:
    """The fit's start as its result; with ``why`` (a refinement the effort asked for
    did not improve on it), a warning that says so and what to do, logged and kept."""
    warning = None if why is None else (
        f"{why}, so this voice is the quick fit's; if the computer was busy, enrolling "
        "again when it is idle may give a closer clone")
    if warning is not None:
        logger.warning("%s", warning)
    return SearchResult(start, score, evaluations, time.monotonic() - began, warning)
