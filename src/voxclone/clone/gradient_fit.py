"""The identity fit by gradient ascent: the timbre moved up the GE2E cosine's slope.

The random search (:mod:`voxclone.clone.search`) learns about 256 dimensions from the
score of each rendering alone, about 22 renderings in `balanced`'s 45 s. Here the probe
sentence's audio is a differentiable function of the style's timbre half
(:class:`~voxclone.engines.kokoro_grad.DecoderReplay`) and so is its d-vector
(:class:`~voxclone.speaker.ge2e_grad.DifferentiableGE2E`): each step renders once,
back-propagates the cosine to the target d-vector into the 128 timbre values, and
takes an Adam step scaled per dimension by how much the stock voices differ there
(:func:`~voxclone.clone.conditioning.pack_scale`). The prosody half stays where the
start put it; the pitch and rate matches that follow fit the speaker's prosody.

Each step costs about 3 s on two cores (forward and backward through the decoder),
so `balanced` takes 12-17. The step whose replayed probe scored best is kept, and
is checked once by the runtime: if it is not closer than the start, the start stays.

From a noisy reference the target is the noise-compensated d-vector, an estimate whose
error the ascent would copy. Given the reference's noise
(:class:`~voxclone.quality.noise_profile.NoiseProfile`; the gate keeps none as shipped,
:data:`voxclone.quality.gate.NOISE_MATCH_BELOW_DB`), each step also hears the probe
through that noise and scores it against the reference's d-vector as heard, which needs
no estimate, and climbs the mean of the two cosines. (On 7 dev speakers with white
noise at 10 dB, climbing the noisy view alone lost 0.036 of raw cosine; the mean of the
two gained 0.011 +- 0.006, about what climbing the clean reference's own d-vector
gained, 0.014; with babble +0.005 +- 0.008. On the robustness benchmark's first 8
speakers it moved clones by up to 0.12 either way, no better on average.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.search import Evaluator, Progress, SearchResult
from voxclone.engines.kokoro import KokoroEngine
from voxclone.speaker.encoder import GE2EEncoder

if TYPE_CHECKING:  # torch and the replay load only when a fit ascends
    import torch

    from voxclone.engines.kokoro_grad import DecoderReplay
    from voxclone.quality.noise_profile import NoiseProfile

logger = logging.getLogger(__name__)

#: Adam's step, in units of the stock voices' spread per timbre dimension.
LEARNING_RATE = 0.1

#: At most this many noisy references are heard through (one embedding each a step).
MAX_NOISY_VIEWS = 3

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _replay() -> DecoderReplay:
    from voxclone.engines.kokoro_grad import DecoderReplay

    return DecoderReplay()


def supported(engine: object, encoder: object) -> bool:
    """Whether the ascent can run: Kokoro's graph and the GE2E encoder (another engine
    or encoder falls back to the random search)."""
    return isinstance(engine, KokoroEngine) and isinstance(encoder, GE2EEncoder)


def ascend(start: StyleConditioning, start_score: float, target: np.ndarray, *,
           packs: dict[str, np.ndarray], probe_ids: list[int], scale: np.ndarray,
           encoder: GE2EEncoder, evaluate: Evaluator, budget_s: float,
           max_steps: int | None = None, progress: Progress | None = None,
           noises: Sequence[NoiseProfile] = (), seed: int = 0) -> SearchResult:
    """Move ``start``'s timbre toward ``target`` (unit ``(256,)``) by gradient ascent.

    Args:
        start: the conditioning to start from (the map's or the pack mixture's).
        start_score: ``evaluate``'s cosine for ``start``.
        packs: the stock packs (name -> ``(510, 1, 256)`` or ``(510, 256)``).
        probe_ids: the probe sentence's Kokoro ids.
        scale: per-dimension step unit, float32 ``(256,)``.
        encoder: the GE2E encoder whose network is differentiated.
        evaluate: style -> d-vector through the runtime; it scores the kept step
            against ``start_score``.
        budget_s: stop before a step would run past this many seconds.
        max_steps: at most this many steps (None: the budget alone).
        progress: called after each step with (fraction done, best replayed cosine).
        noises: the noisy references' noise profiles (the first
            :data:`MAX_NOISY_VIEWS`): each step then climbs the mean of the cosine to
            ``target`` and the mean cosine, over them, of the probe with that noise
            added to the reference as heard.
        seed: seeds the noise added to the probe.

    Returns:
        The better of the best step and ``start``, with its runtime cosine.
    """
    import torch

    from voxclone.engines.kokoro_grad import SAMPLE_RATE, TIMBRE_DIMS
    from voxclone.speaker.ge2e_grad import DifferentiableGE2E

    began = time.monotonic()
    style = start.style(packs, len(probe_ids))
    with _lock:  # one ascent at a time: each holds both cores
        replay = _replay()
        ge2e = DifferentiableGE2E(encoder)
        prepared = replay.prepare(probe_ids, style)
        base = torch.from_numpy(style[:TIMBRE_DIMS].astype(np.float32))
        unit = torch.from_numpy(np.asarray(scale[:TIMBRE_DIMS], dtype=np.float32))
        goal = torch.from_numpy(np.asarray(target, dtype=np.float32))
        step = torch.zeros(TIMBRE_DIMS, requires_grad=True)
        optimizer = torch.optim.Adam([step], lr=LEARNING_RATE)
        best_score, best_step = -np.inf, np.zeros(TIMBRE_DIMS, dtype=np.float32)
        steps, last = 0, 0.0
        # the noise's level is set by the start's speech (its runtime rendering)
        views = _noisy_views(noises[:MAX_NOISY_VIEWS], prepared.runtime_audio,
                             SAMPLE_RATE, seed)
        while max_steps is None or steps < max_steps:
            elapsed = time.monotonic() - began
            if steps and elapsed + last > budget_s:
                break
            tick = time.monotonic()
            audio = replay.audio(prepared, base + step * unit)
            score = ge2e.embed(audio, SAMPLE_RATE) @ goal
            if views:
                heard = torch.stack([ge2e.embed(audio + noise, SAMPLE_RATE) @ reference
                                     for noise, reference in views])
                score = (score + heard.mean()) / 2
            if score.item() > best_score:
                best_score, best_step = score.item(), step.detach().numpy().copy()
            optimizer.zero_grad()
            # Only the step's gradient: not the shared GE2E network's weights.
            (-score).backward(inputs=[step])
            optimizer.step()
            steps += 1
            last = time.monotonic() - tick
            if progress is not None:
                done = steps / max_steps if max_steps else (time.monotonic() - began) / budget_s
                progress(min(done, 1.0), best_score)
    delta = start.delta.copy()
    delta[:TIMBRE_DIMS] += best_step * np.asarray(scale[:TIMBRE_DIMS], dtype=np.float32)
    moved = start.with_delta(delta)
    score_now = float(evaluate(moved.style(packs, len(probe_ids))) @ target)
    logger.debug("gradient ascent: %d steps, replayed cosine %.3f, runtime %.3f "
                 "(start %.3f)", steps, best_score, score_now, start_score)
    if score_now <= start_score:
        return SearchResult(start, start_score, steps + 1, time.monotonic() - began)
    return SearchResult(moved, score_now, steps + 1, time.monotonic() - began)


def _noisy_views(noises: Sequence[NoiseProfile], probe: np.ndarray, sample_rate: int,
                 seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(noise to add to the probe, the reference's d-vector as heard) per profile."""
    import torch

    from voxclone.audio import Audio

    speech = Audio(np.asarray(probe, dtype=np.float32), sample_rate)
    rng = np.random.default_rng(seed)
    return [(torch.from_numpy(n.noise_for(speech, rng)), torch.from_numpy(n.heard))
            for n in noises]
