"""Lookups over an ONNX graph shared by the model rewrites (static int8, Snake tables)."""

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
