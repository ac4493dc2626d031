"""Lookups and edits over an ONNX graph shared by the model rewrites (static int8, Snake
tables, norm folding)."""

from __future__ import annotations

import collections
from typing import Any


def graph_index(graph: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[Any]]]:
    """``graph``'s initializers by name, each tensor's producing node, and each tensor's
    consuming nodes (in graph order)."""
    init = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list[Any]] = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    return init, producer, consumers


def splice(graph: Any, removed: set[str], replacements: dict[str, list[Any]]) -> None:
    """Rewrite ``graph``'s node list in place: each node named in ``replacements`` gives
    way to its list of new nodes (at its position), each named in ``removed`` goes."""
    nodes = []
    for node in graph.node:
        if node.name in replacements:
            nodes.extend(replacements[node.name])
        elif node.name not in removed:
            nodes.append(node)
    graph.ClearField("node")
    graph.node.extend(nodes)
