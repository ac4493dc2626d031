"""Kokoro's Snake activations as lookup tables of uint8 values, for the static int8 model.

Kokoro's decoder applies Snake, ``x + sin(a x)^2 / a`` with a learned ``a`` per
channel, before each of its resblocks' convolutions (48 of them, on tensors of up to
128 channels x 5 frames per 25 ms of audio). ONNX Runtime runs ``Sin`` on one thread:
about a fifth of the static int8 model's time, with ``Pow``, two ``Mul`` and an
``Add`` around it. In the static int8 model the Snake's output is quantised to uint8 for
the next convolution anyway, so with its input quantised too - per channel, to
:data:`LEVELS` steps over the range it takes on calibration renderings - the whole
Snake is a table of uint8 entries per channel::

    Mul, Add (per channel) -> Clip -> Cast(int32) -> GatherElements(table, axis=2)

whose output is the convolution's uint8 input, exactly where the old ``QuantizeLinear``
put it. :func:`tabulate` makes that swap after
:func:`voxclone.engines.static_int8.quantise`. With 256 steps (a ``QuantizeLinear``
instead of the first four nodes) the model took 0.93x the time of 1,024 steps, but the
voices drifted further from the shipped model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from voxclone.engines.onnx_graph import graph_index, splice
from voxclone.errors import ModelError

#: Steps of a Snake's input per channel (the table's length).
LEVELS = 1024


@dataclass(frozen=True)
class Snake:
    """One Snake activation of an ONNX graph: ``Mul(a) -> Sin -> Pow(2) -> Mul(1/a) ->
    Add(x)``.

    Attributes:
        name: the ``Sin`` node's name (what its calibrated range is filed under).
        x: its input tensor, shape ``(1, channels, frames)``.
        output: the ``Add``'s output tensor.
        alpha: float64 ``(channels,)``, the learned ``a``.
        nodes: the five nodes' names, in order.
    """

    name: str
    x: str
    output: str
    alpha: np.ndarray
    nodes: tuple[str, ...]


def _only(nodes: list[Any], op_type: str) -> Any | None:
    return nodes[0] if len(nodes) == 1 and nodes[0].op_type == op_type else None


def _chain(sin: Any, producer: dict[str, Any],
           consumers: dict[str, list[Any]]) -> tuple[Any, ...] | None:
    """The ``Mul, Sin, Pow, Mul, Add`` nodes around ``sin``, if they are a Snake's."""
    chain = [producer.get(sin.input[0]), sin]
    for op_type in ("Pow", "Mul", "Add"):
        chain.append(_only(consumers.get(chain[-1].output[0], []), op_type))
        if chain[-1] is None:
            return None
    return tuple(chain) if chain[0] is not None and chain[0].op_type == "Mul" else None


def find_snakes(graph: Any) -> list[Snake]:
    """The Snake activations of ``graph`` (an ``onnx.GraphProto``), in graph order."""
    from onnx import numpy_helper

    init, producer, consumers = graph_index(graph)

    def constant(name: str) -> np.ndarray:
        return np.asarray(numpy_helper.to_array(init[name]), np.float64)

    found = []
    for sin in (n for n in graph.node if n.op_type == "Sin"):
        chain = _chain(sin, producer, consumers)
        if chain is None:
            continue
        scale, _, power, divide, add = chain
        alphas = [i for i in scale.input if i in init]
        inverse = [i for i in divide.input if i in init]
        if len(alphas) != 1 or len(inverse) != 1 or power.input[1] not in init:
            continue
        (x,) = [i for i in scale.input if i not in init]
        alpha, exponent = constant(alphas[0]), constant(power.input[1])
        if (x not in add.input or exponent.size != 1 or float(exponent.reshape(-1)[0]) != 2.0
                or alpha.ndim != 3 or alpha.shape[::2] != (1, 1)
                or not np.allclose(constant(inverse[0]) * alpha, 1.0, rtol=1e-5)):
            continue
        found.append(Snake(sin.name, x, add.output[0], alpha.reshape(-1),
                           tuple(node.name for node in chain)))
    return found


def input_steps(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel step (float64) and index of 0 (an integer-valued float64) of
    :data:`LEVELS` steps spanning ``[low, high]`` (0 always included)."""
    low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
    step = np.where(high > low, (high - low) / (LEVELS - 1), 1.0)
    return step, np.rint(-low / step)


def snake_table(alpha: np.ndarray, step: np.ndarray, zero: np.ndarray,
                out_scale: float, out_zero: int) -> np.ndarray:
    """The uint8 table ``(channels, LEVELS)``: entry ``[c, i]`` is the Snake of channel
    ``c`` at the input ``(i - zero[c]) * step[c]``, quantised with
    ``out_scale``/``out_zero``."""
    levels = np.arange(LEVELS, dtype=np.float64)
    x = (levels[None, :] - zero[:, None]) * step[:, None]
    a = alpha[:, None]
    y = x + np.sin(a * x) ** 2 / a
    return np.clip(np.rint(y / out_scale) + out_zero, 0, 255).astype(np.uint8)


def _quantizer(graph: Any, consumers: dict[str, list[Any]], snake: Snake) -> Any | None:
    """The ``QuantizeLinear`` that is the only consumer of ``snake``'s output."""
    if any(o.name == snake.output for o in graph.output):
        return None
    return _only(consumers.get(snake.output, []), "QuantizeLinear")


def tabulate(model: Any, spans: dict[str, np.ndarray]) -> int:
    """Replace each Snake of ``model`` (changed in place) whose output only feeds a
    ``QuantizeLinear`` by a lookup table; ``spans[snake.name]`` is float ``(2, channels)``,
    the calibrated low and high of its input per channel. Returns how many were.

    Raises:
        ModelError: a Snake has no calibrated span, or one of the wrong size.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    init, _, consumers = graph_index(graph)
    removed: set[str] = set()
    replacements: dict[str, list[Any]] = {}
    for snake in find_snakes(graph):
        quantize = _quantizer(graph, consumers, snake)
        if quantize is None:
            continue
        span = spans.get(snake.name)
        if span is None or np.shape(span) != (2, len(snake.alpha)):
            raise ModelError(f"no calibrated range for the Snake {snake.name}; "
                             "reinstall voxclone")
        step, zero = input_steps(np.asarray(span[0], np.float64),
                                 np.asarray(span[1], np.float64))
        out_scale = float(numpy_helper.to_array(init[quantize.input[1]]))
        out_zero = int(numpy_helper.to_array(init[quantize.input[2]]))
        table = snake_table(snake.alpha, step, zero, out_scale, out_zero)
        stem = snake.name + "_table"
        channels = (1, len(snake.alpha), 1)
        graph.initializer.extend([
            numpy_helper.from_array((1 / step).reshape(channels).astype(np.float32),
                                    stem + "_per_step"),
            # + 0.5: the float -> int32 Cast truncates, and the index is never negative
            numpy_helper.from_array((zero + 0.5).reshape(channels).astype(np.float32),
                                    stem + "_zero"),
            numpy_helper.from_array(np.array(0.0, np.float32), stem + "_low"),
            numpy_helper.from_array(np.array(LEVELS - 0.5, np.float32), stem + "_high"),
            numpy_helper.from_array(table[None], stem + "_values")])
        index = [stem + suffix for suffix in ("_scaled", "_shifted", "_clipped", "_index")]
        replacements[quantize.name] = [
            helper.make_node("Mul", [snake.x, stem + "_per_step"], [index[0]],
                             name=stem + "_scale"),
            helper.make_node("Add", [index[0], stem + "_zero"], [index[1]], name=stem + "_shift"),
            helper.make_node("Clip", [index[1], stem + "_low", stem + "_high"], [index[2]],
                             name=stem + "_clip"),
            helper.make_node("Cast", [index[2]], [index[3]], name=stem + "_cast",
                             to=TensorProto.INT32),
            helper.make_node("GatherElements", [stem + "_values", index[3]],
                             [quantize.output[0]], name=stem + "_lookup", axis=2)]
        removed.update(snake.nodes)
    splice(graph, removed, replacements)
    return len(replacements)

