"""Match a clone's pitch and speaking rate to the speaker's, after the identity fit.

Pitch goes through the conditioning itself: Kokoro's style dimensions 128-255 drive
its prosody predictor, and ``train/prosody_response.py`` learned how they move the
probe sentence's log F0 median and log F0 range. A closed loop renders the probe,
measures it, and takes the minimum-norm step in those dimensions toward the
speaker's values (the model updated with what each step really did, Broyden's
rule); a step is kept only while the probe still embeds within a small tolerance of
the identity fit's cosine to the speaker.

Rate goes through the engine's ``speed`` input, which scales durations directly: the
voice keeps a factor (the speaker's syllable rate over the clone's) that synthesis
multiplies with the caller's speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources as resources
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

import numpy as np

from voxclone.audio import Audio
from voxclone.audio.prosody import ProsodyStats, prosody_stats
from voxclone.clone.conditioning import StyleConditioning
from voxclone.errors import NoSpeechError

logger = logging.getLogger(__name__)

#: What the learned prosody response predicts, in this order (all natural logs).
OUTPUTS: tuple[str, ...] = ("log_f0_median", "log_f0_range_st", "log_syllable_rate")

#: Style dimensions that drive Kokoro's prosody predictor (pitch and durations).
PROSODY_DIMS = slice(128, 256)

# Render (style (256,), speed) -> audio of the probe; embed audio -> unit d-vector (256,).
Renderer = Callable[[np.ndarray, float], Audio]
Embedder = Callable[[Audio], np.ndarray]


@dataclass(frozen=True)
class MatchSettings:
    """Knobs of the prosody match (model config).

    Attributes:
        steps: pitch steps tried after measuring the identity fit (one render each).
        identity_tolerance: largest drop of the probe's cosine to the speaker accepted.
        max_step: RMS per-dimension bound of one step, in pack-spread units.
        max_offset: RMS per-dimension bound of the whole correction, same units.
        range_weight: weight of the F0-range error against the F0-median error, in
            the step (log units) and in choosing the result (where the range counts
            only beyond ``range_tolerance``: the median comes first).
        range_tolerance: F0-range mismatch (a fraction) that is not penalised.
        rate_bounds: the clamp of the voice's speaking-rate factor.
        close_enough: no step is taken once the probe's F0 median is within this many
            semitones and its F0 range within this fraction of the speaker's (a 6 s
            reference's range is itself only known to about 10-20 %).
    """

    steps: int = 3
    identity_tolerance: float = 0.01
    max_step: float = 0.6
    max_offset: float = 1.2
    range_weight: float = 0.35
    range_tolerance: float = 0.2
    rate_bounds: tuple[float, float] = (0.75, 1.33)
    close_enough: tuple[float, float] = (0.3, 0.15)


@dataclass(frozen=True)
class ProsodyMatch:
    """Outcome of :func:`match_prosody`.

    Attributes:
        conditioning: the identity fit's conditioning with its pitch corrected.
        score: the probe's cosine to the speaker with that conditioning.
        rate: speaking-rate factor for synthesis (multiplies the engine's speed).
        f0_error_st: the probe's F0 median error in semitones, before and after.
        renders: probe renderings spent.
    """

    conditioning: StyleConditioning
    score: float
    rate: float
    f0_error_st: tuple[float, float]
    renders: int


def load_response(path: str | os.PathLike[str] | IO[bytes], probe_text: str) -> np.ndarray:
    """Pitch columns of a prosody response file: float64 ``(128, 2)``, the change of
    log F0 median and log F0-range width per unit offset of style dims 128-255 (in
    pack-spread units). The file holds ``(128, 3)``, with log syllable rate last.

    Raises:
        ValueError: the file is for another probe sentence, or its table is malformed.
        OSError / KeyError: unreadable or incomplete file.
    """
    with np.load(path) as data:
        probe = str(data["probe_sha256"])
        outputs = tuple(str(o) for o in data["outputs"])
        response = np.asarray(data["response"], dtype=np.float64)
    if probe != hashlib.sha256(probe_text.encode()).hexdigest():
        raise ValueError("the prosody response was learned for another probe sentence")
    if outputs != OUTPUTS or response.shape != (128, len(OUTPUTS)):
        raise ValueError(f"prosody response has outputs {outputs} and shape {response.shape}")
    if not np.all(np.isfinite(response)) or not np.any(response[:, :2]):
        raise ValueError("prosody response holds no usable values")
    return response[:, :2]


@lru_cache(maxsize=4)
def learned_response(probe_text: str) -> np.ndarray | None:
    """The shipped pitch response for ``probe_text`` (see :func:`load_response`), or
    ``None`` with a warning when it is missing or invalid: clones then keep the
    identity fit's pitch."""
    path = resources.files("voxclone.clone") / "data" / "prosody_response.npz"
    try:
        with path.open("rb") as handle:
            return load_response(handle, probe_text)
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("no usable prosody response (%s); clones keep the stock pitch", exc)
        return None


def pitch_error(clone: ProsodyStats, speaker: ProsodyStats) -> np.ndarray:
    """Speaker minus clone in log F0 median and log F0-range width, shape ``(2,)``."""
    return np.array([np.log(speaker.f0_median / clone.f0_median),
                     np.log(speaker.f0_range_semitones / clone.f0_range_semitones)])


def min_norm_step(jacobian: np.ndarray, error: np.ndarray, weights: np.ndarray,
                  bound: float) -> np.ndarray:
    """Smallest offset ``dz`` with ``dz @ jacobian == error`` (weighted least squares
    when the rows disagree), shortened to length ``bound``.

    Args:
        jacobian: response per unit offset, ``(dims, outputs)``.
        error: wanted change of the outputs, ``(outputs,)``.
        weights: importance of each output, ``(outputs,)``.
        bound: largest length of the step.
    Returns:
        float64 step of shape ``(dims,)``.
    """
    j = jacobian * weights[None, :]
    gram = j.T @ j
    damping = 1e-6 * float(np.trace(gram)) + 1e-12
    step = j @ np.linalg.solve(gram + damping * np.eye(gram.shape[0]), error * weights)
    length = float(np.linalg.norm(step))
    return step * (bound / length) if length > bound else step


def match_prosody(
    speaker: ProsodyStats,
    target: np.ndarray,
    start: StyleConditioning,
    start_score: float,
    probe_style: Callable[[StyleConditioning], np.ndarray],
    scale: np.ndarray,
    render: Renderer,
    embed: Embedder,
    response: np.ndarray | None,
    *,
    rate_probe: Callable[[StyleConditioning], Audio] | None = None,
    settings: MatchSettings | None = None,
) -> ProsodyMatch:
    """Correct ``start``'s pitch toward ``speaker``'s and find its rate factor.

    Args:
        speaker: the speaker's prosody (from the reference clips).
        target: the speaker's unit d-vector ``(256,)``.
        start: the identity fit's conditioning; ``start_score`` its probe cosine.
        probe_style: conditioning -> the probe's style row ``(256,)``.
        scale: per-dimension pack spread ``(256,)`` (the offset units).
        render: renders the probe with a style at a speed (24 kHz ``Audio``).
        embed: d-vector of an ``Audio``.
        response: pitch response ``(128, 2)`` (:func:`learned_response`); ``None``
            skips the pitch correction (the rate factor is still measured).
        rate_probe: renders more speech with a conditioning (same sample rate as
            ``render``); the clone's rate is measured on the probe and it together
            (default: on the probe alone).
        settings: knobs.
    """
    settings = settings or MatchSettings()
    scale_p = np.asarray(scale[PROSODY_DIMS], dtype=np.float64)
    weights = np.array([1.0, settings.range_weight])
    width = float(np.sqrt(scale_p.size))

    def measure(conditioning: StyleConditioning) -> tuple[Audio, ProsodyStats] | None:
        audio = render(probe_style(conditioning), 1.0)
        try:
            return audio, prosody_stats(audio)
        except NoSpeechError:
            return None

    def badness(stats: ProsodyStats) -> float:
        # Semitones of median error, plus the range only beyond its tolerance: a step
        # that fixes the median but widens the range a little is still worth keeping.
        median, spread = np.abs(pitch_error(stats, speaker))
        excess = max(0.0, spread / np.log1p(settings.range_tolerance) - 1.0)
        return float(median * 12 / np.log(2) + settings.range_weight * excess)

    first = measure(start)
    renders = 1
    if first is None:  # nothing voiced to measure: keep the identity fit as it is
        return ProsodyMatch(start, start_score, 1.0, (float("nan"),) * 2, renders)
    best = (start, start_score, *first)
    error_before = _semitones(first[1], speaker)
    if response is not None:
        jacobian = response.copy()
        z0 = np.asarray(start.delta[PROSODY_DIMS], dtype=np.float64) / scale_p
        z, stats = z0.copy(), first[1]
        for _ in range(settings.steps):
            error = pitch_error(stats, speaker)
            if abs(error[0]) < settings.close_enough[0] * np.log(2) / 12 and \
                    abs(error[1]) < np.log1p(settings.close_enough[1]):
                break  # every step costs a little identity: stop when close enough
            step = min_norm_step(jacobian, error, weights, settings.max_step * width)
            total = z + step - z0
            if np.linalg.norm(total) > settings.max_offset * width:
                step = z0 + total * (settings.max_offset * width / np.linalg.norm(total)) - z
            candidate = start.with_delta(_with_prosody(start.delta, (z + step) * scale_p))
            measured = measure(candidate)
            renders += 1
            if measured is None:
                break
            audio, new_stats = measured
            # Broyden: make the model agree with what this step really did
            seen = -pitch_error(new_stats, speaker) + pitch_error(stats, speaker)
            jacobian += np.outer(step, seen - step @ jacobian) / float(step @ step)
            z, stats = z + step, new_stats
            score = float(embed(audio) @ target)
            logger.debug("pitch step %.2f: F0 error %.2f st, range x%.2f, cosine %.3f",
                         float(np.linalg.norm(step) / width), _semitones(new_stats, speaker),
                         new_stats.f0_range_semitones / speaker.f0_range_semitones, score)
            if score >= start_score - settings.identity_tolerance and \
                    badness(new_stats) < badness(best[3]):
                best = (candidate, score, audio, new_stats)
    conditioning, score, audio, stats = best
    rate = _rate_factor(speaker, conditioning, audio, stats, rate_probe, settings)
    renders += rate_probe is not None
    after = _semitones(stats, speaker)
    logger.info("pitch matched: F0 error %.2f -> %.2f st, cosine %.3f -> %.3f, rate x%.2f, "
                "%d renders", error_before, after, start_score, score, rate, renders)
    return ProsodyMatch(conditioning, score, rate, (error_before, after), renders)


def _rate_factor(speaker: ProsodyStats, conditioning: StyleConditioning, probe: Audio,
                 probe_stats: ProsodyStats,
                 rate_probe: Callable[[StyleConditioning], Audio] | None,
                 settings: MatchSettings) -> float:
    clone_rate = probe_stats.syllable_rate
    if rate_probe is not None:
        more = rate_probe(conditioning).samples
        with contextlib.suppress(NoSpeechError):  # keep the probe's own rate
            joined = Audio(np.concatenate([probe.samples, more]), probe.sample_rate)
            clone_rate = prosody_stats(joined).syllable_rate
    if clone_rate <= 0 or speaker.syllable_rate <= 0:
        return 1.0
    low, high = settings.rate_bounds
    return float(np.clip(speaker.syllable_rate / clone_rate, low, high))


def _with_prosody(delta: np.ndarray, prosody_offset: np.ndarray) -> np.ndarray:
    out = np.array(delta, dtype=np.float32)
    out[PROSODY_DIMS] = prosody_offset
    return out


def _semitones(clone: ProsodyStats, speaker: ProsodyStats) -> float:
    return float(abs(12 * np.log2(clone.f0_median / speaker.f0_median)))
