"""The fused Snake of the torch replay (voxclone.engines.snake_grad) and the replay's
freeing of tensors it no longer needs (voxclone.engines.torch_graph): the same audio and
gradients as the graph run node by node, with less kept for the backward pass."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from voxclone.engines.snake_grad import OP_TYPE, OPS, SnakeFunction, fuse_snakes
from voxclone.engines.torch_graph import TorchGraph

CHANNELS, FRAMES = 3, 500
ALPHA = np.array([0.3, 1.1, 1.7], np.float32).reshape(1, CHANNELS, 1)


def _snake_then_sin() -> Any:
    """x -> Snake (as Kokoro's export writes one) -> Sin -> y."""
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, CHANNELS, FRAMES]
    nodes = [helper.make_node("Mul", ["x", "alpha"], ["ax"], name="mul"),
             helper.make_node("Sin", ["ax"], ["s"], name="sin"),
             helper.make_node("Pow", ["s", "two"], ["s2"], name="pow"),
             helper.make_node("Mul", ["s2", "inverse"], ["t"], name="div"),
             helper.make_node("Add", ["x", "t"], ["snake"], name="add"),
             helper.make_node("Sin", ["snake"], ["y"], name="after")]
    initializers = [numpy_helper.from_array(v, n) for n, v in (
        ("alpha", ALPHA), ("inverse", (1 / ALPHA).astype(np.float32)),
        ("two", np.array(2.0, np.float32)))]
    graph = helper.make_graph(
        nodes, "snake", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _value_and_gradient(graph: TorchGraph, x: np.ndarray,
                        outputs: list[str]) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    feed = torch.from_numpy(x).requires_grad_(True)
    result = graph.run({"x": feed}, outputs)
    result["y"].sum().backward()
    assert feed.grad is not None
    return result, feed.grad.numpy()


def test_fused_snake_gives_the_graphs_values_and_gradient() -> None:
    model = _snake_then_sin()
    plain = TorchGraph(model)
    assert fuse_snakes(model) == 1
    assert [node.op_type for node in model.graph.node] == [OP_TYPE, "Sin"]
    fused = TorchGraph(model, OPS)
    x = np.random.default_rng(0).normal(0, 2, (1, CHANNELS, FRAMES)).astype(np.float32)
    want, want_grad = _value_and_gradient(plain, x, ["y"])
    got, got_grad = _value_and_gradient(fused, x, ["y"])
    np.testing.assert_array_equal(got["y"].detach().numpy(), want["y"].detach().numpy())
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-5, atol=1e-6)


def test_snake_gradient_is_the_derivative() -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, CHANNELS, 40, dtype=torch.float64, generator=generator) * 2
    alpha = torch.from_numpy(ALPHA.astype(np.float64))
    assert torch.autograd.gradcheck(SnakeFunction.apply, (x.requires_grad_(True), alpha,
                                                          1 / alpha))


def test_replay_returns_every_output_asked_for_and_leaves_its_feeds_alone() -> None:
    # Tensors are dropped after their last reader; one also asked for is kept.
    graph = TorchGraph(_snake_then_sin())
    x = np.linspace(-3, 3, CHANNELS * FRAMES, dtype=np.float32).reshape(1, CHANNELS, FRAMES)
    feeds = {"x": torch.from_numpy(x)}
    result = graph.run(feeds, ["s2", "y", "snake"])
    assert list(result) == ["s2", "y", "snake"] and list(feeds) == ["x"]
    snake = x + np.sin(ALPHA * x) ** 2 / ALPHA
    np.testing.assert_allclose(result["snake"].numpy(), snake, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["y"].numpy(), np.sin(snake), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result["s2"].numpy(), np.sin(ALPHA * x) ** 2, atol=1e-6)


@pytest.mark.slow
def test_kokoro_decoder_replay_keeps_a_fraction_of_the_unfused_memory() -> None:
    # What a fresh process pays for in page faults on its first ascent steps: the
    # tensors kept for the backward pass (the replay's own weights aside).
    from voxclone.clone import gradient_fit
    from voxclone.clone.conditioning import StyleConditioning
    from voxclone.engines.kokoro import default_engine, stock_packs

    replay = gradient_fit._replay()
    assert sum(node.op_type == OP_TYPE for node, _ in replay.graph.nodes) == 48
    ids = default_engine().tokenize("ðə bˈɜːdz sˈæŋ ɪn ðə ɡˈɑːɹdən ˈɔːl mˈɔːɹnɪŋ.")
    style = StyleConditioning({next(iter(stock_packs())): 1.0}).style(stock_packs(),
                                                                      len(ids))
    prepared = replay.prepare(ids, style)
    weights = {t.untyped_storage().data_ptr() for t in replay.graph.initializers.values()}
    kept: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            kept[storage.data_ptr()] = storage.nbytes()
        return tensor

    timbre = torch.from_numpy(style[:128]).requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        audio = replay.audio(prepared, timbre)
    seconds = audio.shape[0] / 24_000
    # 0.38 GB a second of audio; node by node it is 0.46, and it was 0.62 with Pow's
    # exponent and the quantiser's rounding in the graph.
    assert sum(kept.values()) / seconds < 0.42e9
