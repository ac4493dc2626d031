"""Folding each Snake table's index arithmetic into the instance norm before it.

In Kokoro's generator every Snake follows an adaptive instance norm,
``(x - mean) / std * gamma + beta`` with ``gamma`` and ``beta`` from the style, and in
the static int8 model the Snake's table is indexed by ``that * per_step + zero``
(:mod:`voxclone.engines.snake_table`). Each of those five steps runs over the whole
``(1, channels, frames)`` tensor. The same index is ``(x - mean) * g + b`` with
``g = gamma * per_step / std`` and ``b = beta * per_step + zero``, worked out on the
per-channel ``(1, channels, 1)`` tensors: two passes over the big tensor instead of five
(the model then takes 0.93x the time; ``bench/results/static_int8.md``). The algebra is
exact; only float rounding differs.

A ``Div`` that serves several norms (three resblocks normalise the same input) serves
each fold through its inputs; once nothing reads it, the static int8 rewrite's pruning
drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voxclone.engines.onnx_graph import graph_index, splice


@dataclass(frozen=True)
class _Fold:
    """The nodes of one instance norm and table index, and the tensors they use."""

    centred: str  # x - mean
    std: str  # sqrt(var + eps), per channel
    gamma: str
    beta: str
    per_step: str  # the table's per-channel 1/step (an initializer)
    zero: str  # the table's per-channel zero index (an initializer)
    output: str  # the index before its Clip
    nodes: tuple[str, ...]  # Mul(gamma), Add(beta), Mul(per_step), Add(zero)


def _other(node: Any, name: str) -> str | None:
    """The input of a two-input ``node`` that is not ``name``."""
    others = [i for i in node.input if i != name]
    return others[0] if len(node.input) == 2 and len(others) == 1 else None


def _find(graph: Any) -> list[_Fold]:
    init, producer, consumers = graph_index(graph)
    outputs = {o.name for o in graph.output}

    def sole(tensor: str, op_type: str) -> Any | None:
        users = consumers.get(tensor, [])
        if tensor in outputs or len(users) != 1 or users[0].op_type != op_type:
            return None
        return users[0]

    def chain(divide: Any, scale: Any) -> _Fold | None:
        std = producer.get(divide.input[1])
        if std is None or std.op_type != "Sqrt" or scale.op_type != "Mul":
            return None
        nodes, tensor = [scale], divide.output[0]
        operands = [_other(scale, tensor)]
        for op_type in ("Add", "Mul", "Add"):
            tensor = nodes[-1].output[0]
            node = sole(tensor, op_type)
            if not node:
                return None
            nodes.append(node)
            operands.append(_other(node, tensor))
        gamma, beta, per_step, zero = operands
        if (not gamma or not beta or gamma in init or beta in init or per_step not in init
                or zero not in init):
            return None
        return _Fold(divide.input[0], divide.input[1], gamma, beta, per_step, zero,
                     nodes[-1].output[0], tuple(n.name for n in nodes))

    found = []
    for divide in (n for n in graph.node if n.op_type == "Div"):
        # one Div may serve several norms (three resblocks normalise the same input)
        for scale in consumers.get(divide.output[0], []):
            fold = chain(divide, scale)
            if fold is not None:
                found.append(fold)
    return found


def fold_norms(model: Any) -> int:
    """Fold each instance norm that feeds a Snake table's index into it (``model``, an
    ``onnx.ModelProto``, is changed in place). Returns how many were folded."""
    from onnx import helper

    graph = model.graph
    folds = _find(graph)
    replacements: dict[str, list[Any]] = {}
    removed: set[str] = set()
    for fold in folds:
        stem = fold.nodes[-1] + "_folded"
        names = [stem + s for s in ("_inv_std", "_gamma_step", "_gain", "_beta_step",
                                    "_bias", "_scaled")]
        # placed where the last Add was: every input is ready there
        replacements[fold.nodes[-1]] = [
            helper.make_node("Reciprocal", [fold.std], [names[0]], name=names[0]),
            helper.make_node("Mul", [fold.gamma, fold.per_step], [names[1]], name=names[1]),
            helper.make_node("Mul", [names[1], names[0]], [names[2]], name=names[2]),
            helper.make_node("Mul", [fold.beta, fold.per_step], [names[3]], name=names[3]),
            helper.make_node("Add", [names[3], fold.zero], [names[4]], name=names[4]),
            helper.make_node("Mul", [fold.centred, names[2]], [names[5]], name=names[5]),
            helper.make_node("Add", [names[5], names[4]], [fold.output], name=stem)]
        removed.update(fold.nodes[:-1])
    splice(graph, removed, replacements)
    return len(folds)

