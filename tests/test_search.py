"""The conditioning search, on a cheap stand-in model and on the real one."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.clone.conditioning import StyleConditioning
from voxclone.clone.search import fit_mixture, refine


def toy_world(seed: int = 0):  # type: ignore[no-untyped-def]
    """A smooth nonlinear style -> unit-embedding map, like render+embed but instant."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((256, 256)) / 16

    def evaluate(style: np.ndarray) -> np.ndarray:
        e = np.tanh(a @ style) + 0.3
        return (e / np.linalg.norm(e)).astype(np.float32)

    return evaluate


def test_refine_moves_toward_target_within_budget() -> None:
    evaluate = toy_world()
    rng = np.random.default_rng(1)
    hidden = rng.standard_normal(256) * 0.8
    target = evaluate(hidden)
    base = np.zeros(256, np.float32)
    start = StyleConditioning({"p": 1.0})
    start_e = evaluate(base)
    result = refine(target, start, start_e, base, np.ones(256, np.float32), evaluate,
                    budget_s=60, max_evaluations=40)
    assert result.evaluations == 40
    assert result.score > float(start_e @ target) + 0.05
    # the returned conditioning reproduces the returned score
    replay = float(evaluate(base + result.conditioning.delta) @ target)
    assert replay == pytest.approx(result.score, abs=1e-5)


def test_learned_prior_helps_from_the_first_step() -> None:
    evaluate = toy_world()
    rng = np.random.default_rng(4)
    target = evaluate(rng.standard_normal(256) * 0.8)
    base = np.zeros(256, np.float32)
    # the true Jacobian at the start, as train/style_response.py would estimate it
    eps = 1e-3
    e0 = evaluate(base)
    prior = np.stack([(evaluate(base + eps * np.eye(256)[i]) - e0) / eps for i in range(256)])
    scores = {}
    for name, p in (("blind", None), ("prior", prior)):
        result = refine(target, StyleConditioning({"p": 1.0}), e0, base,
                        np.ones(256, np.float32), evaluate, budget_s=60,
                        max_evaluations=6, prior=p)
        scores[name] = result.score
    assert scores["prior"] > scores["blind"] + 0.05


def test_refine_is_reproducible_for_a_seed() -> None:
    """Same seed, same clips -> the same candidates, whatever the machine's speed."""
    evaluate = toy_world()
    target = evaluate(np.full(256, 0.5))
    base = np.zeros(256, np.float32)
    runs: list[list[np.ndarray]] = []
    for _ in range(2):
        seen: list[np.ndarray] = []

        def recording(style: np.ndarray, seen: list[np.ndarray] = seen) -> np.ndarray:
            if len(seen) == 25:  # stop after a fixed number of evaluations, not a time
                raise StopIteration
            seen.append(style.copy())
            return evaluate(style)

        with pytest.raises(StopIteration):
            refine(target, StyleConditioning({"p": 1.0}), evaluate(base), base,
                   np.ones(256, np.float32), recording, budget_s=60, seed=3)
        runs.append(seen)
    assert len(runs[0]) == 25
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mixture_prefers_the_pack_that_matches() -> None:
    evaluate = toy_world()
    rng = np.random.default_rng(2)
    rows = {name: rng.standard_normal(256).astype(np.float32) for name in "abcde"}
    embeddings = {name: evaluate(row) for name, row in rows.items()}
    cond, emb, score = fit_mixture(embeddings["c"], rows, evaluate, embeddings)
    assert score >= 0.999
    assert max(cond.weights, key=cond.weights.get) == "c"  # type: ignore[arg-type]
    np.testing.assert_allclose(emb @ embeddings["c"], score, atol=1e-6)


def test_a_start_beyond_the_bound_is_searched_around_not_pulled_in() -> None:
    """The style map's start can lie further from the mixture than ``max_offset``: the
    search must look around it (every candidate used to be projected back onto the
    bound, far from the start, so nothing near it was ever tried)."""
    evaluate = toy_world()
    rng = np.random.default_rng(5)
    base = np.zeros(256, np.float32)
    start_delta = (rng.standard_normal(256) * 2.5).astype(np.float32)  # RMS ~2.5 > 1.5
    hidden = start_delta + rng.standard_normal(256).astype(np.float32) * 0.6
    target = evaluate(hidden)
    start_e = evaluate(base + start_delta)
    tried: list[np.ndarray] = []

    def recording(style: np.ndarray) -> np.ndarray:
        tried.append(style.copy())
        return evaluate(style)

    result = refine(target, StyleConditioning({"p": 1.0}, start_delta), start_e, base,
                    np.ones(256, np.float32), recording, budget_s=60, max_evaluations=20)
    assert result.score > float(start_e @ target) + 0.004
    reach = float(np.linalg.norm(start_delta))
    distances = [float(np.linalg.norm(t - base - start_delta)) for t in tried]
    assert np.median(distances) < 0.25 * reach  # candidates near the start
    assert max(float(np.linalg.norm(t - base)) for t in tried) <= reach * (1 + 1e-5)
