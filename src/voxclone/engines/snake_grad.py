"""Kokoro's Snake activations as one differentiable torch operator, for the replay.

Exported to ONNX, each Snake (``x + sin(a x)^2 / a``, 48 of them in the decoder) is
five nodes, ``Mul, Sin, Pow, Mul, Add``. Replayed node by node under autograd, each
keeps its own output and the tensors its backward needs: about half of the replay's
memory, which a fresh process then pays for in page faults on its first passes.
:func:`fuse_snakes` splices each into one ``Snake`` node, and :data:`OPS` runs it as
:class:`SnakeFunction`: the same arithmetic, in the same order, keeping only ``x``.
"""

from __future__ import annotations

from typing import Any

import torch

from voxclone.engines.onnx_graph import splice
from voxclone.engines.snake_table import find_snakes

#: The fused node's ``op_type`` and domain.
OP_TYPE = "Snake"
DOMAIN = "voxclone"


class SnakeFunction(torch.autograd.Function):
    """``x + sin(x a)^2 * inverse`` with ``a`` and ``inverse`` (``1/a``, the graph's own
    rounding of it) constants broadcast against ``x`` float32 ``(1, channels, frames)``."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, alpha: torch.Tensor,
                inverse: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, alpha, inverse)
        y = torch.mul(x, alpha)
        y.sin_().pow_(2.0).mul_(inverse)
        return y.add_(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        x, alpha, inverse = ctx.saved_tensors
        phase = torch.mul(x, alpha)
        # d/dx = 1 + 2 sin(a x) cos(a x) a / a, as the unfused chain rule multiplies it.
        slope = torch.sin(phase).mul_(phase.cos_()).mul_(2.0).mul_(inverse * alpha)
        return grad + grad * slope, None, None


def _snake(inputs: list[Any], attrs: dict[str, Any]) -> torch.Tensor:
    x, alpha, inverse = inputs
    return SnakeFunction.apply(x, alpha, inverse)


#: The operators :class:`~voxclone.engines.torch_graph.TorchGraph` needs for a graph
#: that went through :func:`fuse_snakes`.
OPS = {OP_TYPE: _snake}


def fuse_snakes(model: Any) -> int:
    """Replace each Snake of ``model`` (an ``onnx.ModelProto``, changed in place; for
    the torch replay only, as ONNX Runtime has no such node) by one ``Snake`` node with
    inputs ``x``, ``a`` and ``1/a``. Returns how many were."""
    from onnx import helper

    graph = model.graph
    by_name = {node.name: node for node in graph.node}
    removed: set[str] = set()
    replacements: dict[str, list[Any]] = {}
    snakes = find_snakes(graph)
    for snake in snakes:
        scale, _, power, divide, _ = (by_name[name] for name in snake.nodes)
        (alpha,) = [name for name in scale.input if name != snake.x]
        (inverse,) = [name for name in divide.input if name != power.output[0]]
        replacements[snake.nodes[-1]] = [helper.make_node(
            OP_TYPE, [snake.x, alpha, inverse], [snake.output],
            name=snake.nodes[-1] + "_fused", domain=DOMAIN)]
        removed.update(snake.nodes[:-1])
    splice(graph, removed, replacements)
    return len(snakes)
